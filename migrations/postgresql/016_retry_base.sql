-- 016: where a task's retry schedule starts. retry_base is the number of attempts the
-- task had made when its schedule last (re)started: 0 when accepted, its attempts when
-- an operator retried or redelivered it with a fresh budget. The wait after a failure is
-- the schedule's for (attempts - retry_base). A column with a constant default: no
-- rewrite of the table. A heraldd of release 015 runs beside it unchanged (its retries
-- leave retry_base as it was, and its waits go on from the earlier attempts).
ALTER TABLE tasks ADD COLUMN retry_base integer NOT NULL DEFAULT 0;
