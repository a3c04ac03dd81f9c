-- 011: failed attempts by the time they started, for the receivers' recent
-- failures (GET /v1/receivers, the console's receivers view). Through
-- attempts_started that statement read every attempt of the last hour, the
-- successful ones too, to count the few that failed; this index holds only
-- the failures. Built at start, before heraldd serves (README, "Upgrading").
CREATE INDEX attempts_failed ON attempts (started_at) WHERE error_class IS NOT NULL;
