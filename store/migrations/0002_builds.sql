-- Applies and builds (issue 5). Every state change is written before and
-- after it happens, so that a kill -9 at any moment leaves rows the next
-- run understands: a build still "running" whose apply process is gone was
-- interrupted (RecoverInterrupted).
CREATE TABLE applies (
	id          INTEGER PRIMARY KEY,
	plan_id     INTEGER REFERENCES plans(id),
	pid         INTEGER NOT NULL,
	pid_start   INTEGER NOT NULL, -- process start time (clock ticks since boot), 0 if unknown; tells a reused pid apart
	started_at  INTEGER NOT NULL,
	finished_at INTEGER,
	status      TEXT    NOT NULL  -- running, succeeded, failed, aborted
);

CREATE TABLE builds (
	id           INTEGER PRIMARY KEY,
	apply_id     INTEGER NOT NULL REFERENCES applies(id),
	pkgbase      TEXT    NOT NULL,
	version      TEXT    NOT NULL,
	hash         TEXT    NOT NULL,
	stage        INTEGER NOT NULL,
	attempt      INTEGER NOT NULL,
	status       TEXT    NOT NULL, -- running, succeeded, failed, aborted, skipped
	started_at   INTEGER NOT NULL,
	finished_at  INTEGER,
	duration_ns  INTEGER NOT NULL DEFAULT 0,
	peak_rss     INTEGER NOT NULL DEFAULT 0,
	exit_code    INTEGER NOT NULL DEFAULT 0,
	error        TEXT    NOT NULL DEFAULT '',
	log_path     TEXT    NOT NULL DEFAULT '',
	files        TEXT    NOT NULL DEFAULT '[]', -- JSON array of output package files
	published_at INTEGER
);

CREATE INDEX builds_hash ON builds(hash, id);
CREATE INDEX builds_pkgbase ON builds(pkgbase, id);
CREATE INDEX builds_apply ON builds(apply_id);
CREATE INDEX applies_plan ON applies(plan_id);
CREATE INDEX builds_running ON builds(status) WHERE status = 'running';

-- One apply at a time per state DB. The single row, when present, names
-- the holder; a row whose process is gone is a stale lock.
CREATE TABLE apply_lock (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	pid       INTEGER NOT NULL,
	pid_start INTEGER NOT NULL,
	since     INTEGER NOT NULL,
	token     TEXT    NOT NULL
);
