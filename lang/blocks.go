package lang

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/syncdb"
)

// nameError is why s is not a valid package name, or "": alpm.CheckName's
// reason without its "invalid package name ...: " prefix, which the
// diagnostic says in its own words.
func nameError(s string) string {
	err := alpm.CheckName(s)
	if err == nil {
		return ""
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

func (l *loader) content(b *hcl.Block, schema *hcl.BodySchema) map[string]*hcl.Attribute {
	content, diags := b.Body.Content(schema)
	l.diags = append(l.diags, diags...)
	return content.Attributes
}

var portSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "arch"}, {Name: "upstream_arch"}, {Name: "makepkg_conf"}, {Name: "pacman_conf"}, {Name: "state"},
}}

// port decodes the port block (or its defaults when there is none) and
// reads CARCH from makepkg.conf.
func (l *loader) port(b *hcl.Block, missing hcl.Range) {
	pt := &l.p.Port
	attrs := map[string]*hcl.Attribute{}
	defRange := l.fileStart()
	if b != nil {
		attrs = l.content(b, portSchema)
		pt.Range = b.DefRange
		defRange = b.DefRange
	}
	pt.UpstreamArch = DefaultUpstreamArch
	if a := attrs["upstream_arch"]; a != nil {
		if s, ok := l.str(a); ok && l.checkArch(s, a.Expr.Range(), "upstream_arch") {
			pt.UpstreamArch = s
		}
	}
	pt.MakepkgConf = l.localPath(attrs["makepkg_conf"], DefaultMakepkgConf, defRange)
	pt.PacmanConf = l.localPath(attrs["pacman_conf"], DefaultPacmanConf, defRange)
	pt.State = l.localPath(attrs["state"], DefaultState, defRange)

	archAttr := attrs["arch"]
	arch, archSet := l.str(archAttr)
	if archSet && !l.checkArch(arch, archAttr.Expr.Range(), "arch") {
		archSet = false
		arch = ""
	}

	if pt.PacmanConf.Path != "" {
		if fi, err := os.Stat(pt.PacmanConf.Path); err != nil || !fi.Mode().IsRegular() {
			l.errorf(pt.PacmanConf.Range, "Missing pacman.conf",
				"The chroot's pacman.conf %s does not exist or is not a file. Create it (chroot-config/ in the portmake sources ships a template), or set port.pacman_conf.", l.displayPath(pt.PacmanConf.Raw))
		}
	}
	if pt.MakepkgConf.Path == "" {
		return
	}
	conf := l.displayPath(pt.MakepkgConf.Raw)
	src, err := readConfig(pt.MakepkgConf.Path)
	if err != nil {
		why := fmt.Sprintf("%v", errors.Unwrap(err))
		if errors.Is(err, fs.ErrNotExist) {
			why = "it does not exist"
		}
		l.errorf(pt.MakepkgConf.Range, "Cannot read makepkg.conf",
			"portmake reads the target architecture (CARCH) from the chroot's makepkg.conf %s, but %s. Create it (chroot-config/ in the portmake sources ships a template), or set port.makepkg_conf.", conf, why)
		return
	}
	l.p.Files[conf] = &hcl.File{Bytes: src}
	carch := ParseMakepkgVar(src, "CARCH")
	pt.CARCH = carch.Value
	if carch.Line == 0 {
		l.errorf(pt.MakepkgConf.Range, "No CARCH in makepkg.conf",
			"The makepkg.conf %s sets no CARCH=, so makepkg would not know which architecture to build for. Add a line such as CARCH=\"aarch64\".", conf)
		return
	}
	carchRange := confLineRange(src, conf, carch.Line)
	if !archSet {
		if l.checkArch(carch.Value, carchRange, "CARCH") {
			pt.Arch = carch.Value
		}
		return
	}
	pt.Arch = arch
	if arch != carch.Value {
		l.errorf(archAttr.Expr.Range(), "Architecture disagrees with makepkg.conf",
			"arch is %s, but %s line %d sets CARCH=%q, and makepkg builds for CARCH. Make them agree, or remove arch to take CARCH.", l.show(archAttr.Expr.Range(), arch), conf, carch.Line, carch.Value)
	}
}

// confLineRange is the range of a whole line of a configuration file.
func confLineRange(src []byte, filename string, line int) hcl.Range {
	start, n := 0, 1
	for n < line {
		i := strings.IndexByte(string(src[start:]), '\n')
		if i < 0 {
			break
		}
		start += i + 1
		n++
	}
	end := start
	for end < len(src) && src[end] != '\n' {
		end++
	}
	return hcl.Range{
		Filename: filename,
		Start:    hcl.Pos{Line: line, Column: 1, Byte: start},
		End:      hcl.Pos{Line: line, Column: 1 + end - start, Byte: end},
	}
}

var repoSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "upstream"}, {Name: "upstream_testing"},
	{Name: "target", Required: true}, {Name: "target_testing"},
	{Name: "publish"},
}}

func (l *loader) repo(b *hcl.Block) *Repo {
	r := &Repo{Name: b.Labels[0], Range: b.DefRange}
	ok := true
	if msg := repoNameError(r.Name, fmt.Sprintf("%q", r.Name)); msg != "" {
		l.errorf(b.LabelRanges[0], "Invalid repository name", "%s", msg)
		ok = false
	}
	attrs := l.content(b, repoSchema)
	loc := func(name string) Location {
		a := attrs[name]
		if a == nil {
			return Location{}
		}
		v, good := l.location(a, locAny)
		if !good {
			ok = false
			return v
		}
		// The database's file name names the repository it holds
		// (core-testing.db holds core-testing), as pacman and the
		// planner read it.
		if db := syncdb.RepoName(v.String()); db != "" {
			if msg := repoNameError(db, l.show(a.Expr.Range(), db)); msg != "" {
				l.errorf(a.Expr.Range(), "Invalid repository name", "The %s database's file name names the repository it holds. %s", name, msg)
				ok = false
			}
		}
		return v
	}
	r.Upstream = loc("upstream")
	r.UpstreamTesting = loc("upstream_testing")
	r.Target = loc("target")
	r.TargetTesting = loc("target_testing")
	if a := attrs["upstream_testing"]; a != nil && attrs["upstream"] == nil {
		l.errorf(a.NameRange, "upstream_testing without upstream",
			"The repository %q has no upstream, so it is port-only and has no upstream testing repository either. Add upstream, or remove upstream_testing.", r.Name)
		ok = false
	}
	r.Publish = r.Name
	if a := attrs["publish"]; a != nil {
		if s, good := l.str(a); good {
			if msg := repoNameError(s, l.show(a.Expr.Range(), s)); msg != "" {
				l.errorf(a.Expr.Range(), "Invalid publish repository", "The publish attribute names the repository that fresh builds go to. %s", msg)
				ok = false
			} else {
				r.Publish = s
			}
		}
	}
	if !ok {
		return nil
	}
	return r
}

var blacklistSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "file"}, {Name: "patterns"},
}}

func (l *loader) blacklist(b *hcl.Block) {
	bl := &l.p.Blacklist
	bl.Range = b.DefRange
	attrs := l.content(b, blacklistSchema)
	if a := attrs["file"]; a != nil {
		if loc, ok := l.location(a, locLocal); ok {
			bl.File = loc
			name := l.displayPath(loc.Raw)
			if loc.URL != nil {
				name = loc.Path
			}
			real, err := resolveInside(l.p.Dir, loc.Path)
			var src []byte
			if err == nil {
				src, err = readConfig(real)
			}
			switch {
			case errors.Is(err, errOutside):
				l.errorf(a.Expr.Range(), "Blacklist file outside the port",
					"The blacklist file %s is outside the Portfile's directory (symlinks followed). portmake reads a blacklist only from the port's own tree, so that a Portfile cannot make validate print lines of files such as /etc/shadow; move the file next to the Portfile.", l.show(a.Expr.Range(), loc.Raw))
			case errors.Is(err, fs.ErrNotExist):
				l.errorf(a.Expr.Range(), "Missing blacklist file", "The blacklist file %s does not exist. Create it (one glob per line, '# reason' after it), or remove the file attribute.", name)
			case err != nil:
				l.errorf(a.Expr.Range(), "Cannot read blacklist file", "portmake could not read the blacklist file %s: %v.", name, errors.Unwrap(err))
			default:
				l.blacklistBytes = src
				l.p.Files[name] = &hcl.File{Bytes: src}
				entries, diags := ParseBlacklist(src, name)
				l.diags = append(l.diags, capDiags(diags, maxFileDiags, name, a.Expr.Range())...)
				bl.Entries = append(bl.Entries, entries...)
			}
		}
	}
	if a := attrs["patterns"]; a != nil {
		ids, _ := l.strList(a)
		for _, id := range ids {
			if msg := checkGlob(id.Name); msg != "" {
				l.errorf(id.Range, "Invalid blacklist pattern", "%s", msg)
				continue
			}
			bl.Entries = append(bl.Entries, Entry{Pattern: id.Name, Range: id.Range})
		}
	}
}

// maxFileDiags bounds the diagnostics about the lines of one file a
// Portfile names: a file that is not what it should be (a key, a config
// file) must not be echoed line by line.
const maxFileDiags = 5

// capDiags keeps the first max diagnostics and replaces the rest by one
// that counts them, about rng (where the Portfile names the file), so that
// it shows no further line.
func capDiags(diags hcl.Diagnostics, max int, file string, rng hcl.Range) hcl.Diagnostics {
	if len(diags) <= max {
		return diags
	}
	return append(diags[:max:max], &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "More invalid lines",
		Detail:   fmt.Sprintf("%d more lines of %s are not valid either and are not shown. Is it the right file?", len(diags)-max, file),
		Subject:  &rng,
	})
}

var packageSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "git"}, {Name: "branch"}, {Name: "tag"}, {Name: "commit"},
	{Name: "patches"}, {Name: "nocheck"}, {Name: "nointeg"}, {Name: "group"},
}}

var (
	commitRE = regexp.MustCompile(`^[0-9a-f]{7,64}$`)
	groupRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

func (l *loader) pkg(b *hcl.Block) *PackageOverride {
	o := &PackageOverride{Name: b.Labels[0], Range: b.DefRange}
	ok := l.checkName(o.Name, b.LabelRanges[0], "the package block label (a pkgbase)")
	attrs := l.content(b, packageSchema)
	if a := attrs["git"]; a != nil {
		loc, good := l.location(a, locGit)
		ok = ok && good
		o.Git = loc
	}

	// At most one ref: two would leave it ambiguous which one is built.
	var refs []*hcl.Attribute
	for _, n := range []string{"branch", "tag", "commit"} {
		if a := attrs[n]; a != nil {
			refs = append(refs, a)
		}
	}
	if len(refs) > 1 {
		sortByPos(refs)
		names := make([]string, len(refs))
		for i, a := range refs {
			names[i] = a.Name
		}
		l.errorf(refs[1].NameRange, "Conflicting git refs",
			"The package %q sets %s; set only one of branch, tag and commit, so that it is clear which revision is built.", o.Name, strings.Join(names, " and "))
		ok = false
	}
	if a := attrs["branch"]; a != nil {
		o.Branch, _ = l.ref(a)
	}
	if a := attrs["tag"]; a != nil {
		o.Tag, _ = l.ref(a)
	}
	if a := attrs["commit"]; a != nil {
		if s, good := l.str(a); good {
			if !commitRE.MatchString(s) {
				l.errorf(a.Expr.Range(), "Invalid commit", "The commit %s is not a git object name: write 7 to 64 lower-case hexadecimal digits.", l.show(a.Expr.Range(), s))
				ok = false
			} else {
				o.Commit = s
			}
		}
	}
	if a := attrs["patches"]; a != nil {
		globs, _ := l.strList(a)
		for _, g := range globs {
			if p, good := l.patch(g, o.Name); good {
				o.Patches = append(o.Patches, p)
			} else {
				ok = false
			}
		}
	}
	if a := attrs["nocheck"]; a != nil {
		o.NoCheck, _ = l.boolean(a)
	}
	if a := attrs["nointeg"]; a != nil {
		o.NoInteg, _ = l.boolean(a)
	}
	if a := attrs["group"]; a != nil {
		if s, good := l.str(a); good {
			if !groupRE.MatchString(s) {
				l.errorf(a.Expr.Range(), "Invalid group", "The group %s must start with a letter or digit and hold only letters, digits and _.-.", l.show(a.Expr.Range(), s))
				ok = false
			} else {
				o.Group = s
			}
		}
	}
	if !ok {
		return nil
	}
	return o
}

func sortByPos(as []*hcl.Attribute) {
	for i := 1; i < len(as); i++ {
		for j := i; j > 0 && as[j].Range.Start.Byte < as[j-1].Range.Start.Byte; j-- {
			as[j], as[j-1] = as[j-1], as[j]
		}
	}
}

// ref evaluates a branch or tag name and applies the parts of
// git-check-ref-format(1) that catch typos and argument injection.
func (l *loader) ref(a *hcl.Attribute) (string, bool) {
	s, ok := l.str(a)
	if !ok {
		return "", false
	}
	bad := ""
	switch {
	case s == "":
		bad = "it is empty"
	case s[0] == '-':
		bad = "it starts with '-'"
	case strings.Contains(s, ".."), strings.Contains(s, "@{"), strings.HasSuffix(s, ".lock"), strings.HasSuffix(s, "/"), strings.HasSuffix(s, "."):
		bad = "git does not allow '..', '@{', or a trailing '/', '.' or '.lock'"
	default:
		for _, c := range s {
			if c <= ' ' || c == 0x7f || strings.ContainsRune("~^:?*[\\", c) {
				bad = fmt.Sprintf("git does not allow %q in a ref name", c)
				break
			}
		}
	}
	if bad != "" {
		l.errorf(a.Expr.Range(), "Invalid "+a.Name, "The %s %s is not a valid git ref name: %s.", a.Name, l.show(a.Expr.Range(), s), bad)
		return "", false
	}
	return s, true
}

// patch expands one patch glob against the Portfile's directory. A glob
// that matches nothing is an error: a patch silently not applied is a
// build that silently differs from what the Portfile says.
func (l *loader) patch(g Ident, pkg string) (Patch, bool) {
	p := Patch{Glob: g.Name, Range: g.Range}
	if strings.TrimSpace(g.Name) == "" {
		l.errorf(g.Range, "Empty patch path", "A patches element must name a file or a glob, relative to the Portfile.")
		return p, false
	}
	if _, err := path.Match(g.Name, ""); err != nil {
		l.errorf(g.Range, "Invalid patch glob", "The patch glob %s is malformed: %v.", l.show(g.Range, g.Name), err)
		return p, false
	}
	matches, err := filepath.Glob(abs(l.p.Dir, g.Name))
	if err != nil {
		l.errorf(g.Range, "Invalid patch glob", "The patch glob %s is malformed: %v.", l.show(g.Range, g.Name), err)
		return p, false
	}
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
			p.Files = append(p.Files, m)
		}
	}
	if len(p.Files) == 0 {
		shown := l.displayPath(g.Name)
		if l.secrets[g.Range] != "" {
			shown = l.show(g.Range, g.Name)
		}
		l.errorf(g.Range, "Missing patch files",
			"No file matches %s for the package %q. Patches are paths or globs relative to the Portfile's directory; check the path, or remove the entry.", shown, pkg)
		return p, false
	}
	return p, true
}

var aurSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "packages", Required: true}, {Name: "url"}, {Name: "repo", Required: true},
}}

func (l *loader) aur(b *hcl.Block) *AUR {
	a := &AUR{Range: b.DefRange}
	attrs := l.content(b, aurSchema)
	if at := attrs["packages"]; at != nil {
		a.Packages = l.names(at, "aur.packages")
	}
	a.URL = Location{Raw: DefaultAURURL, Range: b.DefRange}
	a.URL.URL, _ = urlParse(DefaultAURURL)
	if at := attrs["url"]; at != nil {
		if loc, ok := l.location(at, locAny); ok {
			a.URL = loc
		}
	}
	if at := attrs["repo"]; at != nil {
		a.Repo, _ = l.str(at)
		a.RepoRange = at.Expr.Range()
	}
	return a
}

var localSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "path", Required: true}, {Name: "packages"}, {Name: "repo", Required: true},
}}

func (l *loader) local(b *hcl.Block) *Local {
	lc := &Local{Range: b.DefRange}
	attrs := l.content(b, localSchema)
	if a := attrs["path"]; a != nil {
		if loc, ok := l.location(a, locLocal); ok {
			lc.Path = loc
			if fi, err := os.Stat(loc.Path); err != nil || !fi.IsDir() {
				l.errorf(a.Expr.Range(), "Missing local directory",
					"The local PKGBUILD directory %s does not exist or is not a directory. It should hold one subdirectory per pkgbase, each with a PKGBUILD.", l.displayPath(loc.Raw))
				lc.Path = Location{}
			}
		}
	}
	if a := attrs["packages"]; a != nil {
		lc.Packages = l.names(a, "local.packages")
		if lc.Path.Path != "" {
			for _, id := range lc.Packages {
				if _, err := os.Stat(filepath.Join(lc.Path.Path, id.Name, "PKGBUILD")); err != nil {
					l.errorf(id.Range, "Missing local PKGBUILD",
						"The local package %s has no PKGBUILD at %s. Each local pkgbase is a subdirectory of path holding a PKGBUILD.", l.show(id.Range, id.Name), filepath.Join(l.displayPath(lc.Path.Raw), id.Name, "PKGBUILD"))
				}
			}
		}
	}
	if a := attrs["repo"]; a != nil {
		lc.Repo, _ = l.str(a)
		lc.RepoRange = a.Expr.Range()
	}
	return lc
}

// Pkgbases lists the pkgbases of the local block: the packages filter when
// set, else every subdirectory of path that holds a PKGBUILD and whose name
// is a valid pkgbase, sorted.
func (lc *Local) Pkgbases() ([]string, error) {
	if len(lc.Packages) > 0 {
		return Names(lc.Packages), nil
	}
	ents, err := os.ReadDir(lc.Path.Path)
	if err != nil {
		return nil, fmt.Errorf("list local PKGBUILDs: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() || !alpm.ValidName(e.Name()) {
			continue
		}
		if _, err := os.Stat(filepath.Join(lc.Path.Path, e.Name(), "PKGBUILD")); err == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

var sourcesSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "packaging"}, {Name: "state"}, {Name: "keyring"},
}}

func (l *loader) sources(b *hcl.Block) {
	s := &l.p.Sources
	s.Packaging = DefaultPackaging
	if b == nil {
		s.PackagingRange = l.fileStart()
		return
	}
	s.PackagingRange = b.DefRange
	attrs := l.content(b, sourcesSchema)
	if a := attrs["packaging"]; a != nil {
		if t, ok := l.str(a); ok {
			s.PackagingRange = a.Expr.Range()
			if !strings.Contains(t, "{project}") && !strings.Contains(t, "{pkgbase}") {
				l.errorf(a.Expr.Range(), "Packaging template without placeholder",
					"The packaging template %s names no repository per package: put {project} (the GitLab project path of the pkgbase) or {pkgbase} where the name goes.", l.show(a.Expr.Range(), hidePassword(t)))
			} else {
				probe := strings.NewReplacer("{project}", "x", "{pkgbase}", "x").Replace(t)
				if loc, ok := l.resolve(probe, a.Expr.Range(), "packaging", locGit); ok {
					if loc.URL == nil && loc.Path != "" {
						t = abs(l.p.Dir, t)
					}
					s.Packaging = t
				}
			}
		}
	}
	if a := attrs["state"]; a != nil {
		s.State, _ = l.location(a, locGit)
	}
	if a := attrs["keyring"]; a != nil {
		s.Keyring = l.keyring(a)
	}
}

var (
	publishDirSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "path", Required: true}}}
	publishS3Schema  = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "bucket", Required: true}, {Name: "prefix"}, {Name: "region"}, {Name: "endpoint"}, {Name: "profile"},
		// Declared only to refuse them with a precise message.
		{Name: "access_key"}, {Name: "secret_key"}, {Name: "session_token"},
	}}
	bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

func (l *loader) publish(b *hcl.Block) *Publish {
	p := &Publish{Type: b.Labels[0], Range: b.DefRange}
	switch p.Type {
	case "dir":
		attrs := l.content(b, publishDirSchema)
		if a := attrs["path"]; a != nil {
			if loc, ok := l.location(a, locLocal); ok {
				p.Path = loc.Path
			}
		}
	case "s3":
		attrs := l.content(b, publishS3Schema)
		for _, n := range []string{"access_key", "secret_key", "session_token"} {
			if a := attrs[n]; a != nil {
				l.errorf(a.NameRange, "Credentials in the Portfile",
					"The Portfile is committed and shared, so it must not hold %s. Give credentials through the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or name a shared-credentials profile with profile.", n)
			}
		}
		if a := attrs["bucket"]; a != nil {
			if s, ok := l.str(a); ok {
				if !bucketRE.MatchString(s) || strings.Contains(s, "..") {
					l.errorf(a.Expr.Range(), "Invalid bucket name", "The bucket %s is not a valid S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.", l.show(a.Expr.Range(), s))
				} else {
					p.Bucket = s
				}
			}
		}
		if a := attrs["prefix"]; a != nil {
			if s, ok := l.str(a); ok {
				p.Prefix = strings.Trim(s, "/")
			}
		}
		if a := attrs["region"]; a != nil {
			p.Region, _ = l.nonEmpty(a)
		}
		if a := attrs["profile"]; a != nil {
			p.Profile, _ = l.nonEmpty(a)
		}
		if a := attrs["endpoint"]; a != nil {
			if s, ok := l.str(a); ok {
				u, err := urlParse(s)
				switch {
				case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
					l.errorf(a.Expr.Range(), "Invalid endpoint", "The S3 endpoint %s must be an http:// or https:// URL with a host, such as \"https://s3.example.org\".", l.show(a.Expr.Range(), hidePassword(s)))
				case u.User != nil:
					l.errorf(a.Expr.Range(), "Credentials in the Portfile",
						"The S3 endpoint %s holds user information. Give credentials through the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or name a shared-credentials profile with profile.", l.show(a.Expr.Range(), hidePassword(s)))
				default:
					p.Endpoint = s
				}
			}
		}
	default:
		l.errorf(b.LabelRanges[0], "Unknown publish type",
			"portmake cannot publish to %q: the publish block's label is \"dir\" (a local directory tree) or \"s3\" (an S3 bucket).", p.Type)
		return nil
	}
	return p
}
