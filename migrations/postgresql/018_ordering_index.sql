-- 018: a key's tasks by sequence, to release the next one. Partial: tasks without a
-- key (most) have no entry, and its columns never change once written, so the
-- claims' and outcomes' updates of a task stay HOT. Built CONCURRENTLY, outside a
-- transaction (tasks is large; the rules: pg_schema.c).
--
-- Ordering keys are used only once this is applied (PG_SCHEMA_ORDERING): a heraldd
-- of an earlier release claims and ends tasks without them, so an outcome of its
-- would end a key's head without letting the next go, and the key would wait for
-- ever. So this waits until none of them is running; until then a task with an
-- ordering_key is refused (503 ordering_unavailable).
-- herald: once-no-heraldd-before 018
-- herald: no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_ordering ON tasks (ordering_key_id, ordering_seq)
    WHERE ordering_key_id IS NOT NULL;
