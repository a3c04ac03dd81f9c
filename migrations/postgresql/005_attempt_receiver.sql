-- 005: the receiver (scheme://host:port) each attempt went to. A repair may send
-- a task elsewhere; its earlier attempts stay the old receiver's, in the attempt
-- timeline and in GET /v1/receivers' failures. NULL for attempts made before
-- this migration, which are counted against the task's receiver as before. A
-- nullable column without a default: no table rewrite, and heraldd of the
-- previous release (which does not name it) keeps working during an upgrade.
ALTER TABLE attempts ADD COLUMN target_host text;
