package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/srcinfo"
)

// Kind says where a pkgbase's sources come from.
type Kind int

const (
	Official Kind = iota // Arch's packaging GitLab, at the version tag
	Override             // a custom git URL and/or branch, tag or commit
	AUR                  // the AUR's git repository
	Local                // a PKGBUILD directory on this machine
)

var kindText = [...]string{Official: "official", Override: "override", AUR: "aur", Local: "local"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindText) {
		return kindText[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Cache keeps answers that never change (the commit a tag points at)
// across runs, so that a re-plan makes no network call. The caller
// implements it (on top of the store); a nil Cache disables caching.
type Cache interface {
	Get(ctx context.Context, key string) (value string, ok bool, err error)
	Put(ctx context.Context, key, value string) error
}

// Request asks for the source identity of one pkgbase.
type Request struct {
	Pkgbase string
	Version string // full version [epoch:]pkgver-pkgrel; required for Official
	Kind    Kind

	// Override: Git replaces the packaging URL; at most one of Branch, Tag
	// and Commit picks the revision. With none of them the version tag is
	// used when Version is set, else the remote's HEAD.
	Git, Branch, Tag, Commit string

	Dir string // Local: the PKGBUILD directory
}

// Resolved is the source identity of one pkgbase: exactly what to check
// out (URL at Commit), or the content hash of a local directory.
type Resolved struct {
	Pkgbase string
	Kind    Kind
	URL     string // git URL, credentials included; Redact it for display
	Ref     string // the tag or branch Commit came from ("HEAD" for AUR)
	Commit  string // full hash, or the 7-40 hex digits an override gave
	// TreeHash identifies a Local source (see TreeHash), and Files are the
	// entries it covers.
	TreeHash string
	Files    []TreeFile
	// Srcinfo is the parsed .SRCINFO of AUR and Local sources; nil for the
	// others, whose metadata comes from the sync DBs.
	Srcinfo *srcinfo.Srcinfo
	// Dir is the checkout (AUR, under CacheDir) or the local directory.
	Dir string
}

// Resolver resolves requests into source identities. Its fields are
// configuration; set them before the first Resolve and do not change them.
// Two Resolve calls must not run at the same time on the same CacheDir:
// they would fetch into the same clones.
type Resolver struct {
	// Packaging is the URL template of official packaging repositories;
	// "{project}" is replaced by ProjectPath(pkgbase), e.g.
	// https://gitlab.archlinux.org/archlinux/packaging/packages/{project}.git
	Packaging string
	// State is the state repo URL; "" means ask each packaging repository.
	State string
	// StateRepos are the "<repo>-<arch>" directories of the state repo to
	// read, e.g. core-x86_64, extra-x86_64, core-testing-x86_64.
	StateRepos []string
	// StateHead, when the caller already asked the state remote, is the
	// commit its HEAD points at: a clone already there is read as it is,
	// without a fetch (two processes and a pack negotiation per plan).
	// It may be set between Resolve calls.
	StateHead string
	// CacheDir holds the clones: CacheDir/state and CacheDir/aur/<pkgbase>.
	CacheDir string
	// AURURL is the AUR's base URL, e.g. https://aur.archlinux.org.
	AURURL string
	// Parallel bounds the concurrent git network operations (default 8).
	Parallel int
	Cache    Cache // may be nil
	Log      *slog.Logger

	// NoUpdate uses existing clones (state repo, AUR) as they are instead
	// of fetching them; a missing clone is still cloned.
	NoUpdate bool
	// GitTimeout bounds each git or makepkg invocation (default 5 minutes).
	GitTimeout time.Duration
	// PrintSrcinfo prints the .SRCINFO of a PKGBUILD directory that has
	// none (makepkg --printsrcinfo). A PKGBUILD is code: the caller runs
	// it in the builders' sandbox (executor.Sandbox.Evaluate). nil makes
	// a local directory without .SRCINFO an error.
	PrintSrcinfo func(ctx context.Context, dir string) ([]byte, error)
}

func (r *Resolver) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// Resolve resolves every request. The results are in request order; a
// request that fails leaves its Resolved with what is known (Pkgbase,
// Kind, URL) and contributes one error, naming the pkgbase and the URL, to
// the returned *UnresolvedError, except that failures of a host that does
// not answer are summed up per host, and that host is not asked again
// once it failed twice (see unreachable.go). Network work runs in
// parallel, bounded by Parallel.
func (r *Resolver) Resolve(ctx context.Context, reqs []Request) ([]Resolved, error) {
	ctx = withHosts(ctx) // see unreachable.go
	out := make([]Resolved, len(reqs))
	errs := make([]error, len(reqs))
	needState := false
	for i, q := range reqs {
		out[i] = Resolved{Pkgbase: q.Pkgbase, Kind: q.Kind}
		if err := alpm.CheckName(q.Pkgbase); err != nil {
			errs[i] = fmt.Errorf("%s package: %w", q.Kind, err)
			continue
		}
		if q.Kind == Official {
			needState = true
		}
	}

	var state *State
	if needState && r.State != "" {
		var err error
		state, err = r.loadState(ctx)
		if err != nil {
			// Every answer the state repo would give, ls-remote gives too
			// (more slowly), so a broken state repo degrades, not fails.
			r.log().Warn("state repo unusable; asking each packaging repository instead", "url", Redact(r.State), "err", err)
		}
	}

	run := &resolveRun{r: r, state: state, locks: map[string]*sync.Mutex{}}
	n := r.Parallel
	if n <= 0 {
		n = 8
	}
	var pending []int
	for i := range reqs {
		if errs[i] != nil {
			continue
		}
		if state != nil && run.fromState(&out[i], reqs[i]) {
			continue // the common case costs a map lookup, not a worker
		}
		pending = append(pending, i)
	}
	// A fixed pool rather than a goroutine per request: a first plan
	// without a state repo may have 12,000 requests waiting their turn.
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, len(pending)) {
		wg.Go(func() {
			for i := range next {
				if err := ctx.Err(); err != nil {
					errs[i] = fmt.Errorf("%s package %s: %w", reqs[i].Kind, reqs[i].Pkgbase, err)
					continue
				}
				errs[i] = run.resolve(ctx, &out[i], reqs[i])
			}
		})
	}
	for _, i := range pending {
		next <- i
	}
	close(next)
	wg.Wait()
	return out, unresolved(out, errs)
}

// resolveRun is the state shared by the requests of one Resolve call.
type resolveRun struct {
	r     *Resolver
	state *State

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per clone directory
}

func (run *resolveRun) lock(dir string) func() {
	run.mu.Lock()
	m := run.locks[dir]
	if m == nil {
		m = new(sync.Mutex)
		run.locks[dir] = m
	}
	run.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// fromState answers an official request from the state repo, if it can.
func (run *resolveRun) fromState(res *Resolved, q Request) bool {
	if q.Kind != Official || checkFullVersion(q.Version) != nil {
		return false
	}
	url, err := run.r.packagingURL(q.Pkgbase)
	if err != nil {
		return false
	}
	e, ok := run.state.Lookup(q.Pkgbase, q.Version)
	if !ok {
		if es := run.state.Entries(q.Pkgbase); len(es) > 0 {
			run.r.log().Debug("state repo has another version; using ls-remote", "pkgbase", q.Pkgbase, "want", q.Version, "state", es[0].Version, "repo", es[0].Repo)
		}
		return false
	}
	res.URL, res.Ref, res.Commit = url, e.Tag, e.Commit
	return true
}

func (run *resolveRun) resolve(ctx context.Context, res *Resolved, q Request) error {
	var err error
	switch q.Kind {
	case Official:
		err = run.official(ctx, res, q)
	case Override:
		err = run.override(ctx, res, q)
	case AUR:
		err = run.aur(ctx, res, q)
	case Local:
		err = run.local(ctx, res, q)
	default:
		err = fmt.Errorf("unknown source kind %d", int(q.Kind))
	}
	if err == nil {
		return nil
	}
	where := res.URL
	if q.Kind == Local {
		where = q.Dir
	}
	if where == "" {
		return fmt.Errorf("%s package %s: %w", q.Kind, q.Pkgbase, err)
	}
	return fmt.Errorf("%s package %s: %s: %w", q.Kind, q.Pkgbase, Redact(where), err)
}

func (r *Resolver) packagingURL(pkgbase string) (string, error) {
	// {project} is the GitLab path (devtools' rules); {pkgbase} is the
	// name as it is, for forges that keep it.
	if !strings.Contains(r.Packaging, "{project}") && !strings.Contains(r.Packaging, "{pkgbase}") {
		return "", fmt.Errorf("packaging URL template %q has neither {project} nor {pkgbase}", Redact(r.Packaging))
	}
	u := strings.NewReplacer("{project}", ProjectPath(pkgbase), "{pkgbase}", pkgbase).Replace(r.Packaging)
	return u, checkURL(u)
}

func (run *resolveRun) official(ctx context.Context, res *Resolved, q Request) error {
	url, err := run.r.packagingURL(q.Pkgbase)
	if err != nil {
		return err
	}
	res.URL = url
	if err := checkFullVersion(q.Version); err != nil {
		return err
	}
	res.Ref = VersionTag(q.Version)
	res.Commit, err = run.r.tagCommit(ctx, url, res.Ref)
	return err
}

func (run *resolveRun) override(ctx context.Context, res *Resolved, q Request) error {
	url := q.Git
	if url == "" {
		var err error
		if url, err = run.r.packagingURL(q.Pkgbase); err != nil {
			return err
		}
	}
	res.URL = url
	if err := checkURL(url); err != nil {
		return err
	}
	set := 0
	for _, s := range []string{q.Branch, q.Tag, q.Commit} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		return fmt.Errorf("override sets more than one of branch %q, tag %q, commit %q", q.Branch, q.Tag, q.Commit)
	}
	var err error
	switch {
	case q.Commit != "":
		if len(q.Commit) < 7 || len(q.Commit) > 40 || !isHex(q.Commit) {
			return fmt.Errorf("commit %q: want 7 to 40 hex digits", q.Commit)
		}
		res.Commit = strings.ToLower(q.Commit)
	case q.Branch != "":
		if err := checkRefName(q.Branch); err != nil {
			return fmt.Errorf("branch: %w", err)
		}
		// Not cached: a branch moves, and following it is the point.
		res.Ref = q.Branch
		res.Commit, err = run.r.lsRemoteOne(ctx, url, "refs/heads/"+q.Branch)
	case q.Tag != "":
		if err := checkRefName(q.Tag); err != nil {
			return fmt.Errorf("tag: %w", err)
		}
		res.Ref = q.Tag
		res.Commit, err = run.r.tagCommit(ctx, url, q.Tag)
	case q.Version != "":
		if err := checkFullVersion(q.Version); err != nil {
			return err
		}
		res.Ref = VersionTag(q.Version)
		res.Commit, err = run.r.tagCommit(ctx, url, res.Ref)
	default:
		res.Ref = "HEAD"
		res.Commit, err = run.r.lsRemoteOne(ctx, url, "HEAD")
	}
	return err
}

// ErrRefNotFound is wrapped by the error for a tag or branch that the
// remote does not have.
var ErrRefNotFound = errors.New("not found")

// cacheKey names a cached ls-remote answer. Credentials do not change the
// answer, so they stay out of the key (and out of the store).
func cacheKey(url, ref string) string { return "git-ref " + Redact(url) + " " + ref }

// tagCommit returns the commit a tag points at, from the cache when it has
// been asked before: a published tag does not move, so its answer is kept
// for good.
func (r *Resolver) tagCommit(ctx context.Context, url, tag string) (string, error) {
	ref := "refs/tags/" + tag
	key := cacheKey(url, ref)
	if r.Cache != nil {
		v, ok, err := r.Cache.Get(ctx, key)
		switch {
		case err != nil:
			r.log().Warn("source cache read failed; asking the remote", "key", key, "err", err)
		case ok && isFullHash(v):
			r.log().Debug("source cache hit", "url", Redact(url), "ref", ref, "commit", v)
			return v, nil
		case ok:
			r.log().Warn("source cache holds a bad commit; asking the remote", "key", key, "value", v)
		}
	}
	commit, err := r.lsRemoteOne(ctx, url, ref)
	if err != nil {
		return "", err
	}
	if r.Cache != nil {
		if err := r.Cache.Put(ctx, key, commit); err != nil {
			r.log().Warn("source cache write failed", "key", key, "err", err)
		}
	}
	return commit, nil
}

// lsRemoteOne asks the remote for one ref (and its peeled form, so an
// annotated tag yields its commit rather than the tag object).
func (r *Resolver) lsRemoteOne(ctx context.Context, url, ref string) (string, error) {
	args := []string{"ls-remote", "--", url, ref}
	if strings.HasPrefix(ref, "refs/tags/") {
		args = append(args, ref+"^{}")
	}
	out, err := r.git(ctx, "", url, args...)
	if err != nil {
		return "", err
	}
	refs, err := parseLsRemote(out)
	if err != nil {
		return "", fmt.Errorf("git ls-remote: %w", err)
	}
	// ls-remote matches patterns against the tail of ref names, so look the
	// exact name up rather than taking the first line.
	c, ok := refs.commit(ref)
	if !ok {
		return "", fmt.Errorf("%s: %w", ref, ErrRefNotFound)
	}
	return c, nil
}

// checkRefName refuses branch and tag names that git would not accept or
// that could be read as an option or a pattern.
func checkRefName(s string) error {
	switch {
	case s == "":
		return errors.New("empty ref name")
	case strings.HasPrefix(s, "-"), strings.HasPrefix(s, "/"), strings.HasSuffix(s, "/"),
		strings.HasSuffix(s, "."), strings.HasSuffix(s, ".lock"),
		strings.Contains(s, ".."), strings.Contains(s, "//"), strings.Contains(s, "@{"):
		return fmt.Errorf("bad ref name %q", s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || strings.IndexByte("~^:?*[\\", c) >= 0 {
			return fmt.Errorf("bad ref name %q: character %q is not allowed", s, c)
		}
	}
	return nil
}

// errEmptyRepo is a clone without a commit.
var errEmptyRepo = errors.New("the repository has no commit")

// loadState brings the state repo clone up to date and reads it.
func (r *Resolver) loadState(ctx context.Context) (*State, error) {
	if err := checkURL(r.State); err != nil {
		return nil, err
	}
	if len(r.StateRepos) == 0 {
		return nil, errors.New("no state repo directories configured (e.g. core-x86_64)")
	}
	if r.CacheDir == "" {
		return nil, errors.New("no cache directory for the state repo clone")
	}
	// A bare shallow clone: the history is of no use here, and checking
	// out 12,000 files cost more than the rest of a cold plan; the tree is
	// read with one `git archive` instead. (Earlier versions kept a
	// checkout in "state"; it is removed.)
	os.RemoveAll(filepath.Join(r.CacheDir, "state"))
	dir := filepath.Join(r.CacheDir, "state.git")
	head, err := r.syncMirror(ctx, r.State, dir)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	// A commit's state never changes, so its parse is kept by commit: a
	// re-plan then skips the archive and 12,000 parses.
	memo := filepath.Join(r.CacheDir, "state-"+head+"-"+strings.Join(r.StateRepos, ",")+".gob")
	if st, err := readStateMemo(memo); err == nil {
		r.log().Debug("state repo read from memo", "entries", st.Len(), "elapsed", time.Since(start))
		return st, nil
	}
	// The archive is streamed into the parser: held in memory whole it
	// was 20 MB (and 38 MB of buffer growth) at the peak of a cold plan.
	pr, pw := io.Pipe()
	gitErr := make(chan error, 1)
	go func() {
		err := r.gitTo(ctx, dir, "", pw, "archive", "--format=tar", head)
		pw.CloseWithError(err)
		gitErr <- err
	}()
	st, err := ReadState(pr, r.StateRepos)
	io.Copy(io.Discard, pr) // what the parser left: git must finish writing
	pr.Close()
	if gerr := <-gitErr; gerr != nil {
		return nil, fmt.Errorf("read state repo: %w", gerr)
	}
	if err == nil {
		if err := writeStateMemo(r.CacheDir, memo, st); err != nil {
			r.log().Warn("state repo memo", "err", err)
		}
	}
	r.log().Debug("state repo read", "entries", st.Len(), "elapsed", time.Since(start))
	if err != nil {
		r.log().Warn("state repo has unusable entries; those pkgbases use ls-remote", "url", Redact(r.State), "err", err)
	}
	return st, nil
}

// syncMirror makes dir a bare shallow clone of url's HEAD, fetching
// again when it exists, and returns the HEAD commit.
func (r *Resolver) syncMirror(ctx context.Context, url, dir string) (string, error) {
	if r.StateHead != "" && url == r.State {
		if head := readHead(dir); head == r.StateHead && isFullHash(head) {
			r.log().Debug("state repo clone is at the remote's HEAD; not fetching", "head", r.StateHead)
			return r.StateHead, nil
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err == nil {
		if !r.NoUpdate {
			if _, err := r.git(ctx, dir, url, "fetch", "--quiet", "--force", "--no-tags", "--depth=1", "--", url, "HEAD"); err != nil {
				return "", fmt.Errorf("update clone %s: %w", dir, err)
			}
			// Detach HEAD at what was fetched: nothing is checked out, so
			// moving it costs nothing.
			if _, err := r.git(ctx, dir, "", "update-ref", "--no-deref", "HEAD", "FETCH_HEAD"); err != nil {
				return "", fmt.Errorf("update clone %s: %w", dir, err)
			}
		}
	} else if err := r.cloneInto(ctx, url, dir, "--bare", "--depth=1", "--no-local"); err != nil {
		// --no-local: a mirror given as a path would otherwise be cloned by
		// hardlinking its objects, depth ignored, and 12,000 loose objects
		// make the archive ten times slower than one pack does.
		return "", err
	}
	return r.headCommit(ctx, dir)
}

// readHead returns the commit a bare repository's HEAD points at, read
// from its files without running git: detached (what syncMirror leaves),
// or a branch in refs/ or packed-refs (what a fresh clone has); "" when it
// cannot tell.
func readHead(dir string) string {
	head, err := os.ReadFile(filepath.Join(dir, "HEAD"))
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(string(head))
	ref, symbolic := strings.CutPrefix(v, "ref: ")
	if !symbolic {
		return v
	}
	if !strings.HasPrefix(ref, "refs/") || strings.Contains(ref, "..") {
		return ""
	}
	if b, err := os.ReadFile(filepath.Join(dir, ref)); err == nil {
		return strings.TrimSpace(string(b))
	}
	packed, err := os.ReadFile(filepath.Join(dir, "packed-refs"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(packed), "\n") {
		if obj, name, ok := strings.Cut(line, " "); ok && name == ref {
			return obj
		}
	}
	return ""
}

// syncClone makes dir a clean checkout of url's HEAD: a clone the first
// time, then fetch and hard reset (and clean, since the checkout is a
// mirror nobody should build in). It returns the HEAD commit.
func (r *Resolver) syncClone(ctx context.Context, url, dir string, shallow bool) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		if !r.NoUpdate {
			fetch := []string{"fetch", "--quiet", "--force", "--no-tags"}
			if shallow {
				fetch = append(fetch, "--depth=1")
			}
			fetch = append(fetch, "--", url, "HEAD")
			if _, err := r.git(ctx, dir, url, fetch...); err != nil {
				return "", fmt.Errorf("update clone %s: %w", dir, err)
			}
			// A reset and clean walk the whole tree (12,000 files for the
			// state repo); skip them when the fetch brought nothing new.
			heads, err := r.git(ctx, dir, "", "rev-parse", "HEAD", "FETCH_HEAD")
			if f := strings.Fields(string(heads)); err != nil || len(f) != 2 || f[0] != f[1] {
				if _, err := r.git(ctx, dir, "", "reset", "--quiet", "--hard", "FETCH_HEAD"); err != nil {
					return "", fmt.Errorf("update clone %s: %w", dir, err)
				}
				if _, err := r.git(ctx, dir, "", "clean", "-ffdxq"); err != nil {
					return "", fmt.Errorf("update clone %s: %w", dir, err)
				}
			}
		}
	} else {
		var opts []string
		if shallow {
			opts = append(opts, "--depth=1")
		}
		if err := r.cloneInto(ctx, url, dir, opts...); err != nil {
			return "", err
		}
	}
	return r.headCommit(ctx, dir)
}

// cloneInto clones url to dir beside it and renames, so an interrupted
// clone never leaves a half-made directory where the next run looks.
func (r *Resolver) cloneInto(ctx context.Context, url, dir string, opts ...string) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".clone-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	clone := append([]string{"clone", "--quiet", "--no-tags"}, opts...)
	clone = append(clone, "--", url, tmp)
	if _, err := r.git(ctx, parent, url, clone...); err != nil {
		return err
	}
	os.RemoveAll(dir) // a leftover without .git is not a clone
	return os.Rename(tmp, dir)
}

// headCommit returns the commit HEAD of the clone at dir points at.
func (r *Resolver) headCommit(ctx context.Context, dir string) (string, error) {
	out, err := r.git(ctx, dir, "", "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
	if err != nil {
		return "", fmt.Errorf("clone %s: %w", dir, errEmptyRepo)
	}
	c := strings.TrimSpace(string(out))
	if !isFullHash(c) {
		return "", fmt.Errorf("clone %s: git rev-parse HEAD printed %q", dir, c)
	}
	return c, nil
}

func (run *resolveRun) aur(ctx context.Context, res *Resolved, q Request) error {
	r := run.r
	if r.AURURL == "" {
		return errors.New("no AUR URL configured")
	}
	res.URL = strings.TrimSuffix(r.AURURL, "/") + "/" + q.Pkgbase + ".git"
	if err := checkURL(res.URL); err != nil {
		return err
	}
	if r.CacheDir == "" {
		return errors.New("no cache directory for the AUR clone")
	}
	dir := filepath.Join(r.CacheDir, "aur", q.Pkgbase)
	defer run.lock(dir)()
	commit, err := r.syncClone(ctx, res.URL, dir, false)
	if err != nil {
		// git runs with LC_ALL=C, so its message is stable.
		if errors.Is(err, errEmptyRepo) || strings.Contains(err.Error(), "couldn't find remote ref HEAD") {
			// The AUR serves an empty repository for any name it does not
			// know, so this is how a missing package looks.
			return fmt.Errorf("no such AUR package (the repository is empty): %w", err)
		}
		return err
	}
	res.Ref, res.Commit, res.Dir = "HEAD", commit, dir
	si, err := srcinfo.ParseFile(filepath.Join(dir, ".SRCINFO"))
	if err != nil {
		return fmt.Errorf("commit %s: %w", commit, err)
	}
	if err := checkBase(si, q.Pkgbase); err != nil {
		return err
	}
	res.Srcinfo = si
	return nil
}

func (run *resolveRun) local(ctx context.Context, res *Resolved, q Request) error {
	if q.Dir == "" {
		return errors.New("no directory given")
	}
	dir, err := filepath.Abs(q.Dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "PKGBUILD")); err != nil {
		return fmt.Errorf("no PKGBUILD: %w", err)
	}
	res.Dir = dir
	if res.Files, err = TreeFiles(dir); err != nil {
		return err
	}
	res.TreeHash = HashTree(res.Files)
	si, err := run.r.localSrcinfo(ctx, dir)
	if err != nil {
		return err
	}
	if err := checkBase(si, q.Pkgbase); err != nil {
		return err
	}
	res.Srcinfo = si
	return nil
}

// checkBase refuses a .SRCINFO that describes another pkgbase: the request
// and the sources would disagree about what is being built.
func checkBase(si *srcinfo.Srcinfo, pkgbase string) error {
	if si.Base.Name != pkgbase {
		return fmt.Errorf(".SRCINFO is for pkgbase %q, not %q", si.Base.Name, pkgbase)
	}
	return nil
}
