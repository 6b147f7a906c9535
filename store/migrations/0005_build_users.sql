-- Build users portmake created (build.user, when running as root and the
-- user did not exist; issue 18), so that an operator can see and remove
-- what portmake added to the system.
CREATE TABLE build_users (
	name       TEXT    PRIMARY KEY,
	uid        INTEGER NOT NULL,
	home       TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);
