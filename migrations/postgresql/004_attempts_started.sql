-- 004: attempts by the time they started, for the console's deliveries and
-- failures per minute over the last hour and the receivers' recent failures
-- (GET /v1/overview, GET /v1/receivers), which would otherwise read every attempt.
-- Built inside the migration's transaction (CONCURRENTLY cannot be): on a large
-- attempts table, outcomes wait for it while it builds; intake does not.
CREATE INDEX attempts_started ON attempts (started_at);
