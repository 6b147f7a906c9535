package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/internal/pkgspec"
	"github.com/portmake/portmake/internal/porttest"
	"github.com/portmake/portmake/sources"
	"github.com/rogpeppe/go-internal/testscript"
)

// The plan scenarios' fixtures: sync databases and packaging repositories
// written from a compact listing, and an HTTP server that misbehaves on
// purpose. A listing has one package per line:
//
//	name version arch [base=B] [d=dep,...] [m=makedep,...] [c=checkdep,...] [p=provide,...]
//
// Blank lines and lines starting with '#' are skipped. Only the first '='
// of a field separates the key, so "d=b>=2" and "p=libfoo.so=2-64" work.

func init() {
	// mkdb DB LISTING writes LISTING as a gzipped sync database at DB, the
	// way repo-add lays it out (one NAME-VERSION/desc per package), so
	// syncdb.ReadFile and pacman read it. The repository name is DB's file
	// name without extensions (core.db is core).
	scriptCommands["mkdb"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: mkdb DB LISTING")
		}
		pkgs, err := readListing(ts.MkAbs(args[1]))
		ts.Check(err)
		data, err := porttest.EncodeDB(pkgs)
		ts.Check(err)
		dst := ts.MkAbs(args[0])
		ts.Check(os.MkdirAll(filepath.Dir(dst), 0o755))
		ts.Check(os.WriteFile(dst, data, 0o644))
		// Read it back: a fixture the reader refuses would make every
		// scenario that uses it fail for the wrong reason.
		if _, err := syncdb.ReadFile(dst); err != nil {
			ts.Fatalf("mkdb: %v", err)
		}
	}

	// mkpackaging ROOT LISTING... creates, for every pkgbase of the
	// listings, a bare packaging repository ROOT/<project>.git whose
	// commits are tagged with the versions listed (':' and '~' normalised
	// like Arch's packaging tags), so that a Portfile's
	// sources.packaging = "file://$WORK/ROOT/{project}.git" resolves offline.
	// The PKGBUILD says arch=(any) when every listed package of the
	// pkgbase is ARCH=any, else arch=(x86_64).
	// Commits have fixed authors and dates, so their hashes are stable.
	scriptCommands["mkpackaging"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: mkpackaging ROOT LISTING...")
		}
		versions := map[string][]string{}
		notAny := map[string]bool{}
		var bases []string
		for _, l := range args[1:] {
			pkgs, err := readListing(ts.MkAbs(l))
			ts.Check(err)
			for _, p := range pkgs {
				if _, ok := versions[p.Base]; !ok {
					bases = append(bases, p.Base)
				}
				if !slices.Contains(versions[p.Base], p.Version) {
					versions[p.Base] = append(versions[p.Base], p.Version)
				}
				notAny[p.Base] = notAny[p.Base] || p.Arch != "any"
			}
		}
		root := ts.MkAbs(args[0])
		for _, base := range bases {
			vs := versions[base]
			slices.SortFunc(vs, alpm.Compare)
			dir := filepath.Join(root, sources.ProjectPath(base)+".git")
			arch := "any"
			if notAny[base] {
				arch = "x86_64"
			}
			if err := makePackagingRepo(dir, base, arch, vs); err != nil {
				ts.Fatalf("mkpackaging %s: %v", base, err)
			}
		}
	}

	// exitcode N PROG ARGS... runs PROG like exec, keeping its stdout and
	// stderr for the next commands, and requires exit status N: exec only
	// tells zero from non-zero, and plan --detailed-exitcode's 2 (work to
	// do) must not pass for a 1 (an error).
	scriptCommands["exitcode"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: exitcode N PROG [ARGS...]")
		}
		want, err := strconv.Atoi(args[0])
		if err != nil {
			ts.Fatalf("exitcode: N %q is not a number", args[0])
		}
		got := 0
		if err := ts.Exec(args[1], args[2:]...); err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				ts.Fatalf("exitcode: %v", err)
			}
			got = ee.ExitCode()
		}
		if got != want {
			ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
		}
	}

	// httpserve VAR [DIR] serves DIR (default $WORK) on 127.0.0.1 for the
	// rest of the script and sets $VAR to its base URL. Some path prefixes
	// misbehave on purpose, whatever follows them:
	//
	//	/500/...   always 500 Internal Server Error
	//	/zero/...  200 with an empty body
	//	/trunc/... the file, but the connection drops halfway through the
	//	           announced Content-Length
	//	/short/... the first half of the file with a matching
	//	           Content-Length: a download that looks complete
	//	/html/...  200 with an HTML error page, as captive portals answer
	//
	// Conditional requests are answered in full (If-Modified-Since is
	// ignored): a scenario replaces a file within the same second, which
	// Last-Modified cannot tell apart.
	//
	// Every request is appended to $WORK/httpserve.log as "METHOD PATH
	// STATUS", so a scenario can check how often portmake retried.
	scriptCommands["httpserve"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 1 || len(args) > 2 {
			ts.Fatalf("usage: httpserve VAR [DIR]")
		}
		dir := ts.MkAbs(".")
		if len(args) == 2 {
			dir = ts.MkAbs(args[1])
		}
		logf, err := os.OpenFile(ts.MkAbs("httpserve.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		ts.Check(err)
		srv := httptest.NewServer(misbehavingHandler(dir, logf))
		ts.Defer(func() {
			srv.Close()
			logf.Close()
		})
		ts.Setenv(args[0], srv.URL)
	}
}

// readListing parses a package listing (see the comment above init).
func readListing(path string) ([]*alpm.Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pkgs []*alpm.Package
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) < 3 {
			return nil, fmt.Errorf("%s:%d: want: name version arch [key=value...]", path, line)
		}
		p, err := pkgspec.Parse(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		p.Desc, p.CSize, p.ISize, p.BuildDate = "fixture "+p.Name, 1024, 4096, 1700000000
		p.Packager = "portmake tests <tests@example.org>"
		p.Filename = fmt.Sprintf("%s-%s-%s.pkg.tar.zst", p.Name, p.Version, p.Arch)
		pkgs = append(pkgs, p)
	}
	return pkgs, sc.Err()
}

// makePackagingRepo creates a bare repository at dir with one commit per
// version (oldest first, each the parent of the next), each tagged like
// Arch's packaging repositories tag releases.
func makePackagingRepo(dir, base, arch string, versions []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	git := func(stdin string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"--git-dir", dir}, args...)...)
		cmd.Env = append(os.Environ(), "LC_ALL=C", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
			"GIT_AUTHOR_NAME=portmake tests", "GIT_AUTHOR_EMAIL=tests@example.org", "GIT_AUTHOR_DATE=1700000000 +0000",
			"GIT_COMMITTER_NAME=portmake tests", "GIT_COMMITTER_EMAIL=tests@example.org", "GIT_COMMITTER_DATE=1700000000 +0000")
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
		}
		return strings.TrimSpace(string(out)), nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if _, err := git("", "init", "-q", "--bare", "--initial-branch=main"); err != nil {
		return err
	}
	parent := ""
	for _, v := range versions {
		ver := alpm.ParseVersion(v)
		pkgbuild := fmt.Sprintf("pkgbase=%s\npkgname=%s\npkgver=%s\npkgrel=%s\nepoch=%s\narch=(%s)\n", base, base, ver.Pkgver, ver.Pkgrel, ver.Epoch, arch)
		blob, err := git(pkgbuild, "hash-object", "-w", "--stdin")
		if err != nil {
			return err
		}
		tree, err := git("100644 blob "+blob+"\tPKGBUILD\n", "mktree")
		if err != nil {
			return err
		}
		args := []string{"commit-tree", tree, "-m", "upgpkg: " + v}
		if parent != "" {
			args = append(args, "-p", parent)
		}
		if parent, err = git("", args...); err != nil {
			return err
		}
		if _, err := git("", "tag", sources.VersionTag(v), parent); err != nil {
			return err
		}
	}
	if parent != "" {
		if _, err := git("", "update-ref", "refs/heads/main", parent); err != nil {
			return err
		}
	}
	return nil
}

// misbehavingHandler serves dir, except under the failure prefixes that
// httpserve documents.
func misbehavingHandler(dir string, log io.Writer) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() { fmt.Fprintf(log, "%s %s %d\n", r.Method, r.URL.Path, rec.status) }()
		r.Header.Del("If-Modified-Since")
		prefix, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		switch prefix {
		case "500":
			http.Error(rec, "internal error", http.StatusInternalServerError)
		case "zero":
			rec.Header().Set("Content-Length", "0")
			rec.WriteHeader(http.StatusOK)
		case "html":
			rec.Header().Set("Content-Type", "text/html")
			io.WriteString(rec, "<!DOCTYPE html><html><body>Please log in</body></html>\n")
		case "trunc", "short":
			data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rest)))
			if err != nil {
				http.NotFound(rec, r)
				return
			}
			half := data[:len(data)/2]
			if prefix == "short" {
				rec.Header().Set("Content-Length", fmt.Sprint(len(half)))
				rec.Write(half)
				return
			}
			rec.Header().Set("Content-Length", fmt.Sprint(len(data)))
			rec.WriteHeader(http.StatusOK)
			rec.Write(half)
			http.NewResponseController(w).Flush()
			// Drop the connection mid-body, as a dying mirror does.
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					if tc, ok := c.(*net.TCPConn); ok {
						tc.SetLinger(0)
					}
					c.Close()
				}
			}
		default:
			files.ServeHTTP(rec, r)
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(s.ResponseWriter).Hijack()
}
