-- Failure memory (issue 14): `portmake retry PKG` clears what a pkgbase's
-- failed builds taught, without rewriting their history. A failed build
-- counts against its hash only when it finished after the pkgbase's last
-- clear (and after the hash's last success).
CREATE TABLE failure_clears (
	pkgbase    TEXT    PRIMARY KEY,
	cleared_at INTEGER NOT NULL -- unix nanoseconds, UTC
) WITHOUT ROWID;
