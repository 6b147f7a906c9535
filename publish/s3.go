package publish

// S3 writes go through the SDK (aws-sdk-go-v2) with its retries for
// transient errors (throttling, 5xx, connection resets) and its checksums
// on. What portmake adds:
//
//   - Every object is sent with its SHA-256 (x-amz-checksum-sha256; per part
//     for multipart uploads), which S3 checks before it stores anything,
//     and is checked after the write by a HEAD before anything names it:
//     the size, and the server's SHA-256 checksum or, when the store
//     returns none, the ETag, which for an unencrypted object is the MD5 of
//     its bytes (of its parts' MD5s for a multipart upload). A write that
//     cannot be checked either way fails.
//   - Files above PartSize go up as multipart uploads; an upload that fails
//     is aborted, and Recover aborts those a killed writer left.
//   - Conditional writes (If-Match, If-None-Match: *) order concurrent
//     writers of a database. Before its first conditional write, the
//     backend checks that the store honours them (it writes a probe object
//     twice with If-None-Match: * and expects the second write refused). On
//     a store that ignores them, two concurrent publishers would silently
//     lose each other's packages, so portmake refuses to publish there
//     unless Unconditional is set (apply --force-unconditional), which is
//     safe only when a single publisher ever writes the bucket.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3Config is the publish "s3" block.
type S3Config struct {
	Bucket   string
	Prefix   string // key prefix, without leading or trailing '/'
	Region   string // "" takes the SDK's default (AWS_REGION, the profile)
	Endpoint string // an S3-compatible store; path-style addressing
	Profile  string // shared config profile; "" takes the SDK's default
	// Unconditional allows publishing to a store that does not honour
	// conditional writes.
	Unconditional bool
	// PartSize is the multipart part size, and files larger than it are
	// uploaded in parts; 0 means 64 MiB (5 MiB at least).
	PartSize int64
	// HTTPClient, when set, replaces the SDK's (tests).
	HTTPClient *http.Client
	Log        *slog.Logger
}

// S3 is a Backend on an S3 bucket.
type S3 struct {
	Client        *s3.Client
	Bucket        string
	Prefix        string
	Unconditional bool
	PartSize      int64
	Log           *slog.Logger

	// copyLimit and copyPart, when set, replace S3's 5 GiB limit of one
	// CopyObject and the 1 GiB part of a multipart copy (tests copy small
	// objects in parts).
	copyLimit, copyPart int64

	endpoint string
	once     sync.Once
	checkErr error
}

// NewS3 configures the SDK the standard way (config.LoadDefaultConfig:
// environment, shared config and credentials files, the profile, SSO,
// instance roles), never from the Portfile.
func NewS3(ctx context.Context, c S3Config) (*S3, error) {
	if c.Bucket == "" {
		return nil, errors.New("publish s3: no bucket")
	}
	var opts []func(*config.LoadOptions) error
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if c.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(c.HTTPClient))
	}
	opts = append(opts, config.WithRetryMaxAttempts(5))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("publish s3: AWS configuration: %w", err)
	}
	if cfg.Region == "" && c.Endpoint != "" {
		cfg.Region = "us-east-1" // S3-compatible stores mostly ignore it, but it must be set
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
			o.UsePathStyle = true
		}
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	part := c.PartSize
	if part == 0 {
		part = 64 << 20
	}
	return &S3{Client: client, Bucket: c.Bucket, Prefix: strings.Trim(c.Prefix, "/"), Unconditional: c.Unconditional,
		PartSize: max(part, 5<<20), Log: c.Log, endpoint: c.Endpoint}, nil
}

func (b *S3) String() string {
	s := "s3://" + b.Bucket
	if b.Prefix != "" {
		s += "/" + b.Prefix
	}
	return s
}

func (b *S3) log() *slog.Logger {
	if b.Log != nil {
		return b.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (b *S3) full(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if b.Prefix == "" {
		return key, nil
	}
	return b.Prefix + "/" + key, nil
}

func (b *S3) rel(full string) string {
	if b.Prefix == "" {
		return full
	}
	return strings.TrimPrefix(full, b.Prefix+"/")
}

// Check makes sure the bucket exists and the credentials may use it,
// with an error that says which.
func (b *S3) Check(ctx context.Context) error {
	b.once.Do(func() {
		_, err := b.Client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.Bucket)})
		if err != nil {
			// A HEAD answer has no body, so no error code: a listing
			// says what is wrong.
			if _, lerr := b.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.Bucket), MaxKeys: aws.Int32(1)}); lerr != nil {
				err = lerr
			}
			b.checkErr = b.explain("open bucket", "", err)
		}
	})
	return b.checkErr
}

// explain turns an SDK error into one a user can act on.
func (b *S3) explain(op, key string, err error) error {
	where := b.String()
	if key != "" {
		where += "/" + key
	}
	var ae smithy.APIError
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case code == "PreconditionFailed" || code == "ConditionalRequestConflict" || status == http.StatusPreconditionFailed:
		return fmt.Errorf("%s %s: %w", op, where, ErrPrecondition)
	case code == "NoSuchBucket" || (key == "" && status == http.StatusNotFound):
		return fmt.Errorf("%s %s: the bucket %q does not exist%s; create it, or fix publish \"s3\" bucket", op, where, b.Bucket, b.at())
	case code == "NoSuchKey" || code == "NotFound" || status == http.StatusNotFound:
		return fmt.Errorf("%s %s: %w", op, where, fs.ErrNotExist)
	case code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "InvalidToken" || code == "ExpiredToken" || code == "AccessDenied" || status == http.StatusForbidden || status == http.StatusUnauthorized:
		return fmt.Errorf("%s %s: access denied (%s)%s: check the credentials the AWS SDK finds (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the publish block's profile, SSO or the instance role) and that they may write the bucket: %w", op, where, or(code, http.StatusText(status)), b.at(), err)
	}
	return fmt.Errorf("%s %s: %w", op, where, err)
}

func (b *S3) at() string {
	if b.endpoint != "" {
		return " at " + b.endpoint
	}
	return ""
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checksum returns the SHA-256 a HEAD or GET reported, in hex, when it is
// a whole-object checksum.
func checksum(sum *string, typ types.ChecksumType) string {
	if sum == nil || *sum == "" || typ == types.ChecksumTypeComposite || strings.Contains(*sum, "-") {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(*sum)
	if err != nil || len(raw) != sha256.Size {
		return ""
	}
	return hex.EncodeToString(raw)
}

// Metadata portmake writes with each object: the sha256 of its bytes, and
// the ETag the store gives to exactly those bytes. A HEAD trusts the
// recorded sha256 only while the ETag still matches.
const (
	metaSHA256 = "portmake-sha256"
	metaETag   = "portmake-etag"
)

func (b *S3) object(key string, size *int64, etag *string, mod *time.Time, meta map[string]string, sum *string, typ types.ChecksumType) Object {
	o := Object{Key: key, Size: aws.ToInt64(size), ETag: aws.ToString(etag), ModTime: aws.ToTime(mod)}
	o.SHA256 = checksum(sum, typ)
	if o.SHA256 == "" && meta[metaSHA256] != "" && meta[metaETag] == o.ETag {
		o.SHA256 = meta[metaSHA256]
	}
	return o
}

func (b *S3) Stat(ctx context.Context, key string) (Object, error) {
	full, err := b.full(key)
	if err != nil {
		return Object{}, err
	}
	out, err := b.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(full), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		return Object{}, b.explain("look up", full, err)
	}
	return b.object(key, out.ContentLength, out.ETag, out.LastModified, out.Metadata, out.ChecksumSHA256, out.ChecksumType), nil
}

func (b *S3) Get(ctx context.Context, key string, w io.Writer) (Object, error) {
	full, err := b.full(key)
	if err != nil {
		return Object{}, err
	}
	out, err := b.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(full), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		return Object{}, b.explain("read", full, err)
	}
	defer out.Body.Close()
	d := newDigest()
	if _, err := io.Copy(io.MultiWriter(w, d), out.Body); err != nil {
		return Object{}, b.explain("read", full, err)
	}
	o := b.object(key, out.ContentLength, out.ETag, out.LastModified, out.Metadata, out.ChecksumSHA256, out.ChecksumType)
	if o.Size != d.n {
		return Object{}, fmt.Errorf("read %s: got %d bytes of %d", full, d.n, o.Size)
	}
	o.SHA256 = d.SHA256()
	return o, nil
}

// expected is what a file's upload must produce.
type expected struct {
	size      int64
	sha, md   string   // hex of the whole file
	partSHA   []string // base64 per part, multipart only
	partETags []string // quoted md5 per part, multipart only
	etag      string   // the ETag the store should give it
	composite string   // the composite SHA-256 checksum of a multipart upload
}

// measure reads the file once for everything the upload and its check
// need.
func (b *S3) measure(f *os.File, multipart bool) (expected, error) {
	var e expected
	whole := newDigest()
	partSums := sha256.New()
	partMD5s := md5.New()
	buf := make([]byte, 1<<20)
	for {
		ps, pm := sha256.New(), md5.New()
		n, err := io.CopyBuffer(io.MultiWriter(whole, ps, pm), io.LimitReader(f, b.PartSize), buf)
		if err != nil {
			return e, err
		}
		if n == 0 && len(e.partSHA) > 0 {
			break
		}
		if multipart {
			e.partSHA = append(e.partSHA, base64.StdEncoding.EncodeToString(ps.Sum(nil)))
			e.partETags = append(e.partETags, `"`+hex.EncodeToString(pm.Sum(nil))+`"`)
			partSums.Write(ps.Sum(nil))
			partMD5s.Write(pm.Sum(nil))
		} else if n > 0 {
			e.partSHA = append(e.partSHA, "")
		}
		if n < b.PartSize {
			break
		}
	}
	e.size, e.sha, e.md = whole.n, whole.SHA256(), whole.MD5()
	if multipart {
		e.etag = fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(partMD5s.Sum(nil)), len(e.partSHA))
		e.composite = fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(partSums.Sum(nil)), len(e.partSHA))
	} else {
		e.etag = `"` + e.md + `"`
	}
	_, err := f.Seek(0, io.SeekStart)
	return e, err
}

func (b *S3) Put(ctx context.Context, key string, src Source, cond Cond) (Object, error) {
	full, err := b.full(key)
	if err != nil {
		return Object{}, err
	}
	if err := b.Check(ctx); err != nil {
		return Object{}, err
	}
	if cond != (Cond{}) {
		if err := b.checkConditional(ctx); err != nil {
			return Object{}, err
		}
		if b.Unconditional {
			cond = Cond{}
		}
	}
	f, err := os.Open(src.Path)
	if err != nil {
		return Object{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Object{}, err
	}
	multipart := st.Size() > b.PartSize
	exp, err := b.measure(f, multipart)
	if err != nil {
		return Object{}, fmt.Errorf("read %s: %w", src.Path, err)
	}
	if src.Size >= 0 && exp.size != src.Size {
		return Object{}, fmt.Errorf("%s: %w: %d bytes, recorded %d", src.Path, ErrMismatch, exp.size, src.Size)
	}
	if src.SHA256 != "" && exp.sha != src.SHA256 {
		return Object{}, fmt.Errorf("%s: %w: sha256 %s, recorded %s", src.Path, ErrMismatch, exp.sha, src.SHA256)
	}
	meta := map[string]string{metaSHA256: exp.sha, metaETag: exp.etag}
	var ifMatch, ifNone *string
	if cond.IfMatch != "" {
		ifMatch = aws.String(cond.IfMatch)
	}
	if cond.IfNoneMatch {
		ifNone = aws.String("*")
	}
	if multipart {
		err = b.putMultipart(ctx, full, f, exp, meta, ifMatch, ifNone)
	} else {
		sum := base64.StdEncoding.EncodeToString(mustHex(exp.sha))
		_, err = b.Client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(b.Bucket), Key: aws.String(full), Body: f, ContentLength: aws.Int64(exp.size),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: aws.String(sum),
			Metadata: meta, IfMatch: ifMatch, IfNoneMatch: ifNone,
		})
	}
	if err != nil {
		return Object{}, b.explain("upload", full, err)
	}
	return b.verify(ctx, key, full, exp)
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}

// verify checks a stored object against what was sent. See the top of
// this file.
func (b *S3) verify(ctx context.Context, key, full string, exp expected) (Object, error) {
	out, err := b.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(full), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		return Object{}, b.explain("check the upload of", full, err)
	}
	o := b.object(key, out.ContentLength, out.ETag, out.LastModified, nil, out.ChecksumSHA256, out.ChecksumType)
	if o.Size != exp.size {
		return Object{}, fmt.Errorf("upload %s: %w: the store holds %d bytes, %d were sent", full, ErrMismatch, o.Size, exp.size)
	}
	sum := aws.ToString(out.ChecksumSHA256)
	switch {
	case sum != "" && (sum == exp.composite || o.SHA256 == exp.sha):
	case sum != "" && strings.Contains(sum, "-") && exp.composite == "":
		return Object{}, fmt.Errorf("upload %s: %w: the store reports a multipart checksum %s for a single-part upload", full, ErrMismatch, sum)
	case sum != "":
		return Object{}, fmt.Errorf("upload %s: %w: the store's SHA-256 checksum is %s, the file's %s", full, ErrMismatch, sum, exp.sha)
	case o.ETag == exp.etag || o.ETag == `"`+exp.md+`"`:
	default:
		return Object{}, fmt.Errorf("upload %s: cannot check what the store holds: it returns no SHA-256 checksum and its ETag %s is not the MD5 of the bytes (%s); portmake publishes only what it can check", full, o.ETag, exp.etag)
	}
	o.SHA256 = exp.sha
	return o, nil
}

func (b *S3) putMultipart(ctx context.Context, full string, f *os.File, exp expected, meta map[string]string, ifMatch, ifNone *string) error {
	up, err := b.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(b.Bucket), Key: aws.String(full), Metadata: meta, ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			// Not under ctx: a cancelled publish must still abort.
			b.Client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: aws.String(b.Bucket), Key: aws.String(full), UploadId: up.UploadId})
		}
	}()
	parts := make([]types.CompletedPart, len(exp.partSHA))
	for i := range exp.partSHA {
		off := int64(i) * b.PartSize
		n := min(b.PartSize, exp.size-off)
		out, err := b.Client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(b.Bucket), Key: aws.String(full), UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)),
			Body: io.NewSectionReader(f, off, n), ContentLength: aws.Int64(n),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: aws.String(exp.partSHA[i]),
		})
		if err != nil {
			return fmt.Errorf("part %d of %d: %w", i+1, len(parts), err)
		}
		if out.ETag != nil && *out.ETag != exp.partETags[i] {
			return fmt.Errorf("part %d of %d: %w: the store's ETag %s is not the part's MD5 %s", i+1, len(parts), ErrMismatch, *out.ETag, exp.partETags[i])
		}
		parts[i] = types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumSHA256: aws.String(exp.partSHA[i])}
	}
	_, err = b.Client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(b.Bucket), Key: aws.String(full), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, IfMatch: ifMatch, IfNoneMatch: ifNone,
	})
	if err != nil {
		return err
	}
	ok = true
	return nil
}

// maxCopy is the largest object CopyObject copies in one request.
const maxCopy = 5 << 30

func (b *S3) Copy(ctx context.Context, src, dst, srcETag string, _ bool) error {
	sf, err := b.full(src)
	if err != nil {
		return err
	}
	df, err := b.full(dst)
	if err != nil {
		return err
	}
	o, err := b.Stat(ctx, src)
	if err != nil {
		return err
	}
	if srcETag != "" && o.ETag != srcETag {
		return fmt.Errorf("copy %s: %w", sf, ErrPrecondition)
	}
	source := b.Bucket + "/" + (&url.URL{Path: sf}).EscapedPath()
	var ifm *string
	if srcETag != "" {
		ifm = aws.String(srcETag)
	}
	if o.Size > cmp.Or(b.copyLimit, maxCopy) {
		return b.copyMultipart(ctx, sf, source, df, o, ifm)
	}
	_, err = b.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(df), CopySource: aws.String(source),
		CopySourceIfMatch: ifm, MetadataDirective: types.MetadataDirectiveCopy, ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		return b.explain("copy "+sf+" to", df, err)
	}
	return nil
}

// copyMultipart copies the object sf (source, escaped for
// x-amz-copy-source) to df in parts, each copied by the store itself, with
// sf's metadata (its sha256).
func (b *S3) copyMultipart(ctx context.Context, sf, source, df string, o Object, ifm *string) error {
	head, err := b.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(sf), IfMatch: ifm})
	if err != nil {
		return b.explain("copy", df, err)
	}
	up, err := b.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b.Bucket), Key: aws.String(df), Metadata: head.Metadata})
	if err != nil {
		return b.explain("copy to", df, err)
	}
	ok := false
	defer func() {
		if !ok {
			b.Client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: aws.String(b.Bucket), Key: aws.String(df), UploadId: up.UploadId})
		}
	}()
	part := cmp.Or(b.copyPart, 1<<30)
	var parts []types.CompletedPart
	for off, i := int64(0), int32(1); off < o.Size; off, i = off+part, i+1 {
		end := min(off+part, o.Size) - 1
		out, err := b.Client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b.Bucket), Key: aws.String(df), UploadId: up.UploadId,
			PartNumber: aws.Int32(i), CopySource: aws.String(source), CopySourceIfMatch: ifm, CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, end))})
		if err != nil {
			return b.explain("copy to", df, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(i), ETag: out.CopyPartResult.ETag})
	}
	if _, err := b.Client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b.Bucket), Key: aws.String(df), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		return b.explain("copy to", df, err)
	}
	ok = true
	return nil
}

func (b *S3) Move(ctx context.Context, src, dst string) error {
	if err := b.Copy(ctx, src, dst, "", false); err != nil {
		return err
	}
	return b.Delete(ctx, src)
}

func (b *S3) Delete(ctx context.Context, key string) error {
	full, err := b.full(key)
	if err != nil {
		return err
	}
	if _, err := b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(full)}); err != nil {
		err = b.explain("delete", full, err)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return nil
}

func (b *S3) List(ctx context.Context, dir string, recursive bool) ([]Object, error) {
	if !strings.HasSuffix(dir, "/") {
		return nil, fmt.Errorf("list %q: a directory key ends in '/'", dir)
	}
	full, err := b.full(dir)
	if err != nil {
		return nil, err
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(b.Bucket), Prefix: aws.String(full)}
	if !recursive {
		in.Delimiter = aws.String("/")
	}
	var out []Object
	pages := s3.NewListObjectsV2Paginator(b.Client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, b.explain("list", full, err)
		}
		for _, o := range page.Contents {
			out = append(out, Object{Key: b.rel(aws.ToString(o.Key)), Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag), ModTime: aws.ToTime(o.LastModified)})
		}
	}
	return out, nil
}

// AbortStale aborts multipart uploads under dir that started before
// cutoff: what a killed writer left.
func (b *S3) AbortStale(ctx context.Context, dir string, cutoff time.Time) error {
	full, err := b.full(dir)
	if err != nil {
		return err
	}
	out, err := b.Client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b.Bucket), Prefix: aws.String(full)})
	if err != nil {
		b.log().Warn("cannot list unfinished multipart uploads", "prefix", full, "err", err)
		return nil
	}
	var errs []error
	for _, u := range out.Uploads {
		if u.Initiated != nil && u.Initiated.Before(cutoff) {
			_, err := b.Client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b.Bucket), Key: u.Key, UploadId: u.UploadId})
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (b *S3) Lock(ctx context.Context, _ string) (func(), error) {
	if err := b.Check(ctx); err != nil {
		return nil, err
	}
	return func() {}, nil
}

func (b *S3) Exclusive() bool { return false }

var (
	probeMu   sync.Mutex
	probeSeen = map[string]error{}
)

// checkConditional checks once per bucket and process that the store
// honours If-None-Match: see the top of this file.
func (b *S3) checkConditional(ctx context.Context) error {
	probeMu.Lock()
	defer probeMu.Unlock()
	id := b.endpoint + "\x00" + b.Bucket
	if err, ok := probeSeen[id]; ok {
		return b.unconditional(err)
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	key, _ := b.full(".portmake-probe/" + hex.EncodeToString(rnd[:]))
	put := func() error {
		_, err := b.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(key),
			Body: bytes.NewReader([]byte("probe")), IfNoneMatch: aws.String("*")})
		return err
	}
	var result error
	if err := put(); err != nil {
		if e := b.explain("probe", key, err); errors.Is(e, ErrPrecondition) {
			result = errors.New("it refused to create a new object with If-None-Match: *")
		} else if strings.Contains(err.Error(), "NotImplemented") {
			result = errors.New("it does not implement conditional writes")
		} else {
			return e
		}
	} else {
		err := put()
		b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(key)})
		switch {
		case err == nil:
			result = errors.New("it accepted If-None-Match: * over an existing object")
		case !errors.Is(b.explain("probe", key, err), ErrPrecondition):
			result = fmt.Errorf("it answered a conditional write with %v", err)
		}
	}
	probeSeen[id] = result
	return b.unconditional(result)
}

func (b *S3) unconditional(probe error) error {
	if probe == nil {
		return nil
	}
	if b.Unconditional {
		b.log().Warn("the S3 store does not honour conditional writes; publishing without them (--force-unconditional): a concurrent publisher's packages can be lost", "bucket", b.String(), "why", probe)
		return nil
	}
	return fmt.Errorf("%s%s does not honour conditional writes (%v), which portmake needs so that two publishers never lose each other's packages; "+
		"use a store that supports If-Match and If-None-Match (AWS S3, MinIO, Cloudflare R2, Ceph RGW 18+), or pass --force-unconditional if nothing else ever writes this repository", b.String(), b.at(), probe)
}
