-- 001: tasks, their delivery attempts, and the manual-handling table.
-- Times are Unix milliseconds (UTC). Status and state are short words, checked here
-- so that no code path can write a value the API cannot show.

CREATE TABLE tasks (
    id               INTEGER PRIMARY KEY,
    webhook_id       TEXT    NOT NULL,       -- stable across attempts and manual retries
    business_id      TEXT    NOT NULL,
    business_type    TEXT    NOT NULL,
    target_url       TEXT    NOT NULL,
    target_host      TEXT    NOT NULL,       -- "scheme://host:port": per-host limits and claims
    payload          BLOB    NOT NULL,       -- the exact bytes sent
    payload_is_json  INTEGER NOT NULL CHECK (payload_is_json IN (0, 1)),
    headers          TEXT,                   -- compact JSON object of extra headers
    idempotency_key  TEXT,
    request_hash     BLOB    NOT NULL,       -- SHA-256 of the request, for idempotency conflicts
    status           TEXT    NOT NULL
                     CHECK (status IN ('pending', 'delivering', 'succeeded', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_retry        INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,       -- when due; while delivering, when the lease ends
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    last_status_code INTEGER,
    last_error       TEXT
);

CREATE UNIQUE INDEX tasks_idempotency_key ON tasks (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- Deduplication without a key, and reconciliation lookups by business id.
CREATE INDEX tasks_business ON tasks (business_id, business_type, target_url);
-- The scheduler claims due tasks host by host: only pending tasks are in it, so
-- it stays small however many tasks have finished, and one host's backlog never
-- sits in front of another's.
CREATE INDEX tasks_host_due ON tasks (target_host, next_attempt_at) WHERE status = 'pending';
-- Tasks in flight, by when their lease ends (crash recovery).
CREATE INDEX tasks_leases ON tasks (next_attempt_at) WHERE status = 'delivering';
CREATE INDEX tasks_status ON tasks (status, id);

CREATE TABLE attempts (
    id                 INTEGER PRIMARY KEY,
    task_id            INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    attempt            INTEGER NOT NULL,     -- 1-based
    started_at         INTEGER NOT NULL,
    duration_ms        INTEGER NOT NULL,
    status_code        INTEGER,              -- NULL when no response was received
    error_class        TEXT,                 -- NULL on success
    error_message      TEXT,
    response_body      BLOB,
    response_truncated INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX attempts_task ON attempts (task_id, attempt);

CREATE TABLE manual (
    id               INTEGER PRIMARY KEY,
    task_id          INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    reason           TEXT    NOT NULL,       -- 'exhausted', 'gone'
    attempts         INTEGER NOT NULL,
    last_status_code INTEGER,
    last_error       TEXT,
    moved_at         INTEGER NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    resolved_at      INTEGER,
    resolution       TEXT,                   -- 'retried', 'resolved'
    note             TEXT
);

-- A task is in the open manual list at most once.
CREATE UNIQUE INDEX manual_open_task ON manual (task_id) WHERE state = 'open';
CREATE INDEX manual_state_moved ON manual (state, moved_at);
