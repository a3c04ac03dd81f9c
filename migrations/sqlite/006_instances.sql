-- 006: the heraldd that use this database, for GET /v1/instances. With SQLite there
-- is one at a time (its lock file); the table is the same as PostgreSQL's so both
-- backends answer alike.
CREATE TABLE instances (
    id           TEXT    PRIMARY KEY,   -- host:pid:start, unique per run
    host         TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    version      TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,      -- every 10 s while it runs
    leader       INTEGER NOT NULL CHECK (leader IN (0, 1)),
    deliveries   INTEGER NOT NULL       -- attempts it made since it started: its share
);
