-- 012: receivers an operator paused (POST /v1/receivers/{receiver}/pause): while
-- paused nothing is sent to that scheme://host:port (every heraldd's claim passes
-- over its tasks, which keep waiting and spend no attempt) until an operator
-- resumes it; herald never resumes or pauses on its own. receiver_actions is the
-- audit trail of those decisions, with who took them. New tables only: a heraldd of
-- an earlier release runs beside them unchanged (and does not know a pause).
CREATE TABLE receivers (
    receiver   text    PRIMARY KEY,        -- scheme://host:port, as tasks.target_host
    paused     boolean NOT NULL DEFAULT false,
    paused_at  bigint,                     -- Unix ms; NULL while not paused
    paused_by  text,                       -- the API token's name, or "local"
    note       text,                       -- why, as the operator wrote it
    updated_at bigint  NOT NULL
);
CREATE TABLE receiver_actions (
    id         bigserial PRIMARY KEY,
    receiver   text      NOT NULL,
    action     text      NOT NULL CHECK (action IN ('pause', 'resume')),
    actor      text      NOT NULL,
    note       text,
    created_at bigint    NOT NULL
);
CREATE INDEX receiver_actions_receiver ON receiver_actions (receiver, id);
