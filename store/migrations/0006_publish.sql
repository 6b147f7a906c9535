-- Publishing (issues 11 and 12). What each build produced, with the
-- sha256 recorded when the build ended: publishing checks the bytes it
-- sends against it, and a build that succeeded but was never published is
-- published from these files instead of being built again.
CREATE TABLE build_outputs (
	build_id INTEGER NOT NULL REFERENCES builds(id),
	seq      INTEGER NOT NULL,
	path     TEXT    NOT NULL,
	sha256   TEXT    NOT NULL,
	size     INTEGER NOT NULL,
	PRIMARY KEY (build_id, seq)
) WITHOUT ROWID;

CREATE INDEX build_outputs_sha256 ON build_outputs(sha256);

-- What each published repository holds: one row per package file the
-- repository DB lists, with the sha256 that was published. verify compares
-- the repository against it; a row goes when the DB stops listing the file.
CREATE TABLE published_files (
	repo         TEXT    NOT NULL,
	name         TEXT    NOT NULL, -- file name
	sha256       TEXT    NOT NULL,
	size         INTEGER NOT NULL,
	signed       INTEGER NOT NULL,
	etag         TEXT    NOT NULL, -- the backend's version token once published: unchanged means unchanged bytes
	origin       TEXT    NOT NULL, -- built, synced, promoted
	build_id     INTEGER REFERENCES builds(id), -- the build it came from, when built
	published_at INTEGER NOT NULL,
	PRIMARY KEY (repo, name)
) WITHOUT ROWID;

CREATE INDEX published_files_build ON published_files(build_id);
