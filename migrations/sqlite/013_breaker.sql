-- 013: each receiver's circuit breaker (src/store/store_breaker.c). failures counts
-- the receiver's consecutive failures that count against it (5xx, timeouts, refused
-- connections, TLS errors: attempt_counts_against_receiver); at a business type's
-- breaker_failures the circuit opens: the claim passes over the receiver's tasks,
-- which wait without spending attempts, except one probe at a time. probe_token is
-- that probe's claim token, probe_until its lease, next_probe_at when the next may
-- start (backing off from [delivery] breaker_probe_interval up to
-- breaker_probe_max_interval). A success closes it.
ALTER TABLE receivers ADD COLUMN breaker_open INTEGER NOT NULL DEFAULT 0
    CHECK (breaker_open IN (0, 1));
ALTER TABLE receivers ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE receivers ADD COLUMN opened_at INTEGER;
ALTER TABLE receivers ADD COLUMN next_probe_at INTEGER;
ALTER TABLE receivers ADD COLUMN probe_interval_ms INTEGER;
ALTER TABLE receivers ADD COLUMN probe_token TEXT;
ALTER TABLE receivers ADD COLUMN probe_until INTEGER;
ALTER TABLE receivers ADD COLUMN closed_at INTEGER;
