-- Plans (issue 4): what a plan was made from, its nodes and edges, and the
-- source resolution cache. A plan is immutable once saved; its rows are
-- written in one transaction by SavePlan.
CREATE TABLE plans (
	id            INTEGER PRIMARY KEY,
	created_at    INTEGER NOT NULL, -- unix nanoseconds, UTC
	portfile_hash TEXT    NOT NULL,
	command_line  TEXT    NOT NULL,
	arch          TEXT    NOT NULL,
	summary       TEXT    NOT NULL,
	node_count    INTEGER NOT NULL,
	edge_count    INTEGER NOT NULL,
	doc           BLOB              -- the planner's JSON view of the whole plan, zstd-compressed
);

-- The inputs of a plan: every repository DB read (with its sha256), and any
-- other input the planner records. Compared by apply to refuse stale plans.
CREATE TABLE plan_inputs (
	plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
	seq     INTEGER NOT NULL,
	kind    TEXT    NOT NULL,
	name    TEXT    NOT NULL,
	url     TEXT    NOT NULL,
	sha256  TEXT    NOT NULL,
	PRIMARY KEY (plan_id, seq)
) WITHOUT ROWID;

-- Rows of nodes are large (hundreds of bytes), so the table keeps its rowid
-- (appended in order) rather than being clustered WITHOUT ROWID.
CREATE TABLE nodes (
	id            INTEGER PRIMARY KEY,
	plan_id       INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
	seq           INTEGER NOT NULL,
	pkgbase       TEXT    NOT NULL,
	version       TEXT    NOT NULL,
	current       TEXT    NOT NULL,
	repo          TEXT    NOT NULL,
	reason        TEXT    NOT NULL,
	reason_detail TEXT    NOT NULL,
	stage         INTEGER NOT NULL,
	cycle         INTEGER NOT NULL,
	hash          TEXT    NOT NULL,
	priority      INTEGER NOT NULL,
	UNIQUE (plan_id, seq)
);

-- The hash inputs of every node hash ever planned, stored once per hash:
-- equal hashes have equal inputs by construction, so a re-plan in which
-- little changed adds few rows, and explain finds the inputs of any past
-- build's hash here. Rows are kept when plans are pruned.
CREATE TABLE hash_inputs (
	hash   TEXT PRIMARY KEY,
	inputs TEXT NOT NULL -- JSON [{"k":..,"v":..}], in hashing order
);

CREATE TABLE edges (
	plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
	seq     INTEGER NOT NULL,
	src     TEXT    NOT NULL,
	dst     TEXT    NOT NULL,
	kind    TEXT    NOT NULL, -- depends, makedepends, checkdepends
	PRIMARY KEY (plan_id, seq)
) WITHOUT ROWID;

-- Network results of source resolution (git ls-remote and the like), keyed
-- by what was asked (for example URL and ref).
CREATE TABLE source_resolutions (
	key         TEXT    PRIMARY KEY,
	url         TEXT    NOT NULL,
	ref         TEXT    NOT NULL,
	commit_id   TEXT    NOT NULL,
	resolved_at INTEGER NOT NULL
) WITHOUT ROWID;
