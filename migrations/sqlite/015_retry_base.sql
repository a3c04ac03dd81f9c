-- 015: where a task's retry schedule starts. retry_base is the number of attempts the
-- task had made when its schedule last (re)started: 0 when accepted, its attempts when
-- an operator retried or redelivered it with a fresh budget. The wait after a failure is
-- the schedule's for (attempts - retry_base), so a fresh budget comes with the schedule
-- from its start, not with the longest waits the earlier attempts had reached.
ALTER TABLE tasks ADD COLUMN retry_base INTEGER NOT NULL DEFAULT 0;
