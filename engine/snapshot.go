package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/fetch"
	"github.com/portmake/portmake/lang"
	"github.com/portmake/portmake/proc"
)

// dbRef is one repository database a plan reads.
type dbRef struct {
	pair    int    // index into the Portfile's repos
	repo    string // the repo block's label
	side    string // "upstream" or "target"
	test    bool   // a testing overlay
	url     string
	display string // how the plan records url (see displayURL)
}

// snapshot is the fetched (not yet parsed) databases of one plan.
type snapshot struct {
	refs    []dbRef
	results []*fetch.Result
}

func (p *Port) dbRefs(upstreamTesting, targetTesting bool) []dbRef {
	var refs []dbRef
	for i, r := range p.pf.Repos {
		add := func(side string, test bool, loc lang.Location) {
			if !loc.IsZero() {
				refs = append(refs, dbRef{pair: i, repo: r.Name, side: side, test: test, url: loc.String(), display: p.displayURL(loc.String())})
			}
		}
		add("upstream", false, r.Upstream)
		if upstreamTesting {
			add("upstream", true, r.UpstreamTesting)
		}
		add("target", false, r.Target)
		if targetTesting {
			add("target", true, r.TargetTesting)
		}
	}
	return refs
}

// fetch downloads (or revalidates) every database. Any failure is an error
// that names the URL: a plan is never made from a repository that silently
// went missing.
func (p *Port) fetch(ctx context.Context, refresh, upstreamTesting, targetTesting bool) (*snapshot, error) {
	refs := p.dbRefs(upstreamTesting, targetTesting)
	urls := make([]string, len(refs))
	for i, r := range refs {
		urls[i] = r.url
	}
	fe := &fetch.Fetcher{CacheDir: filepath.Join(p.stateDir, "cache", "db"), Offline: !refresh, Log: p.log,
		Check:   p.checkDB,
		Backoff: fetchBackoff(p)}
	results, err := fe.FetchAll(ctx, urls, 8)
	if err != nil {
		return nil, err
	}
	return &snapshot{refs: refs, results: results}, nil
}

// read reads the fetched databases' indexes (what planning needs of them),
// in parallel, from the index cache (kept by database checksum under
// cacheDir) when a database did not change.
func (s *snapshot) read(cacheDir string) ([]*syncdb.Index, error) {
	dbs := make([]*syncdb.Index, len(s.refs))
	errs := make([]error, len(s.refs))
	// As many readers as CPUs: more only hold more decompression buffers
	// and half-built indexes in memory at once.
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range s.refs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			db, err := syncdb.LoadIndex(s.results[i].Path, s.results[i].SHA256, cacheDir)
			if err != nil {
				err = fmt.Errorf("%s: %w", fetch.Redact(s.refs[i].url), err)
			}
			dbs[i], errs[i] = db, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return dbs, nil
}

// fetchBackoff reads the hidden PORTMAKE_FETCH_BACKOFF (a Go duration such
// as "1ms"): the base delay between download retries. It is not an option
// because a user has no reason to change it; it exists so that the
// testscript scenarios of failing mirrors do not wait seconds per retry.
// Zero (unset) keeps fetch.DefaultBackoff.
func fetchBackoff(p *Port) time.Duration {
	v := os.Getenv("PORTMAKE_FETCH_BACKOFF")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.log.Warn("ignoring PORTMAKE_FETCH_BACKOFF: want a positive duration such as 10ms", "value", v)
		return 0
	}
	return d
}

// checkDB parses a downloaded database before fetch lets it replace the
// cached copy, so a file cut short never displaces a good one. The index
// reader accepts and refuses exactly what the full reader does, and the
// index it makes is what planning reads next: it goes into the index
// cache, so a new database is parsed once, not twice.
func (p *Port) checkDB(url, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	x, err := syncdb.ReadIndex(io.TeeReader(f, h), url, syncdb.Limits{})
	if err != nil {
		return err
	}
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	syncdb.CacheIndex(x, hex.EncodeToString(h.Sum(nil)), p.indexCacheDir())
	return nil
}

// indexCacheDir holds the planner's indexes of the databases, by checksum.
func (p *Port) indexCacheDir() string { return filepath.Join(p.stateDir, "cache", "index") }

// stateHead asks the state repository for the commit its HEAD points at.
func stateHead(ctx context.Context, url string) (string, error) {
	var out, stderr bytes.Buffer
	_, err := proc.Run(ctx, proc.Command{Env: []string{"GIT_TERMINAL_PROMPT=0"},
		Args: []string{"git", "ls-remote", url, "HEAD"}, Stdout: &out}, &stderr)
	if err != nil {
		// git's own message may quote the URL with its credentials.
		return "", fmt.Errorf("ls-remote %s: %w", fetch.Redact(url), err)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if head, ref, ok := strings.Cut(line, "\t"); ok && ref == "HEAD" && len(head) >= 40 {
			return head, nil
		}
	}
	return "", fmt.Errorf("ls-remote %s: no HEAD", fetch.Redact(url))
}
