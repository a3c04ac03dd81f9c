-- 002: the heraldd that share this database (GET /v1/instances, heraldctl
-- instances): each writes its row every 10 s and removes it when it stops; a row
-- silent for a day is removed by the others.
CREATE TABLE instances (
    id           text    PRIMARY KEY,   -- host:pid:start, unique per run
    host         text    NOT NULL,
    pid          integer NOT NULL,
    version      text    NOT NULL,
    started_at   bigint  NOT NULL,
    heartbeat_at bigint  NOT NULL,
    leader       boolean NOT NULL,
    deliveries   bigint  NOT NULL       -- attempts it made since it started: its share
);
