-- 015: redelivery jobs (POST /v1/redeliveries): an operator's "send these again",
-- chosen by a filter and worked through in chunks at a set pace by one heraldd at a
-- time (src/jobs/redeliverer.c), which holds the job by a lease (lease_token,
-- lease_until) and moves cursor_id on, in the transaction that redelivers the chunk.
-- The filter's terms are columns (NULL: any); through_id bounds the job to the tasks
-- accepted before it was created.
CREATE TABLE redelivery_jobs (
    id            bigserial PRIMARY KEY,
    state         text    NOT NULL CHECK (state IN ('running', 'done', 'cancelled')),
    business_type text,
    receiver      text,                -- scheme://host:port, as tasks.target_host
    url_prefix    text,
    task_status   text    NOT NULL CHECK (task_status IN ('pending', 'succeeded', 'failed')),
    error_class   text,                -- of the task's latest attempt
    created_from  bigint,             -- tasks.created_at >= this (Unix ms)
    created_to    bigint,             -- tasks.created_at < this
    full_schedule boolean NOT NULL,
    pace          integer NOT NULL,    -- tasks a second at most
    reason        text    NOT NULL,
    actor         text    NOT NULL,
    through_id    bigint  NOT NULL,
    cursor_id     bigint  NOT NULL DEFAULT 0,
    matched       bigint  NOT NULL,    -- when it was created
    sent          bigint  NOT NULL DEFAULT 0,
    skipped       bigint  NOT NULL DEFAULT 0, -- in flight or changed when their turn came
    lease_token   text,
    lease_until   bigint,
    created_at    bigint  NOT NULL,
    updated_at    bigint  NOT NULL,
    finished_at   bigint,
    cancelled_by  text
);
CREATE INDEX redelivery_jobs_running ON redelivery_jobs (id) WHERE state = 'running';
-- One running job per filter: two would send each task twice (the API refuses a
-- second; this holds against two heraldd creating one at once).
CREATE UNIQUE INDEX redelivery_jobs_one_running ON redelivery_jobs (
    coalesce(business_type, ''), coalesce(receiver, ''), coalesce(url_prefix, ''), task_status,
    coalesce(error_class, ''), coalesce(created_from, 0), coalesce(created_to, 0))
    WHERE state = 'running';
