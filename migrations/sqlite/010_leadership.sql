-- 010: leadership as a lease, and alerts that name their instance and their
-- sender: the same tables as PostgreSQL's (its migration 007 says why), so both
-- backends run one workflow. With SQLite one heraldd uses a file at a time (its
-- lock file), so it always takes the lease.
CREATE TABLE leadership (
    name       TEXT    PRIMARY KEY,  -- 'herald': one lease per database
    holder     TEXT    NOT NULL,     -- the leader's instance id (host:pid:start)
    term       INTEGER NOT NULL,     -- grows by one at each new acquisition
    expires_at INTEGER NOT NULL      -- Unix ms
);
ALTER TABLE alerts ADD COLUMN instance TEXT;
ALTER TABLE alerts ADD COLUMN sending_by TEXT;
ALTER TABLE alerts ADD COLUMN sending_term INTEGER;
ALTER TABLE alerts ADD COLUMN sending_until INTEGER;
CREATE INDEX alerts_kind_instance ON alerts (kind, instance, id);
