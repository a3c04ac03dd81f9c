-- 008: failed attempts by the time they started, for the receivers' recent
-- failures (GET /v1/receivers, the console's receivers view). Through
-- attempts_started that statement read every attempt of the last hour, the
-- successful ones too, to count the few that failed; this index holds only
-- the failures.
--
-- attempts is herald's largest table, and other heraldd keep writing to it
-- during a rolling upgrade: the index is built CONCURRENTLY, outside a
-- transaction (the line below; pg_schema.c has the rules), so their outcomes
-- never wait for it. A build cut short (heraldd killed) leaves the index
-- INVALID; the next start drops it and builds it again.
-- herald: no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS attempts_failed ON attempts (started_at)
    WHERE error_class IS NOT NULL;
