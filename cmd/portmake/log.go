package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/portmake/portmake/engine"
)

// newLogger returns the diagnostic logger. Below debug level, warnings and
// errors are shown to the user as sentences ("warning: ...") rather than
// as log records; with --log-level debug every record keeps its
// structured form, for diagnosis.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	text := slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	if level <= slog.LevelDebug {
		return slog.New(text)
	}
	return slog.New(&sentenceHandler{Handler: text, w: w})
}

// sentenceHandler prints warnings and errors as "warning: message (key:
// value, ...)" lines and leaves the rest to the text handler.
type sentenceHandler struct {
	slog.Handler
	w     io.Writer
	attrs []slog.Attr
}

// Enabled follows the level: --log-level error (-q) hides warnings too.
func (h *sentenceHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.Handler.Enabled(ctx, l)
}

func (h *sentenceHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.Handler.Handle(ctx, r)
	}
	word := "warning"
	if r.Level >= slog.LevelError {
		word = "error"
	}
	_, err := fmt.Fprintf(h.w, "%s: %s\n", word, engine.Sentence(r, h.attrs))
	return err
}

func (h *sentenceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &sentenceHandler{Handler: h.Handler.WithAttrs(as), w: h.w, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], as...)}
}

func (h *sentenceHandler) WithGroup(name string) slog.Handler {
	return &sentenceHandler{Handler: h.Handler.WithGroup(name), w: h.w, attrs: h.attrs}
}
