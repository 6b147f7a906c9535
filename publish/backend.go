package publish

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
)

// Backend is where repositories live. Keys are slash-separated paths
// relative to the backend's root ("core/os/aarch64/core.db.tar.gz"); a key
// never starts with '/' and never holds a "." or ".." element.
type Backend interface {
	// String names the backend's root for messages: a directory, or
	// s3://bucket/prefix.
	String() string
	// Stat describes the object at key; a missing object is an error that
	// wraps fs.ErrNotExist.
	Stat(ctx context.Context, key string) (Object, error)
	// Get writes the object's bytes to w and describes it.
	Get(ctx context.Context, key string, w io.Writer) (Object, error)
	// Put stores the local file src at key when cond holds (an error
	// wrapping ErrPrecondition otherwise). It verifies that what is stored
	// has src's size and sha256 before it returns: a Put that returns nil
	// has the bytes in place.
	Put(ctx context.Context, key string, src Source, cond Cond) (Object, error)
	// Copy makes dst a copy of src when src still has the ETag srcETag
	// (ErrPrecondition otherwise; "" copies whatever src holds). A
	// directory makes a symlink when src and dst share a directory and
	// link is set (the DB aliases repo-add makes), else a copy.
	Copy(ctx context.Context, src, dst, srcETag string, link bool) error
	// Move renames src to dst, replacing dst. On a directory it is atomic;
	// on S3 it is a copy, then a delete of src.
	Move(ctx context.Context, src, dst string) error
	// Delete removes the object; a missing one is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the objects directly under dir (a key ending in '/'),
	// and, when recursive, under its subdirectories too.
	List(ctx context.Context, dir string, recursive bool) ([]Object, error)
	// Lock excludes other writers of the database at key for the length
	// of a publish, where the backend can: a directory takes repo-add's
	// "<db>.lck" (recovering one whose process is dead); S3 cannot lock
	// and returns a no-op, its writers being ordered by conditional writes.
	Lock(ctx context.Context, key string) (unlock func(), err error)
	// Exclusive reports whether Lock excludes every other writer, so that
	// anything a journal describes is from a writer that is gone.
	Exclusive() bool
}

// Object describes a stored object.
type Object struct {
	Key     string
	Size    int64
	ETag    string    // version token for conditional writes; never empty for an existing object
	SHA256  string    // hex; "" when the backend cannot tell without reading the bytes
	ModTime time.Time // zero when unknown
	Link    string    // a directory's symlink target, "" otherwise
}

// Source is a local file to store, with what it must be.
type Source struct {
	Path   string
	Size   int64  // -1: unknown; taken from the file
	SHA256 string // hex; "" when the caller has no record (the hash is computed)
}

// Cond is a write condition.
type Cond struct {
	IfMatch     string // store only when the object's ETag is this
	IfNoneMatch bool   // store only when there is no object
}

// ErrPrecondition is wrapped by writes whose Cond did not hold: someone
// else wrote the object first.
var ErrPrecondition = errors.New("precondition failed: the object changed")

// ErrMismatch is wrapped when bytes are not the ones recorded: a package
// file changed after its build, or a store kept different bytes.
var ErrMismatch = errors.New("content does not match its record")

// isNotExist reports whether err says an object is missing.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// checkKey refuses keys that could escape the backend's root.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\x00") || strings.Contains(key, "\\") {
		return fmt.Errorf("invalid key %q", key)
	}
	for _, el := range strings.Split(strings.TrimSuffix(key, "/"), "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("invalid key %q", key)
		}
	}
	return nil
}

// digest is the sha256 and md5 of some bytes, and their count.
type digest struct {
	sha, md hash.Hash
	n       int64
}

func newDigest() *digest { return &digest{sha: sha256.New(), md: md5.New()} }

func (d *digest) Write(p []byte) (int, error) {
	d.sha.Write(p)
	d.md.Write(p)
	d.n += int64(len(p))
	return len(p), nil
}

func (d *digest) SHA256() string { return hex.EncodeToString(d.sha.Sum(nil)) }
func (d *digest) MD5() string    { return hex.EncodeToString(d.md.Sum(nil)) }

// HashFile returns the sha256 (hex) and size of a local file.
func HashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	d := newDigest()
	if _, err := io.Copy(d, f); err != nil {
		return "", 0, fmt.Errorf("read %s: %w", p, err)
	}
	return d.SHA256(), d.n, nil
}

// check compares what was read with what src says it must be.
func (src Source) check(d *digest) error {
	if src.Size >= 0 && d.n != src.Size {
		return fmt.Errorf("%s: %w: %d bytes, recorded %d", src.Path, ErrMismatch, d.n, src.Size)
	}
	if src.SHA256 != "" && d.SHA256() != src.SHA256 {
		return fmt.Errorf("%s: %w: sha256 %s, recorded %s", src.Path, ErrMismatch, d.SHA256(), src.SHA256)
	}
	return nil
}

// base is the last element of a key.
func base(key string) string { return path.Base(key) }
