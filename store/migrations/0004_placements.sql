-- Where each build attempt ran (issue 15): the backend that ran it
-- ("slurm"; '' for a local build), the cluster's job id, the node, and the
-- attempt's directory in the shared work directory. job_open is 1 while
-- the job may still run and no apply watches it to its end: an apply that
-- is killed leaves it 1, and the next apply re-attaches to the job (its
-- build takes the job over) or cancels it.
ALTER TABLE builds ADD COLUMN backend  TEXT    NOT NULL DEFAULT '';
ALTER TABLE builds ADD COLUMN job_id   TEXT    NOT NULL DEFAULT '';
ALTER TABLE builds ADD COLUMN node     TEXT    NOT NULL DEFAULT '';
ALTER TABLE builds ADD COLUMN job_dir  TEXT    NOT NULL DEFAULT '';
ALTER TABLE builds ADD COLUMN job_open INTEGER NOT NULL DEFAULT 0;

CREATE INDEX builds_job_open ON builds(id) WHERE job_open = 1;
