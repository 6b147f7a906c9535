package engine

// Publishing, as the engine wires it: the Portfile's publish block becomes
// a pubrepo.Backend (a directory or an S3 bucket), its sign block a gpg
// signer checked before anything builds, and the state store the ledger of
// what each repository holds. Before an apply builds anything, every
// repository it will publish to is checked against its DB (quickly: a file
// whose ETag is the one recorded when it was published is not read again)
// and repaired; a package whose bytes are lost is taken out of the DB and
// its builds stop counting as published, so they are built again.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/portmake/portmake/executor"
	pubrepo "github.com/portmake/portmake/publish"
	"github.com/portmake/portmake/store"
)

// publisher builds the Portfile's publisher. check signs a scratch file
// with the signing key, so a missing key fails before any build.
func (p *Port) publisher(ctx context.Context, st *store.Store, force, check bool) (*pubrepo.Publisher, error) {
	pf := p.pf
	if pf.Publish == nil {
		return nil, errors.New("the Portfile has no publish block; add one (or pass --no-upload to apply)")
	}
	var b pubrepo.Backend
	switch pf.Publish.Type {
	case "dir":
		b = &pubrepo.Dir{Root: pf.Publish.Path, Log: p.log}
	case "s3":
		s3, err := pubrepo.NewS3(ctx, pubrepo.S3Config{Bucket: pf.Publish.Bucket, Prefix: pf.Publish.Prefix, Region: pf.Publish.Region,
			Endpoint: pf.Publish.Endpoint, Profile: pf.Publish.Profile, Unconditional: force, Log: p.log})
		if err != nil {
			return nil, err
		}
		b = s3
	default:
		return nil, fmt.Errorf("publish %q is not supported", pf.Publish.Type)
	}
	tmp := filepath.Join(p.stateDir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	pub := &pubrepo.Publisher{Backend: b, Arch: pf.Arch(), Log: p.log, TempDir: tmp}
	if st != nil {
		pub.Ledger = ledger{st}
	}
	signer, err := p.signer(ctx, check)
	if err != nil {
		return nil, err
	}
	if signer != nil {
		pub.Signer = signer
	}
	return pub, nil
}

// ledger records in the store what the repositories hold.
type ledger struct{ st *store.Store }

func (l ledger) Published(ctx context.Context, repo string, files []pubrepo.Published) error {
	return l.st.RecordPublished(context.WithoutCancel(ctx), publishedFiles(repo, files, store.OriginBuilt))
}

func (l ledger) Removed(ctx context.Context, repo string, names []string) error {
	return l.st.RecordRemoved(context.WithoutCancel(ctx), repo, names)
}

func publishedFiles(repo string, files []pubrepo.Published, origin string) []store.PublishedFile {
	out := make([]store.PublishedFile, len(files))
	for i, f := range files {
		out[i] = store.PublishedFile{Repo: repo, Name: f.Name, SHA256: f.SHA256, Size: f.Size, Signed: f.Signed, ETag: f.ETag, Origin: origin}
	}
	return out
}

// Unpublished implements executor.Unpublished for the recorder.
func (r *recorder) Unpublished(ctx context.Context, hash string) (int64, []string, map[string]string, bool, error) {
	if r.replace[hash] {
		return 0, nil, nil, false, nil
	}
	b, outs, err := r.st.Unpublished(ctx, hash)
	if err != nil || b == nil {
		return 0, nil, nil, false, err
	}
	files := make([]string, len(outs))
	sums := make(map[string]string, len(outs))
	for i, o := range outs {
		files[i] = o.Path
		sums[o.Path] = o.SHA256
	}
	return b.ID, files, sums, true, nil
}

// recordOutputs records a finished build's files with their sha256.
func (r *recorder) recordOutputs(ctx context.Context, id int64, res *executor.Result) error {
	if res.Outcome != executor.Built || len(res.Files) == 0 {
		return nil
	}
	outs := make([]store.Output, 0, len(res.Files))
	for _, f := range res.Files {
		sum := res.SHA256[f]
		if sum == "" {
			continue // unreadable at the end of the build: never published
		}
		var size int64
		if st, err := os.Stat(f); err == nil {
			size = st.Size()
		}
		outs = append(outs, store.Output{Path: f, SHA256: sum, Size: size})
	}
	return r.st.RecordOutputs(context.WithoutCancel(ctx), id, outs)
}

// VerifyOptions say which repositories verify checks and whether it
// repairs them.
type VerifyOptions struct {
	Repos  []string // "" or empty: every repository the Portfile publishes to
	Deep   bool     // read every file, even those whose ETag is unchanged
	Repair bool     // fix what differs (under each repository's lock)
	// ForceUnconditional allows an S3 store without conditional writes.
	ForceUnconditional bool
}

// VerifyResult is one repository's verification.
type VerifyResult struct {
	Report *pubrepo.Report
	// Repaired is the report after the repair, when one ran.
	Repaired *pubrepo.Report
	// Lost are the package files taken out of the DB because their bytes
	// were nowhere; Rebuild the pkgbases that will be built again.
	Lost    []string
	Rebuild []string
}

// Verify compares each published repository with its DB, and repairs it
// when asked.
func (p *Port) Verify(ctx context.Context, o VerifyOptions) ([]VerifyResult, error) {
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	pub, err := p.publisher(ctx, st, o.ForceUnconditional, o.Repair)
	if err != nil {
		return nil, err
	}
	repos := o.Repos
	if len(repos) == 0 {
		repos = p.publishedRepos()
	}
	var out []VerifyResult
	for _, name := range repos {
		vr, err := p.verifyRepo(ctx, st, pub, name, o.Deep, o.Repair)
		if err != nil {
			return out, err
		}
		out = append(out, *vr)
	}
	return out, nil
}

// publishedRepos lists the repositories the Portfile publishes to.
func (p *Port) publishedRepos() []string {
	var out []string
	for _, r := range p.pf.Repos {
		if r.Publish != "" && !slices.Contains(out, r.Publish) {
			out = append(out, r.Publish)
		}
	}
	return out
}

func (p *Port) verifyRepo(ctx context.Context, st *store.Store, pub *pubrepo.Publisher, name string, deep, repair bool) (*VerifyResult, error) {
	defer pub.Lock(name)()
	r := pub.Repo(name)
	recorded, err := st.PublishedFiles(ctx, name)
	if err != nil {
		return nil, err
	}
	known := map[string]pubrepo.Known{}
	for _, f := range recorded {
		known[f.Name] = pubrepo.Known{SHA256: f.SHA256, ETag: f.ETag}
	}
	vo := pubrepo.VerifyOptions{Known: known, Deep: deep}
	rep, err := r.Verify(ctx, vo)
	if err != nil {
		return nil, err
	}
	vr := &VerifyResult{Report: rep}
	if !repair || rep.OK() {
		return vr, nil
	}
	restore := func(ctx context.Context, sha string) (string, error) {
		o, err := st.OutputBySHA256(ctx, sha)
		if err != nil || o == nil {
			return "", err
		}
		if got, _, err := pubrepo.HashFile(o.Path); err != nil || got != sha {
			return "", nil // gone or changed since its build
		}
		return o.Path, nil
	}
	if vr.Lost, err = r.Repair(ctx, vo, restore); err != nil {
		return vr, err
	}
	if len(vr.Lost) > 0 {
		if vr.Rebuild, err = st.Unpublish(ctx, name, vr.Lost); err != nil {
			return vr, err
		}
	}
	if vr.Repaired, err = r.Verify(ctx, pubrepo.VerifyOptions{Known: known}); err != nil {
		return vr, err
	}
	return vr, nil
}

// checkRepos verifies and repairs the repositories an apply publishes to,
// before it builds.
func (p *Port) checkRepos(ctx context.Context, st *store.Store, pub *pubrepo.Publisher, repos []string) error {
	for _, name := range repos {
		vr, err := p.verifyRepo(ctx, st, pub, name, false, true)
		if err != nil {
			return fmt.Errorf("check repository %s before publishing: %w", name, err)
		}
		for _, pr := range vr.Report.Problems {
			if !pr.Warning() {
				p.log.Warn(fmt.Sprintf("repository %s: %s: %s: %s (repaired)", name, pr.Name, pr.Kind, pr.Detail))
			}
		}
		if len(vr.Lost) > 0 {
			p.log.Warn(fmt.Sprintf("repository %s: took %v out of its database: their bytes are lost; %v will be built again by the next plan", name, vr.Lost, vr.Rebuild))
		}
		if vr.Repaired != nil && !vr.Repaired.OK() {
			return fmt.Errorf("repository %s still disagrees with its database after a repair: %v; run portmake verify", name, vr.Repaired.Problems)
		}
	}
	return nil
}

// publishing returns the apply's publisher, after checking the signing
// key and repairing the repositories the nodes publish to (not for a dry
// run).
func (p *Port) publishing(ctx context.Context, o ApplyOptions, st *store.Store, jobs []*executor.Job) (*pubrepo.Publisher, error) {
	live := o.DryRun == nil
	pub, err := p.publisher(ctx, st, o.ForceUnconditional, live)
	if err != nil {
		return nil, err
	}
	if !live {
		return pub, nil
	}
	var repos []string
	for _, j := range jobs {
		if j.Publish != "" && !slices.Contains(repos, j.Publish) {
			repos = append(repos, j.Publish)
		}
	}
	if err := p.checkRepos(ctx, st, pub, repos); err != nil {
		return nil, err
	}
	return pub, nil
}
