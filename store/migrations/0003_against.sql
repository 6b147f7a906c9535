-- Builds of dependents of a failure (issue 17): the in-plan dependencies
-- for which a build used the target's existing binaries instead of their
-- fresh builds, as a JSON array of build ids ("liba", "gcc#b1"); empty for
-- a build that used them all.
ALTER TABLE builds ADD COLUMN against TEXT NOT NULL DEFAULT '[]';
