-- 017: a task's trace (issue 27). traceparent is the W3C context of the task's
-- intake span ("00-<trace id>-<span id>-<flags>"), which every attempt is a child of;
-- tracestate is the caller's, passed on as given. NULL for tasks accepted before.
ALTER TABLE tasks ADD COLUMN traceparent TEXT;
ALTER TABLE tasks ADD COLUMN tracestate TEXT;
