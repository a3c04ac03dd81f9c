-- 002: what operators did about failed tasks, and the alerts herald raised.

CREATE TABLE actions (
    id         INTEGER PRIMARY KEY,
    task_id    INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    action     TEXT    NOT NULL,       -- 'retry', 'resolve', 'bulk_retry'
    actor      TEXT    NOT NULL,       -- the API token's name, or 'local'
    note       TEXT,
    details    TEXT,                   -- JSON: what was changed
    created_at INTEGER NOT NULL
);

CREATE INDEX actions_task ON actions (task_id, id);

CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,       -- 'manual_backlog', 'delivery_lag'
    state      TEXT    NOT NULL CHECK (state IN ('firing', 'resolved')),
    count      INTEGER NOT NULL,       -- what was measured: entries, or lag in seconds
    details    TEXT    NOT NULL,       -- the alert as sent, JSON
    created_at INTEGER NOT NULL,
    sent_at    INTEGER,                -- NULL until every configured sink took it
    send_error TEXT
);

CREATE INDEX alerts_unsent ON alerts (id) WHERE sent_at IS NULL;

-- Retention of resolved entries, and the lookups behind deleting a task
-- (ON DELETE CASCADE needs an index on every child's task_id).
CREATE INDEX manual_resolved ON manual (resolved_at) WHERE state = 'resolved';
CREATE INDEX manual_task ON manual (task_id);
