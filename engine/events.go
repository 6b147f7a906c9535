package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/portmake/portmake/executor"
)

// Events receives what a person should see while an operation runs,
// besides its result. The CLI prints warnings as "warning: ..." lines; a
// daemon logs them; a web page lists them.
type Events interface {
	// Warning is a problem that does not stop the operation, as one
	// sentence that names what it is about.
	Warning(msg string)
}

// The executor's run-time types, under the engine's name, so that front
// ends render apply progress without importing the executor.
type (
	// Progress receives an apply's events in order: Begin, then Started
	// and Finished per build attempt, then End.
	Progress = executor.Progress
	// Job is one build of a plan node as an apply runs it.
	Job = executor.Job
	// Result is how a Job ended.
	Result = executor.Result
	// Summary is the result of an apply's run.
	Summary = executor.Summary
	// Outcome is what happened to a Job.
	Outcome = executor.Outcome
)

// The outcomes of a Job.
const (
	Built      = executor.Built
	UpToDate   = executor.UpToDate
	Failed     = executor.Failed
	Remembered = executor.Remembered
	Skipped    = executor.Skipped
	Aborted    = executor.Aborted
)

// eventLogger returns the logger the engine and the packages it drives
// log to: every record goes to base, and records at Warn and above also
// reach events (when set) as sentences, so that a warning a package logs
// (".SRCINFO is older than PKGBUILD") reaches the front end's warning
// list whatever the log level.
func eventLogger(base *slog.Logger, events Events) *slog.Logger {
	if events == nil {
		return base
	}
	return slog.New(&warnHandler{base: base.Handler(), events: events})
}

type warnHandler struct {
	base   slog.Handler
	events Events
	attrs  []slog.Attr
}

func (h *warnHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.base.Enabled(ctx, l)
}

func (h *warnHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.events.Warning(Sentence(r, h.attrs))
	}
	if h.base.Enabled(ctx, r.Level) {
		return h.base.Handle(ctx, r)
	}
	return nil
}

func (h *warnHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &warnHandler{base: h.base.WithAttrs(as), events: h.events, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], as...)}
}

func (h *warnHandler) WithGroup(name string) slog.Handler {
	return &warnHandler{base: h.base.WithGroup(name), events: h.events, attrs: h.attrs}
}

// Sentence renders a log record as one line for a person: the message,
// then "key: value" pairs after a semicolon.
func Sentence(r slog.Record, extra []slog.Attr) string {
	var b strings.Builder
	b.WriteString(r.Message)
	sep := " ("
	add := func(a slog.Attr) bool {
		v := a.Value.Resolve()
		if v.Kind() == slog.KindTime {
			fmt.Fprintf(&b, "%s%s: %s", sep, a.Key, v.Time().Local().Format(time.RFC3339))
		} else {
			fmt.Fprintf(&b, "%s%s: %v", sep, a.Key, v)
		}
		sep = ", "
		return true
	}
	for _, a := range extra {
		add(a)
	}
	r.Attrs(add)
	if sep == ", " {
		b.WriteByte(')')
	}
	return b.String()
}
