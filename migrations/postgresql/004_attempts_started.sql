-- 004: attempts by the time they started, for the console's deliveries and
-- failures per minute over the last hour and the receivers' recent failures
-- (GET /v1/overview, GET /v1/receivers), which would otherwise read every attempt.
-- Built CONCURRENTLY, outside a transaction, so other heraldd's outcomes never wait
-- for it on a large attempts table (the rules: pg_schema.c). It was first written as
-- a plain CREATE INDEX in the migration's transaction; a database that applied it so
-- keeps its index, and IF NOT EXISTS makes the two forms one.
-- herald: no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS attempts_started ON attempts (started_at);
