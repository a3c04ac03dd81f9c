-- 013: each receiver's circuit breaker (src/store/store_breaker.c). failures counts
-- the receiver's consecutive failures that count against it (5xx, timeouts, refused
-- connections, TLS errors: attempt_counts_against_receiver); at a business type's
-- breaker_failures the circuit opens: every heraldd's claim passes over the
-- receiver's tasks, which wait without spending attempts, except one probe at a time
-- for the whole cluster. probe_token is that probe's claim token (a claim fenced like
-- any other), probe_until its lease on the server's clock, next_probe_at when the
-- next may start (backing off from [delivery] breaker_probe_interval up to
-- breaker_probe_max_interval). A success closes it. New nullable or defaulted
-- columns only: a heraldd of release 012 runs beside them unchanged, but its claims
-- do not look at a circuit, so none opens while one beats (store_breaker.c).
ALTER TABLE receivers
    ADD COLUMN breaker_open      boolean NOT NULL DEFAULT false,
    ADD COLUMN failures          integer NOT NULL DEFAULT 0,
    ADD COLUMN opened_at         bigint,
    ADD COLUMN next_probe_at     bigint,
    ADD COLUMN probe_interval_ms bigint,
    ADD COLUMN probe_token       text,
    ADD COLUMN probe_until       bigint,
    ADD COLUMN closed_at         bigint;
