package publish

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/portmake/portmake/internal/s3fake"
)

const (
	testAccessKey = "AKIAPORTMAKETEST"
	testSecret    = "portmake-test-secret"
	testBucket    = "port"
)

// s3Target names a bucket on a fake S3, for this process or a crash child
// (which inherits the credentials from the environment).
type s3Target struct {
	Endpoint string
	Prefix   string
	PartSize int64
	Bucket   string
}

func (s *s3Target) backend() (*S3, error) {
	bucket := s.Bucket
	if bucket == "" {
		bucket = testBucket
	}
	return NewS3(context.Background(), S3Config{Bucket: bucket, Prefix: s.Prefix, Endpoint: s.Endpoint, PartSize: s.PartSize})
}

// s3Env gives the SDK the test credentials through the environment, and
// keeps it away from the host's AWS configuration and from any address
// but loopback.
func s3Env(t testing.TB, key, secret string) {
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
}

func fakeS3(t testing.TB) *s3fake.Server {
	t.Helper()
	srv, err := s3fake.Start(s3fake.Options{AccessKey: testAccessKey, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	s3Env(t, testAccessKey, testSecret)
	return srv
}

func s3Repo(t testing.TB, srv *s3fake.Server, tgt s3Target) (*S3, *Repo) {
	t.Helper()
	tgt.Endpoint = srv.URL
	b, err := tgt.backend()
	if err != nil {
		t.Fatal(err)
	}
	return b, &Repo{Backend: b, Name: "extra", Arch: "aarch64", TempDir: t.TempDir()}
}

func TestS3FirstPublishAndUpdate(t *testing.T) {
	ctx := context.Background()
	srv := fakeS3(t)
	b, r := s3Repo(t, srv, s3Target{Prefix: "arch/"})
	out := t.TempDir()
	v1 := []File{
		mkpkg(t, filepath.Join(out, "1"), pkgSpec{name: "foo", ver: "1-1", payload: "a"}),
		mkpkg(t, filepath.Join(out, "1"), pkgSpec{name: "bar", ver: "1-1", arch: "any", payload: "b"}),
	}
	if _, err := r.Publish(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if got := consistent(t, b, r); len(got) != 2 {
		t.Errorf("lists %v", got)
	}
	// The layout is under the prefix, as a mirror serves it.
	if _, err := srv.Object(testBucket, "arch/extra/os/aarch64/extra.db"); err != nil {
		t.Errorf("no extra.db under the prefix: %v", err)
	}
	v2 := mkpkg(t, filepath.Join(out, "2"), pkgSpec{name: "foo", ver: "2-1", payload: "c"})
	if _, err := r.Publish(ctx, []File{v2}); err != nil {
		t.Fatal(err)
	}
	names := consistent(t, b, r)
	if !slices.Equal(names, []string{"bar-1-1-any.pkg.tar.zst", "foo-2-1-aarch64.pkg.tar.zst"}) {
		t.Errorf("lists %v", names)
	}
	want := []string{"bar-1-1-any.pkg.tar.zst", "extra.db", "extra.db.tar.gz", "extra.files", "extra.files.tar.gz", "foo-2-1-aarch64.pkg.tar.zst"}
	if got := keys(t, b, r); !slices.Equal(got, want) {
		t.Errorf("bucket holds %v, want %v (the superseded version deleted)", got, want)
	}
}

// TestS3RacingPublishers makes a second publisher commit between the
// first one's read of the database and its write: the first one's
// conditional write is refused, and it merges again.
func TestS3RacingPublishers(t *testing.T) {
	ctx := context.Background()
	srv := fakeS3(t)
	_, a := s3Repo(t, srv, s3Target{})
	b, bRepo := s3Repo(t, srv, s3Target{})
	out := t.TempDir()
	base := mkpkg(t, filepath.Join(out, "0"), pkgSpec{name: "base", ver: "1-1", payload: "x"})
	if _, err := a.Publish(ctx, []File{base}); err != nil {
		t.Fatal(err)
	}
	fa := mkpkg(t, filepath.Join(out, "a"), pkgSpec{name: "alpha", ver: "1-1", payload: "a"})
	fb := mkpkg(t, filepath.Join(out, "b"), pkgSpec{name: "beta", ver: "1-1", payload: "b"})
	var raced atomic.Bool
	srv.SetFault(func(req *http.Request) int {
		if req.Method != http.MethodPut || !strings.HasSuffix(req.URL.Path, "/extra.db.tar.gz") || req.Header.Get("If-Match") == "" {
			return 0
		}
		if raced.CompareAndSwap(false, true) {
			// The first conditional database write waits while the
			// other publisher commits.
			if _, err := bRepo.Publish(ctx, []File{fb}); err != nil {
				t.Errorf("second publisher: %v", err)
			}
		}
		return 0
	})
	var buf strings.Builder
	a.Log = testLogger(&buf)
	if _, err := a.Publish(ctx, []File{fa}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "merging again") {
		t.Errorf("the first publisher never lost the race:\n%s", buf.String())
	}
	names := consistent(t, b, a)
	want := []string{"alpha-1-1-aarch64.pkg.tar.zst", "base-1-1-aarch64.pkg.tar.zst", "beta-1-1-aarch64.pkg.tar.zst"}
	if !slices.Equal(names, want) {
		t.Errorf("database lists %v, want %v: a publisher's package was lost", names, want)
	}
}

// TestS3ConcurrentPublishers runs publishers at once on one repository.
func TestS3ConcurrentPublishers(t *testing.T) {
	ctx := context.Background()
	srv := fakeS3(t)
	out := t.TempDir()
	const n = 4
	var wg sync.WaitGroup
	var want []string
	errs := make([]error, n)
	var last *Repo
	var lastB *S3
	for i := range n {
		b, r := s3Repo(t, srv, s3Target{})
		r.Retries = 50
		last, lastB = r, b
		var files []File
		for k := range 3 {
			name := fmt.Sprintf("p%d-%d", i, k)
			files = append(files, mkpkg(t, filepath.Join(out, name), pkgSpec{name: name, ver: "1-1", payload: name}))
			want = append(want, name+"-1-1-aarch64.pkg.tar.zst")
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, f := range files {
				if _, err := r.Publish(ctx, []File{f}); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("publisher %d: %v", i, err)
		}
	}
	slices.Sort(want)
	if got := consistent(t, lastB, last); !slices.Equal(got, want) {
		t.Errorf("database lists %v\nwant %v", got, want)
	}
}

func TestS3FailureBetweenUploadAndDBThenResume(t *testing.T) {
	ctx := context.Background()
	srv := fakeS3(t)
	b, r := s3Repo(t, srv, s3Target{})
	out := t.TempDir()
	v1 := mkpkg(t, filepath.Join(out, "1"), pkgSpec{name: "foo", ver: "1-1", payload: "one"})
	if _, err := r.Publish(ctx, []File{v1}); err != nil {
		t.Fatal(err)
	}
	// The same file name with new bytes, and a new package.
	v2 := mkpkg(t, filepath.Join(out, "2"), pkgSpec{name: "foo", ver: "1-1", payload: "two"})
	nw := mkpkg(t, filepath.Join(out, "2"), pkgSpec{name: "new", ver: "1-1", payload: "new"})
	var pkgPuts atomic.Int32
	srv.SetFault(func(req *http.Request) int {
		if req.Method == http.MethodPut && strings.HasSuffix(req.URL.Path, "/extra.db.tar.gz") {
			return http.StatusInternalServerError // every retry of the SDK fails too
		}
		return 0
	})
	_, err := r.Publish(ctx, []File{v2, nw})
	if err == nil || !strings.Contains(err.Error(), "extra.db.tar.gz") {
		t.Fatalf("publish with the database write failing: %v", err)
	}
	names := consistent(t, b, r)
	if !slices.Equal(names, []string{"foo-1-1-aarch64.pkg.tar.zst"}) {
		t.Errorf("after the failure the database lists %v", names)
	}
	got := readBack(t, b, r.DBKey()).Find("foo")
	if got.SHA256Sum != v1.SHA256 {
		t.Errorf("the database changed to %s", got.SHA256Sum)
	}
	srv.SetFault(func(req *http.Request) int {
		if req.Method == http.MethodPut && strings.HasSuffix(req.URL.Path, "/new-1-1-aarch64.pkg.tar.zst") {
			pkgPuts.Add(1)
		}
		return 0
	})
	if _, err := r.Publish(ctx, []File{v2, nw}); err != nil {
		t.Fatal(err)
	}
	names = consistent(t, b, r)
	if !slices.Equal(names, []string{"foo-1-1-aarch64.pkg.tar.zst", "new-1-1-aarch64.pkg.tar.zst"}) {
		t.Errorf("after the resume the database lists %v", names)
	}
	if n := pkgPuts.Load(); n != 0 {
		t.Errorf("the resume uploaded new-1-1 again (%d times); it was already there", n)
	}
	if k := keys(t, b, r); len(k) != 6 {
		t.Errorf("bucket holds %v", k)
	}
}

func TestS3Credentials(t *testing.T) {
	ctx := context.Background()
	srv := fakeS3(t)
	f := mkpkg(t, t.TempDir(), pkgSpec{name: "foo", ver: "1-1", payload: "a"})
	for _, c := range []struct{ key, secret, want string }{
		{"AKIAWRONG", testSecret, "InvalidAccessKeyId"},
		{testAccessKey, "wrong-secret", "SignatureDoesNotMatch"},
	} {
		s3Env(t, c.key, c.secret)
		_, r := s3Repo(t, srv, s3Target{})
		_, err := r.Publish(ctx, []File{f})
		if err == nil || !strings.Contains(err.Error(), "access denied") || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
			t.Errorf("key %s secret %s: %v", c.key, c.secret, err)
		}
		if strings.Contains(fmt.Sprint(err), c.secret) {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
}

func TestS3MissingBucket(t *testing.T) {
	srv := fakeS3(t)
	_, r := s3Repo(t, srv, s3Target{Bucket: "no-such-bucket"})
	f := mkpkg(t, t.TempDir(), pkgSpec{name: "foo", ver: "1-1", payload: "a"})
	_, err := r.Publish(context.Background(), []File{f})
	if err == nil || !strings.Contains(err.Error(), `the bucket "no-such-bucket" does not exist`) {
		t.Errorf("publish to a missing bucket: %v", err)
	}
}

func TestS3StoreWithoutConditionalWrites(t *testing.T) {
	ctx := context.Background()
	srv := fakeS3(t)
	srv.SetIgnoreConditions(true)
	probeMu.Lock()
	clear(probeSeen)
	probeMu.Unlock()
	t.Cleanup(func() {
		probeMu.Lock()
		clear(probeSeen)
		probeMu.Unlock()
	})
	b, r := s3Repo(t, srv, s3Target{})
	f := mkpkg(t, t.TempDir(), pkgSpec{name: "foo", ver: "1-1", payload: "a"})
	_, err := r.Publish(ctx, []File{f})
	if err == nil || !strings.Contains(err.Error(), "does not honour conditional writes") || !strings.Contains(err.Error(), "--force-unconditional") {
		t.Fatalf("publish to a store without conditional writes: %v", err)
	}
	b.Unconditional = true
	if _, err := r.Publish(ctx, []File{f}); err != nil {
		t.Fatal(err)
	}
	consistent(t, b, r)
}

func TestS3MultipartAndRetries(t *testing.T) {
	ctx := context.Background()
	srv := fakeS3(t)
	b, r := s3Repo(t, srv, s3Target{PartSize: 5 << 20})
	big := make([]byte, 12<<20)
	rand.Read(big) // incompressible: the package file stays above two parts
	f := mkpkg(t, t.TempDir(), pkgSpec{name: "big", ver: "1-1", payload: string(big)})
	if f.Size < 10<<20 {
		t.Fatalf("package is only %d bytes", f.Size)
	}
	var parts, failed atomic.Int32
	srv.SetFault(func(req *http.Request) int {
		if req.Method == http.MethodPut && req.URL.Query().Has("partNumber") {
			parts.Add(1)
			// The first try of each part fails: the SDK retries.
			if failed.Add(1)%2 == 1 {
				return http.StatusServiceUnavailable
			}
		}
		return 0
	})
	if _, err := r.Publish(ctx, []File{f}); err != nil {
		t.Fatal(err)
	}
	if n := parts.Load(); n != 6 {
		t.Errorf("%d part uploads, want 3 parts each tried twice", n)
	}
	consistent(t, b, r)
}

func TestS3KillAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process per crash point")
	}
	ctx := context.Background()
	srv := fakeS3(t)
	// Every run gets its own prefix: one server serves them all.
	prefix := 0
	next := func() s3Target {
		prefix++
		return s3Target{Endpoint: srv.URL, Prefix: "run" + strconv.Itoa(prefix)}
	}
	tgt := next()
	b, r := s3Repo(t, srv, tgt)
	v2 := crashSetup(t, r, t.TempDir())
	out, killed := runChild(t, crashJob{Temp: t.TempDir(), Files: v2, S3: &tgt})
	steps := countSteps(t, out, killed)
	resumed(t, b, r, v2)
	for k := 1; k <= steps; k++ {
		t.Run("step"+strconv.Itoa(k), func(t *testing.T) {
			tgt := next()
			b, r := s3Repo(t, srv, tgt)
			v2 := crashSetup(t, r, t.TempDir())
			if _, killed := runChild(t, crashJob{Temp: t.TempDir(), Files: v2, CrashAt: k, S3: &tgt}); !killed {
				t.Fatalf("the child was not killed at step %d", k)
			}
			afterCrash(t, b, r)
			// The killed process was on this host: its journal is
			// recovered at once, without waiting for the lease.
			if err := r.Recover(ctx); err != nil {
				t.Fatalf("recover: %v", err)
			}
			recovered(t, b, r)
			if _, err := r.Publish(ctx, v2); err != nil {
				t.Fatalf("publish after the kill: %v", err)
			}
			resumed(t, b, r, v2)
		})
	}
}

// TestS3CopyInParts: an object over the limit of one CopyObject (5 GiB on
// S3; 5 MiB here) is copied by the store in parts, keeps its sha256, and
// is not copied once the source changed after it was looked at.
func TestS3CopyInParts(t *testing.T) {
	ctx := context.Background()
	srv := fakeS3(t)
	b, _ := s3Repo(t, srv, s3Target{PartSize: 5 << 20})
	b.copyLimit, b.copyPart = 5<<20, 5<<20
	put := func(key string, size int) (Object, []byte) {
		data := make([]byte, size)
		rand.Read(data)
		path := filepath.Join(t.TempDir(), "src")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		o, err := b.Put(ctx, key, Source{Path: path, Size: -1}, Cond{})
		if err != nil {
			t.Fatal(err)
		}
		return o, data
	}
	src, data := put("extra/os/aarch64/big.bin", 12<<20)
	var partCopies atomic.Int32
	srv.SetFault(func(req *http.Request) int {
		if req.Header.Get("X-Amz-Copy-Source") != "" && req.URL.Query().Has("partNumber") {
			partCopies.Add(1)
		}
		return 0
	})
	if err := b.Copy(ctx, src.Key, "extra/os/aarch64/copy.bin", src.ETag, false); err != nil {
		t.Fatal(err)
	}
	if n := partCopies.Load(); n != 3 {
		t.Errorf("%d part copies, want 3 (5+5+2 MiB)", n)
	}
	var got bytes.Buffer
	o, err := b.Get(ctx, "extra/os/aarch64/copy.bin", &got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), data) || o.SHA256 == "" || o.SHA256 != src.SHA256 {
		t.Errorf("the copy: %d bytes, sha256 %q; want %d bytes, %q", got.Len(), o.SHA256, len(data), src.SHA256)
	}

	// The source changes between the look and the copy: the store refuses
	// the copy, in parts or in one request, and leaves no object.
	small, _ := put("extra/os/aarch64/small.bin", 1<<20)
	for _, c := range []struct {
		name string
		src  Object
	}{{"in parts", src}, {"in one request", small}} {
		t.Run(c.name, func(t *testing.T) {
			var changed atomic.Bool
			srv.SetFault(func(req *http.Request) int {
				if req.Header.Get("X-Amz-Copy-Source") != "" && !changed.Swap(true) {
					if err := srv.PutObject(testBucket, c.src.Key, []byte("replaced meanwhile")); err != nil {
						t.Error(err)
					}
				}
				return 0
			})
			dst := "extra/os/aarch64/raced-" + strings.ReplaceAll(c.name, " ", "-")
			if err := b.Copy(ctx, c.src.Key, dst, c.src.ETag, false); !errors.Is(err, ErrPrecondition) {
				t.Errorf("copy of a changed source: %v, want %v", err, ErrPrecondition)
			}
			if _, err := b.Stat(ctx, dst); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after a refused copy, the destination: %v", err)
			}
		})
	}
}
