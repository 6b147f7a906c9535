package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/portmake/portmake/proc"
)

// defaultGitTimeout bounds one git invocation when Resolver.GitTimeout is
// zero: long enough to clone a large packaging repo, short enough that a
// hung remote does not hang a plan forever.
const defaultGitTimeout = 5 * time.Minute

// cmdError is a failed command: its argv (credentials stripped), the exit
// error and the tail of its stderr, which is where git and makepkg say
// what actually went wrong.
type cmdError struct {
	argv   []string
	err    error
	stderr string
}

func (e *cmdError) Error() string {
	msg := strings.Join(e.argv, " ") + ": " + e.err.Error()
	if e.stderr != "" {
		msg += ": " + e.stderr
	}
	return msg
}

func (e *cmdError) Unwrap() error { return e.err }

// git runs one git command in dir and returns its stdout. remote is the
// URL the command talks to ("" for purely local commands): it decides
// whether local file transport must be allowed, and it is stripped of
// credentials in any error or log line.
func (r *Resolver) git(ctx context.Context, dir, remote string, args ...string) ([]byte, error) {
	var stdout bytes.Buffer
	err := r.gitTo(ctx, dir, remote, &stdout, args...)
	return stdout.Bytes(), err
}

// gitTo is git with the command's stdout streamed to w. A remote whose
// host stopped answering in this Resolve call is not asked (see
// unreachable.go).
func (r *Resolver) gitTo(ctx context.Context, dir, remote string, w io.Writer, args ...string) (err error) {
	h := hostsOf(ctx)
	if err := h.check(remote); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			h.record(remote, err)
		}
	}()
	var argv []string
	if remote != "" && isLocalURL(remote) {
		// protocol.file.allow defaults to "user", which git withholds from
		// transports it starts on its own behalf; local mirrors and test
		// repositories must work whatever the user's configuration says.
		argv = append(argv, "-c", "protocol.file.allow=always")
	}
	argv = append(argv, args...)
	env := []string{
		"GIT_TERMINAL_PROMPT=0", // never ask for a password: a plan must not hang
		"GCM_INTERACTIVE=never",
		"GIT_ASKPASS=",
		"SSH_ASKPASS=",
		"LC_ALL=C", // stable messages in errors
	}
	if os.Getenv("GIT_SSH_COMMAND") == "" {
		env = append(env, "GIT_SSH_COMMAND=ssh -o BatchMode=yes")
	}
	return r.runTo(ctx, r.gitTimeout(), dir, env, w, "git", argv...)
}

func (r *Resolver) gitTimeout() time.Duration {
	if r.GitTimeout > 0 {
		return r.GitTimeout
	}
	return defaultGitTimeout
}

// run runs one external command with a timeout through proc.Run (its own
// process group: git and makepkg spawn helpers, none is left behind) and
// returns its stdout; on failure the error holds the command (with
// credentials stripped) and the tail of its stderr.
func (r *Resolver) run(ctx context.Context, timeout time.Duration, dir string, env []string, name string, args ...string) ([]byte, error) {
	var stdout bytes.Buffer
	err := r.runTo(ctx, timeout, dir, env, &stdout, name, args...)
	return stdout.Bytes(), err
}

// runTo is run with the command's stdout streamed to w.
func (r *Resolver) runTo(ctx context.Context, timeout time.Duration, dir string, env []string, w io.Writer, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stderr bytes.Buffer
	start := time.Now()
	_, err := proc.Run(ctx, proc.Command{Dir: dir, Env: env, Args: append([]string{name}, args...), Stdout: w}, &stderr)
	shown := append([]string{name}, redactArgs(args)...)
	r.log().Debug("exec", "argv", strings.Join(shown, " "), "dir", dir, "elapsed", time.Since(start), "err", err)
	if err != nil {
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			err = fmt.Errorf("timed out after %s", timeout)
		case ctx.Err() != nil:
			err = ctx.Err()
		}
		return &cmdError{argv: shown, err: err, stderr: redactText(stderrTail(stderr.Bytes()))}
	}
	return nil
}

// stderrTail keeps the last lines of git's stderr: the first lines are
// often progress noise, the last one is the fatal message.
func stderrTail(b []byte) string {
	const maxLines, maxBytes = 6, 1024
	s := strings.TrimSpace(string(b))
	lines := strings.Split(s, "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	s = strings.Join(lines, "; ")
	if len(s) > maxBytes {
		s = "..." + s[len(s)-maxBytes:]
	}
	return s
}

// isLocalURL reports whether a git URL names a repository on this machine.
func isLocalURL(u string) bool {
	if strings.HasPrefix(u, "file://") {
		return true
	}
	if strings.Contains(u, "://") {
		return false
	}
	// scp-like "host:path" is remote unless a '/' comes before the ':'.
	if i := strings.IndexByte(u, ':'); i >= 0 && !strings.Contains(u[:i], "/") {
		return false
	}
	return true
}

// Redact strips credentials from a URL for errors and logs. Both the
// password and the user name go: a token is often put in the user name
// ("https://TOKEN@host/...").
func Redact(raw string) string {
	if !strings.Contains(raw, "@") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || u.Scheme == "" {
		// Not a URL with userinfo (an scp-like "git@host:path" carries a
		// login name, not a secret).
		return raw
	}
	u.User = nil
	return u.String()
}

// userinfoRE finds "scheme://userinfo@" in free text such as git's stderr.
var userinfoRE = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@`)

func redactText(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return userinfoRE.ReplaceAllString(s, "$1")
}

func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = Redact(a)
	}
	return out
}

// checkURL refuses URLs that git would read as an option.
func checkURL(u string) error {
	switch {
	case u == "":
		return errors.New("empty git URL")
	case strings.HasPrefix(u, "-"):
		return fmt.Errorf("git URL %q must not start with '-'", u)
	case strings.ContainsAny(u, "\x00\n\r"):
		return fmt.Errorf("git URL %q contains a control character", Redact(u))
	}
	return nil
}

// lsRemote holds the parsed answer of "git ls-remote": ref name to object.
type lsRemote map[string]string

// parseLsRemote parses "<object>\t<ref>" lines. It is strict about the
// object (hex, 40 or 64 digits for SHA-1 and SHA-256 repositories) because
// a malformed answer must not end up as a commit in a plan.
func parseLsRemote(out []byte) (lsRemote, error) {
	refs := lsRemote{}
	for n, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		obj, ref, ok := strings.Cut(line, "\t")
		if !ok || ref == "" {
			return nil, fmt.Errorf("ls-remote line %d: %q: want \"<object>\\t<ref>\"", n+1, line)
		}
		if !isFullHash(obj) {
			return nil, fmt.Errorf("ls-remote line %d: %q: bad object name %q", n+1, line, obj)
		}
		refs[ref] = strings.ToLower(obj)
	}
	return refs, nil
}

// commit returns the commit a ref names: for an annotated tag the peeled
// "^{}" entry, which is the commit, rather than the tag object.
func (l lsRemote) commit(ref string) (string, bool) {
	if c, ok := l[ref+"^{}"]; ok {
		return c, true
	}
	c, ok := l[ref]
	return c, ok
}

func isFullHash(s string) bool { return (len(s) == 40 || len(s) == 64) && isHex(s) }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
