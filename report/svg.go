package report

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// The charts are inline SVG written here as text: every string that comes
// from the data goes through esc, and every number is formatted by us, so
// the markup is safe to hand to html/template as template.HTML.

func esc(s string) string { return template.HTMLEscapeString(s) }

// tickSteps are the axis steps a timeline may use, smallest first.
var tickSteps = []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute,
	2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour,
	2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// tickStep is the smallest step that puts at most max ticks on span.
func tickStep(span time.Duration, max int) time.Duration {
	for _, s := range tickSteps {
		if span/s <= time.Duration(max) {
			return s
		}
	}
	return span / time.Duration(max)
}

const (
	ganttWidth  = 1300
	ganttLeft   = 64
	ganttRight  = 12
	ganttTop    = 28
	laneHeight  = 26
	barHeight   = 20
	charWidth   = 6.6 // of the 11px label font, for deciding whether a label fits
	sparkWidth  = 300
	sparkHeight = 120
)

// ganttSVG draws the lanes of g with a time axis relative to the apply's
// start. Critical-path bars get a thick outline; every bar has a tooltip.
func ganttSVG(g *Gantt) template.HTML {
	if g == nil || len(g.Bars) == 0 {
		return ""
	}
	span := g.End.Sub(g.Start)
	if span <= 0 {
		span = time.Second
	}
	plotW := float64(ganttWidth - ganttLeft - ganttRight)
	x := func(t time.Time) float64 { return ganttLeft + plotW*float64(t.Sub(g.Start))/float64(span) }
	height := ganttTop + g.Lanes*laneHeight + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="gantt" xmlns="http://www.w3.org/2000/svg" width="100%%" viewBox="0 0 %d %d" role="img" aria-label="timeline of apply %d">`,
		ganttWidth, height, g.Apply.ID)
	step := tickStep(span, 12)
	for t := time.Duration(0); t <= span; t += step {
		px := x(g.Start.Add(t))
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, px, ganttTop-6, px, height-8)
		anchor := "start" // the last label would run off the right edge
		if px > ganttWidth-48 {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" text-anchor="%s">+%s</text>`, px, ganttTop-10, anchor, esc(tickLabel(t)))
	}
	for l := 0; l < g.Lanes; l++ {
		y := ganttTop + l*laneHeight
		fmt.Fprintf(&b, `<text class="lane" x="4" y="%d">lane %d</text>`, y+15, l+1)
	}
	for _, bar := range g.Bars {
		x0, x1 := x(bar.Start), x(bar.End)
		w := max(x1-x0, 2)
		y := ganttTop + bar.Lane*laneHeight + (laneHeight-barHeight)/2
		class := "bar " + statusClass(bar.Build.Status)
		if bar.Critical {
			class += " critical"
		}
		fmt.Fprintf(&b, `<g class="%s" data-id="%s"><title>%s %s: %s, %s%s</title>`, class, esc(bar.ID), esc(bar.ID), esc(bar.Build.Version),
			esc(bar.Build.Status), esc(shortDur(bar.End.Sub(bar.Start))), criticalNote(bar.Critical))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" rx="3"/>`, x0, y, w, barHeight)
		if label := bar.ID; float64(len(label))*charWidth+8 <= w {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`, x0+4, y+14, esc(label))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func criticalNote(c bool) string {
	if c {
		return " (critical path)"
	}
	return ""
}

// sparkSVG draws one package's build durations over time: a line through
// the successful builds, a dot per build (red for failures), the longest
// duration on the y axis and the first and last dates on the x axis.
func sparkSVG(s Series) template.HTML {
	const left, right, top, bottom = 52, 10, 10, 22
	plotW, plotH := float64(sparkWidth-left-right), float64(sparkHeight-top-bottom)
	var longest time.Duration
	for _, p := range s.Points {
		longest = max(longest, p.Duration)
	}
	first, last := s.Points[0].At, s.Points[len(s.Points)-1].At
	span := last.Sub(first)
	x := func(t time.Time) float64 {
		if span <= 0 {
			return left + plotW/2
		}
		return left + plotW*float64(t.Sub(first))/float64(span)
	}
	y := func(d time.Duration) float64 { return top + plotH - plotH*float64(d)/float64(longest) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="build time of %s">`,
		sparkWidth, sparkHeight, sparkWidth, sparkHeight, esc(s.Pkgbase))
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%.1f"/>`, left, top, left, top+plotH)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, top+plotH, left+plotW, top+plotH)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s</text>`, left-4, top+8, esc(shortDur(longest)))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">0</text>`, left-4, top+plotH)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d">%s</text>`, left, sparkHeight-6, esc(first.Local().Format("Jan 2")))
	if span > 0 {
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" text-anchor="end">%s</text>`, left+plotW, sparkHeight-6, esc(last.Local().Format("Jan 2")))
	}
	var pts []string
	for _, p := range s.Points {
		if p.Status == "succeeded" {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.At), y(p.Duration)))
		}
	}
	if len(pts) > 1 {
		fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(pts, " "))
	}
	for _, p := range s.Points {
		fmt.Fprintf(&b, `<circle class="%s" cx="%.1f" cy="%.1f" r="3"><title>%s %s: %s, %s</title></circle>`, statusClass(p.Status),
			x(p.At), y(p.Duration), esc(p.Version), esc(p.At.Local().Format("2006-01-02 15:04")), esc(p.Status), esc(shortDur(p.Duration)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// statusClass maps a build status to a CSS class (a fixed set).
func statusClass(status string) string {
	switch status {
	case "succeeded", "failed", "running", "aborted", "skipped":
		return "s-" + status
	}
	return "s-other"
}

// shortDur formats a duration for people: "45s", "3m05s", "1h02m".
func shortDur(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// tickLabel formats an axis offset without the zero parts: "45s", "10m",
// "1h", "1h30m".
func tickLabel(d time.Duration) string {
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	case m > 0 && sec > 0:
		return fmt.Sprintf("%dm%ds", m, sec)
	case m > 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%ds", sec)
}

// bytesText formats a byte count in binary units: "512 MiB".
func bytesText(n int64) string {
	if n <= 0 {
		return ""
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if f >= 100 || i == 0 {
		return fmt.Sprintf("%.0f %s", f, units[i])
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}
