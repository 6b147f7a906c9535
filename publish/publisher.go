package publish

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/portmake/portmake/executor"
)

// Publisher is the executor's view of a backend's repositories: it
// publishes each build's files to the repository the job names. Publishes
// to one repository from this process run one at a time (the executor
// publishes from several workers).
type Publisher struct {
	Backend Backend
	Arch    string
	Signer  Signer
	Ledger  Ledger
	Log     *slog.Logger
	TempDir string

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// Repo returns the repository named name on p's backend.
func (p *Publisher) Repo(name string) *Repo {
	return &Repo{Backend: p.Backend, Name: name, Arch: p.Arch, Signer: p.Signer, Ledger: p.Ledger, Log: p.Log, TempDir: p.TempDir}
}

// Lock serialises this process's writers of repository name.
func (p *Publisher) Lock(name string) func() {
	p.mu.Lock()
	if p.locks == nil {
		p.locks = map[string]*sync.Mutex{}
	}
	m := p.locks[name]
	if m == nil {
		m = &sync.Mutex{}
		p.locks[name] = m
	}
	p.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// Publish implements executor.Publisher.
func (p *Publisher) Publish(ctx context.Context, repo string, files []string, sums map[string]string) ([]string, error) {
	if p.Backend == nil {
		return nil, errors.New("publish: no backend")
	}
	fs := make([]File, len(files))
	for i, f := range files {
		fs[i] = File{Path: f, SHA256: sums[f]}
	}
	defer p.Lock(repo)()
	pub, err := p.Repo(repo).Publish(ctx, fs)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(pub))
	for i, f := range pub {
		out[i] = p.Backend.String() + "/" + f.Key
	}
	return out, nil
}

// Commands implements executor.Publisher: what Publish does, as commands
// a user could run by hand, for --dry-run.
func (p *Publisher) Commands(repo string, files []string) []executor.Command {
	r := p.Repo(repo)
	var cmds []executor.Command
	var dst []string
	_, isDir := p.Backend.(*Dir)
	for _, f := range files {
		name := filepath.Base(f)
		to := p.Backend.String() + "/" + r.key(name)
		if isDir {
			to = filepath.Join(p.Backend.String(), filepath.FromSlash(r.key(name)))
		}
		if g, ok := p.Signer.(*GPG); ok {
			cmds = append(cmds, g.SignCommand(f, f+".sig"))
		}
		if isDir {
			cmds = append(cmds, executor.Command{Args: []string{"install", "-D", "-m", "0644", f, to}})
		} else {
			cmds = append(cmds, executor.Command{Args: []string{"aws", "s3", "cp", "--checksum-algorithm", "SHA256", f, to}})
		}
		dst = append(dst, to)
	}
	db := p.Backend.String() + "/" + r.DBKey()
	if isDir {
		db = filepath.Join(p.Backend.String(), filepath.FromSlash(r.DBKey()))
	}
	args := []string{"portmake", "repo", "add", "--remove-old"}
	if p.Signer != nil {
		args = append(args, "--sign", "--key", p.Signer.Key())
	}
	return append(cmds, executor.Command{Args: append(append(args, db), dst...)})
}
