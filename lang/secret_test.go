package lang

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// render is every diagnostic of a load as the CLI prints it.
func render(t *testing.T, src, dir string, opts LoadOptions) (string, int) {
	t.Helper()
	pf, diags := Parse([]byte(src), filepath.Join(dir, "Portfile.hcl"), opts)
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, pf.Files, diags, 0, false); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range diags {
		if d.Severity == 1 { // hcl.DiagError
			n++
		}
	}
	return buf.String(), n
}

// TestSecretsStayOutOfDiagnostics puts values read by env() and file()
// where each check of the decoder rejects them, and checks that every
// problem is reported, at its place, naming where the value came from, and
// that the value itself appears nowhere in the output.
func TestSecretsStayOutOfDiagnostics(t *testing.T) {
	const secret = "hunter2-Sekr3t"
	dir := portDir(t)
	os.WriteFile(filepath.Join(dir, "token.txt"), []byte(secret), 0o644)
	src := `
variable "tok" { default = env("TOKEN") }

port {
  arch = env("TOKEN")
}

repo "core" {
  target  = "https://example.org/${env("TOKEN")}/core.db"
  publish = "${var.tok}/x"
}

repo "extra" {
  target  = "${env("TOKEN")}://example.org/extra.db"
  upstream = "https://u:${file("token.txt")}@example.org/extra.db"
}

package "gcc" {
  branch  = "a..${env("TOKEN")}"
  patches = [env("TOKEN")]
  group   = "!${var.tok}"
}

aur {
  packages = ["${upper(env("TOKEN"))}!"]
  repo     = "core"
}

build {
  jobs         = parseint(env("TOKEN"), 10)
  keep_logs    = tonumber(file("token.txt"))
  makepkg_args = [env("TOKEN")]
  user         = env("TOKEN")
  memory       = env("TOKEN")
  nocheck      = env("TOKEN")
}
`
	out, errs := render(t, src, dir, LoadOptions{Env: func(k string) string {
		if k == "TOKEN" {
			return secret
		}
		return ""
	}})
	if strings.Contains(out, secret) || strings.Contains(strings.ToLower(out), strings.ToLower(secret)) {
		t.Fatalf("a secret is shown:\n%s", out)
	}
	if errs < 14 {
		t.Errorf("%d errors, want one per line that uses the secret:\n%s", errs, out)
	}
	for _, want := range []string{`env("TOKEN")`, `file("token.txt")`, "Portfile.hcl:5:10, in port", "Password in a URL"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestVariablesFromTheCommandLineAreShown: --var, var files and
// PORTMAKE_VAR_* are declared inputs; errors about them show the value.
func TestVariablesFromTheCommandLineAreShown(t *testing.T) {
	dir := portDir(t)
	src := "variable \"a\" {}\nport {\n  arch = var.a\n}\n"
	out, _ := render(t, src, dir, LoadOptions{Vars: map[string]string{"a": "bogus!"}})
	if !strings.Contains(out, `"bogus!"`) {
		t.Errorf("the --var value is not shown:\n%s", out)
	}
}

// TestBlacklistFileIsConfined: the blacklist file must be inside the
// Portfile's directory, symlinks followed, and no line of a file outside is
// ever printed. A file inside that is no blacklist is reported for a few
// lines, then counted.
func TestBlacklistFileIsConfined(t *testing.T) {
	dir := portDir(t)
	outside := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(outside, []byte("root:$y$j9T$secrethash:19000:0:99999:7:::\n"), 0o600)
	os.Symlink(outside, filepath.Join(dir, "link.txt"))
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	for _, path := range []string{outside, "file://" + outside, "../" + filepath.Base(filepath.Dir(outside)) + "/shadow", "link.txt", "/etc/passwd"} {
		out, errs := render(t, "blacklist {\n  file = \""+path+"\"\n}\n", dir, LoadOptions{})
		if errs != 1 || !strings.Contains(out, "Blacklist file outside the port") || !strings.Contains(out, "Portfile.hcl:2:10, in blacklist") {
			t.Errorf("%s: want one error at the attribute:\n%s", path, out)
		}
		if strings.Contains(out, "secrethash") || strings.Contains(out, "root:") {
			t.Errorf("%s: a line of the file is printed:\n%s", path, out)
		}
	}
	// Inside, and through a symlink that stays inside: accepted.
	os.Symlink("../blacklist.txt", filepath.Join(dir, "sub", "bl"))
	for _, path := range []string{"blacklist.txt", filepath.Join(dir, "blacklist.txt"), "sub/bl", "./sub/../blacklist.txt"} {
		if out, errs := render(t, "blacklist {\n  file = \""+path+"\"\n}\n", dir, LoadOptions{}); errs != 0 {
			t.Errorf("%s refused:\n%s", path, out)
		}
	}

	var lines []string
	for i := range 40 {
		lines = append(lines, strings.Repeat("x", i)+"=VALUE:"+strings.Repeat("y", i))
	}
	os.WriteFile(filepath.Join(dir, "env.txt"), []byte(strings.Join(lines, "\n")), 0o644)
	out, errs := render(t, "blacklist {\n  file = \"env.txt\"\n}\n", dir, LoadOptions{})
	if errs != maxFileDiags+1 || !strings.Contains(out, "35 more lines of ") {
		t.Errorf("want %d line errors and a count:\n%s", maxFileDiags, out)
	}
	if strings.Contains(out, lines[maxFileDiags]) {
		t.Errorf("line %d is printed:\n%s", maxFileDiags+1, out)
	}
}

// TestPasswordsInURLsAreRefused: a password in any location is an error,
// and the password is not repeated; a user name alone is fine.
func TestPasswordsInURLsAreRefused(t *testing.T) {
	dir := portDir(t)
	locs := map[string]string{
		"upstream":  "repo \"core\" {\n  upstream = \"%s/core.db\"\n  target = \"t/core.db\"\n}\n",
		"target":    "repo \"core\" {\n  target = \"%s/core.db\"\n}\n",
		"git":       "package \"gcc\" {\n  git = \"%s/gcc.git\"\n}\n",
		"packaging": "sources {\n  packaging = \"%s/{pkgbase}.git\"\n}\n",
		"state":     "sources {\n  state = \"%s/state.git\"\n}\n",
		"aur":       "repo \"core\" {\n  target = \"t/core.db\"\n}\naur {\n  packages = [\"yay\"]\n  repo = \"core\"\n  url = \"%s\"\n}\n",
		"endpoint":  "publish \"s3\" {\n  bucket = \"bkt\"\n  endpoint = \"%s\"\n}\n",
	}
	for name, tmpl := range locs {
		for _, u := range []string{"https://alice:pa55word@example.org", "ssh://git:pa55word@example.org", "http://alice:pa55word@example.org:8080"} {
			if name == "endpoint" && strings.HasPrefix(u, "ssh") {
				continue
			}
			if !strings.HasPrefix(u, "http") && name != "git" && name != "packaging" && name != "state" {
				continue
			}
			out, errs := render(t, strings.Replace(tmpl, "%s", u, 1), dir, LoadOptions{})
			if errs != 1 || !(strings.Contains(out, "Password in a URL") || strings.Contains(out, "Credentials in the Portfile")) {
				t.Errorf("%s %s: want one error:\n%s", name, u, out)
			}
			if strings.Contains(out, "pa55word") {
				t.Errorf("%s: the password is printed:\n%s", name, out)
			}
		}
	}
	for _, ok := range []string{"ssh://git@example.org", "https://alice@example.org"} {
		if out, errs := render(t, strings.Replace(locs["git"], "%s", ok, 1), dir, LoadOptions{}); errs != 0 {
			t.Errorf("%s refused:\n%s", ok, out)
		}
	}
}

func TestHidePassword(t *testing.T) {
	for in, want := range map[string]string{
		"https://u:p@h/x":           "https://u:***@h/x",
		"https://u@h/x":             "https://u@h/x",
		"https://u:p@q@h/x":         "https://u:***@h/x",
		"https://h/x?a=b:c@d":       "https://h/x?a=b:c@d",
		"https://u:p@h:bad port/x":  "https://u:***@h:bad port/x",
		"relative/path:with@colons": "relative/path:with@colons",
	} {
		if got := hidePassword(in); got != want {
			t.Errorf("hidePassword(%q) = %q, want %q", in, got, want)
		}
	}
}
