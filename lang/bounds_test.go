package lang

import (
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// deep builds `open^n inner close^n`.
func deep(open, inner, close string, n int) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

// TestDeepNestingIsRefused feeds 100,000 levels of every kind of nesting.
// Before the bound, HCL's recursive parser and evaluator overflowed the Go
// stack, which kills the process; the stack is capped at 64 MiB here so that
// such a crash is quick. Each must end in one diagnostic at the token where
// the nesting passed MaxNesting.
func TestDeepNestingIsRefused(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(64 << 20))
	const n = 100_000
	cases := map[string]string{
		"brackets":      "x = " + deep("[", "1", "]", n),
		"parens":        "x = " + deep("(", "1", ")", n),
		"objects":       "x = " + deep("{a=", "1", "}", n),
		"calls":         "x = " + deep("upper(", `"a"`, ")", n),
		"blocks":        deep("port {\n", "", "}\n", n),
		"templates":     "x = " + deep(`"${`, `"a"`, `}"`, n),
		"directives":    `x = "` + deep("%{if true}", "a", "%{endif}", n/10) + `"`,
		"stripped":      `x = "` + deep("%{~ if true ~}", "a", "%{~ endif ~}", n/20) + `"`,
		"not":           "x = " + strings.Repeat("!", n) + "true",
		"negation":      "x = " + strings.Repeat("-", n) + "1",
		"sum":           "x = 1" + strings.Repeat("+1", n),
		"sum in parens": "x = (1" + strings.Repeat("\n+1", n) + ")",
		"conditional":   "x = " + strings.Repeat("true ? 1 : ", n/2) + "2",
		"traversal":     "x = var" + strings.Repeat(".a", n),
		"heredoc":       "x = " + deep("<<EOT\n${", "1", "}\nEOT\n", 2000),
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, diags := Parse([]byte(src), filepath.Join(t.TempDir(), "Portfile.hcl"), LoadOptions{})
			if len(diags) != 1 || diags[0].Summary != "Expression nested too deeply" {
				t.Fatalf("diagnostics = %s", diagList(diags))
			}
			d := diags[0]
			if d.Subject == nil || d.Subject.Start.Byte >= len(src) || d.Subject.Start.Line < 1 {
				t.Fatalf("no position: %+v", d.Subject)
			}
			if !strings.Contains(d.Detail, fmt.Sprint(MaxNesting)) {
				t.Errorf("detail does not name the limit: %s", d.Detail)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("took %s", el)
			}
		})
	}

	// The diagnostic points at the bracket that went one level too deep.
	src := "x = " + deep("[", "1", "]", MaxNesting+1)
	_, diags := Parse([]byte(src), "Portfile.hcl", LoadOptions{})
	if len(diags) != 1 || diags[0].Subject.Start.Column != 5+MaxNesting || diags[0].Subject.Start.Line != 1 {
		t.Fatalf("want the %dth '[' (column %d): %s", MaxNesting+1, 5+MaxNesting, diagList(diags))
	}
}

// TestModerateNestingIsAccepted keeps the bound from refusing real text:
// 60 levels of brackets and a long sum are evaluated.
func TestModerateNestingIsAccepted(t *testing.T) {
	dir := portDir(t)
	src := fmt.Sprintf(`
variable "deep" { default = %s }
variable "sum"  { default = 1%s }
variable "list" { default = [%s] }
`, deep("[", `"a"`, "]", 60), strings.Repeat(" + 1", 100), strings.TrimSuffix(strings.Repeat(`"x" == "x" ? 1 : 2, `, 500), ", "))
	pf, diags := Parse([]byte(src), filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diagList(diags))
	}
	if got := pf.Variables["sum"].Value.AsBigFloat().String(); got != "101" {
		t.Errorf("sum = %s", got)
	}
}

// TestEvaluationIsBounded evaluates expressions whose values would take
// gigabytes: each must fail with "Value too large" or a function error at
// its position, quickly and in bounded memory. Before the budget the first
// one (1.3 KB of nested for expressions) ran out of memory.
func TestEvaluationIsBounded(t *testing.T) {
	cases := map[string]struct {
		src  string
		line int
	}{
		"nested for": {src: `variable "x" {
  default = [for a in range(1000) : [for b in range(1000) : [for c in range(1000) : [for d in range(1000) : "${a}-${b}-${c}-${d}"]]]]
}`, line: 2},
		"template doubling": {src: `variable "x" {
  default = [for a in ["xxxxxxxxxxxxxxxx"] : [for b in ["${a}${a}${a}${a}${a}${a}${a}${a}"] : [for c in ["${b}${b}${b}${b}${b}${b}${b}${b}"] : [for d in ["${c}${c}${c}${c}${c}${c}${c}${c}"] : [for e in ["${d}${d}${d}${d}${d}${d}${d}${d}"] : [for f in ["${e}${e}${e}${e}${e}${e}${e}${e}"] : [for g in ["${f}${f}${f}${f}${f}${f}${f}${f}"] : [for h in ["${g}${g}${g}${g}${g}${g}${g}${g}"] : h]]]]]]]]
}`, line: 2},
		"replace":       {src: "variable \"x\" {\n  default = replace(replace(replace(\"aaaaaaaaaaaaaaaa\", \"a\", \"" + strings.Repeat("a", 512) + "\"), \"a\", \"" + strings.Repeat("a", 512) + "\"), \"a\", \"" + strings.Repeat("a", 512) + "\")\n}", line: 2},
		"regex_replace": {src: "variable \"x\" {\n  default = regex_replace(regex_replace(\"" + strings.Repeat("a", 2048) + "\", \"\", \"$0$0$0$0\"), \"\", \"$0$0$0$0\")\n}", line: 2},
		"join":          {src: "variable \"x\" {\n  default = join(\"" + strings.Repeat("s", 8192) + "\", range(1000))\n}", line: 2},
		"format width":  {src: "variable \"x\" {\n  default = format(\"%0999999999d\", 1)\n}", line: 2},
		"indent":        {src: "variable \"x\" {\n  default = indent(999999999, \"a\\nb\\nc\")\n}", line: 2},
		"split":         {src: "variable \"x\" {\n  default = split(\"\", \"" + strings.Repeat("ab", 40000) + "\")\n}", line: 2},
		"regexall":      {src: "variable \"x\" {\n  default = regexall(\"\", \"" + strings.Repeat("ab", 40000) + "\")\n}", line: 2},
		"jsondecode":    {src: "variable \"x\" {\n  default = jsondecode(\"" + deep("[", "1", "]", 5000) + "\")\n}", line: 2},
		"huge number":   {src: "variable \"x\" {\n  default = \"${1e600000000}\"\n}", line: 2},
		"tostring":      {src: "variable \"x\" {\n  default = tostring(1e600000000)\n}", line: 2},
		"huge attr":     {src: "port {\n  arch = 1e600000000\n}", line: 2},
		"many refs": {src: `variable "s" { default = "` + strings.Repeat("x", 512<<10) + `" }
repo "x" { target = "` + strings.Repeat("${var.s}", 1000) + `" }`, line: 2},
	}
	dir := portDir(t)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, diags := Parse([]byte(c.src), filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
			el := time.Since(start)
			runtime.ReadMemStats(&after)
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			var hit *hcl.Diagnostic
			for _, d := range diags {
				if d.Summary == "Value too large" || d.Summary == "Error in function call" {
					hit = d
					break
				}
			}
			if hit == nil || hit.Subject == nil || hit.Subject.Start.Line != c.line {
				t.Fatalf("want a size error on line %d: %s", c.line, diagList(diags))
			}
			if el > 10*time.Second {
				t.Errorf("took %s", el)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<30 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}

func TestValueCost(t *testing.T) {
	src := `
variable "list" { default = ["ab", "cde"] }
variable "map"  { default = { k = "v" } }
variable "num"  { default = 12345 }
`
	pf, diags := Parse([]byte(src), filepath.Join(portDir(t), "Portfile.hcl"), LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diagList(diags))
	}
	for name, want := range map[string]int64{"list": 2*elementCost + 5, "map": elementCost + 1} {
		if got, ok := valueCost(pf.Variables[name].Value, MaxValueCost); !ok || got != want {
			t.Errorf("cost of %s = %d %v, want %d", name, got, ok, want)
		}
	}
	if got, _ := valueCost(pf.Variables["num"].Value, MaxValueCost); got < 5 || got > 200 {
		t.Errorf("cost of 12345 = %d", got)
	}
	if _, ok := valueCost(pf.Variables["list"].Value, 10); ok {
		t.Error("a limit below the cost was not reported")
	}
}

func TestJSONDepth(t *testing.T) {
	for s, want := range map[string]int{`[]`: 1, `{"a":[1,{"b":[]}]}`: 4, `"[[[["`: 0, `["\"[[["]`: 1, ``: 0} {
		if got := jsonDepth(s); got != want {
			t.Errorf("jsonDepth(%s) = %d, want %d", s, got, want)
		}
	}
}

func TestSizeText(t *testing.T) {
	for n, want := range map[int64]string{12: "12 bytes", 4096: "4 KiB", 4 << 20: "4 MiB", 3 << 19: "1.5 MiB"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", n, got, want)
		}
	}
}
