// Package fetch owns downloading repository databases into a local cache:
// https://, http://, file:// URLs and plain paths, with conditional GET
// (ETag / Last-Modified), timeouts, bounded retries with backoff, an offline
// mode that serves only the cache, and parallel fetches.
//
// It guarantees one thing above all: a failed, partial or empty download
// never replaces a good cached copy and never reaches the caller as "an
// empty repository". Bodies are written to a temporary file in the cache
// directory, checked (non-empty, not an HTML error page, exactly
// Content-Length bytes), fsynced and only then renamed into place.
//
// It does not parse sync databases (the caller does that with
// alpm/syncdb), does not know about repositories or Portfiles, and never
// logs or reports credentials: userinfo is stripped from every URL it
// prints.
//
// # Cache layout
//
// Each URL (without its userinfo) is keyed by the hex sha256 of its text.
// The cache holds, per key:
//
//	<key>-<sha256 of content>.db   the body, named by its own checksum
//	<key>.json                     the sidecar: URL, ETag, Last-Modified,
//	                               sha256, size, fetched-at
//
// The body is written first and the sidecar is renamed over the old one
// last, so the sidecar only ever names a complete file whose name is its
// checksum: a crash at any moment leaves either the old entry or the new
// one, never a mix. Older bodies of the same key are removed after the
// sidecar is committed. A Result's Path therefore stays valid until the next
// fetch of the same URL brings new content; callers open it right away.
package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults used when the matching Fetcher field is zero.
const (
	DefaultRetries = 3
	DefaultBackoff = 500 * time.Millisecond

	// maxRetryAfter caps a server's Retry-After: a plan should not hang for
	// an hour because a mirror asked it to.
	maxRetryAfter = 2 * time.Minute
	// maxBackoff caps the exponential backoff between attempts.
	maxBackoff = 30 * time.Second
	// staleTemp is the age after which a temporary file left by a killed
	// run is removed.
	staleTemp = time.Hour
)

// Fetcher downloads repository databases into CacheDir. The zero value of
// every field but CacheDir is usable. A Fetcher is safe for concurrent use;
// do not copy it after first use.
type Fetcher struct {
	// Check, when set, validates a downloaded body (a temporary file)
	// before it replaces the cached copy; an error rejects the download.
	Check func(url, path string) error

	// CacheDir is the cache directory, under the state directory (for
	// example .portmake/cache/db). It is created on first use.
	CacheDir string
	// Client does the HTTP requests; nil means DefaultClient().
	Client *http.Client
	// Retries is how many times a transient failure (5xx, 429, network
	// error, truncated body) is retried: 0 means DefaultRetries, negative
	// means never.
	Retries int
	// Backoff is the base delay before the first retry; it doubles on each
	// further retry, with jitter. 0 means DefaultBackoff.
	Backoff time.Duration
	// Offline serves only from the cache (--refresh=false). A URL with no
	// cached copy is an error naming it. Local files are still read.
	Offline bool
	// Log receives debug lines about requests and decisions; nil discards.
	Log *slog.Logger

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per cache key, so two fetches of one URL never race
}

// Result describes the local copy of one fetched URL.
type Result struct {
	URL          string // the URL as given, with userinfo stripped
	Path         string // the local file to read
	SHA256       string // hex sha256 of the file's content
	Size         int64
	FromCache    bool // the content came from the cache (offline or 304)
	NotModified  bool // the server answered 304 Not Modified
	ETag         string
	LastModified string
	FetchedAt    time.Time // when this content was downloaded (zero for local files)
}

// DefaultClient returns the HTTP client used when Fetcher.Client is nil:
// connection, TLS and header timeouts, and an overall limit generous enough
// for a large .files database on a slow link.
func DefaultClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 15 * time.Second
	tr.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: tr, Timeout: 10 * time.Minute}
}

var defaultClient = sync.OnceValue(DefaultClient)

// sidecar is the JSON metadata kept beside a cached body.
type sidecar struct {
	URL          string    `json:"url"`
	File         string    `json:"file"`
	SHA256       string    `json:"sha256"`
	Size         int64     `json:"size"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	FetchedAt    time.Time `json:"fetched_at"`
}

// Fetch returns a local copy of rawURL: for http(s), from the network with
// revalidation of the cached copy (or from the cache alone when Offline);
// for file:// URLs and plain paths, the file itself.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (*Result, error) {
	u, local, err := classify(rawURL)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", Redact(rawURL), err)
	}
	if local != "" {
		return fetchLocal(rawURL, local)
	}
	shown := redactURL(u)
	if f.CacheDir == "" {
		return nil, fmt.Errorf("fetch %s: no cache directory configured", shown)
	}
	key := cacheKey(shown)
	unlock := f.lock(key)
	defer unlock()

	cached, cerr := f.loadCache(key)
	if cerr != nil {
		f.log().Debug("fetch: ignoring unusable cache entry", "url", shown, "err", cerr)
		cached = nil
	}
	if f.Offline {
		if cached == nil {
			return nil, fmt.Errorf("fetch %s: no cached copy, and refresh is off (run with --refresh)", shown)
		}
		r := cached.result(f.CacheDir)
		r.FromCache = true
		return r, nil
	}
	return f.download(ctx, u, shown, key, cached)
}

// FetchAll fetches urls with at most parallel fetches at a time (parallel
// <= 0 means one per URL). Results are in the order of urls; a failed URL
// has a nil entry, and the error joins every failure, each naming its URL.
// A URL listed twice is fetched once.
func (f *Fetcher) FetchAll(ctx context.Context, urls []string, parallel int) ([]*Result, error) {
	if parallel <= 0 || parallel > len(urls) {
		parallel = len(urls)
	}
	results := make([]*Result, len(urls))
	errs := make([]error, len(urls))
	first := make(map[string]int, len(urls))
	var work []int
	for i, u := range urls {
		if _, dup := first[u]; !dup {
			first[u] = i
			work = append(work, i)
		}
	}
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for _, i := range work {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i], errs[i] = f.Fetch(ctx, urls[i])
		})
	}
	wg.Wait()
	for i, u := range urls {
		if j := first[u]; j != i {
			results[i] = results[j]
		}
	}
	return results, errors.Join(errs...)
}

func (f *Fetcher) log() *slog.Logger {
	if f.Log != nil {
		return f.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (f *Fetcher) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	return defaultClient()
}

func (f *Fetcher) lock(key string) func() {
	f.mu.Lock()
	if f.locks == nil {
		f.locks = map[string]*sync.Mutex{}
	}
	m := f.locks[key]
	if m == nil {
		m = new(sync.Mutex)
		f.locks[key] = m
	}
	f.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// classify splits a fetchable location into a remote URL or a local path.
func classify(raw string) (u *url.URL, local string, err error) {
	if raw == "" {
		return nil, "", errors.New("empty URL")
	}
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, raw, nil // a plain path
	}
	u, err = url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("bad URL: %w", stripURLError(err))
	}
	switch strings.ToLower(scheme) {
	case "http", "https":
		if u.Host == "" {
			return nil, "", errors.New("URL has no host")
		}
		return u, "", nil
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, "", fmt.Errorf("file URL with remote host %q is not supported", u.Host)
		}
		if u.Path == "" {
			return nil, "", errors.New("file URL has no path")
		}
		return nil, u.Path, nil
	}
	return nil, "", fmt.Errorf("unsupported scheme %q (want https, http, file or a path)", scheme)
}

// fetchLocal reads a local database in place: no copy, but the same
// validity checks and checksum as a download.
func fetchLocal(raw, path string) (*Result, error) {
	shown := Redact(raw)
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", shown, err)
	}
	defer fh.Close()
	h := sha256.New()
	head := &headWriter{}
	n, err := io.Copy(io.MultiWriter(h, head), fh)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: read: %w", shown, err)
	}
	if err := validateBody(n, head.b, ""); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", shown, err)
	}
	return &Result{URL: shown, Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// attemptError is one failed attempt; retry says whether another attempt
// may succeed.
type attemptError struct {
	err        error
	retry      bool
	retryAfter time.Duration
}

func (f *Fetcher) download(ctx context.Context, u *url.URL, shown, key string, cached *sidecar) (*Result, error) {
	retries := f.Retries
	if retries == 0 {
		retries = DefaultRetries
	}
	retries = max(retries, 0)
	base := f.Backoff
	if base <= 0 {
		base = DefaultBackoff
	}
	var last *attemptError
	attempts := 0
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			d := backoff(base, attempt)
			if last.retryAfter > d {
				d = min(last.retryAfter, maxRetryAfter)
			}
			f.log().Debug("fetch: retrying", "url", shown, "attempt", attempt+1, "after", d, "err", last.err)
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("fetch %s: %w (after %s)", shown, ctx.Err(), plural(attempts, "attempt"))
			case <-t.C:
			}
		}
		attempts++
		r, aerr := f.attempt(ctx, u, shown, key, cached)
		if aerr == nil {
			return r, nil
		}
		last = aerr
		if ctx.Err() != nil {
			return nil, fmt.Errorf("fetch %s: %w", shown, ctx.Err())
		}
		if !aerr.retry {
			return nil, fmt.Errorf("fetch %s: %w", shown, aerr.err)
		}
	}
	return nil, fmt.Errorf("fetch %s: %w after %s", shown, last.err, plural(attempts, "attempt"))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// backoff is the delay before retry number attempt (1-based): base doubled
// per retry, capped, with "equal jitter" (half fixed, half random) so that
// parallel fetches against one mirror spread out.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

func (f *Fetcher) attempt(ctx context.Context, u *url.URL, shown, key string, cached *sidecar) (*Result, *attemptError) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &attemptError{err: stripURLError(err)}
	}
	req.Header.Set("User-Agent", "portmake")
	if cached != nil {
		if cached.ETag != "" {
			req.Header.Set("If-None-Match", cached.ETag)
		}
		if cached.LastModified != "" {
			req.Header.Set("If-Modified-Since", cached.LastModified)
		}
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return nil, &attemptError{err: stripURLError(err), retry: true}
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		io.CopyN(io.Discard, resp.Body, 64<<10)
		resp.Body.Close()
	}()
	f.log().Debug("fetch: response", "url", shown, "status", resp.Status, "conditional", cached != nil)

	switch {
	case resp.StatusCode == http.StatusNotModified:
		if cached == nil {
			return nil, &attemptError{err: errors.New("server answered 304 Not Modified to an unconditional request")}
		}
		r := cached.result(f.CacheDir)
		r.FromCache, r.NotModified = true, true
		return r, nil
	case resp.StatusCode == http.StatusOK:
		return f.store(resp, shown, key)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, &attemptError{
			err:        errors.New(statusText(resp)),
			retry:      true,
			retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		}
	default:
		return nil, &attemptError{err: errors.New(statusText(resp))}
	}
}

func statusText(resp *http.Response) string {
	if resp.Status != "" {
		return resp.Status
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
}

// store streams a 200 body into a temporary file, checks it, and commits it
// as the new cache entry.
func (f *Fetcher) store(resp *http.Response, shown, key string) (*Result, *attemptError) {
	if err := os.MkdirAll(f.CacheDir, 0o755); err != nil {
		return nil, &attemptError{err: fmt.Errorf("cache: %w", err)}
	}
	f.removeStaleTemps(key)
	tmp, err := os.CreateTemp(f.CacheDir, key+".tmp-*")
	if err != nil {
		return nil, &attemptError{err: fmt.Errorf("cache: %w", err)}
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	head := &headWriter{}
	n, err := io.Copy(io.MultiWriter(tmp, h, head), resp.Body)
	if err != nil {
		if isLocalWriteError(err) {
			return nil, &attemptError{err: fmt.Errorf("cache: %w", err)}
		}
		// The connection broke mid-body: transient.
		return nil, &attemptError{err: fmt.Errorf("body truncated after %d bytes: %w", n, stripURLError(err)), retry: true}
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return nil, &attemptError{err: fmt.Errorf("body truncated: got %d of %d bytes (Content-Length)", n, resp.ContentLength), retry: true}
	}
	if err := validateBody(n, head.b, resp.Header.Get("Content-Type")); err != nil {
		return nil, &attemptError{err: err}
	}
	if err := tmp.Sync(); err != nil {
		return nil, &attemptError{err: fmt.Errorf("cache: sync %s: %w", tmp.Name(), err)}
	}
	if err := tmp.Close(); err != nil {
		return nil, &attemptError{err: fmt.Errorf("cache: %w", err)}
	}
	// A body can be complete as far as HTTP can tell and still not be a
	// database (a mirror serving a file cut short): the caller's Check
	// parses it before it may replace a good cached copy.
	if f.Check != nil {
		if err := f.Check(shown, tmp.Name()); err != nil {
			return nil, &attemptError{err: err}
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	sc := &sidecar{
		URL:          shown,
		File:         key + "-" + sum + ".db",
		SHA256:       sum,
		Size:         n,
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		FetchedAt:    time.Now().UTC(),
	}
	if err := os.Rename(tmp.Name(), filepath.Join(f.CacheDir, sc.File)); err != nil {
		return nil, &attemptError{err: fmt.Errorf("cache: %w", err)}
	}
	committed = true
	if err := f.writeSidecar(key, sc); err != nil {
		return nil, &attemptError{err: fmt.Errorf("cache: %w", err)}
	}
	f.removeOldBodies(key, sc.File)
	return sc.result(f.CacheDir), nil
}

func isLocalWriteError(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe)
}

func (f *Fetcher) writeSidecar(key string, sc *sidecar) error {
	data, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.CacheDir, key+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(f.CacheDir, key+".json")); err != nil {
		return err
	}
	// Make the renames durable: without a directory fsync a power loss can
	// forget them even though the file contents were synced.
	if d, err := os.Open(f.CacheDir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// removeOldBodies deletes the bodies of key other than keep.
func (f *Fetcher) removeOldBodies(key, keep string) {
	matches, _ := filepath.Glob(filepath.Join(f.CacheDir, key+"-*.db"))
	for _, m := range matches {
		if filepath.Base(m) != keep {
			if err := os.Remove(m); err == nil {
				f.log().Debug("fetch: removed old cached body", "file", m)
			}
		}
	}
}

// removeStaleTemps deletes temporary files of key left by a killed run.
func (f *Fetcher) removeStaleTemps(key string) {
	matches, _ := filepath.Glob(filepath.Join(f.CacheDir, key+".tmp-*"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && time.Since(fi.ModTime()) > staleTemp {
			os.Remove(m)
		}
	}
}

// loadCache returns the cache entry of key, nil when there is none, or an
// error when the entry exists but is unusable (then it is refetched).
func (f *Fetcher) loadCache(key string) (*sidecar, error) {
	data, err := os.ReadFile(filepath.Join(f.CacheDir, key+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sc, err := parseSidecar(data)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(filepath.Join(f.CacheDir, sc.File))
	if err != nil {
		return nil, err
	}
	if fi.Size() != sc.Size {
		return nil, fmt.Errorf("cached body %s has %d bytes, sidecar says %d", sc.File, fi.Size(), sc.Size)
	}
	return sc, nil
}

// parseSidecar decodes and checks a sidecar: the body file name must be a
// plain name inside the cache, derived from the recorded checksum.
func parseSidecar(data []byte) (*sidecar, error) {
	var sc sidecar
	if err := json.Unmarshal(data, &sc); err != nil {
		return nil, fmt.Errorf("sidecar: %w", err)
	}
	if len(sc.SHA256) != 64 || strings.Trim(sc.SHA256, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("sidecar: bad sha256 %q", sc.SHA256)
	}
	if sc.File != filepath.Base(sc.File) || !strings.HasSuffix(sc.File, "-"+sc.SHA256+".db") {
		return nil, fmt.Errorf("sidecar: bad file name %q", sc.File)
	}
	if sc.Size <= 0 {
		return nil, fmt.Errorf("sidecar: bad size %d", sc.Size)
	}
	return &sc, nil
}

func (sc *sidecar) result(dir string) *Result {
	return &Result{
		URL:          sc.URL,
		Path:         filepath.Join(dir, sc.File),
		SHA256:       sc.SHA256,
		Size:         sc.Size,
		ETag:         sc.ETag,
		LastModified: sc.LastModified,
		FetchedAt:    sc.FetchedAt,
	}
}

// headWriter keeps the first bytes written to it, for content sniffing.
type headWriter struct{ b []byte }

const headSize = 512

func (w *headWriter) Write(p []byte) (int, error) {
	if n := headSize - len(w.b); n > 0 {
		w.b = append(w.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

// validateBody rejects what is certainly not a repository database: an
// empty body (it would read as an empty repository and drop every package)
// or an HTML page (a captive portal or a mirror's error page served as 200).
func validateBody(n int64, head []byte, contentType string) error {
	if n == 0 {
		return errors.New("empty file (0 bytes); not a repository database")
	}
	if mt, _, _ := strings.Cut(contentType, ";"); strings.EqualFold(strings.TrimSpace(mt), "text/html") || looksLikeHTML(head) {
		return errors.New("got an HTML page, not a repository database")
	}
	return nil
}

// looksLikeHTML reports whether head starts, after whitespace and an
// optional UTF-8 BOM, with an HTML doctype or tag. Compressed or tar data
// never does.
func looksLikeHTML(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body", "<?xml", "<!--"} {
		if len(head) >= len(p) && strings.EqualFold(string(head[:len(p)]), p) {
			return true
		}
	}
	return false
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an
// HTTP-date. It returns 0 when the header is absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d <= 0 {
			return 0
		}
		return min(d, maxRetryAfter)
	}
	return 0
}

func cacheKey(shownURL string) string {
	s := sha256.Sum256([]byte(shownURL))
	return hex.EncodeToString(s[:])
}

// Redact strips userinfo (user and password) from a URL for logs and
// errors: whatever precedes the last '@' of the authority (the text between
// "://" and the first '/', '?' or '#'). Text without "://" is a path and is
// returned unchanged. It works on text, not on a parsed URL, so that even a
// URL that does not parse never shows its credentials.
func Redact(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	host, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host, tail = rest[:i], rest[i:]
	}
	i := strings.LastIndex(host, "@")
	if i < 0 {
		return raw
	}
	return scheme + "://" + host[i+1:] + tail
}

func redactURL(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	c := *u
	c.User = nil
	return c.String()
}

// stripURLError drops the *url.Error wrapper, whose text repeats the URL
// (with its username); the caller names the URL itself, redacted.
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("timeout: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}
