package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// dbBody returns gzip bytes standing in for a sync DB: fetch never parses
// them, but they must not look like HTML.
func dbBody(t testing.TB, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(content))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func newFetcher(t testing.TB) *Fetcher {
	t.Helper()
	return &Fetcher{CacheDir: filepath.Join(t.TempDir(), "cache", "db"), Backoff: time.Millisecond}
}

// cacheFiles lists the cache directory, to check what a failure left.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFetchETagRevalidation(t *testing.T) {
	var mu sync.Mutex
	body, etag := dbBody(t, "v1"), `"v1"`
	var requests, conditional int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		requests++
		if inm := r.Header.Get("If-None-Match"); inm != "" {
			conditional++
			if inm == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		w.Header().Set("ETag", etag)
		w.Write(body)
	}))
	defer srv.Close()
	f := newFetcher(t)
	ctx := context.Background()
	url := srv.URL + "/core/os/x86_64/core.db"

	r1, err := f.Fetch(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if r1.FromCache || r1.NotModified || r1.SHA256 != sum(body) || r1.Size != int64(len(body)) || r1.ETag != etag {
		t.Fatalf("first fetch: %+v", r1)
	}
	if got := readAll(t, r1.Path); !bytes.Equal(got, body) {
		t.Fatal("cached body differs from the served one")
	}

	r2, err := f.Fetch(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if !r2.FromCache || !r2.NotModified || r2.Path != r1.Path || r2.SHA256 != r1.SHA256 {
		t.Fatalf("revalidation: %+v", r2)
	}
	if requests != 2 || conditional != 1 {
		t.Fatalf("server saw %d requests, %d conditional; want 2, 1", requests, conditional)
	}

	// New content on the server replaces the cache and the old body file.
	mu.Lock()
	body, etag = dbBody(t, "v2"), `"v2"`
	mu.Unlock()
	r3, err := f.Fetch(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if r3.NotModified || r3.SHA256 != sum(body) || r3.Path == r1.Path {
		t.Fatalf("changed content: %+v", r3)
	}
	if _, err := os.Stat(r1.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old body %s still present (err %v)", r1.Path, err)
	}
	if got := cacheFiles(t, f.CacheDir); len(got) != 2 {
		t.Errorf("cache holds %v, want one body and one sidecar", got)
	}
}

func TestFetchLastModifiedRevalidation(t *testing.T) {
	body := dbBody(t, "lm")
	mod := time.Date(2024, 11, 29, 10, 0, 0, 0, time.UTC)
	var requests, sawIMS atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("If-Modified-Since") == mod.Format(http.TimeFormat) {
			sawIMS.Add(1)
		}
		http.ServeContent(w, r, "core.db", mod, bytes.NewReader(body))
	}))
	defer srv.Close()
	f := newFetcher(t)
	r1, err := f.Fetch(context.Background(), srv.URL+"/core.db")
	if err != nil {
		t.Fatal(err)
	}
	if r1.LastModified != mod.Format(http.TimeFormat) || r1.ETag != "" {
		t.Fatalf("first fetch: %+v", r1)
	}
	r2, err := f.Fetch(context.Background(), srv.URL+"/core.db")
	if err != nil {
		t.Fatal(err)
	}
	if !r2.NotModified || r2.SHA256 != sum(body) {
		t.Fatalf("revalidation: %+v", r2)
	}
	if requests.Load() != 2 || sawIMS.Load() != 1 {
		t.Fatalf("requests %d, with If-Modified-Since %d; want 2, 1", requests.Load(), sawIMS.Load())
	}
}

func TestFetchRetryThenSuccess(t *testing.T) {
	body := dbBody(t, "ok")
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusInternalServerError)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	f := newFetcher(t)
	r, err := f.Fetch(context.Background(), srv.URL+"/extra.db")
	if err != nil {
		t.Fatal(err)
	}
	if r.SHA256 != sum(body) || requests.Load() != 3 {
		t.Fatalf("result %+v after %d requests", r, requests.Load())
	}
}

func TestFetchServerErrorForeverKeepsCache(t *testing.T) {
	body := dbBody(t, "good")
	var fail atomic.Bool
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("ETag", `"good"`)
		w.Write(body)
	}))
	defer srv.Close()
	f := newFetcher(t)
	url := srv.URL + "/core.db"
	good, err := f.Fetch(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	before := cacheFiles(t, f.CacheDir)
	sidecarBefore := readAll(t, filepath.Join(f.CacheDir, cacheKey(url)+".json"))

	fail.Store(true)
	requests.Store(0)
	_, err = f.Fetch(context.Background(), url)
	want := "fetch " + url + ": 503 Service Unavailable after 4 attempts"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
	if requests.Load() != 4 {
		t.Errorf("%d requests, want 4 (1 + 3 retries)", requests.Load())
	}
	if after := cacheFiles(t, f.CacheDir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("cache changed: %v -> %v", before, after)
	}
	if got := readAll(t, filepath.Join(f.CacheDir, cacheKey(url)+".json")); !bytes.Equal(got, sidecarBefore) {
		t.Error("sidecar changed after a failed fetch")
	}
	if got := readAll(t, good.Path); !bytes.Equal(got, body) {
		t.Error("cached body changed after a failed fetch")
	}
}

func TestFetchTooManyRequestsHonoursRetryAfter(t *testing.T) {
	body := dbBody(t, "later")
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	f := newFetcher(t) // Backoff is 1ms, so any wait near 1s is Retry-After's
	start := time.Now()
	r, err := f.Fetch(context.Background(), srv.URL+"/core.db")
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("retried after %v, want about 1s (Retry-After: 1)", el)
	}
	if r.SHA256 != sum(body) || requests.Load() != 2 {
		t.Fatalf("result %+v after %d requests", r, requests.Load())
	}
}

// truncatingServer announces a Content-Length and then hangs up halfway,
// as a dying mirror or proxy does.
func truncatingServer(t *testing.T, body []byte, requests *atomic.Int32) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("server cannot hijack")
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/octet-stream\r\n\r\n", len(body))
		buf.Write(body[:len(body)/2])
		buf.Flush()
	}))
}

func TestFetchTruncatedBody(t *testing.T) {
	body := bytes.Repeat(dbBody(t, "truncated"), 50)
	var requests atomic.Int32
	srv := truncatingServer(t, body, &requests)
	defer srv.Close()
	f := newFetcher(t)
	f.Retries = 1
	url := srv.URL + "/core.db"
	_, err := f.Fetch(context.Background(), url)
	if err == nil {
		t.Fatal("truncated body accepted")
	}
	for _, want := range []string{"fetch " + url + ": ", "truncated", "after 2 attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if requests.Load() != 2 {
		t.Errorf("%d requests, want 2", requests.Load())
	}
	if got := cacheFiles(t, f.CacheDir); len(got) != 0 {
		t.Errorf("a truncated download left %v in the cache", got)
	}
	// And offline there is still nothing to serve.
	f.Offline = true
	if _, err := f.Fetch(context.Background(), url); err == nil {
		t.Error("offline fetch served a truncated download")
	}
}

func TestFetchRejectsBadBodies(t *testing.T) {
	good := dbBody(t, "good")
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
		tries   int32
	}{
		{"empty", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
		}, "empty file (0 bytes)", 1},
		{"html content type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(good)
		}, "HTML page", 1},
		{"html sniffed", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte("\n  <!DOCTYPE html><html><body>Mirror is down</body></html>"))
		}, "HTML page", 1},
		{"not found", func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, "404 Not Found", 1},
		{"forbidden", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
		}, "403 Forbidden", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			var bad atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !bad.Load() {
					w.Write(good)
					return
				}
				requests.Add(1)
				tt.handler(w, r)
			}))
			defer srv.Close()
			f := newFetcher(t)
			url := srv.URL + "/core.db"
			first, err := f.Fetch(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			bad.Store(true)
			_, err = f.Fetch(context.Background(), url)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "fetch "+url+": ") {
				t.Fatalf("error = %v, want one naming %s and %q", err, url, tt.want)
			}
			if strings.Contains(err.Error(), "attempts") {
				t.Errorf("a permanent failure was retried: %v", err)
			}
			if requests.Load() != tt.tries {
				t.Errorf("%d requests, want %d", requests.Load(), tt.tries)
			}
			// The good copy survives, byte for byte.
			f.Offline = true
			r, err := f.Fetch(context.Background(), url)
			if err != nil || r.SHA256 != first.SHA256 || !bytes.Equal(readAll(t, r.Path), good) {
				t.Fatalf("cache after a bad body: %+v, %v", r, err)
			}
		})
	}
}

func TestFetchOffline(t *testing.T) {
	body := dbBody(t, "offline")
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write(body)
	}))
	defer srv.Close()
	f := newFetcher(t)
	f.Offline = true
	miss := srv.URL + "/missing.db"
	_, err := f.Fetch(context.Background(), miss)
	if err == nil || !strings.Contains(err.Error(), miss) || !strings.Contains(err.Error(), "no cached copy") {
		t.Fatalf("offline miss: %v", err)
	}
	f.Offline = false
	online, err := f.Fetch(context.Background(), srv.URL+"/core.db")
	if err != nil {
		t.Fatal(err)
	}
	f.Offline = true
	n := requests.Load()
	hit, err := f.Fetch(context.Background(), srv.URL+"/core.db")
	if err != nil {
		t.Fatal(err)
	}
	if !hit.FromCache || hit.NotModified || hit.SHA256 != online.SHA256 || hit.Path != online.Path {
		t.Fatalf("offline hit: %+v", hit)
	}
	if requests.Load() != n {
		t.Error("offline fetch touched the network")
	}
}

func TestFetchLocal(t *testing.T) {
	dir := t.TempDir()
	body := dbBody(t, "local")
	path := filepath.Join(dir, "core.db")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f := &Fetcher{Offline: true} // no cache dir needed for local files
	for _, in := range []string{path, "file://" + path, "file://localhost" + path} {
		r, err := f.Fetch(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if r.Path != path || r.SHA256 != sum(body) || r.Size != int64(len(body)) {
			t.Errorf("%s: %+v", in, r)
		}
	}
	for in, want := range map[string]string{
		empty:                         "empty file",
		filepath.Join(dir, "nope.db"): "no such file",
		"file://example.org/core.db":  "remote host",
		"ftp://example.org/core.db":   "unsupported scheme",
		"":                            "empty URL",
	} {
		_, err := f.Fetch(context.Background(), in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "fetch ") {
			t.Errorf("Fetch(%q) = %v, want an error with %q", in, err, want)
		}
	}
}

func TestFetchAll(t *testing.T) {
	var inFlight, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		switch {
		case strings.HasSuffix(r.URL.Path, "/gone.db"):
			http.NotFound(w, r)
		case strings.HasSuffix(r.URL.Path, "/broken.db"):
			http.Error(w, "oops", http.StatusInternalServerError)
		default:
			w.Write(dbBody(t, r.URL.Path))
		}
	}))
	defer srv.Close()
	f := newFetcher(t)
	f.Retries = 1
	urls := []string{
		srv.URL + "/a.db", srv.URL + "/gone.db", srv.URL + "/b.db",
		srv.URL + "/broken.db", srv.URL + "/c.db", srv.URL + "/a.db",
	}
	res, err := f.FetchAll(context.Background(), urls, 2)
	if err == nil {
		t.Fatal("no error for the failing URLs")
	}
	for _, want := range []string{
		"fetch " + srv.URL + "/gone.db: 404 Not Found",
		"fetch " + srv.URL + "/broken.db: 500 Internal Server Error after 2 attempts",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("joined error lacks %q:\n%v", want, err)
		}
	}
	if len(res) != len(urls) {
		t.Fatalf("%d results for %d URLs", len(res), len(urls))
	}
	for i, u := range urls {
		failing := strings.HasSuffix(u, "/gone.db") || strings.HasSuffix(u, "/broken.db")
		if failing != (res[i] == nil) {
			t.Errorf("result %d (%s) = %+v", i, u, res[i])
			continue
		}
		if !failing && (res[i].URL != u || res[i].SHA256 != sum(readAll(t, res[i].Path))) {
			t.Errorf("result %d is %+v, want %s", i, res[i], u)
		}
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("%d requests in flight, limit 2", p)
	}
}

func TestFetchContextCancel(t *testing.T) {
	t.Run("during request", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer srv.Close()
		defer close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := newFetcher(t).Fetch(ctx, srv.URL+"/core.db")
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), srv.URL+"/core.db") {
			t.Fatalf("error = %v", err)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("cancel took %v", el)
		}
	})
	t.Run("during backoff", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
		}))
		defer srv.Close()
		f := newFetcher(t)
		f.Backoff = time.Hour
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := f.Fetch(ctx, srv.URL+"/core.db")
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "after 1 attempt") {
			t.Fatalf("error = %v", err)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("cancel took %v", el)
		}
	})
}

func TestFetchNetworkErrorRedactsCredentials(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens any more: connection refused
	f := newFetcher(t)
	f.Retries = 1
	url := strings.Replace(addr, "http://", "http://alice:s3cret@", 1) + "/core.db"
	_, err := f.Fetch(context.Background(), url)
	if err == nil {
		t.Fatal("fetch from a closed server succeeded")
	}
	msg := err.Error()
	if strings.Contains(msg, "s3cret") || strings.Contains(msg, "alice") {
		t.Errorf("error leaks credentials: %v", msg)
	}
	if !strings.HasPrefix(msg, "fetch "+addr+"/core.db: ") || !strings.Contains(msg, "after 2 attempts") {
		t.Errorf("error = %v", msg)
	}
}

func TestFetchCredentialsNotStored(t *testing.T) {
	body := dbBody(t, "private")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	f := newFetcher(t)
	url := strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1) + "/core.db"
	r, err := f.Fetch(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if r.URL != srv.URL+"/core.db" {
		t.Errorf("Result.URL = %q", r.URL)
	}
	for _, name := range cacheFiles(t, f.CacheDir) {
		if strings.HasSuffix(name, ".json") && bytes.Contains(readAll(t, filepath.Join(f.CacheDir, name)), []byte("s3cret")) {
			t.Errorf("sidecar %s holds the password", name)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"3", 3 * time.Second},
		{" 7 ", 7 * time.Second},
		{"86400", maxRetryAfter},
		{"99999999999999999999", 0},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(time.Hour).Format(http.TimeFormat), maxRetryAfter},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLooksLikeHTML(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"<!DOCTYPE html>", true},
		{"\xef\xbb\xbf\r\n<HTML>", true},
		{"  <head><title>502</title>", true},
		{"<?xml version=\"1.0\"?><Error>", true},
		{"\x1f\x8b\x08\x00", false},
		{"\x28\xb5\x2f\xfd", false},
		{"core-1.0-1/desc", false},
		{"<h", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := looksLikeHTML([]byte(tt.in)); got != tt.want {
			t.Errorf("looksLikeHTML(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		"https://u:p@example.org/core.db":  "https://example.org/core.db",
		"https://token@example.org/x?y=1":  "https://example.org/x?y=1",
		"https://example.org/core.db":      "https://example.org/core.db",
		"/srv/repo/core.db":                "/srv/repo/core.db",
		"https://u:p%zz@example.org/a.db":  "https://example.org/a.db",
		"https://u:p%zz@example.org":       "https://example.org",
		"file:///srv/repo/core/os/core.db": "file:///srv/repo/core/os/core.db",
	}
	for in, want := range tests {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	base := 100 * time.Millisecond
	for attempt := 1; attempt <= 12; attempt++ {
		full := min(base<<(attempt-1), maxBackoff)
		for range 20 {
			d := backoff(base, attempt)
			if d < full/2 || d > full {
				t.Fatalf("backoff(%v, %d) = %v, want in [%v, %v]", base, attempt, d, full/2, full)
			}
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "-1", "Wed, 21 Oct 2015 07:28:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT", "x", "9223372036854775807"} {
		f.Add(s)
	}
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d := parseRetryAfter(s, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %v, outside [0, %v]", s, d, maxRetryAfter)
		}
	})
}

func FuzzParseSidecar(f *testing.F) {
	sha := strings.Repeat("ab", 32)
	f.Add(`{"url":"https://x/core.db","file":"k-` + sha + `.db","sha256":"` + sha + `","size":12}`)
	f.Add(`{"file":"../../etc/passwd","sha256":"` + sha + `","size":1}`)
	f.Add(`{"file":"k-` + sha + `.db","sha256":"` + sha + `","size":0}`)
	f.Add(`[]`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := parseSidecar([]byte(s))
		if err != nil {
			return
		}
		if sc.File != filepath.Base(sc.File) || sc.File == ".." || strings.ContainsRune(sc.File, '/') || sc.Size <= 0 {
			t.Fatalf("accepted unsafe sidecar %+v", sc)
		}
	})
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{"https://u:p@h/x", "http://h", "/a/b", "file:///a", "https://a@b@c/d", "://@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Redact(s)
		if !strings.Contains(s, "://") {
			if out != s {
				t.Fatalf("Redact(%q) changed a path to %q", s, out)
			}
			return
		}
		_, rest, _ := strings.Cut(out, "://")
		host := rest
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			host = rest[:i]
		}
		if strings.Contains(host, "@") {
			t.Fatalf("Redact(%q) = %q keeps userinfo", s, out)
		}
	})
}

// BenchmarkFetchCached measures the common case of a re-plan: the cache
// holds the DB and the server answers 304 to the conditional GET.
func BenchmarkFetchCached(b *testing.B) {
	body := dbBody(b, strings.Repeat("x", 1<<20))
	etag := `"` + strconv.Itoa(len(body)) + `"`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Write(body)
	}))
	defer srv.Close()
	f := newFetcher(b)
	ctx := context.Background()
	if _, err := f.Fetch(ctx, srv.URL+"/extra.db"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, err := f.Fetch(ctx, srv.URL+"/extra.db")
		if err != nil || !r.NotModified {
			b.Fatalf("%+v, %v", r, err)
		}
	}
}
