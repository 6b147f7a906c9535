package publish

import (
	"io"
	"log/slog"
)

type gpgTarget struct{}

func (g *gpgTarget) signer() Signer { return nil }

func testLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
