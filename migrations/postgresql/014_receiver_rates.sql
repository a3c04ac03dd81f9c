-- 014: rate limits and Retry-After holds shared by every heraldd on the database.
-- receiver_rates holds one bucket per rate-limited receiver ([receiver.PATTERN]
-- rate_limit; src/core/rate_limit.h): tat_us is the generic cell rate algorithm's
-- theoretical arrival time on the server's clock (microseconds), which every
-- heraldd's claim takes tokens from in one statement (PG_SQL_RATE_TAKE); granted and
-- taken_at_us are that statement's answer. A table of its own, so taking a token never
-- waits on a receiver's row that an outcome locks for its breaker.
-- receivers.held_until: until when the receiver asked to be left alone (a 429 or 503
-- with Retry-After), on the server's clock; every heraldd's claim passes over it until
-- then. A new table and a nullable column: a heraldd of release 013 runs beside them
-- unchanged (it neither keeps the shared rate nor honours another's hold).
CREATE TABLE receiver_rates (
    receiver    text PRIMARY KEY,
    tat_us      bigint NOT NULL,
    granted     bigint NOT NULL DEFAULT 0,
    taken_at_us bigint NOT NULL DEFAULT 0
);

ALTER TABLE receivers ADD COLUMN held_until bigint;
