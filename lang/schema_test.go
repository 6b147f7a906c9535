package lang

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestBuildDefaults: without a build block, every attribute has its
// documented default.
func TestBuildDefaults(t *testing.T) {
	pf, diags := Parse([]byte(""), filepath.Join(portDir(t), "Portfile.hcl"), LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diagList(diags))
	}
	b := pf.Build
	if b.Builder != DefaultBuilder || b.Backend != BackendLocal || b.User != DefaultUser || b.UserSet ||
		b.Jobs != DefaultJobs || b.JobsAuto || b.Memory != 0 || b.Slurm != nil || b.BuildDependentsOfFailed {
		t.Errorf("defaults: %+v", b)
	}
	if pf.Sign != nil || !pf.Sources.Keyring.IsZero() {
		t.Errorf("sign %+v, keyring %+v", pf.Sign, pf.Sources.Keyring)
	}
}

// TestNewAttributes decodes every attribute added for the issues that
// need them (build.user, memory, backend, jobs = "auto",
// build_dependents_of_failed, slurm, sign, sources.keyring,
// package.nointeg).
func TestNewAttributes(t *testing.T) {
	dir := portDir(t)
	for _, d := range []string{"shared", "gnupg", "keys"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "keys", "ABCD.asc"), []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n"), 0o644)
	src := `
build {
  builder                    = "makepkg"
  backend                    = "slurm"
  user                       = "pm-build_1"
  jobs                       = 0
  memory                     = "1.5GiB"
  build_dependents_of_failed = true

  slurm {
    partition   = "arm,arm-big"
    account     = "port"
    qos         = "normal"
    time_limit  = "1-12:00:00"
    work_dir    = "shared"
    sbatch_args = ["--gres=gpu:0", "--exclusive"]
  }
}

sign {
  key      = "0x0123 4567 89AB CDEF 0123  4567 89ab cdef 0123 4567"
  gpg_home = "gnupg"
}

sources {
  keyring = "keys"
}

package "gcc" {
  nointeg = true
}
`
	pf, diags := Parse([]byte(src), filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diagList(diags))
	}
	b := pf.Build
	if b.Backend != BackendSlurm || b.User != "pm-build_1" || !b.UserSet || b.Jobs != 0 || b.JobsAuto ||
		b.Memory != 3<<29 || !b.BuildDependentsOfFailed {
		t.Errorf("build: %+v", b)
	}
	want := &Slurm{Partition: "arm,arm-big", Constraint: "aarch64", Account: "port", QOS: "normal", TimeLimit: "1-12:00:00",
		WorkDir: filepath.Join(dir, "shared"), SbatchArgs: []string{"--gres=gpu:0", "--exclusive"}, Range: b.Slurm.Range}
	if !reflect.DeepEqual(b.Slurm, want) {
		t.Errorf("slurm:\n got %+v\nwant %+v", b.Slurm, want)
	}
	if pf.Sign == nil || pf.Sign.Key != "0123456789ABCDEF0123456789ABCDEF01234567" || pf.Sign.GPGHome != filepath.Join(dir, "gnupg") {
		t.Errorf("sign: %+v", pf.Sign)
	}
	if pf.Sources.Keyring.Path != filepath.Join(dir, "keys") {
		t.Errorf("keyring: %+v", pf.Sources.Keyring)
	}
	if o := pf.Package("gcc"); o == nil || !o.NoInteg || o.NoCheck {
		t.Errorf("package: %+v", o)
	}

	pf, diags = Parse([]byte("build {\n  jobs = \"auto\"\n}\n"), filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
	if diags.HasErrors() || !pf.Build.JobsAuto || pf.Build.Jobs != 1 {
		t.Errorf("jobs = auto: %+v %s", pf.Build, diagList(diags))
	}
}

// TestNewAttributeErrors: each wrong value is one diagnostic, at its line,
// with the summary and a phrase of the detail that says what to do.
func TestNewAttributeErrors(t *testing.T) {
	dir := portDir(t)
	os.WriteFile(filepath.Join(dir, "notadir"), nil, 0o644)
	os.MkdirAll(filepath.Join(dir, "emptykeys"), 0o755)
	tests := []struct {
		name, src string
		line      int
		summary   string
		detail    string
	}{
		{"user root", "build {\n  user = \"root\"\n  builder = \"makepkg\"\n}", 2, "Invalid build user", "makepkg refuses to run as root"},
		{"user chars", "build {\n  user = \"Bob Smith\"\n  builder = \"makepkg\"\n}", 2, "Invalid build user", "useradd"},
		{"memory unit", "build {\n  memory = \"24\"\n}", 2, "Invalid memory", "it has no unit; write 24MiB, 24GiB"},
		{"memory GB", "build {\n  memory = \"24GB\"\n}", 2, "Invalid memory", "write 24GiB"},
		{"memory number", "build {\n  memory = 24\n}", 2, "Invalid memory", "no unit"},
		{"backend typo", "build {\n  backend = \"slrum\"\n}", 2, "Unknown backend", `Did you mean "slurm"?`},
		{"slurm without block", "build {\n  backend = \"slurm\"\n}", 2, "Missing slurm block", "work_dir"},
		{"slurm without work_dir", "build {\n  backend = \"slurm\"\n  slurm {\n    partition = \"a\"\n  }\n}", 3, "Missing work_dir", "shared between this host"},
		{"work_dir missing", "build {\n  backend = \"slurm\"\n  slurm {\n    work_dir = \"nope\"\n  }\n}", 4, "Missing work_dir", "does not create it"},
		{"work_dir file", "build {\n  backend = \"slurm\"\n  slurm {\n    work_dir = \"notadir\"\n  }\n}", 4, "Invalid work_dir", "not a directory"},
		{"slurm unused", "build {\n  slurm {\n    work_dir = \"patches\"\n  }\n}", 2, "Slurm block not used", `backend = "slurm"`},
		{"slurm top level", "slurm {\n  work_dir = \"patches\"\n}", 1, "Misplaced slurm block", "inside the build block"},
		{"two slurm blocks", "build {\n  backend = \"slurm\"\n  slurm {\n    work_dir = \"patches\"\n  }\n  slurm {\n    work_dir = \"patches\"\n  }\n}", 6, "Duplicate slurm block", "at most one"},
		{"time_limit go", "build {\n  backend = \"slurm\"\n  slurm {\n    work_dir = \"patches\"\n    time_limit = \"36h\"\n  }\n}", 5, "Invalid time_limit", `Did you mean "1-12:00:00"?`},
		{"partition space", "build {\n  backend = \"slurm\"\n  slurm {\n    work_dir = \"patches\"\n    partition = \"a b\"\n  }\n}", 5, "Invalid partition", "separated by commas"},
		{"constraint", "build {\n  backend = \"slurm\"\n  slurm {\n    work_dir = \"patches\"\n    constraint = \"-x\"\n  }\n}", 5, "Invalid constraint", "node features"},
		{"sbatch wrap", "build {\n  backend = \"slurm\"\n  slurm {\n    work_dir = \"patches\"\n    sbatch_args = [\"--wrap=rm -rf /\"]\n  }\n}", 5, "Invalid sbatch argument", "never through a shell"},
		{"sbatch owned", "build {\n  backend = \"slurm\"\n  slurm {\n    work_dir = \"patches\"\n    sbatch_args = [\"-pfast\"]\n  }\n}", 5, "Invalid sbatch argument", "partition attribute"},
		{"sbatch mem", "build {\n  backend = \"slurm\"\n  slurm {\n    work_dir = \"patches\"\n    sbatch_args = [\"--mem=4G\"]\n  }\n}", 5, "Invalid sbatch argument", "set by portmake itself"},
		{"sbatch value", "build {\n  backend = \"slurm\"\n  slurm {\n    work_dir = \"patches\"\n    sbatch_args = [\"gpu\"]\n  }\n}", 5, "Invalid sbatch argument", "not an option"},
		{"jobs zero local", "build {\n  jobs = 0\n}", 2, "Invalid jobs", "only the slurm backend"},
		{"jobs auto slurm", "build {\n  backend = \"slurm\"\n  jobs = \"auto\"\n  slurm {\n    work_dir = \"patches\"\n  }\n}", 3, "Invalid jobs", "local backend only"},
		{"jobs word", "build {\n  jobs = \"many\"\n}", 2, "Incorrect attribute value type", `whole number or "auto"`},
		{"jobs range", "build {\n  jobs = 1000\n}", 2, "Invalid jobs", `from 0 to 256 or "auto"`},
		{"dependents type", "build {\n  build_dependents_of_failed = \"yes\"\n}", 2, "Incorrect attribute value type", "true or false"},
		{"sign key missing", "sign {\n  gpg_home = \"patches\"\n}", 1, "Missing required argument", "key"},
		{"sign key bad", "sign {\n  key = \"me@example.org\"\n}", 2, "Invalid signing key", "fingerprint"},
		{"sign key short", "sign {\n  key = \"DEADBEEF\"\n}", 2, "Short signing key id", "forge"},
		{"gpg_home missing", "sign {\n  key = \"0123456789ABCDEF\"\n  gpg_home = \"nope\"\n}", 3, "Missing gpg_home", "default"},
		{"keyring missing", "sources {\n  keyring = \"nope\"\n}", 2, "Missing keyring", ".asc"},
		{"keyring empty", "sources {\n  keyring = \"emptykeys\"\n}", 2, "Empty keyring", "gpg --armor --export"},
		{"nointeg type", "package \"gcc\" {\n  nointeg = \"no\"\n}", 2, "Incorrect attribute value type", "true or false"},
		{"nointeg typo", "package \"gcc\" {\n  nointg = true\n}", 2, "Unsupported argument", `Did you mean "nointeg"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Parse([]byte(tt.src+"\n"), filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
			if len(diags) != 1 {
				t.Fatalf("want 1 diagnostic, got:\n%s", diagList(diags))
			}
			d := diags[0]
			if d.Summary != tt.summary || d.Subject == nil || d.Subject.Start.Line != tt.line || !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("got %s at line %d: %s\nwant %s at line %d, detail with %q", d.Summary, d.Subject.Start.Line, d.Detail, tt.summary, tt.line, tt.detail)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]int64{
		"24GiB": 24 << 30, "24G": 24 << 30, "24gib": 24 << 30, "512MiB": 512 << 20, "512 MiB": 512 << 20,
		"1.5GiB": 3 << 29, "64M": 64 << 20, "1TiB": 1 << 40, "4096B": 4096, "1K": 1024, "0.5KiB": 512,
	}
	for s, want := range good {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	bad := map[string]string{
		"24": "no unit", "24GB": "ambiguous", "24 gb": "ambiguous", "": "not a number", "-1G": "not a number",
		"1.5.2G": "not a number", "3 apples": "not a unit", "0G": "less than one byte", "0.1B": "less than one byte",
		"2048TiB": "more than a PiB", "1e3G": "not a number", "G": "not a number",
	}
	for s, want := range bad {
		if _, err := ParseSize(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSize(%q) error = %v, want %q", s, err, want)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"24GiB", "1.5G", "24GB", "0B", "99999999999999999999T"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && (n < 1 || n > maxSize) {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}

func TestSlurmDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		90 * time.Minute: "1:30:00", 36 * time.Hour: "1-12:00:00", 45 * time.Second: "0:00:45",
	} {
		if got := slurmDuration(d); got != want || !slurmTimeRE.MatchString(got) {
			t.Errorf("slurmDuration(%s) = %q, want %q", d, got, want)
		}
	}
	for _, ok := range []string{"90", "4:00:00", "1-12", "1-12:30", "1-12:30:00", "30:00", "UNLIMITED", "infinite"} {
		if !slurmTimeRE.MatchString(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", "2h", "1:2:3:4", "-1", "1-", "a"} {
		if slurmTimeRE.MatchString(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
