package executor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"regexp"
	"strconv"
	"strings"
)

// DefaultBuildUser is the unprivileged account makepkg runs as when
// portmake runs as root (makepkg refuses root): build.user's default.
const DefaultBuildUser = "builder"

// BuildUser is the account that runs PKGBUILD code.
type BuildUser struct {
	Name     string
	UID, GID int
	// Drop is set when portmake runs as root: the sandbox is set up as root
	// (so it can mount directories the build user could never reach, such
	// as a port checked out under /root) and drops to UID/GID inside it.
	// Unset, portmake itself is the build user and bubblewrap runs
	// unprivileged.
	Drop bool
}

// userName matches the names useradd accepts on both Debian and Arch
// (NAME_REGEX's default, without the trailing $ of machine accounts).
var userName = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// CheckUserName reports whether name can name a build user.
func CheckUserName(name string) error {
	if !userName.MatchString(name) {
		return fmt.Errorf("build user %q: a user name is a lowercase letter or _, then up to 31 of a-z, 0-9, _ and -", name)
	}
	return nil
}

// ResolveBuildUser returns the account builds run as. As root that is the
// named user (default DefaultBuildUser), which must exist; as anyone else
// it is the invoking user, since makepkg refuses only root.
func ResolveBuildUser(name string) (*BuildUser, error) {
	if os.Geteuid() != 0 {
		return currentUser()
	}
	if name == "" {
		name = DefaultBuildUser
	}
	if err := CheckUserName(name); err != nil {
		return nil, err
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("build user %s: %w", name, err)
	}
	return fromUser(u, true)
}

// EnsureBuildUser is ResolveBuildUser that, as root, creates a missing user:
// a system account with its own group, no login shell and its home in
// home (under the port's state directory). created reports that it did,
// so that the caller says so once and records it.
func EnsureBuildUser(ctx context.Context, name, home string) (u *BuildUser, created bool, err error) {
	if os.Geteuid() != 0 {
		u, err = currentUser()
		return u, false, err
	}
	if name == "" {
		name = DefaultBuildUser
	}
	if err := CheckUserName(name); err != nil {
		return nil, false, err
	}
	if _, err := user.Lookup(name); err == nil {
		u, err = ResolveBuildUser(name)
		return u, false, err
	} else if _, ok := err.(user.UnknownUserError); !ok {
		return nil, false, fmt.Errorf("build user %s: %w", name, err)
	}
	useradd, err := exec.LookPath("useradd")
	if err != nil {
		return nil, false, fmt.Errorf("build user %s does not exist and useradd is not installed: create the user, or set build.user to an existing one", name)
	}
	var out strings.Builder
	c := Command{Args: []string{useradd, "--system", "--user-group", "--shell", noLoginShell(), "--home-dir", home, "--create-home", name}}
	if _, err := RunCommand(ctx, c, &out); err != nil {
		return nil, false, fmt.Errorf("create the build user: %s: %w: %s", c, err, strings.TrimSpace(out.String()))
	}
	u, err = ResolveBuildUser(name)
	return u, err == nil, err
}

func noLoginShell() string {
	for _, p := range []string{"/usr/sbin/nologin", "/usr/bin/nologin", "/sbin/nologin"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "/bin/false"
}

func currentUser() (*BuildUser, error) {
	u, err := user.LookupId(strconv.Itoa(os.Geteuid()))
	if err != nil {
		// A uid without a passwd entry (a container's) still builds.
		return &BuildUser{Name: strconv.Itoa(os.Geteuid()), UID: os.Geteuid(), GID: os.Getegid()}, nil
	}
	return fromUser(u, false)
}

func fromUser(u *user.User, drop bool) (*BuildUser, error) {
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("build user %s: uid %q", u.Username, u.Uid)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("build user %s: gid %q", u.Username, u.Gid)
	}
	if drop && uid == 0 {
		return nil, fmt.Errorf("build user %s has uid 0: makepkg refuses to run as root; set build.user to an unprivileged user", u.Username)
	}
	return &BuildUser{Name: u.Username, UID: uid, GID: gid, Drop: drop}, nil
}

// chown hands path (not what is under it) to the build user; a no-op
// unless portmake drops privileges.
func (u *BuildUser) chown(path string) error {
	if u == nil || !u.Drop {
		return nil
	}
	return os.Lchown(path, u.UID, u.GID)
}

func (u *BuildUser) String() string {
	if u == nil {
		return "?"
	}
	return u.Name
}
