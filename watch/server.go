package watch

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/portmake/portmake/internal/jsonout"
	"github.com/portmake/portmake/report"
)

// The status server: read-only HTTP for people and monitoring.
//
//	/             the HTML report, live (the daemon's state on top)
//	/api/status   JSON: the current round, running builds with their
//	              elapsed time, the queue, the last round's results
//	/metrics      Prometheus text format
//
// Only GET and HEAD are answered (405 otherwise): nothing the server does
// changes the port. It listens on loopback unless told otherwise.

// Server serves a daemon's status.
type Server struct {
	d   *Daemon
	log *slog.Logger
	now func() time.Time
}

// NewServer returns the status server of d.
func NewServer(d *Daemon) *Server {
	return &Server{d: d, log: d.o.Log, now: time.Now}
}

// Handler routes the server's three pages.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.page)
	mux.HandleFunc("/api/status", s.status)
	mux.HandleFunc("/metrics", s.metrics)
	return readOnly(mux)
}

// readOnly refuses every method but GET and HEAD.
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "read-only: only GET and HEAD are served", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Listen binds addr (host:port; a bare :port binds loopback only) and
// serves until ctx ends. It returns once the socket is bound, with the
// address it got (port 0 picks a free one) and a channel that yields the
// server's end.
func (s *Server) Listen(ctx context.Context, addr string) (net.Addr, <-chan error, error) {
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("status server: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if err == http.ErrServerClosed {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	s.log.Info("status server listening", "addr", ln.Addr().String())
	return ln.Addr(), done, nil
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	d, err := s.d.port.Report(r.Context(), report.LoadOptions{Now: s.now()})
	if err != nil {
		s.log.Warn("status page", "err", err)
		http.Error(w, "cannot read the state store: "+err.Error(), http.StatusInternalServerError)
		return
	}
	d.Live = s.d.state.Snapshot().Live()
	var b bytes.Buffer
	if err := report.Render(&b, d); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// statusDoc is the /api/status document (format portmake.status/v1).
type statusDoc struct {
	Schema    string        `json:"schema"`
	Started   time.Time     `json:"started"`
	Round     int           `json:"round"`
	Phase     string        `json:"phase"`
	Since     time.Time     `json:"since"`
	NextRound *time.Time    `json:"next_round"`
	Running   []runningDoc  `json:"running"`
	Queue     int           `json:"queue"`
	LastRound *lastRoundDoc `json:"last_round"`
	Rounds    int           `json:"rounds"`
	Failed    int           `json:"failed_rounds"`
	Stopping  bool          `json:"stopping"`
}

type runningDoc struct {
	ID             string    `json:"id"`
	Pkgbase        string    `json:"pkgbase"`
	Version        string    `json:"version"`
	Started        time.Time `json:"started"`
	ElapsedSeconds float64   `json:"elapsed_seconds"`
}

type lastRoundDoc struct {
	Number          int       `json:"number"`
	Started         time.Time `json:"started"`
	Finished        time.Time `json:"finished"`
	DurationSeconds float64   `json:"duration_seconds"`
	Built           int       `json:"built"`
	Failed          int       `json:"failed"`
	Skipped         int       `json:"skipped"`
	Remembered      int       `json:"remembered"`
	Promoted        int       `json:"promoted"`
	Error           string    `json:"error"`
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	snap := s.d.state.Snapshot()
	now := s.now()
	doc := statusDoc{Schema: "portmake.status/v1", Started: snap.Started, Round: snap.Round, Phase: snap.Phase, Since: snap.Since,
		Running: []runningDoc{}, Queue: snap.Queue, Rounds: snap.Rounds, Failed: snap.FailedRounds, Stopping: snap.Stopping}
	if !snap.NextRound.IsZero() {
		doc.NextRound = &snap.NextRound
	}
	for _, b := range snap.Running {
		doc.Running = append(doc.Running, runningDoc{b.ID, b.Pkgbase, b.Version, b.Started, now.Sub(b.Started).Seconds()})
	}
	if l := snap.LastRound; l != nil {
		doc.LastRound = &lastRoundDoc{l.Number, l.Started, l.Finished, l.Finished.Sub(l.Started).Seconds(), l.Built, l.Failed, l.Skipped, l.Remembered, l.Promoted, l.Err}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	jsonout.Write(w, doc)
}

// metrics writes the Prometheus text exposition format (version 0.0.4).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	st, err := s.d.port.Stats(r.Context())
	if err != nil {
		s.log.Warn("metrics", "err", err)
		http.Error(w, "cannot read the state store: "+err.Error(), http.StatusInternalServerError)
		return
	}
	snap := s.d.state.Snapshot()
	var b bytes.Buffer
	metric := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	metric("portmake_builds_total", "counter", "Builds recorded in the state store, by result.")
	for _, status := range sortedKeys(st.Builds) {
		fmt.Fprintf(&b, "portmake_builds_total{result=%q} %d\n", status, st.Builds[status])
	}
	metric("portmake_builds_running", "gauge", "Builds running now.")
	fmt.Fprintf(&b, "portmake_builds_running %d\n", len(snap.Running))
	metric("portmake_queue_length", "gauge", "Builds of the running apply that have not started yet.")
	fmt.Fprintf(&b, "portmake_queue_length %d\n", snap.Queue)
	metric("portmake_failing_packages", "gauge", "Pkgbases whose latest build failed.")
	fmt.Fprintf(&b, "portmake_failing_packages %d\n", st.Failing)
	metric("portmake_round", "gauge", "Number of the current (or last) round.")
	fmt.Fprintf(&b, "portmake_round %d\n", snap.Round)
	metric("portmake_rounds_total", "counter", "Finished rounds, by result.")
	fmt.Fprintf(&b, "portmake_rounds_total{result=\"ok\"} %d\nportmake_rounds_total{result=\"error\"} %d\n", snap.Rounds-snap.FailedRounds, snap.FailedRounds)
	metric("portmake_round_duration_seconds", "gauge", "Duration of the last finished round.")
	fmt.Fprintf(&b, "portmake_round_duration_seconds %g\n", snap.RoundDuration.Seconds())
	metric("portmake_last_success_timestamp_seconds", "gauge", "When a build of the repository last succeeded and was published (unix time).")
	for _, repo := range sortedKeys(st.LastSuccess) {
		fmt.Fprintf(&b, "portmake_last_success_timestamp_seconds{repo=%q} %d\n", repo, st.LastSuccess[repo].Unix())
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
