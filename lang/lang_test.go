package lang

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// portDir makes a Portfile directory with the chroot configuration, a
// patch, a local PKGBUILD and a blacklist file, and returns it.
func portDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"chroot-config/makepkg.conf":   "# test\nCARCH=\"aarch64\"\n",
		"chroot-config/pacman.conf":    "[options]\nArchitecture = aarch64\n",
		"patches/gcc/0001-a.patch":     "a\n",
		"patches/gcc/0002-b.patch":     "b\n",
		"pkgbuilds/mytool/PKGBUILD":    "pkgname=mytool\n",
		"pkgbuilds/other/PKGBUILD":     "pkgname=other\n",
		"blacklist.txt":                "linux-rc  # not for boards\n# comment\n\n*-x86   # x86 only\n",
		"secret.txt":                   "from a file\n",
		"chroot-config/x86.conf":       "CARCH=x86_64\n",
		"chroot-config/nocarch.conf":   "CHOST=aarch64\n",
		"chroot-config/riscv64.conf":   "export CARCH='riscv64' # riscv\n",
		"pkgbuilds/README":             "not a package\n",
		"pkgbuilds/.hidden/PKGBUILD":   "pkgname=hidden\n",
		"pkgbuilds/notapkg/README.txt": "no PKGBUILD here\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const forgeRepo = `
repo "forge" {
  target = "https://arch.example.org/forge/os/aarch64/forge.db"
}
`

// TestRules has one case per validation rule: the Portfile text, and the
// summary, severity and position of the diagnostic the rule must produce.
func TestRules(t *testing.T) {
	dir := portDir(t)
	tests := []struct {
		name    string
		src     string
		opts    LoadOptions
		summary string
		warning bool
		pos     string // line:col of the subject
	}{
		{"unknown attribute", "port {\n  archh = \"aarch64\"\n}\n", LoadOptions{}, "Unsupported argument", false, "2:3"},
		{"unknown block", "repository \"core\" {}\n", LoadOptions{}, "Unsupported block type", false, "1:1"},
		{"duplicate single block", "build {}\nbuild {}\n", LoadOptions{}, "Duplicate build block", false, "2:1"},
		{"duplicate repo", forgeRepo + forgeRepo, LoadOptions{}, "Duplicate repo block", false, "6:6"},
		{"duplicate package", "package \"gcc\" {}\npackage \"gcc\" {}\n", LoadOptions{}, "Duplicate package block", false, "2:9"},
		{"invalid package label", "package \"gcc/x\" {}\n", LoadOptions{}, "Invalid package name", false, "1:9"},
		{"invalid aur name", forgeRepo + "aur {\n  packages = [\"ok\", \".bad\"]\n  repo = \"forge\"\n}\n", LoadOptions{}, "Invalid package name", false, "6:21"},
		{"duplicate aur name", forgeRepo + "aur {\n  packages = [\"yay\", \"yay\"]\n  repo = \"forge\"\n}\n", LoadOptions{}, "Duplicate name", false, "6:22"},
		{"invalid bootstrap name", "build {\n  bootstrap = [\"gcc\", \"g cc\"]\n}\n", LoadOptions{}, "Invalid package name", false, "2:23"},
		{"blacklisted override", "blacklist {\n  patterns = [\"gcc*\"]\n}\npackage \"gcc\" {}\n", LoadOptions{}, "Blacklisted package is configured", true, "4:1"},
		{"blacklisted aur package", forgeRepo + "blacklist {\n  file = \"blacklist.txt\"\n}\naur {\n  packages = [\"linux-rc\"]\n  repo = \"forge\"\n}\n", LoadOptions{}, "Blacklisted package is configured", true, "9:15"},
		{"two refs", "package \"gcc\" {\n  tag = \"1-1\"\n  commit = \"abcdef0\"\n}\n", LoadOptions{}, "Conflicting git refs", false, "3:3"},
		{"bad commit", "package \"gcc\" {\n  commit = \"ABCDEF0\"\n}\n", LoadOptions{}, "Invalid commit", false, "2:12"},
		{"bad branch", "package \"gcc\" {\n  branch = \"-x\"\n}\n", LoadOptions{}, "Invalid branch", false, "2:12"},
		{"missing patch", "package \"gcc\" {\n  patches = [\"patches/gcc/*.diff\"]\n}\n", LoadOptions{}, "Missing patch files", false, "2:14"},
		{"bad patch glob", "package \"gcc\" {\n  patches = [\"patches/[\"]\n}\n", LoadOptions{}, "Invalid patch glob", false, "2:14"},
		{"bad group", "package \"gcc\" {\n  group = \"a b\"\n}\n", LoadOptions{}, "Invalid group", false, "2:11"},
		{"arch disagrees", "port {\n  arch = \"riscv64\"\n}\n", LoadOptions{}, "Architecture disagrees with makepkg.conf", false, "2:10"},
		{"arch any", "port {\n  arch = \"any\"\n}\n", LoadOptions{}, "Invalid architecture", false, "2:10"},
		{"arch charset", "port {\n  arch = \"arm-64\"\n}\n", LoadOptions{}, "Invalid architecture", false, "2:10"},
		{"arch unknown", "port {\n  upstream_arch = \"sparc64\"\n}\n", LoadOptions{}, "Unknown architecture", true, "2:19"},
		{"no CARCH", "port {\n  makepkg_conf = \"chroot-config/nocarch.conf\"\n}\n", LoadOptions{}, "No CARCH in makepkg.conf", false, "2:18"},
		{"missing makepkg.conf", "port {\n  makepkg_conf = \"nope.conf\"\n}\n", LoadOptions{}, "Cannot read makepkg.conf", false, "2:18"},
		{"missing pacman.conf", "port {\n  pacman_conf = \"nope.conf\"\n}\n", LoadOptions{}, "Missing pacman.conf", false, "2:17"},
		{"remote makepkg.conf", "port {\n  makepkg_conf = \"https://example.org/makepkg.conf\"\n}\n", LoadOptions{}, "Unsupported location", false, "2:18"},
		{"aur unknown repo", "aur {\n  packages = [\"yay\"]\n  repo = \"forge\"\n}\n", LoadOptions{}, "Unknown repository", false, "3:10"},
		{"local unknown repo", "local {\n  path = \"pkgbuilds\"\n  repo = \"forge\"\n}\n", LoadOptions{}, "Unknown repository", false, "3:10"},
		{"local missing dir", forgeRepo + "local {\n  path = \"nope\"\n  repo = \"forge\"\n}\n", LoadOptions{}, "Missing local directory", false, "6:10"},
		{"local missing PKGBUILD", forgeRepo + "local {\n  path = \"pkgbuilds\"\n  packages = [\"notapkg\"]\n  repo = \"forge\"\n}\n", LoadOptions{}, "Missing local PKGBUILD", false, "7:15"},
		{"aur and local", forgeRepo + "aur {\n  packages = [\"mytool\"]\n  repo = \"forge\"\n}\nlocal {\n  path = \"pkgbuilds\"\n  repo = \"forge\"\n}\n", LoadOptions{}, "Package has two sources", false, "6:15"},
		{"aur and git", forgeRepo + "aur {\n  packages = [\"yay\"]\n  repo = \"forge\"\n}\npackage \"yay\" {\n  git = \"https://example.org/yay.git\"\n}\n", LoadOptions{}, "Package has two sources", false, "10:9"},
		{"missing target", "repo \"core\" {}\n", LoadOptions{}, "Missing required argument", false, "1:13"},
		{"bad repo name", "repo \"a b\" {\n  target = \"x.db\"\n}\n", LoadOptions{}, "Invalid repository name", false, "1:6"},
		{"testing without upstream", "repo \"x\" {\n  target = \"x.db\"\n  upstream_testing = \"y.db\"\n}\n", LoadOptions{}, "upstream_testing without upstream", false, "3:3"},
		{"ftp location", "repo \"x\" {\n  target = \"ftp://h/x.db\"\n}\n", LoadOptions{}, "Unsupported location", false, "2:12"},
		{"url without host", "repo \"x\" {\n  target = \"https:///x.db\"\n}\n", LoadOptions{}, "Invalid URL", false, "2:12"},
		{"file url with host", "repo \"x\" {\n  target = \"file://host/x.db\"\n}\n", LoadOptions{}, "Invalid file URL", false, "2:12"},
		{"empty location", "repo \"x\" {\n  target = \"\"\n}\n", LoadOptions{}, "Empty location", false, "2:12"},
		{"scp git", "package \"gcc\" {\n  git = \"git@host:gcc.git\"\n}\n", LoadOptions{}, "Unsupported git location", false, "2:9"},
		{"missing blacklist", "blacklist {\n  file = \"nope.txt\"\n}\n", LoadOptions{}, "Missing blacklist file", false, "2:10"},
		{"bad pattern", "blacklist {\n  patterns = [\"a/b\"]\n}\n", LoadOptions{}, "Invalid blacklist pattern", false, "2:15"},
		{"packaging placeholder", "sources {\n  packaging = \"https://h/x.git\"\n}\n", LoadOptions{}, "Packaging template without placeholder", false, "2:15"},
		{"unknown builder", "build {\n  builder = \"docker\"\n}\n", LoadOptions{}, "Unknown builder", false, "2:13"},
		{"jobs zero", "build {\n  jobs = 0\n}\n", LoadOptions{}, "Invalid jobs", false, "2:10"},
		{"jobs fraction", "build {\n  jobs = 1.5\n}\n", LoadOptions{}, "Invalid jobs", false, "2:10"},
		{"retries negative", "build {\n  retries = -1\n}\n", LoadOptions{}, "Invalid retries", false, "2:13"},
		{"makepkg arg", "build {\n  makepkg_args = [\"x\"]\n}\n", LoadOptions{}, "Invalid makepkg argument", false, "2:19"},
		{"nocheck type", "build {\n  nocheck = \"yes please\"\n}\n", LoadOptions{}, "Incorrect attribute value type", false, "2:13"},
		{"publish type", "publish \"ftp\" {}\n", LoadOptions{}, "Unknown publish type", false, "1:9"},
		{"s3 credentials", "publish \"s3\" {\n  bucket = \"abc\"\n  secret_key = \"x\"\n}\n", LoadOptions{}, "Credentials in the Portfile", false, "3:3"},
		{"s3 bucket", "publish \"s3\" {\n  bucket = \"Bad_Bucket\"\n}\n", LoadOptions{}, "Invalid bucket name", false, "2:12"},
		{"s3 endpoint", "publish \"s3\" {\n  bucket = \"abc\"\n  endpoint = \"s3.example.org\"\n}\n", LoadOptions{}, "Invalid endpoint", false, "3:14"},
		{"publish dir field", "publish \"dir\" {\n  path = \"out\"\n  bucket = \"x\"\n}\n", LoadOptions{}, "Unsupported argument", false, "3:3"},
		{"undeclared var", "repo \"x\" {\n  target = \"${var.nope}/x.db\"\n}\n", LoadOptions{}, "Reference to undeclared variable", false, "2:15"},
		{"required var", "variable \"m\" {}\n", LoadOptions{}, "No value for required variable", false, "1:1"},
		{"invalid var name", "variable \"9x\" {\n  default = 1\n}\n", LoadOptions{}, "Invalid variable name", false, "1:10"},
		{"duplicate var", "variable \"m\" {\n  default = 1\n}\nvariable \"m\" {\n  default = 2\n}\n", LoadOptions{}, "Duplicate variable", false, "4:10"},
		{"var in default", "variable \"a\" {\n  default = \"x\"\n}\nvariable \"b\" {\n  default = var.a\n}\n", LoadOptions{}, "Variables not allowed", false, "5:13"},
		{"undeclared --var", "", LoadOptions{Vars: map[string]string{"nope": "1"}}, "Value for undeclared variable", false, ""},
		{"missing var file", "", LoadOptions{VarFiles: []string{filepath.Join(dir, "nope.hcl")}}, "Cannot read variable file", false, ""},
		{"file outside", "variable \"x\" {\n  default = file(\"../x\")\n}\n", LoadOptions{}, "Invalid function argument", false, "2:19"},
		{"file absolute", "variable \"x\" {\n  default = file(\"/etc/passwd\")\n}\n", LoadOptions{}, "Invalid function argument", false, "2:19"},
		{"unknown function", "variable \"x\" {\n  default = timestamp()\n}\n", LoadOptions{}, "Call to unknown function", false, "2:13"},
		{"syntax", "port {\n", LoadOptions{}, "Unclosed configuration block", false, "1:6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Parse([]byte(tt.src), filepath.Join(dir, "Portfile.hcl"), tt.opts)
			var found *hcl.Diagnostic
			for _, d := range diags {
				if d.Summary == tt.summary {
					found = d
					break
				}
			}
			if found == nil {
				t.Fatalf("no %q diagnostic; got:\n%s", tt.summary, diagList(diags))
			}
			if got := found.Severity == hcl.DiagWarning; got != tt.warning {
				t.Errorf("warning = %v, want %v", got, tt.warning)
			}
			if tt.warning && diags.HasErrors() {
				t.Errorf("a warning-only rule also produced errors:\n%s", diagList(diags))
			}
			if found.Detail == "" || !strings.ContainsAny(found.Detail[len(found.Detail)-1:], ".?") {
				t.Errorf("detail %q is not a full sentence", found.Detail)
			}
			if tt.pos == "" {
				return
			}
			if found.Subject == nil {
				t.Fatal("no subject range")
			}
			if got := posText(found.Subject); got != tt.pos {
				t.Errorf("subject at %s, want %s", got, tt.pos)
			}
		})
	}
}

func posText(r *hcl.Range) string {
	return strconv.Itoa(r.Start.Line) + ":" + strconv.Itoa(r.Start.Column)
}

func diagList(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Error())
		b.WriteString("\n")
	}
	return b.String()
}

// TestDefaults decodes an empty Portfile: every default the README
// documents.
func TestDefaults(t *testing.T) {
	dir := portDir(t)
	pf, diags := Parse(nil, filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diagList(diags))
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"arch from CARCH", pf.Arch(), "aarch64"},
		{"upstream_arch", pf.Port.UpstreamArch, "x86_64"},
		{"makepkg_conf", pf.MakepkgConf(), filepath.Join(dir, "chroot-config/makepkg.conf")},
		{"pacman_conf", pf.PacmanConf(), filepath.Join(dir, "chroot-config/pacman.conf")},
		{"state", pf.StatePath(), filepath.Join(dir, ".portmake/state.db")},
		{"packaging", pf.Sources.Packaging, DefaultPackaging},
		{"builder", pf.Build.Builder, "makechrootpkg"},
		{"chroot", pf.Build.Chroot, "/var/lib/portmake/chroot"},
		{"cache", pf.Build.Cache, "/var/cache/portmake/pkg"},
		{"logs", pf.Build.Logs, filepath.Join(dir, "logs")},
		{"jobs", pf.Build.Jobs, 1},
		{"keep_logs", pf.Build.KeepLogs, 3},
		{"retries", pf.Build.Retries, 0},
		{"build_dependents_of_failed", pf.Build.BuildDependentsOfFailed, false},
		{"bootstrap", Names(pf.Build.Bootstrap), []string{"linux-api-headers", "glibc", "binutils", "gcc"}},
		{"no aur", pf.AUR == nil, true},
		{"no local", pf.Local == nil, true},
		{"no publish", pf.Publish == nil, true},
		{"hash", len(pf.Hash), 64},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// TestDecode decodes a full Portfile and checks every field.
func TestDecode(t *testing.T) {
	dir := portDir(t)
	src := `
port {
  arch         = "aarch64"
  state        = "/var/lib/portmake/state.db"
}
variable "mirror" { default = "https://m.example.org" }
repo "core" {
  upstream         = "${var.mirror}/core/os/x86_64/core.db"
  upstream_testing = "file:///srv/up/core-testing.db"
  target           = "repos/core.db"
  target_testing   = "http://port.example.org/core-testing.db"
  publish          = "core-testing"
}
repo "forge" {
  target = "../forge/forge.db"
}
blacklist {
  file     = "blacklist.txt"
  patterns = ["[!a-z]*"]
}
package "gcc" {
  git     = "ssh://git@example.org/gcc.git"
  branch  = "aarch64"
  patches = ["patches/gcc/0002-b.patch", "patches/gcc/*.patch"]
  nocheck = true
  group   = "heavy"
}
aur {
  packages = ["yay"]
  repo     = "forge"
}
local {
  path = "pkgbuilds"
  repo = "forge"
}
sources {
  packaging = "mirror/{pkgbase}.git"
  state     = "file:///srv/state.git"
}
build {
  builder      = "makepkg"
  jobs         = 4
  keep_logs    = 0
  retries      = 2
  nocheck      = true
  makepkg_args = ["--skippgpcheck"]
  bootstrap    = ["glibc"]
  build_dependents_of_failed = true
  chroot       = "chroot"
}
publish "s3" {
  bucket   = "arch-aarch64"
  prefix   = "/arch/"
  region   = "eu-central-1"
  endpoint = "https://s3.example.org"
  profile  = "port"
}
`
	pf, diags := Parse([]byte(src), filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diagList(diags))
	}
	core := pf.Repo("core")
	forge := pf.Repo("forge")
	gcc := pf.Package("gcc")
	bases, err := pf.Local.Pkgbases()
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"repo order", []string{pf.Repos[0].Name, pf.Repos[1].Name}, []string{"core", "forge"}},
		{"upstream url", core.Upstream.URL.String(), "https://m.example.org/core/os/x86_64/core.db"},
		{"upstream raw", core.Upstream.Raw, "https://m.example.org/core/os/x86_64/core.db"},
		{"upstream not local", core.Upstream.IsLocal(), false},
		{"file url path", core.UpstreamTesting.Path, "/srv/up/core-testing.db"},
		{"relative target", core.Target.Path, filepath.Join(dir, "repos/core.db")},
		{"http target", core.TargetTesting.String(), "http://port.example.org/core-testing.db"},
		{"publish", core.Publish, "core-testing"},
		{"publish default", forge.Publish, "forge"},
		{"port only", forge.PortOnly(), true},
		{"parent path", forge.Target.Path, filepath.Join(filepath.Dir(dir), "forge/forge.db")},
		{"state abs", pf.StatePath(), "/var/lib/portmake/state.db"},
		{"blacklist entries", []string{pf.Blacklist.Entries[0].Pattern, pf.Blacklist.Entries[1].Pattern, pf.Blacklist.Entries[2].Pattern}, []string{"linux-rc", "*-x86", "[!a-z]*"}},
		{"blacklist reason", pf.Blacklist.Entries[0].Reason, "not for boards"},
		{"blacklist line", pf.Blacklist.Entries[1].Range.Start.Line, 4},
		{"git", gcc.Git.URL.String(), "ssh://git@example.org/gcc.git"},
		{"branch", gcc.Branch, "aarch64"},
		{"patches in order", [][]string{gcc.Patches[0].Files, gcc.Patches[1].Files}, [][]string{
			{filepath.Join(dir, "patches/gcc/0002-b.patch")},
			{filepath.Join(dir, "patches/gcc/0001-a.patch"), filepath.Join(dir, "patches/gcc/0002-b.patch")}}},
		{"nocheck", gcc.NoCheck, true},
		{"group", gcc.Group, "heavy"},
		{"aur default url", pf.AUR.URL.String(), DefaultAURURL},
		{"aur repo", pf.AUR.Repo, "forge"},
		{"local pkgbases", bases, []string{"mytool", "other"}},
		{"packaging path", pf.Sources.PackagingURL("gcc", "gcc"), filepath.Join(dir, "mirror/gcc.git")},
		{"state repo", pf.Sources.State.Path, "/srv/state.git"},
		{"builder", pf.Build.Builder, "makepkg"},
		{"jobs", pf.Build.Jobs, 4},
		{"keep_logs", pf.Build.KeepLogs, 0},
		{"retries", pf.Build.Retries, 2},
		{"build nocheck", pf.Build.NoCheck, true},
		{"makepkg_args", pf.Build.MakepkgArgs, []string{"--skippgpcheck"}},
		{"build_dependents_of_failed", pf.Build.BuildDependentsOfFailed, true},
		{"bootstrap", Names(pf.Build.Bootstrap), []string{"glibc"}},
		{"chroot relative", pf.Build.Chroot, filepath.Join(dir, "chroot")},
		{"publish s3", *pf.Publish, Publish{Type: "s3", Bucket: "arch-aarch64", Prefix: "arch", Region: "eu-central-1", Endpoint: "https://s3.example.org", Profile: "port", Range: pf.Publish.Range}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if e, ok := pf.Blacklist.Match("1password"); !ok || e.Pattern != "[!a-z]*" {
		t.Errorf("Match(1password) = %v, %v; want the [!a-z]* entry", e, ok)
	}
	if _, ok := pf.Blacklist.Match("gcc"); ok {
		t.Error("gcc matched the blacklist")
	}
}

// TestVariables checks precedence (default < env < var files in order <
// --var), functions, and that the hash follows the values.
func TestVariables(t *testing.T) {
	dir := portDir(t)
	vf1 := filepath.Join(dir, "a.pkrvars.hcl")
	vf2 := filepath.Join(dir, "b.pkrvars.hcl")
	os.WriteFile(vf1, []byte("mirror = \"https://file1\"\nport = \"https://p1\"\n"), 0o644)
	os.WriteFile(vf2, []byte("port = upper(\"https://p2\")\n"), 0o644)
	src := []byte(`
variable "mirror" { default = "https://default" }
variable "port"   { default = "https://default" }
variable "flavor" { default = "plain" }
variable "token"  { default = trimspace(file("secret.txt")) }
variable "home"   { default = env("PM_TEST_HOME") }
repo "core" {
  upstream = "${var.mirror}/core.db"
  target   = "${lower(var.port)}/${var.flavor}/core.db"
}
`)
	env := map[string]string{"PORTMAKE_VAR_flavor": "from-env", "PORTMAKE_VAR_mirror": "https://env", "PM_TEST_HOME": "/home/x"}
	opts := LoadOptions{
		Vars:     map[string]string{"mirror": "https://cli"},
		VarFiles: []string{vf1, vf2},
		Env:      func(k string) string { return env[k] },
	}
	pf, diags := Parse(src, filepath.Join(dir, "Portfile.hcl"), opts)
	if diags.HasErrors() {
		t.Fatal(diagList(diags))
	}
	got := map[string]string{}
	for n, v := range pf.Variables {
		got[n] = v.Value.AsString() + " (" + v.Source + ")"
	}
	want := map[string]string{
		"mirror": "https://cli (--var)",
		"port":   "HTTPS://P2 (var-file " + vf2 + ")",
		"flavor": "from-env (env)",
		"token":  "from a file (default)",
		"home":   "/home/x (default)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("variables = %v\nwant %v", got, want)
	}
	if u := pf.Repo("core").Target.URL.String(); u != "https://p2/from-env/core.db" {
		t.Errorf("target = %s", u)
	}

	// The hash changes with a variable value, with what env() returns and
	// with a file() input; it does not change on a second identical load.
	again, _ := Parse(src, filepath.Join(dir, "Portfile.hcl"), opts)
	if again.Hash != pf.Hash {
		t.Error("same inputs gave different hashes")
	}
	opts.Vars = map[string]string{"mirror": "https://other"}
	if other, _ := Parse(src, filepath.Join(dir, "Portfile.hcl"), opts); other.Hash == pf.Hash {
		t.Error("hash ignores --var")
	}
	opts.Vars = map[string]string{"mirror": "https://cli"}
	env["PM_TEST_HOME"] = "/home/y"
	if other, _ := Parse(src, filepath.Join(dir, "Portfile.hcl"), opts); other.Hash == pf.Hash {
		t.Error("hash ignores env()")
	}
	env["PM_TEST_HOME"] = "/home/x"
	os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("changed\n"), 0o644)
	if other, _ := Parse(src, filepath.Join(dir, "Portfile.hcl"), opts); other.Hash == pf.Hash {
		t.Error("hash ignores file()")
	}
}

// TestBlacklistHashed checks that editing the blacklist file changes the
// Portfile hash: it changes the plan.
func TestBlacklistHashed(t *testing.T) {
	dir := portDir(t)
	src := []byte("blacklist {\n  file = \"blacklist.txt\"\n}\n")
	a, diags := Parse(src, filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diagList(diags))
	}
	os.WriteFile(filepath.Join(dir, "blacklist.txt"), []byte("gcc\n"), 0o644)
	b, _ := Parse(src, filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
	if a.Hash == b.Hash {
		t.Error("hash ignores the blacklist file")
	}
}

// TestExamples checks that the shipped example and the demo validate
// without a warning.
func TestExamples(t *testing.T) {
	for _, f := range []string{"../Portfile.hcl.example", "../examples/demo/Portfile.hcl"} {
		pf, diags := Load(f, LoadOptions{})
		if len(diags) > 0 {
			t.Errorf("%s:\n%s", f, diagList(diags))
			continue
		}
		if pf.Arch() != "aarch64" {
			t.Errorf("%s: arch %q", f, pf.Arch())
		}
	}
}

func TestFunctionNames(t *testing.T) {
	names := strings.Join(FunctionNames(), " ")
	for _, want := range []string{"env", "file", "join", "format", "upper"} {
		if !strings.Contains(" "+names+" ", " "+want+" ") {
			t.Errorf("function %s missing from %s", want, names)
		}
	}
	for _, banned := range []string{"timestamp", "uuid", "http"} {
		if strings.Contains(" "+names+" ", " "+banned+" ") {
			t.Errorf("non-hermetic function %s offered", banned)
		}
	}
}
