-- 011: tasks loses the three indexes whose keys or predicates hold what a
-- claim and an outcome change (status, next_attempt_at); task_queue (009)
-- serves what they served. An update of a task then adds no index entry (a
-- HOT update): bench/NOTES.md, "The hot queue", has what it saved. Listing
-- tasks by status walks them by id, newest first, instead.
--
-- heraldd before migration 009 claim and sweep with these indexes; without
-- them each of their claims would read tasks through. So this waits until
-- none of them is running: a start-up that finds one beating leaves this for
-- a later start-up (README, "Upgrading several heraldd").
-- herald: once-no-heraldd-before 009
-- herald: no-transaction
DROP PROCEDURE IF EXISTS herald_queue_fill(bigint);
DROP INDEX CONCURRENTLY IF EXISTS tasks_host_due;
DROP INDEX CONCURRENTLY IF EXISTS tasks_leases;
DROP INDEX CONCURRENTLY IF EXISTS tasks_status;
