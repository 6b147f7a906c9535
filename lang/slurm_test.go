package lang

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSlurmBlock(t *testing.T) {
	dir := portDir(t)
	work := filepath.Join(dir, "farm")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	src := `
build {
  backend = "slurm"
  jobs    = 0
  memory  = "24GiB"
  slurm {
    partition   = "arm"
    account     = "port"
    qos         = "low"
    time_limit  = "4:00:00"
    work_dir    = "farm"
    sbatch_args = ["--nice=10"]
  }
}
`
	pf, diags := Parse([]byte(src), filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diagList(diags))
	}
	want := Slurm{Partition: "arm", Constraint: "aarch64", Account: "port", QOS: "low", TimeLimit: "4:00:00",
		WorkDir: work, SbatchArgs: []string{"--nice=10"}}
	got := *pf.Build.Slurm
	got.Range = want.Range
	if !reflect.DeepEqual(got, want) {
		t.Errorf("slurm %+v\nwant %+v", got, want)
	}
	if pf.Build.Backend != "slurm" || pf.Build.Jobs != 0 || pf.Build.Memory != 24<<30 {
		t.Errorf("build %+v", pf.Build)
	}

	pf, diags = Parse([]byte("build {\n  jobs = \"auto\"\n  memory = \"512MiB\"\n}\n"), filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
	if diags.HasErrors() || !pf.Build.JobsAuto || pf.Build.Jobs != 1 || pf.Build.Backend != "local" || pf.Build.Memory != 512<<20 {
		t.Errorf("jobs auto: %+v %s", pf.Build, diagList(diags))
	}
	pf, _ = Parse(nil, filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
	if pf.Build.Backend != "local" || pf.Build.Slurm != nil {
		t.Errorf("defaults: %+v", pf.Build)
	}

	for _, tc := range []struct{ src, summary string }{
		{`build { backend = "k8s" }`, "Unknown backend"},
		{`build { backend = "slurm" }`, "Missing slurm block"},
		{"build {\n  backend = \"slurm\"\n  slurm {}\n}", "Missing work_dir"},
		{"build {\n  backend = \"slurm\"\n  slurm { work_dir = \"nowhere\" }\n}", "Missing work_dir"},
		{"build {\n  backend = \"slurm\"\n  jobs = \"auto\"\n  slurm { work_dir = \"farm\" }\n}", "Invalid jobs"},
		{"build { jobs = 0 }", "Invalid jobs"},
		{"build { jobs = \"many\" }", "Incorrect attribute value type"},
		{"build { memory = \"lots\" }", "Invalid memory"},
		{"build {\n  slurm {\n    work_dir = \"farm\"\n    sbatch_args = [\"--wrap=rm -rf /\"]\n  }\n}", "Invalid sbatch argument"},
		{"build {\n  slurm {\n    work_dir = \"farm\"\n    constraint = \"a b\"\n  }\n}", "Invalid constraint"},
		{"build {\n  slurm {\n    work_dir = \"farm\"\n    time_limit = \"4h\"\n  }\n}", "Invalid time_limit"},
		{"build {\n  slurm { work_dir = \"farm\" }\n  slurm { work_dir = \"farm\" }\n}", "Duplicate slurm block"},
	} {
		_, diags := Parse([]byte(tc.src), filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
		if !strings.Contains(diagList(diags), tc.summary) {
			t.Errorf("%q: want %q, got:\n%s", tc.src, tc.summary, diagList(diags))
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"24GiB": 24 << 30, "512MiB": 512 << 20, "1.5G": 3 << 29, "100": 100, "2TiB": 2 << 40, "64 KiB": 64 << 10, "10B": 10,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("%q: %d %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "GiB", "-1GiB", "1 PiB", "0", "1e300", "9999999999TiB", "24 gib"} {
		if n, err := ParseSize(bad); err == nil {
			t.Errorf("%q: accepted as %d", bad, n)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	f.Add("24GiB")
	f.Add("1.5 M")
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseSize(s); err == nil && n < 1 {
			t.Errorf("%q: %d", s, n)
		}
	})
}
