package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// scriptOptions are the options of the old scripts (../shared/REFERENCE.md,
// "Every option of the old scripts"): the migration table must have a row
// for each.
var scriptOptions = map[string][]string{
	"generate_build_list.py": {"--packages", "--preserve-order", "--local", "--aur", "--blacklist", "--rebuild-repo",
		"--single-stage", "--target-testing", "--upstream-testing", "--force", "--no-update", "--use-latest",
		"--no-check", "--dry-run", "--rsync", "-v", "-q"},
	"build_packages.py": {"--dry-run", "--json", "--blacklist", "--no-upload", "--cache", "--no-cache", "--continue",
		"--preserve-chroot", "--cleanup-on-failure", "--stop-on-failure", "--keep-going", "--chroot",
		"--parallel-jobs", "--no-reporting", "--no-check"},
	"bootstrap_toolchain.py": {"--chroot", "--cache", "--dry-run", "--continue", "--start-from", "--one-shot"},
	"repo_analyze.py": {"--blacklist", "--no-blacklist", "--use-existing-db", "--missing-pkgbase", "--outdated-any",
		"--missing-any", "--repo-issues", "--target-newer", "--target-only", "--orphaned", "--broken-deps",
		"--unsatisfied-deps", "--blocked-by-blacklist", "--target-only-files"},
	"find_dependents.py": {"PKG", "-f", "--depends-only", "--makedepends-only"},
	"auto_builder.py":    {"--once", "--interval"},
}

// migrationRow is one row of a table in README's "Coming from the scripts".
type migrationRow struct {
	script  string
	line    int
	options []string // the first cell's code spans, first word each
	cells   []string
	notYet  bool // the row says the command or flag is *not yet* there
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// readMigrationTable parses the tables of the README section.
func readMigrationTable(t *testing.T) []migrationRow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []migrationRow
	in, script := false, ""
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## Coming from the scripts"
			continue
		case !in:
			continue
		case strings.HasPrefix(line, "### "):
			script = strings.TrimPrefix(line, "### ")
			continue
		case !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| option ") || strings.HasPrefix(line, "| ---"):
			continue
		}
		line := strings.ReplaceAll(strings.TrimSpace(line), `\|`, "/")
		cells := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|"), "|")
		for k := range cells {
			cells[k] = strings.TrimSpace(cells[k])
		}
		if len(cells) != 3 {
			t.Errorf("README.md:%d: want 3 cells (option, portmake, notes), got %d", i+1, len(cells))
			continue
		}
		r := migrationRow{script: script, line: i + 1, cells: cells, notYet: strings.Contains(line, "*not yet*")}
		for _, m := range codeSpan.FindAllStringSubmatch(cells[0], -1) {
			r.options = append(r.options, strings.Fields(m[1])[0])
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		t.Fatal(`README.md has no "## Coming from the scripts" tables`)
	}
	return rows
}

// TestMigrationTableComplete checks that the table has a row for every
// option of every old script, and a portmake equivalent or a reason in
// each row.
func TestMigrationTableComplete(t *testing.T) {
	rows := readMigrationTable(t)
	have := map[string][]string{}
	for _, r := range rows {
		if _, ok := scriptOptions[r.script]; !ok {
			t.Errorf("README.md:%d: table of an unknown script %q", r.line, r.script)
		}
		if len(r.options) == 0 {
			t.Errorf("README.md:%d: no option in the first cell", r.line)
		}
		have[r.script] = append(have[r.script], r.options...)
		if r.cells[1] == "" || (r.cells[1] == "—" && r.cells[2] == "") {
			t.Errorf("README.md:%d: %v has neither an equivalent nor a reason", r.line, r.options)
		}
	}
	for script, opts := range scriptOptions {
		for _, o := range opts {
			if !slices.Contains(have[script], o) {
				t.Errorf("the migration table has no row for %s %s", script, o)
			}
		}
	}
}

// TestMigrationTableFlags runs `portmake CMD --help` for every portmake
// command line the table names and checks that its flags exist. Rows
// marked *not yet* are skipped when their command or flag is missing.
func TestMigrationTableFlags(t *testing.T) {
	parser, err := kong.New(&CLI{})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range readMigrationTable(t) {
		for _, m := range codeSpan.FindAllStringSubmatch(r.cells[1], -1) {
			words := strings.Fields(m[1])
			if words[0] != "portmake" {
				continue
			}
			path, flags, unknown := commandLine(parser.Model.Node, words[1:])
			help, ok := helpOf(t, path)
			missing := ""
			switch {
			case unknown != "":
				missing = "no command " + unknown
			case !ok:
				missing = "portmake " + strings.Join(path, " ") + " --help failed"
			}
			for _, f := range flags {
				if missing == "" && !hasFlag(help, f) {
					missing = "portmake " + strings.Join(path, " ") + " has no flag " + f
				}
			}
			switch {
			case missing != "" && r.notYet:
				t.Logf("README.md:%d: not yet: %s", r.line, missing)
			case missing != "":
				t.Errorf("README.md:%d: %s: %s", r.line, m[1], missing)
			default:
				checked++
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d command lines checked: the table parser lost rows", checked)
	}
}

// commandLine splits the words after "portmake" into the command path
// (following kong's command tree) and the flags, without their values. A
// word where a command must come that names none is returned as unknown.
func commandLine(node *kong.Node, words []string) (path, flags []string, unknown string) {
	for _, w := range words {
		if strings.HasPrefix(w, "-") {
			name, _, _ := strings.Cut(w, "=")
			if !strings.HasPrefix(name, "--") && len(name) > 2 { // -vv
				for _, c := range name[1:] {
					flags = append(flags, "-"+string(c))
				}
				continue
			}
			flags = append(flags, name)
			continue
		}
		if unknown != "" {
			continue
		}
		var next *kong.Node
		commands := false
		for _, c := range node.Children {
			if c.Type == kong.CommandNode {
				commands = true
				if c.Name == w {
					next = c
				}
			}
		}
		switch {
		case next != nil:
			node = next
			path = append(path, w)
		case commands:
			unknown = strings.Join(append(slices.Clone(path), w), " ")
		}
		// Otherwise w is an argument of the command.
	}
	return path, flags, unknown
}

// helpOf runs the real CLI's --help for a command path.
func helpOf(t *testing.T, path []string) (string, bool) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append(slices.Clone(path), "--help"), strings.NewReader(""), &out, &errb)
	return out.String(), code == 0 && errb.Len() == 0
}

// hasFlag reports whether help lists flag: "--name", "--[no-]name" for a
// negatable one (which takes --name and --no-name), or "-x," for a short
// one.
func hasFlag(help, flag string) bool {
	if long, ok := strings.CutPrefix(flag, "--"); ok {
		names := []string{regexp.QuoteMeta("--" + long), regexp.QuoteMeta("--[no-]" + long)}
		if rest, ok := strings.CutPrefix(long, "no-"); ok {
			names = append(names, regexp.QuoteMeta("--[no-]"+rest))
		}
		for _, n := range names {
			if regexp.MustCompile(`(?m)(^|[\s,])` + n + `([=\s]|$)`).MatchString(help) {
				return true
			}
		}
		return false
	}
	return regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(flag) + `, --`).MatchString(help)
}

// TestMigrationTableCheckCanFail keeps the checks above honest: a flag or
// command that does not exist is reported.
func TestMigrationTableCheckCanFail(t *testing.T) {
	parser, err := kong.New(&CLI{})
	if err != nil {
		t.Fatal(err)
	}
	path, flags, unknown := commandLine(parser.Model.Node, strings.Fields("apply --bootstrap -vv --no-build-dependents-of-failed --frobnicate 3"))
	if !slices.Equal(path, []string{"apply"}) || unknown != "" || !slices.Equal(flags, []string{"--bootstrap", "-v", "-v", "--no-build-dependents-of-failed", "--frobnicate"}) {
		t.Fatalf("commandLine: %v %v %q", path, flags, unknown)
	}
	if path, _, unknown := commandLine(parser.Model.Node, strings.Fields("repo add --remove-old DB PKG")); !slices.Equal(path, []string{"repo", "add"}) || unknown != "" {
		t.Errorf("commandLine(repo add): %v %q", path, unknown)
	}
	for _, line := range []string{"frobnicate --x", "-q frobnicate", "repo frobnicate DB"} {
		if _, _, unknown := commandLine(parser.Model.Node, strings.Fields(line)); unknown == "" {
			t.Errorf("commandLine(%s): no unknown command", line)
		}
	}
	help, ok := helpOf(t, path)
	if !ok {
		t.Fatal("portmake apply --help failed")
	}
	for _, f := range flags[:4] {
		if !hasFlag(help, f) {
			t.Errorf("apply --help lacks %s", f)
		}
	}
	for _, f := range []string{"--frobnicate", "--bootstra", "-Z", "--no-bootstrap", "--no-cach"} {
		if hasFlag(help, f) {
			t.Errorf("apply --help has %s, which does not exist", f)
		}
	}
	if _, ok := helpOf(t, []string{"frobnicate"}); ok {
		t.Error("--help of a command that does not exist succeeded")
	}
}
