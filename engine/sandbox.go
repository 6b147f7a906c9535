package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/store"
)

// osRelease is where the distribution is read from, for the install
// command preflight suggests.
var osRelease = "/etc/os-release"

// preflight checks that the Portfile's builder has every tool it runs,
// and names the missing ones with the command that installs them here.
// It installs nothing.
func (p *Port) preflight() error {
	return executor.Preflight(p.pf.Build.Builder, os.Geteuid() == 0, executor.DetectDistro(osRelease), nil)
}

// sandbox returns the sandbox every PKGBUILD evaluation and build runs in,
// with the build user. As root, a missing build.user is created (create)
// or, for a dry run, only named. It is made once per Port.
func (p *Port) sandbox(ctx context.Context, create bool) (*executor.Sandbox, error) {
	p.sbMu.Lock()
	defer p.sbMu.Unlock()
	if p.sb != nil && (p.sb.User.UID >= 0 || !create) {
		return p.sb, nil
	}
	u, err := p.buildUser(ctx, create)
	if err != nil {
		return nil, err
	}
	p.sb = &executor.Sandbox{User: u, ScratchDir: filepath.Join(p.stateDir, "eval"), Log: p.log}
	return p.sb, nil
}

// buildUser resolves build.user, creating it when portmake runs as root
// and it does not exist: a system user with no login shell whose home is
// under the state directory. The creation is said once (as a warning, so
// that every front end shows it) and recorded in the state store.
func (p *Port) buildUser(ctx context.Context, create bool) (*executor.BuildUser, error) {
	name := p.pf.Build.User
	if !create {
		u, err := executor.ResolveBuildUser(name)
		if err != nil && os.Geteuid() == 0 {
			// A dry run shows the commands for the user apply would create.
			return &executor.BuildUser{Name: name, UID: -1, GID: -1, Drop: true}, nil
		}
		return u, err
	}
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	homes := filepath.Join(p.stateDir, "home")
	if os.Geteuid() == 0 {
		if err := os.MkdirAll(homes, 0o755); err != nil {
			return nil, err
		}
	}
	home := filepath.Join(homes, name)
	u, created, err := executor.EnsureBuildUser(ctx, name, home)
	if err != nil {
		return nil, err
	}
	if created {
		p.log.Warn(fmt.Sprintf("created the build user %s (uid %d): a system user without a login shell, home %s; remove it with userdel %s when done", u.Name, u.UID, home, u.Name))
		if err := st.RecordBuildUser(context.WithoutCancel(ctx), store.BuildUser{Name: u.Name, UID: u.UID, Home: home, CreatedAt: time.Now()}); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// printSrcinfo evaluates a local PKGBUILD without .SRCINFO in the sandbox.
func (p *Port) printSrcinfo(ctx context.Context, dir string) ([]byte, error) {
	sb, err := p.sandbox(ctx, true)
	if err != nil {
		return nil, err
	}
	return sb.Evaluate(ctx, dir, p.pf.MakepkgConf(), nil, "--printsrcinfo")
}

// keyrings are the Portfile's PGP key directories (sources.keyring).
func (p *Port) keyrings() []string {
	if k := p.pf.Sources.Keyring; k.Path != "" {
		return []string{k.Path}
	}
	return nil
}
