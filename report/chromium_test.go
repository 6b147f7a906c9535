package report

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portmake/portmake/internal/testutil"
)

// The page is checked in a real browser: headless Chromium loads it from a
// file (no server, no network), runs its filter script, and the DOM it
// ends up with is checked here; a screenshot shows that it is readable.
// PORTMAKE_REPORT_SCREENSHOT=PATH keeps the screenshot at PATH.

// chromium runs headless Chromium on args and returns its stdout.
func chromium(t *testing.T, args ...string) []byte {
	t.Helper()
	testutil.RequireTool(t, "chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := []string{"--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir()}
	if os.Geteuid() == 0 {
		base = append(base, "--no-sandbox") // Chromium's sandbox refuses root
	}
	cmd := exec.CommandContext(ctx, "chromium", append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

func TestChromiumDOM(t *testing.T) {
	f := newFixture(t)
	d, err := Load(context.Background(), f.st, "aarch64 port", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, d); err != nil {
		t.Fatal(err)
	}
	url := "file://" + filepath.Join(dir, "index.html")

	// The hash selects the filters: only core's outdated builds stay.
	dom := string(chromium(t, "--dump-dom", url+"#reason=outdated&repo=core"))
	rows := regexp.MustCompile(`<tr data-reason="([^"]*)" data-repo="([^"]*)" data-id="([^"]*)"( hidden="")?>`).FindAllStringSubmatch(dom, -1)
	if len(rows) != len(f.plan.Nodes) {
		t.Fatalf("the DOM has %d plan rows, the plan %d nodes", len(rows), len(f.plan.Nodes))
	}
	shown := 0
	for _, r := range rows {
		want := r[1] == "outdated" && r[2] == "core"
		if hidden := r[4] != ""; hidden == want {
			t.Errorf("row %s (%s, %s): hidden=%v", r[3], r[1], r[2], hidden)
		}
		if want {
			shown++
		}
	}
	if shown == 0 || shown == len(rows) {
		t.Fatalf("the filter shows %d of %d rows: not a test of the filter", shown, len(rows))
	}
	if !strings.Contains(dom, fmt.Sprintf(`<span id="f-count">%d</span>`, shown)) {
		t.Errorf("the count does not say %d", shown)
	}
	for _, want := range []string{
		`<svg class="gantt"`, `<span id="critical">`, `<pre class="tail">`, `<figure data-pkgbase="gcc">`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	// The log text stayed text: the browser made no element of it.
	if strings.Contains(dom, "<script>alert") {
		t.Error("log text became markup")
	}

	shot := os.Getenv("PORTMAKE_REPORT_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "report.png")
	}
	chromium(t, "--screenshot="+shot, "--window-size=1400,1800", "--hide-scrollbars", url)
	fh, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() != 1400 || b.Dy() != 1800 {
		t.Errorf("screenshot is %v, want 1400x1800", b)
	}
	// A blank or unstyled page has few colours; the report has its
	// header, badges and charts.
	colours := map[uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 7 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>11<<10|g>>11<<5|b>>11] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("screenshot has %d colours: blank?", len(colours))
	}
	t.Logf("screenshot: %s", shot)
}
