package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Plan is a stored plan: what it was made from, its nodes and edges, and
// the planner's whole document for re-rendering.
type Plan struct {
	ID           int64
	CreatedAt    time.Time
	PortfileHash string
	CommandLine  string
	Arch         string
	Inputs       []Input
	Summary      string
	Doc          []byte // the plan as planner.Encode writes it; the store compresses it
	// EncodeDoc, when set, makes Doc for SavePlan, which runs it (and the
	// compression) on another goroutine while it writes the rows: for a
	// full rebuild both take a few hundred milliseconds.
	EncodeDoc func() ([]byte, error)
	Nodes     []Node
	Edges     []Edge
}

// Input is one thing a plan was made from, such as a repository DB
// (Kind "db") with the sha256 of the copy that was read.
type Input struct {
	Kind   string
	Name   string
	URL    string
	SHA256 string
}

// Node is one build in a plan.
type Node struct {
	Pkgbase      string
	Version      string
	Current      string
	Repo         string
	Reason       string
	ReasonDetail string
	Stage        int
	Cycle        int
	Hash         string
	Priority     int
}

// KV is one hash input line.
type KV struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// Edge is a dependency edge between two nodes of a plan, From needing To.
// From and To are whatever node names the planner uses (pkgbases).
type Edge struct {
	From string
	To   string
	Kind string // depends, makedepends, checkdepends
}

// PlanSummary is a row of the plan history.
type PlanSummary struct {
	ID           int64
	CreatedAt    time.Time
	PortfileHash string
	CommandLine  string
	Arch         string
	Summary      string
	Nodes        int
	Edges        int
}

// insertBatch is how many rows one INSERT statement carries. Multi-row
// inserts cut the per-row cost (one cgo round trip and one VDBE run per
// statement) several fold; 64 rows of 13 columns stay far below SQLite's
// bound-parameter limit.
const insertBatch = 64

// batchInserter inserts rows of a fixed width through two prepared
// statements: one for full batches and one for a single row (the tail).
type batchInserter struct {
	full, one *sql.Stmt
	width     int
	args      []any
	rows      int
}

func newBatchInserter(ctx context.Context, tx *sql.Tx, head string, width int, tail string) (*batchInserter, error) {
	row := "(" + placeholders(width) + ")"
	q := head + " VALUES " + row
	for range insertBatch - 1 {
		q += "," + row
	}
	full, err := tx.PrepareContext(ctx, q+" "+tail)
	if err != nil {
		return nil, err
	}
	one, err := tx.PrepareContext(ctx, head+" VALUES "+row+" "+tail)
	if err != nil {
		full.Close()
		return nil, err
	}
	return &batchInserter{full: full, one: one, width: width, args: make([]any, 0, width*insertBatch)}, nil
}

func placeholders(n int) string {
	s := "?"
	for range n - 1 {
		s += ",?"
	}
	return s
}

func (b *batchInserter) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	b.rows++
	if b.rows < insertBatch {
		return nil
	}
	_, err := b.full.ExecContext(ctx, b.args...)
	b.args, b.rows = b.args[:0], 0
	return err
}

// flush writes the rows left over and closes the statements.
func (b *batchInserter) flush(ctx context.Context) error {
	defer b.full.Close()
	defer b.one.Close()
	for i := range b.rows {
		if _, err := b.one.ExecContext(ctx, b.args[i*b.width:(i+1)*b.width]...); err != nil {
			return err
		}
	}
	b.args, b.rows = b.args[:0], 0
	return nil
}

// SavePlan stores p (its ID is ignored; a zero CreatedAt means now) in one
// transaction and returns the new plan id.
func (s *Store) SavePlan(ctx context.Context, p *Plan) (int64, error) {
	if p == nil {
		return 0, errors.New("save plan: nil plan")
	}
	created := p.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	// Plan documents are several megabytes for a full rebuild; compressed
	// they are a fifth of that, which keeps state.db small over months of
	// plans. The document is made and compressed beside the row inserts and
	// written last, in the same transaction.
	type docResult struct {
		doc []byte
		err error
	}
	docc := make(chan docResult, 1)
	go func() {
		doc, err := p.Doc, error(nil)
		if p.EncodeDoc != nil {
			doc, err = p.EncodeDoc()
		}
		if err == nil && len(doc) > 0 {
			doc = zenc.EncodeAll(doc, nil)
		}
		docc <- docResult{doc, err}
	}()
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO plans
			(created_at, portfile_hash, command_line, arch, summary, node_count, edge_count, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`,
			nanos(created), p.PortfileHash, p.CommandLine, p.Arch, p.Summary, len(p.Nodes), len(p.Edges))
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		ins, err := newBatchInserter(ctx, tx, "INSERT INTO plan_inputs (plan_id, seq, kind, name, url, sha256)", 6, "")
		if err != nil {
			return err
		}
		for i, in := range p.Inputs {
			if err := ins.add(ctx, id, i, in.Kind, in.Name, in.URL, in.SHA256); err != nil {
				return fmt.Errorf("inputs: %w", err)
			}
		}
		if err := ins.flush(ctx); err != nil {
			return fmt.Errorf("inputs: %w", err)
		}

		nodes, err := newBatchInserter(ctx, tx, `INSERT INTO nodes (plan_id, seq, pkgbase, version, current, repo,
			reason, reason_detail, stage, cycle, hash, priority)`, 12, "")
		if err != nil {
			return err
		}
		for i, n := range p.Nodes {
			if err := nodes.add(ctx, id, i, n.Pkgbase, n.Version, n.Current, n.Repo,
				n.Reason, n.ReasonDetail, n.Stage, n.Cycle, n.Hash, n.Priority); err != nil {
				return fmt.Errorf("nodes: %w", err)
			}
		}
		if err := nodes.flush(ctx); err != nil {
			return fmt.Errorf("nodes: %w", err)
		}

		edges, err := newBatchInserter(ctx, tx, "INSERT INTO edges (plan_id, seq, src, dst, kind)", 5, "")
		if err != nil {
			return err
		}
		for i, e := range p.Edges {
			if err := edges.add(ctx, id, i, e.From, e.To, e.Kind); err != nil {
				return fmt.Errorf("edges: %w", err)
			}
		}
		if err := edges.flush(ctx); err != nil {
			return fmt.Errorf("edges: %w", err)
		}
		r := <-docc
		docc <- r // for the deferred wait below
		if r.err != nil {
			return fmt.Errorf("document: %w", r.err)
		}
		if r.doc == nil {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE plans SET doc = ? WHERE id = ?`, r.doc, id)
		return err
	})
	<-docc // never return with the encoder still reading p
	if err != nil {
		return 0, fmt.Errorf("save plan in %s: %w", s.path, err)
	}
	return id, nil
}

var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
)

func decodeKVs(s string) ([]KV, error) {
	var kvs []KV
	if err := json.Unmarshal([]byte(s), &kvs); err != nil {
		return nil, fmt.Errorf("hash inputs: %w", err)
	}
	if len(kvs) == 0 {
		return nil, nil
	}
	return kvs, nil
}

// Plan loads a stored plan; id 0 or negative means the latest one. A
// missing plan is an error wrapping ErrNotFound.
func (s *Store) Plan(ctx context.Context, id int64) (*Plan, error) {
	p, err := s.planHeader(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.loadPlanRows(ctx, p); err != nil {
		return nil, fmt.Errorf("plan %d: %w", p.ID, err)
	}
	return p, nil
}

// PlanDoc loads only a stored plan's row and document, without its nodes,
// edges and inputs: what re-rendering a plan needs, at a fraction of the
// cost of Plan.
func (s *Store) PlanDoc(ctx context.Context, id int64) (*Plan, error) {
	return s.planHeader(ctx, id)
}

func (s *Store) planHeader(ctx context.Context, id int64) (*Plan, error) {
	// A saved plan never changes, so reading its tables one after the other
	// without a transaction is consistent.
	q := `SELECT id, created_at, portfile_hash, command_line, arch, summary, doc FROM plans `
	var row *sql.Row
	if id <= 0 {
		row = s.db.QueryRowContext(ctx, q+`ORDER BY id DESC LIMIT 1`)
	} else {
		row = s.db.QueryRowContext(ctx, q+`WHERE id = ?`, id)
	}
	var p Plan
	var created int64
	err := row.Scan(&p.ID, &created, &p.PortfileHash, &p.CommandLine, &p.Arch, &p.Summary, &p.Doc)
	if errors.Is(err, sql.ErrNoRows) {
		if id <= 0 {
			return nil, fmt.Errorf("no plan stored in %s: %w", s.path, ErrNotFound)
		}
		return nil, fmt.Errorf("plan %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("plan %d: %w", id, err)
	}
	p.CreatedAt = fromNanos(created)
	if len(p.Doc) > 0 {
		if p.Doc, err = zdec.DecodeAll(p.Doc, nil); err != nil {
			return nil, fmt.Errorf("plan %d: document: %w", p.ID, err)
		}
	} else {
		p.Doc = nil
	}
	return &p, nil
}

func (s *Store) loadPlanRows(ctx context.Context, p *Plan) error {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, name, url, sha256 FROM plan_inputs WHERE plan_id = ? ORDER BY seq`, p.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var in Input
		if err := rows.Scan(&in.Kind, &in.Name, &in.URL, &in.SHA256); err != nil {
			rows.Close()
			return err
		}
		p.Inputs = append(p.Inputs, in)
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("inputs: %w", err)
	}

	rows, err = s.db.QueryContext(ctx, `SELECT pkgbase, version, current, repo, reason, reason_detail,
		stage, cycle, hash, priority FROM nodes WHERE plan_id = ? ORDER BY seq`, p.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var n Node
		if err := rows.Scan(&n.Pkgbase, &n.Version, &n.Current, &n.Repo, &n.Reason, &n.ReasonDetail,
			&n.Stage, &n.Cycle, &n.Hash, &n.Priority); err != nil {
			rows.Close()
			return err
		}
		p.Nodes = append(p.Nodes, n)
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("nodes: %w", err)
	}

	rows, err = s.db.QueryContext(ctx, `SELECT src, dst, kind FROM edges WHERE plan_id = ? ORDER BY seq`, p.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var e Edge
		if err := rows.Scan(&e.From, &e.To, &e.Kind); err != nil {
			rows.Close()
			return err
		}
		p.Edges = append(p.Edges, e)
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("edges: %w", err)
	}
	return nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// Plans lists the newest stored plans first, at most limit of them
// (limit <= 0: all).
func (s *Store) Plans(ctx context.Context, limit int) ([]PlanSummary, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, created_at, portfile_hash, command_line, arch, summary,
		node_count, edge_count FROM plans ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list plans in %s: %w", s.path, err)
	}
	var out []PlanSummary
	for rows.Next() {
		var p PlanSummary
		var created int64
		if err := rows.Scan(&p.ID, &created, &p.PortfileHash, &p.CommandLine, &p.Arch, &p.Summary, &p.Nodes, &p.Edges); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list plans in %s: %w", s.path, err)
		}
		p.CreatedAt = fromNanos(created)
		out = append(out, p)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("list plans in %s: %w", s.path, err)
	}
	return out, nil
}

// RecordHashInputs keeps the inputs of a node hash, once per hash (equal
// hashes have equal inputs), so explain can compare against a past build
// after its plan is gone. Apply records them for every build it starts; a
// plan does not, since its own inputs follow from its document
// (planner.Plan.RestoreHashInputs). Recording a known hash is a no-op.
func (s *Store) RecordHashInputs(ctx context.Context, hash string, inputs []KV) error {
	if hash == "" || len(inputs) == 0 {
		return errors.New("record hash inputs: no hash or no inputs")
	}
	data, err := json.Marshal(inputs)
	if err != nil {
		return err
	}
	if _, err := s.exec(ctx, `INSERT INTO hash_inputs (hash, inputs) VALUES (?, ?)
		ON CONFLICT (hash) DO NOTHING`, hash, string(data)); err != nil {
		return fmt.Errorf("record hash inputs of %s: %w", hash, err)
	}
	return nil
}

// HashInputs returns the hash inputs recorded for a node hash (by
// RecordHashInputs), or nil when none were.
func (s *Store) HashInputs(ctx context.Context, hash string) ([]KV, error) {
	if hash == "" {
		return nil, nil
	}
	var hi string
	err := s.db.QueryRowContext(ctx, `SELECT inputs FROM hash_inputs WHERE hash = ?`, hash).Scan(&hi)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hash inputs of %s: %w", hash, err)
	}
	kvs, err := decodeKVs(hi)
	if err != nil {
		return nil, fmt.Errorf("hash inputs of %s: %w", hash, err)
	}
	return kvs, nil
}

// PrunePlans deletes every plan but the newest keep, except plans that an
// apply refers to (the build history keeps its plans). Hash inputs are
// kept: past builds refer to them by hash for explain. It returns how many
// plans it deleted.
func (s *Store) PrunePlans(ctx context.Context, keep int) (int, error) {
	if keep < 0 {
		return 0, fmt.Errorf("prune plans: keep %d < 0", keep)
	}
	res, err := s.exec(ctx, `DELETE FROM plans
		WHERE id NOT IN (SELECT id FROM plans ORDER BY id DESC LIMIT ?)
		AND id NOT IN (SELECT plan_id FROM applies WHERE plan_id IS NOT NULL)`, keep)
	if err != nil {
		return 0, fmt.Errorf("prune plans in %s: %w", s.path, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
