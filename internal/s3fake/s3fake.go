// Package s3fake runs an in-process S3 server on loopback for tests: the
// real S3 protocol (gofakes3 over an in-memory store) behind the checks a
// real S3 makes and gofakes3 leaves out. It is a test helper; nothing that
// ships imports it.
//
// On top of gofakes3 it
//   - checks every request's SigV4 signature against one access key and
//     secret (InvalidAccessKeyId, SignatureDoesNotMatch), and a signed
//     payload's hash;
//   - checks a PUT body against its x-amz-checksum-sha256 (BadDigest), as S3
//     does before storing anything;
//   - honours x-amz-copy-source-if-match on a copy, and serves
//     UploadPartCopy (a multipart copy, for objects over 5 GiB);
//   - can ignore If-Match and If-None-Match, like a store without
//     conditional writes;
//   - can fail chosen requests (Fault), to test retries and failures;
//   - counts requests by operation.
package s3fake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Options configure a Server.
type Options struct {
	AccessKey, Secret string // required
	// IgnoreConditions drops If-Match and If-None-Match from writes.
	IgnoreConditions bool
}

// Server is a running fake S3.
type Server struct {
	URL string // http://127.0.0.1:PORT

	opts    Options
	backend *s3mem.Backend
	srv     *http.Server
	ln      net.Listener

	mu     sync.Mutex
	fault  func(r *http.Request) int
	counts map[string]int
}

// Start starts a server on a loopback port.
func Start(opts Options) (*Server, error) {
	if opts.AccessKey == "" || opts.Secret == "" {
		return nil, fmt.Errorf("s3fake: an access key and a secret are required")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), opts: opts, backend: s3mem.New(), ln: ln, counts: map[string]int{}}
	fake := gofakes3.New(s.backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	s.srv = &http.Server{Handler: s.middleware(fake.Server()), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// CreateBucket creates a bucket.
func (s *Server) CreateBucket(name string) error { return s.backend.CreateBucket(name) }

// SetFault makes f decide every request from now on: a status code to
// fail it with (500, 503, 412...), or 0 to serve it.
func (s *Server) SetFault(f func(r *http.Request) int) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

// SetIgnoreConditions turns conditional writes off or on.
func (s *Server) SetIgnoreConditions(v bool) {
	s.mu.Lock()
	s.opts.IgnoreConditions = v
	s.mu.Unlock()
}

// Count returns how many requests of an operation ("PUT", "GET", "HEAD",
// "DELETE", "POST", "LIST") were served.
func (s *Server) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

// Object returns a stored object's bytes.
func (s *Server) Object(bucket, key string) ([]byte, error) {
	obj, err := s.backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, err
	}
	defer obj.Contents.Close()
	return io.ReadAll(obj.Contents)
}

// PutObject stores bytes directly, as another tool writing the bucket.
func (s *Server) PutObject(bucket, key string, data []byte) error {
	_, err := s.backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil)
	return err
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Method
		if r.Method == http.MethodGet && (r.URL.Query().Has("list-type") || r.URL.Query().Has("uploads") || strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 0) {
			op = "LIST"
		}
		s.mu.Lock()
		s.counts[op]++
		fault, ignore := s.fault, s.opts.IgnoreConditions
		s.mu.Unlock()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			s3Error(w, http.StatusBadRequest, "IncompleteBody", err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if code, msg := s.authenticate(r, body); code != "" {
			s3Error(w, http.StatusForbidden, code, msg)
			return
		}
		if fault != nil {
			if status := fault(r); status != 0 {
				code := "InternalError"
				switch status {
				case http.StatusServiceUnavailable:
					code = "SlowDown"
				case http.StatusPreconditionFailed:
					code = "PreconditionFailed"
				}
				s3Error(w, status, code, "injected by the test")
				return
			}
		}
		if sum := r.Header.Get("X-Amz-Checksum-Sha256"); sum != "" && r.Method == http.MethodPut && !strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
			got := sha256.Sum256(body)
			if base64.StdEncoding.EncodeToString(got[:]) != sum {
				s3Error(w, http.StatusBadRequest, "BadDigest", "The SHA256 you specified did not match the calculated checksum.")
				return
			}
		}
		if r.URL.Query().Has("partNumber") {
			// gofakes3 would keep a part's checksum header as the object's.
			r.Header.Del("X-Amz-Checksum-Sha256")
		}
		if ignore {
			r.Header.Del("If-Match")
			r.Header.Del("If-None-Match")
			r.Header.Del("X-Amz-Copy-Source-If-Match")
		}
		if src := r.Header.Get("X-Amz-Copy-Source"); src != "" && r.Method == http.MethodPut {
			s.serveCopy(w, r, src, next)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate checks the request's SigV4 signature by signing it again
// with the secret; it returns an S3 error code, or "" when it holds.
func (s *Server) authenticate(r *http.Request, body []byte) (string, string) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return "AccessDenied", "no SigV4 signature"
	}
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 {
		return "AuthorizationHeaderMalformed", "bad credential scope"
	}
	if cred[0] != s.opts.AccessKey {
		return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "AccessDenied", "no X-Amz-Date"
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload != "UNSIGNED-PAYLOAD" && !strings.HasPrefix(payload, "STREAMING-") {
		got := sha256.Sum256(body)
		if hex.EncodeToString(got[:]) != payload {
			return "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."
		}
	}
	req, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	if err != nil {
		return "AccessDenied", err.Error()
	}
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		switch h {
		case "host":
		case "content-length":
			req.ContentLength = r.ContentLength
		default:
			for _, v := range r.Header.Values(h) {
				req.Header.Add(h, v)
			}
		}
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	err = signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: cred[0], SecretAccessKey: s.opts.Secret, SessionToken: r.Header.Get("X-Amz-Security-Token")},
		req, payload, cred[3], cred[2], when)
	if err != nil {
		return "AccessDenied", err.Error()
	}
	want := req.Header.Get("Authorization")
	if i := strings.Index(want, "Signature="); i < 0 || want[i:] != "Signature="+fields["Signature"] {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
	}
	return "", ""
}

// serveCopy serves CopyObject and UploadPartCopy, whose source precondition
// gofakes3 ignores and the second of which it lacks: an UploadPartCopy is
// served as the UploadPart of the source's range.
func (s *Server) serveCopy(w http.ResponseWriter, r *http.Request, src string, next http.Handler) {
	path, err := url.PathUnescape(strings.TrimPrefix(src, "/"))
	bucket, key, ok := strings.Cut(path, "/")
	if err != nil || !ok {
		s3Error(w, http.StatusBadRequest, "InvalidArgument", "x-amz-copy-source must be bucket/key")
		return
	}
	obj, err := s.backend.HeadObject(bucket, key)
	if err != nil {
		s3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	etag := `"` + hex.EncodeToString(obj.Hash) + `"`
	if m := r.Header.Get("X-Amz-Copy-Source-If-Match"); m != "" && m != etag && `"`+m+`"` != etag {
		s3Error(w, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return
	}
	if !r.URL.Query().Has("partNumber") {
		next.ServeHTTP(w, r) // CopyObject
		return
	}
	rng := &gofakes3.ObjectRangeRequest{Start: 0, End: gofakes3.RangeNoEnd}
	if v := r.Header.Get("X-Amz-Copy-Source-Range"); v != "" {
		if _, err := fmt.Sscanf(v, "bytes=%d-%d", &rng.Start, &rng.End); err != nil {
			s3Error(w, http.StatusBadRequest, "InvalidArgument", "bad x-amz-copy-source-range")
			return
		}
	}
	part, err := s.backend.GetObject(bucket, key, rng)
	if err != nil {
		s3Error(w, http.StatusBadRequest, "InvalidRange", err.Error())
		return
	}
	data, err := io.ReadAll(part.Contents)
	part.Contents.Close()
	if err != nil {
		s3Error(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	up := r.Clone(r.Context())
	for _, h := range []string{"X-Amz-Copy-Source", "X-Amz-Copy-Source-Range", "X-Amz-Copy-Source-If-Match"} {
		up.Header.Del(h)
	}
	up.Body, up.ContentLength = io.NopCloser(bytes.NewReader(data)), int64(len(data))
	up.Header.Set("Content-Length", strconv.Itoa(len(data)))
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, up)
	if rec.Code != http.StatusOK {
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><CopyPartResult><ETag>%s</ETag><LastModified>%s</LastModified></CopyPartResult>`,
		html.EscapeString(rec.Header().Get("ETag")), time.Now().UTC().Format(time.RFC3339))
}
