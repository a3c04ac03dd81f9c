-- 014: redelivery jobs (POST /v1/redeliveries): an operator's "send these again",
-- chosen by a filter and worked through in chunks at a set pace by one heraldd at a
-- time (src/jobs/redeliverer.c), which holds the job by a lease (lease_token,
-- lease_until) and moves cursor_id on, in the transaction that redelivers the chunk.
-- The filter's terms are columns (NULL: any); through_id bounds the job to the tasks
-- accepted before it was created.
CREATE TABLE redelivery_jobs (
    id            INTEGER PRIMARY KEY,
    state         TEXT    NOT NULL CHECK (state IN ('running', 'done', 'cancelled')),
    business_type TEXT,
    receiver      TEXT,                -- scheme://host:port, as tasks.target_host
    url_prefix    TEXT,
    task_status   TEXT    NOT NULL CHECK (task_status IN ('pending', 'succeeded', 'failed')),
    error_class   TEXT,                -- of the task's latest attempt
    created_from  INTEGER,             -- tasks.created_at >= this (Unix ms)
    created_to    INTEGER,             -- tasks.created_at < this
    full_schedule INTEGER NOT NULL CHECK (full_schedule IN (0, 1)),
    pace          INTEGER NOT NULL,    -- tasks a second at most
    reason        TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    through_id    INTEGER NOT NULL,
    cursor_id     INTEGER NOT NULL DEFAULT 0,
    matched       INTEGER NOT NULL,    -- when it was created
    sent          INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0, -- in flight or changed when their turn came
    lease_token   TEXT,
    lease_until   INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    cancelled_by  TEXT
);
CREATE INDEX redelivery_jobs_running ON redelivery_jobs (id) WHERE state = 'running';
-- One running job per filter: two would send each task twice (the API refuses a
-- second; this holds against two heraldd creating one at once).
CREATE UNIQUE INDEX redelivery_jobs_one_running ON redelivery_jobs (
    coalesce(business_type, ''), coalesce(receiver, ''), coalesce(url_prefix, ''), task_status,
    coalesce(error_class, ''), coalesce(created_from, 0), coalesce(created_to, 0))
    WHERE state = 'running';
