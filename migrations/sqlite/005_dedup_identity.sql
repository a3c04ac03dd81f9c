-- 005: a task keeps the identity it was created with.
--
-- A request without an idempotency key repeats an earlier task created without
-- one for the same (business_type, business_id, target_url). Until now a repair
-- that changed target_url changed that identity too, so the client's retry of
-- its original request made a second task. dedup_url holds the target_url the
-- task was created with once a repair changes it (NULL: unchanged), and the
-- lookup index keys on coalesce(dedup_url, target_url). The column is added
-- without rewriting the table; the index is rebuilt once.
ALTER TABLE tasks ADD COLUMN dedup_url TEXT;
DROP INDEX tasks_business;
-- Deduplication, and the list filter by business id (its first column).
CREATE INDEX tasks_business ON tasks (business_id, business_type, coalesce(dedup_url, target_url));
