-- 012: receivers an operator paused (POST /v1/receivers/{receiver}/pause): while
-- paused nothing is sent to that scheme://host:port (a claim passes over its tasks,
-- which keep waiting and spend no attempt) until an operator resumes it; herald
-- never resumes or pauses on its own. receiver_actions is the audit trail of those
-- decisions, with who took them.
CREATE TABLE receivers (
    receiver   TEXT    PRIMARY KEY,        -- scheme://host:port, as tasks.target_host
    paused     INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    paused_at  INTEGER,                    -- Unix ms; NULL while not paused
    paused_by  TEXT,                       -- the API token's name, or "local"
    note       TEXT,                       -- why, as the operator wrote it
    updated_at INTEGER NOT NULL
);
CREATE TABLE receiver_actions (
    id         INTEGER PRIMARY KEY,
    receiver   TEXT    NOT NULL,
    action     TEXT    NOT NULL CHECK (action IN ('pause', 'resume')),
    actor      TEXT    NOT NULL,
    note       TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX receiver_actions_receiver ON receiver_actions (receiver, id);
