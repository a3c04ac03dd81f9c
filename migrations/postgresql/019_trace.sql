-- 019: a task's trace (issue 27). traceparent is the W3C context of the task's
-- intake span ("00-<trace id>-<span id>-<flags>"), which every attempt is a child of,
-- on whichever heraldd delivers it; tracestate is the caller's, passed on as given.
-- NULL for tasks accepted before, and for those a heraldd of an earlier release
-- accepts. Nullable columns: no rewrite, an instant's lock.
ALTER TABLE tasks ADD COLUMN traceparent text;
ALTER TABLE tasks ADD COLUMN tracestate text;
