/*
 * store/pg_sql: the text of every fixed statement of the PostgreSQL
 * backend, indexed by PgSql (pg.h), each with the parameters it takes in
 * order. Parameters carry explicit casts, so a statement's types never
 * depend on inference. The filtered listings build theirs in pg_tasks.c and
 * pg_manual.c; the pieces several statements share are in pg_sql_parts.h.
 */
#include "pg.h"

#include "pg_sql_parts.h"

const char *const pg_sql_text[PG_SQL_COUNT] = {
    [PG_SQL_PING] = "SELECT 1",
    [PG_SQL_CLOCK] = "SELECT " PG_CLOCK_MS,
    /* webhook_id, business_id, business_type, target_url, target_host,
     * payload_is_json, idempotency_key, request_hash, max_retry, now,
     * payload, headers, dedup_url, written identity (store_task_written_identity).
     * No row back: a unique index (idempotency key, or the keyless identity)
     * holds another task, or a task stored before herald normalised URLs is
     * known by the written one; nothing was written.
     * With migration 019, also traceparent and tracestate ($15, $16). */
    [PG_SQL_TASK_INSERT] = PG_TASK_INSERT_SQL(", traceparent, tracestate", ", $15::text, $16::text"),
    [PG_SQL_TASK_INSERT_UNTRACED] = PG_TASK_INSERT_SQL("", ""),
    /* Many tasks in one statement, as arrays (one element per task, in order):
     * webhook_id, business_id, business_type, target_url, target_host,
     * payload_is_json, idempotency_key, request_hash, max_retry, payload,
     * headers, dedup_url, written identity; then now. Returns (position from
     * 1, id) for each task created; a task that repeats another (one before
     * it in the arrays too) is not. With migration 019, also the arrays
     * traceparent and tracestate ($15, $16). */
    [PG_SQL_TASK_INSERT_MANY] = PG_TASK_INSERT_MANY_SQL(
        ", $15::text[], $16::text[]", ", traceparent, tracestate", ", traceparent, tracestate"),
    [PG_SQL_TASK_INSERT_MANY_UNTRACED] = PG_TASK_INSERT_MANY_SQL("", "", ""),
    /* holder, lease_ms. Takes the lease if it is the holder's, has expired or
     * was never taken; the term grows at each new acquisition (another holder,
     * or the holder's own expired lease) and stays on a renewal. No row back:
     * another holder's lease runs. Atomic under concurrency: the conflicting
     * row is locked, then the WHERE is checked against its latest version. */
    [PG_SQL_LEADER_ACQUIRE] =
        "INSERT INTO leadership AS l (name, holder, term, expires_at)"
        " VALUES ('herald', $1::text, 1, " PG_CLOCK_MS " + $2::bigint)"
        " ON CONFLICT (name) DO UPDATE SET term = CASE WHEN l.holder = excluded.holder"
        " AND l.expires_at > " PG_CLOCK_MS " THEN l.term ELSE l.term + 1 END,"
        " holder = excluded.holder, expires_at = excluded.expires_at"
        " WHERE l.holder = excluded.holder OR l.expires_at <= " PG_CLOCK_MS
        " RETURNING term",
    /* holder, term: ends the lease now (a clean stop). */
    [PG_SQL_LEADER_RELEASE] =
        "UPDATE leadership SET expires_at = " PG_CLOCK_MS " WHERE name = 'herald'"
        " AND holder = $1::text AND term = $2::bigint AND expires_at > " PG_CLOCK_MS,
    /* holder, term: one row while the lease holds, locked until the end of the
     * transaction. */
    [PG_SQL_LEADER_HOLD] = "SELECT 1 WHERE " PG_FENCE("$1", "$2"),
    /* sender: its own short transaction, never an intake's (see pg_signal.c) */
    [PG_SQL_SIGNAL_SEND] = "SELECT pg_notify('" PG_SIGNAL_CHANNEL "', $1::text)",
    /* id */
    [PG_SQL_TASK_GET] = "SELECT " PG_TASK_COLUMNS ", t.traceparent, t.tracestate FROM "
                        PG_TASKS_WITH_BODIES " WHERE t.id = $1::bigint",
    [PG_SQL_TASK_GET_UNTRACED] = "SELECT " PG_TASK_COLUMNS " FROM " PG_TASKS_WITH_BODIES
                                 " WHERE t.id = $1::bigint", /* before 019 */
    /* idempotency_key */
    [PG_SQL_TASK_BY_KEY] = "SELECT " PG_TASK_COLUMNS ", t.request_hash FROM " PG_TASKS_WITH_BODIES
                           " WHERE t.idempotency_key = $1::text",
    /* business_type, business_id, the URL's normal form, the URL as written
     * (a task stored before herald normalised is known by it): the
     * tasks_dedup index. */
    [PG_SQL_TASK_BY_BUSINESS] =
        "SELECT " PG_TASK_COLUMNS ", t.request_hash FROM " PG_TASKS_WITH_BODIES
        " WHERE t.business_type = $1::text AND t.business_id = $2::text"
        " AND md5(coalesce(t.dedup_url, t.target_url)) IN (md5($3::text), md5($4::text))"
        " AND coalesce(t.dedup_url, t.target_url) IN ($3, $4) AND t.idempotency_key IS NULL"
        " ORDER BY t.id LIMIT 1",
    /* task_id: rewrites a task's body as it is, so the transaction writes
     * WAL and its COMMIT flushes and waits for a synchronous standby
     * (pg_task_find_repeated says why). The body, not the task: the
     * scheduler never locks it. */
    [PG_SQL_TASK_TOUCH] = "UPDATE task_bodies SET headers = headers WHERE task_id = $1::bigint",
    /* Each host with pending work and its earliest due time, one seek of
     * task_queue_due per host (a loose index scan, past the host's tasks in
     * flight), so listing costs O(hosts). */
    [PG_SQL_HOSTS_PENDING] =
        "WITH RECURSIVE hosts AS ("
        " (SELECT target_host, due_at FROM task_queue WHERE NOT delivering"
        " ORDER BY target_host, due_at LIMIT 1)"
        " UNION ALL"
        " SELECT next.target_host, next.due_at FROM hosts, LATERAL"
        " (SELECT target_host, due_at FROM task_queue WHERE NOT delivering"
        " AND target_host > hosts.target_host ORDER BY target_host, due_at LIMIT 1)"
        " AS next)"
        " SELECT target_host, due_at FROM hosts",
    /* target_host */
    [PG_SQL_HOST_NEXT_DUE] = "SELECT due_at FROM task_queue WHERE NOT delivering"
                             " AND target_host = $1::text ORDER BY due_at LIMIT 1",
    /* target_host, now, limit, lease_ms, claim_token. As queues on PostgreSQL
     * claim: the due tasks are picked from the queue and locked first (SKIP
     * LOCKED: another heraldd's claim in progress is passed over, not waited
     * for), then each task and its queue row are updated. Both rows are
     * locked, and neither waited for: a heraldd of an earlier release locks
     * the task first and its trigger the queue row next (migration 009), so
     * waiting for either could close a cycle. Locking the queue row is also
     * what checks it again when it changed since this statement's snapshot
     * (a retry's later due time, a row deleted and written anew): a lock
     * re-reads the latest version of each locked row and applies the
     * conditions on it. The lease ends on the server's clock, which every
     * heraldd sharing the database reads alike (an instance's own clock may
     * be off). A paused receiver's tasks are not taken (store_receivers.c):
     * a claim that starts after the pause committed sees it; nor those of a
     * receiver whose circuit is open (store_breaker.c) but by its probe,
     * PG_SQL_CLAIM_PROBE. */
    [PG_SQL_CLAIM] = PG_CLAIM_SQL(PG_CLAIM_GATE_HELD, PG_CLAIM_EXTRA_TRACED),
    /* The same before migration 019: no task has a trace yet. */
    [PG_SQL_CLAIM_UNTRACED] = PG_CLAIM_SQL(PG_CLAIM_GATE_HELD, PG_CLAIM_EXTRA_ORDERED),
    /* The same before migration 017: no task has an ordering key yet. */
    [PG_SQL_CLAIM_UNORDERED] = PG_CLAIM_SQL(PG_CLAIM_GATE_HELD, PG_CLAIM_EXTRA_BASE),
    /* The same before migration 016: every schedule starts at the first attempt. */
    [PG_SQL_CLAIM_NO_BASE] = PG_CLAIM_SQL(PG_CLAIM_GATE_HELD, PG_CLAIM_EXTRA_NONE),
    /* The same before migration 014: no receiver is held (Retry-After) yet. */
    [PG_SQL_CLAIM_UNHELD] = PG_CLAIM_SQL(" AND NOT EXISTS (SELECT 1 FROM receivers r"
                                         " WHERE r.receiver = $1 AND (r.paused OR r.breaker_open))",
                                         PG_CLAIM_EXTRA_NONE),
    /* The same while migration 011 is held back for older heraldd, and 012
     * and 013 with it: there are no receivers to pause or open yet. */
    [PG_SQL_CLAIM_UNGATED] = PG_CLAIM_SQL("", PG_CLAIM_EXTRA_NONE),
    /* The steps of an attempt's end (store_outcome.c), each one statement
     * for a chunk of rows, one array element a row. TASK_END: each task's
     * new state, only while its claim holds (still delivering under the same
     * attempt and token; a NULL token is a claim made before herald had
     * tokens, which only a rescue ends); returns the ordinal (1-based) of
     * each row that applied. Arrays: task_id, attempt, claim_token, status,
     * next_attempt_at (0: kept), last_status_code, last_error, the attempts
     * given back to the budget (store_breaker.c); then now. The
     * queue row follows: due again, or gone. */
    [PG_SQL_TASK_END] =
        "WITH ended AS (UPDATE tasks t SET status = i.status,"
        " next_attempt_at = CASE WHEN i.next_attempt_at <> 0"
        " THEN i.next_attempt_at ELSE t.next_attempt_at END, updated_at = $9::bigint,"
        " last_status_code = i.status_code, last_error = i.last_error, claim_token = NULL,"
        " max_retry = t.max_retry + i.extra"
        " FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::text[], $5::bigint[],"
        " $6::integer[], $7::text[], $8::integer[]) WITH ORDINALITY AS i (task_id, attempt,"
        " claim_token, status, next_attempt_at, status_code, last_error, extra, ord)"
        " WHERE t.id = i.task_id AND t.status = 'delivering' AND t.attempts = i.attempt"
        " AND t.claim_token IS NOT DISTINCT FROM i.claim_token"
        " RETURNING t.id, t.target_host, t.status, t.next_attempt_at, i.ord),"
        " requeued AS ("
        PG_QUEUE_DUE("SELECT id, target_host, next_attempt_at FROM ended WHERE status = 'pending'")
        "),"
        " gone AS (DELETE FROM task_queue q USING ended WHERE q.task_id = ended.id"
        " AND ended.status <> 'pending')"
        " SELECT ord FROM ended",
    /* Arrays: task_id, attempt, started_at, duration_ms, status_code,
     * error_class, error_message, response_body, response_truncated,
     * receiver. */
    [PG_SQL_ATTEMPT_INSERT] =
        "INSERT INTO attempts (task_id, attempt, started_at, duration_ms, status_code,"
        " error_class, error_message, response_body, response_truncated, target_host)"
        " SELECT * FROM unnest($1::bigint[], $2::integer[], $3::bigint[], $4::bigint[],"
        " $5::integer[], $6::text[], $7::text[], $8::bytea[], $9::boolean[], $10::text[])",
    /* Arrays: task_id, reason; then now. Each entry copies its task's state,
     * which TASK_END has just written. */
    [PG_SQL_MANUAL_INSERT] =
        "INSERT INTO manual (task_id, reason, attempts, last_status_code, last_error, moved_at)"
        " SELECT t.id, i.reason, t.attempts, t.last_status_code, t.last_error, $3::bigint"
        " FROM unnest($1::bigint[], $2::text[]) AS i (task_id, reason)"
        " JOIN tasks t ON t.id = i.task_id",
    /* all (true: every task delivering; false: those whose lease ended by
     * the server's clock). The rows are locked as they are picked, and those
     * another session holds (a concurrent rescue, an outcome being written)
     * are skipped, so two sweeps never record one attempt twice. A task
     * changed since this statement's snapshot is checked again as it is
     * locked, against the conditions on tasks only, so the lease's end is
     * read there too: a sweep that began before another's rescue and the
     * claim after it must not cut that newer claim off. The streak counts the
     * cut-off attempts among the previous STORE_RESCUE_STREAK - 1; the last
     * column is whether the task's receiver's circuit is open (read, not
     * locked: a rescue never waits for a receiver's row). */
    [PG_SQL_RESCUE_SELECT] = PG_RESCUE_SQL("EXISTS (SELECT 1 FROM receivers r"
                                           " WHERE r.receiver = t.target_host"
                                           " AND r.breaker_open)"),
    [PG_SQL_RESCUE_SELECT_UNGATED] = PG_RESCUE_SQL("false"), /* before 013, as the claim */
    /* claim_token, task_id (0: any) */
    [PG_SQL_CLAIM_COUNT] = "SELECT count(*) FROM tasks WHERE claim_token = $1::text"
                           " AND ($2::bigint = 0 OR id = $2)",
    /* task_id */
    [PG_SQL_ATTEMPT_LIST] =
        "SELECT task_id, attempt, started_at, duration_ms, status_code, error_class,"
        " error_message, response_body, response_truncated, target_host FROM attempts"
        " WHERE task_id = $1::bigint ORDER BY attempt, id",
    /* task_id */
    [PG_SQL_MANUAL_OPEN_ID] =
        "SELECT id FROM manual WHERE task_id = $1::bigint AND state = 'open' FOR UPDATE",
    /* task_id, now, budget, target_url (NULL: unchanged), target_host,
     * has_payload, payload_is_json, payload, has_headers, headers, redeliver
     * (a task that succeeded is taken too), hasten (a pending one too, made
     * due now: a redelivery job), expect (NULL, or only a task with this
     * status: a job's filter, as it chose the task). A fresh
     * budget on top of the attempts made, so attempt numbers keep growing (a
     * pending task a job hastens keeps a larger budget it has). */
    [PG_SQL_MANUAL_RETRY_TASK] = PG_RETRY_TASK_SQL(" retry_base = attempts,"),
    [PG_SQL_MANUAL_RETRY_TASK_NO_BASE] = PG_RETRY_TASK_SQL(""),
    /* entry id, now, resolution, note */
    [PG_SQL_MANUAL_CLOSE] = "UPDATE manual SET state = 'resolved', resolved_at = $2::bigint,"
                            " resolution = $3::text, note = $4::text WHERE id = $1::bigint",
    /* business_type (NULL: any), since, until, reason (NULL: any), through_id */
    [PG_SQL_MANUAL_MATCHING] = PG_MANUAL_MATCHING_SQL("t.traceparent"),
    [PG_SQL_MANUAL_MATCHING_UNTRACED] = PG_MANUAL_MATCHING_SQL("NULL::text"), /* before 019 */
    /* task_id, action, actor, note, details, now */
    [PG_SQL_ACTION_INSERT] =
        "INSERT INTO actions (task_id, action, actor, note, details, created_at)"
        " VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::text, $6::bigint)",
    /* task_id */
    [PG_SQL_ACTION_LIST] = "SELECT id, task_id, action, actor, note, details, created_at"
                           " FROM actions WHERE task_id = $1::bigint ORDER BY id",
    /* From the queue (its rows are the pending and delivering tasks) and a
     * partial index: the backlog's size, not the history's. */
    [PG_SQL_COUNT_ACTIVE] =
        "SELECT count(*) FILTER (WHERE NOT delivering), count(*) FILTER (WHERE delivering),"
        " (SELECT count(*) FROM manual WHERE state = 'open') FROM task_queue",
    [PG_SQL_COUNT_BY_STATUS] = "SELECT status, count(*) FROM tasks GROUP BY status",
    [PG_SQL_COUNT_MANUAL_OPEN] = "SELECT count(*) FROM manual WHERE state = 'open'",
    /* since, bucket, until: the attempts_started index (migration 004). */
    [PG_SQL_ATTEMPT_SERIES] =
        "SELECT (started_at - $1::bigint) / $2::bigint,"
        " count(*) FILTER (WHERE error_class IS NULL),"
        " count(*) FILTER (WHERE error_class IS NOT NULL) FROM attempts"
        " WHERE started_at >= $1::bigint AND started_at < $3::bigint GROUP BY 1",
    /* limit */
    [PG_SQL_RECEIVER_BACKLOG] =
        "SELECT target_host, count(*) FILTER (WHERE NOT delivering),"
        " count(*) FILTER (WHERE delivering) FROM task_queue GROUP BY target_host"
        " ORDER BY count(*) DESC LIMIT $1::integer",
    /* since, limit */
    [PG_SQL_RECEIVER_FAILURES] =
        /* with the latest failure's time, class and message, in one statement */
        "SELECT f.host, f.n, a.started_at, a.error_class, a.error_message FROM"
        " (SELECT coalesce(a.target_host, t.target_host) AS host, count(*) AS n,"
        " max(a.id) AS latest FROM attempts a JOIN tasks t ON t.id = a.task_id"
        " WHERE a.started_at >= $1::bigint AND a.error_class IS NOT NULL GROUP BY 1"
        " ORDER BY 2 DESC LIMIT $2::integer) f JOIN attempts a ON a.id = f.latest"
        " ORDER BY f.n DESC",
    /* since (for the three below) */
    [PG_SQL_BACKLOG_COUNT] =
        "SELECT count(*) FROM manual WHERE state = 'open' AND moved_at >= $1::bigint",
    [PG_SQL_BACKLOG_BY_TYPE] =
        "SELECT t.business_type, count(*) AS n FROM manual m JOIN tasks t ON t.id = m.task_id"
        " WHERE m.state = 'open' AND m.moved_at >= $1::bigint GROUP BY t.business_type"
        " ORDER BY n DESC, t.business_type LIMIT 32",
    [PG_SQL_BACKLOG_SAMPLE] = "SELECT task_id, moved_at FROM manual WHERE state = 'open'"
                              " AND moved_at >= $1::bigint ORDER BY moved_at, id LIMIT 10",
    /* kind, instance, state, count, details, now, holder (NULL: no fence),
     * term, after_id (0: none). No row back: the fence or after_id refused it. */
    [PG_SQL_ALERT_INSERT] =
        "INSERT INTO alerts (kind, instance, state, count, details, created_at)"
        " SELECT $1::text, $2::text, $3::text, $4::bigint, $5::text, $6::bigint"
        " WHERE ($7::text IS NULL OR " PG_FENCE("$7", "$8") ")"
        " AND ($9::bigint = 0 OR NOT EXISTS (SELECT 1 FROM alerts WHERE kind = $1"
        " AND instance IS NOT DISTINCT FROM $2 AND id > $9))"
        " RETURNING id",
    /* id, holder, term, claim_ms: the claim of the leader that sends it; an
     * unsent alert no live claim of another has, while the lease holds. */
    [PG_SQL_ALERT_CLAIM] =
        "UPDATE alerts SET sending_by = $2::text, sending_term = $3::bigint,"
        " sending_until = " PG_CLOCK_MS " + $4::bigint"
        " WHERE id = $1::bigint AND sent_at IS NULL AND (sending_until IS NULL"
        " OR sending_until <= " PG_CLOCK_MS " OR (sending_by = $2 AND sending_term = $3))"
        " AND " PG_FENCE("$2", "$3") " RETURNING id",
    /* id, webhook_sent_at, command_sent_at, sent_at, send_error, holder, term:
     * only while that claim has it; ends the claim. */
    [PG_SQL_ALERT_SENT] = "UPDATE alerts SET webhook_sent_at = $2::bigint,"
                          " command_sent_at = $3::bigint, sent_at = $4::bigint,"
                          " send_error = $5::text, sending_until = NULL WHERE id = $1::bigint"
                          " AND sending_by = $6::text AND sending_term = $7::bigint",
    /* The latest alert of each (kind, instance), where it is firing. */
    [PG_SQL_ALERT_FIRING] =
        "SELECT " PG_ALERT_COLUMNS " FROM alerts WHERE id IN (SELECT max(id) FROM alerts"
        " GROUP BY kind, instance) AND state = 'firing' ORDER BY id LIMIT 100",
    [PG_SQL_ALERT_UNSENT] = "SELECT " PG_ALERT_COLUMNS " FROM alerts WHERE sent_at IS NULL"
                            " ORDER BY id LIMIT 20",
    /* before, limit */
    [PG_SQL_ALERT_LIST] = "SELECT " PG_ALERT_COLUMNS " FROM alerts WHERE id < $1::bigint"
                          " ORDER BY id DESC LIMIT $2::integer",
    /* kind, instance (NULL: about every instance) */
    [PG_SQL_ALERT_LATEST] = "SELECT " PG_ALERT_COLUMNS " FROM alerts WHERE kind = $1::text"
                            " AND instance IS NOT DISTINCT FROM $2::text"
                            " ORDER BY id DESC LIMIT 1",
    /* cutoff. Ids grow with time, so tasks created after the cutoff bound
     * the scans below. */
    [PG_SQL_RETENTION_BOUNDARY] =
        "SELECT id FROM tasks WHERE created_at >= $1::bigint ORDER BY id LIMIT 1",
    /* cutoff, boundary, limit: the sets of store_retention.c (backend.h). A
     * task with an open entry is in neither task set. */
    [PG_SQL_RETENTION_SUCCEEDED] =
        "SELECT id FROM tasks WHERE status = 'succeeded' AND id < $2::bigint"
        " AND updated_at < $1::bigint AND NOT EXISTS (SELECT 1 FROM manual m"
        " WHERE m.task_id = tasks.id AND m.state = 'open') ORDER BY id LIMIT $3::integer",
    [PG_SQL_RETENTION_RESOLVED] =
        "SELECT id FROM tasks WHERE status = 'failed' AND id < $2::bigint"
        " AND updated_at < $1::bigint AND NOT EXISTS (SELECT 1 FROM manual m"
        " WHERE m.task_id = tasks.id AND (m.state = 'open' OR m.resolved_at >= $1::bigint))"
        " ORDER BY id LIMIT $3::integer",
    /* cutoff, limit */
    [PG_SQL_RETENTION_ALERTS] =
        "SELECT id FROM alerts WHERE sent_at IS NOT NULL AND created_at < $1::bigint"
        " ORDER BY id LIMIT $2::integer",
    /* ids. A deleted task's body and attempt log go with it (no foreign keys
     * on these hot tables: see migrations/postgresql/001); its manual entries
     * and actions by ON DELETE CASCADE. Counts the tasks. */
    [PG_SQL_RETENTION_DELETE_TASKS] =
        "WITH gone AS (DELETE FROM tasks WHERE id = ANY($1::bigint[])"
        " AND status IN ('succeeded', 'failed') RETURNING id),"
        " bodies AS (DELETE FROM task_bodies WHERE task_id IN (SELECT id FROM gone)),"
        " logged AS (DELETE FROM attempts WHERE task_id IN (SELECT id FROM gone))"
        " SELECT count(*) FROM gone",
    /* ids */
    [PG_SQL_RETENTION_DELETE_ALERTS] = "DELETE FROM alerts WHERE id = ANY($1::bigint[])",
    /* id, host, pid, version, started_at, heartbeat_at, leader, deliveries,
     * schema_known (the migrations this heraldd knows: pg_schema.c holds
     * back one that takes away what older heraldd use) */
    [PG_SQL_INSTANCE_BEAT] =
        "INSERT INTO instances (id, host, pid, version, started_at, heartbeat_at, leader,"
        " deliveries, schema_known) VALUES ($1::text, $2::text, $3::integer, $4::text,"
        " $5::bigint, $6::bigint, $7::boolean, $8::bigint, $9::integer) ON CONFLICT (id)"
        " DO UPDATE SET heartbeat_at = excluded.heartbeat_at, leader = excluded.leader,"
        " deliveries = excluded.deliveries, schema_known = excluded.schema_known",
    /* forget_before */
    [PG_SQL_INSTANCE_FORGET] = "DELETE FROM instances WHERE heartbeat_at < $1::bigint",
    /* id */
    [PG_SQL_INSTANCE_LEAVE] = "DELETE FROM instances WHERE id = $1::text",
    [PG_SQL_DEAD_TUPLES] = "SELECT relname::text, n_dead_tup FROM pg_stat_user_tables"
                           " WHERE relname IN ('tasks', 'task_bodies', 'attempts', 'manual')",
    [PG_SQL_OLDEST_TRANSACTION] =
        "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start) * 1000), 0)::bigint"
        " FROM pg_stat_activity WHERE datname = current_database() AND xact_start IS NOT NULL"
        " AND pid <> pg_backend_pid()",
    /* leader: the holder of the unexpired lease, as the server sees it now,
     * not what the instance last wrote of itself */
    [PG_SQL_INSTANCE_LIST] =
        "SELECT i.id, i.host, i.pid, i.version, i.started_at, i.heartbeat_at,"
        " l.holder IS NOT NULL, i.deliveries FROM instances i LEFT JOIN leadership l"
        " ON l.name = 'herald' AND l.holder = i.id AND l.expires_at > " PG_CLOCK_MS
        " ORDER BY i.heartbeat_at DESC, i.id",
    /* Receivers an operator paused (pg_receivers.c). A pause or resume
     * returns the row only when it changed it. receiver, now, actor, note. */
    /* The receivers paused, or whose circuit is open or counting failures. */
    [PG_SQL_GATE_LIST] =
        "SELECT receiver, paused_at, paused_by, note, paused, breaker_open, failures,"
        " coalesce(opened_at, 0), coalesce(next_probe_at, 0),"
        " CASE WHEN probe_token IS NULL THEN 0 ELSE coalesce(probe_until, 0) END"
        " FROM receivers WHERE paused OR breaker_open OR failures > 0 ORDER BY receiver",
    [PG_SQL_RECEIVER_PAUSE] =
        "INSERT INTO receivers (receiver, paused, paused_at, paused_by, note, updated_at)"
        " VALUES ($1::text, true, $2::bigint, $3::text, $4::text, $2) ON CONFLICT (receiver)"
        " DO UPDATE SET paused = true, paused_at = $2, paused_by = $3, note = $4,"
        " updated_at = $2 WHERE NOT receivers.paused RETURNING receiver",
    /* receiver, now */
    [PG_SQL_RECEIVER_RESUME] =
        "UPDATE receivers SET paused = false, paused_at = NULL, paused_by = NULL, note = NULL,"
        " updated_at = $2::bigint WHERE receiver = $1::text AND paused RETURNING receiver",
    /* receiver, action, actor, note, now */
    [PG_SQL_RECEIVER_ACTION_INSERT] =
        "INSERT INTO receiver_actions (receiver, action, actor, note, created_at)"
        " VALUES ($1::text, $2::text, $3::text, $4::text, $5::bigint)",
    /* version: heraldd that know fewer migrations, beating lately by the
     * server's clock (pg_schema.c holds a migration back the same way). */
    [PG_SQL_OLDER_INSTANCES] = "SELECT count(*) FROM instances WHERE schema_known < $1::integer"
                               " AND heartbeat_at > " PG_CLOCK_MS " - "
                               STORE_STRINGIFY(PG_MIGRATION_OLDER_BEAT_MS),
    /* receiver, before, limit */
    [PG_SQL_RECEIVER_ACTION_LIST] = "SELECT id, action, actor, note, created_at"
                                    " FROM receiver_actions WHERE receiver = $1::text"
                                    " AND id < $2::bigint ORDER BY id DESC LIMIT $3::integer",
    /* target_host, now, lease_ms, claim_token. The probe of an open circuit
     * (store_breaker.c): the receiver's row is locked first, and passed over
     * if another session holds it (SKIP LOCKED, never waited for: an outcome
     * counting a failure, another heraldd's probe), then one due task as
     * PG_SQL_CLAIM takes it; the row names the claim's token as its probe,
     * leased on the server's clock, only if a task was claimed. */
    [PG_SQL_CLAIM_PROBE] = PG_CLAIM_PROBE_SQL(PG_PROBE_GATE_HELD, PG_CLAIM_EXTRA_TRACED),
    [PG_SQL_CLAIM_PROBE_UNTRACED] = PG_CLAIM_PROBE_SQL(PG_PROBE_GATE_HELD, PG_CLAIM_EXTRA_ORDERED),
    /* The same before migration 017, before 016, and before 014: no receiver held yet. */
    [PG_SQL_CLAIM_PROBE_UNORDERED] = PG_CLAIM_PROBE_SQL(PG_PROBE_GATE_HELD, PG_CLAIM_EXTRA_BASE),
    [PG_SQL_CLAIM_PROBE_NO_BASE] = PG_CLAIM_PROBE_SQL(PG_PROBE_GATE_HELD, PG_CLAIM_EXTRA_NONE),
    [PG_SQL_CLAIM_PROBE_UNHELD] = PG_CLAIM_PROBE_SQL("", PG_CLAIM_EXTRA_NONE),
    /* receiver */
    [PG_SQL_BREAKER_READ] =
        "SELECT breaker_open, failures, coalesce(opened_at, 0), coalesce(probe_interval_ms, 0),"
        " probe_token FROM receivers WHERE receiver = $1::text",
    [PG_SQL_BREAKER_READ_LOCK] =
        "SELECT breaker_open, failures, coalesce(opened_at, 0), coalesce(probe_interval_ms, 0),"
        " probe_token FROM receivers WHERE receiver = $1::text FOR UPDATE",
    /* receiver, now */
    [PG_SQL_BREAKER_ENSURE] = "INSERT INTO receivers (receiver, updated_at)"
                              " VALUES ($1::text, $2::bigint) ON CONFLICT (receiver) DO NOTHING",
    /* receiver, open, failures, opened_at, probe_interval_ms, probe_in_ms,
     * clear_probe, closed, now. The next probe is due on the server's clock,
     * which every heraldd's probe claim reads. */
    [PG_SQL_BREAKER_WRITE] =
        "UPDATE receivers SET breaker_open = $2::boolean, failures = $3::integer,"
        " opened_at = nullif($4::bigint, 0), probe_interval_ms = nullif($5::bigint, 0),"
        " next_probe_at = CASE WHEN NOT $2 THEN NULL WHEN $6::bigint >= 0"
        " THEN " PG_CLOCK_MS " + $6 ELSE next_probe_at END,"
        " probe_token = CASE WHEN $7::boolean THEN NULL ELSE probe_token END,"
        " probe_until = CASE WHEN $7 THEN NULL ELSE probe_until END,"
        " closed_at = CASE WHEN $8::boolean THEN $9::bigint ELSE closed_at END,"
        " updated_at = $9 WHERE receiver = $1",
    /* receiver, interval_us, burst, want. Takes up to WANT tokens from the
     * receiver's bucket (rate_limit.h: the same arithmetic as
     * rate_bucket_take) on the server's clock, which every heraldd reads
     * alike; the row is locked for this statement only. Returns the tokens
     * taken, the new TAT and the clock it was taken at. */
    [PG_SQL_RATE_TAKE] =
        "INSERT INTO receiver_rates AS r (receiver, tat_us, granted, taken_at_us)"
        " SELECT $1::text, n.us + least($4::bigint, $3::bigint) * $2::bigint, least($4, $3), n.us"
        " FROM (SELECT " PG_CLOCK_US " AS us) n ON CONFLICT (receiver) DO UPDATE"
        " SET granted = " PG_RATE_TAKEN ", tat_us = " PG_RATE_TAT
        " + " PG_RATE_TAKEN " * $2, taken_at_us = excluded.taken_at_us"
        " RETURNING granted, tat_us, taken_at_us",
    /* receiver, interval_us, count, the take's clock: tokens taken and not
     * used, given back only if no take came since (store_rate_give_back). */
    [PG_SQL_RATE_GIVE_BACK] = "UPDATE receiver_rates SET tat_us = tat_us - $2::bigint * $3::bigint"
                              " WHERE receiver = $1::text AND taken_at_us = $4::bigint",
    /* receiver, interval_us, count: COUNT requests go out now
     * (store_rate_charge); a give-back from before it no longer applies. */
    [PG_SQL_RATE_CHARGE] =
        "UPDATE receiver_rates SET tat_us = greatest(tat_us, " PG_CLOCK_US " + $2::bigint"
        " * $3::bigint), taken_at_us = " PG_CLOCK_US " WHERE receiver = $1::text",
    /* receiver, hold_ms, now. A 429 or 503 with Retry-After: the receiver is
     * held until then on the server's clock, or longer if it is already. */
    [PG_SQL_RECEIVER_HOLD] =
        "INSERT INTO receivers (receiver, updated_at, held_until)"
        " VALUES ($1::text, $3::bigint, " PG_CLOCK_MS " + $2::bigint) ON CONFLICT (receiver)"
        " DO UPDATE SET held_until = greatest(coalesce(receivers.held_until, 0),"
        " excluded.held_until)",
    /* receiver: how much of its hold is left, in ms (none: no row) */
    [PG_SQL_RECEIVER_HELD] = "SELECT greatest(coalesce(held_until, 0) - " PG_CLOCK_MS ", 0)"
                             " FROM receivers WHERE receiver = $1::text",
    /* Redelivery jobs (store_redelivery.c): after, through, status, type,
     * receiver, prefix, from, to, class (NULL: any) */
    [PG_SQL_REDELIVERY_COUNT] = "SELECT count(*) FROM tasks t WHERE " PG_REDELIVERY_MATCH,
    /* ... then limit */
    [PG_SQL_REDELIVERY_TASKS] = PG_REDELIVERY_TASKS_SQL("t.traceparent"),
    [PG_SQL_REDELIVERY_TASKS_UNTRACED] = PG_REDELIVERY_TASKS_SQL("NULL::text"), /* before 019 */
    [PG_SQL_TASK_NEWEST] = "SELECT coalesce(max(id), 0) FROM tasks",
    /* type, receiver, prefix, status, class, from, to, full, pace, reason,
     * actor, through, matched, now */
    [PG_SQL_REDELIVERY_INSERT] =
        "INSERT INTO redelivery_jobs (state, business_type, receiver, url_prefix, task_status,"
        " error_class, created_from, created_to, full_schedule, pace, reason, actor, through_id,"
        " matched, created_at, updated_at) VALUES ('running', $1::text, $2::text, $3::text,"
        " $4::text, $5::text, $6::bigint, $7::bigint, $8::boolean, $9::integer, $10::text,"
        " $11::text, $12::bigint, $13::bigint, $14::bigint, $14) RETURNING id",
    /* status, type, receiver, prefix, from, to, class */
    [PG_SQL_REDELIVERY_RUNNING] =
        "SELECT id FROM redelivery_jobs WHERE state = 'running' AND task_status = $1::text"
        " AND business_type IS NOT DISTINCT FROM $2::text"
        " AND receiver IS NOT DISTINCT FROM $3::text AND url_prefix IS NOT DISTINCT FROM $4::text"
        " AND created_from IS NOT DISTINCT FROM $5::bigint"
        " AND created_to IS NOT DISTINCT FROM $6::bigint"
        " AND error_class IS NOT DISTINCT FROM $7::text LIMIT 1",
    [PG_SQL_REDELIVERY_GET] =
        "SELECT " STORE_REDELIVERY_COLUMNS " FROM redelivery_jobs WHERE id = $1::bigint",
    /* before, limit */
    [PG_SQL_REDELIVERY_LIST] = "SELECT " STORE_REDELIVERY_COLUMNS " FROM redelivery_jobs"
                               " WHERE id < $1::bigint ORDER BY id DESC LIMIT $2::integer",
    /* id, actor, now */
    [PG_SQL_REDELIVERY_CANCEL] =
        "UPDATE redelivery_jobs SET state = 'cancelled', cancelled_by = $2::text,"
        " finished_at = $3::bigint, updated_at = $3, lease_token = NULL"
        " WHERE id = $1::bigint AND state = 'running' RETURNING id",
    /* token, lease_ms, now. The lease on the server's clock, which every
     * heraldd's claim compares alike; a job another session is claiming is
     * passed over, not waited for. */
    [PG_SQL_REDELIVERY_CLAIM] =
        "UPDATE redelivery_jobs SET lease_token = $1::text,"
        " lease_until = " PG_CLOCK_MS " + $2::bigint, updated_at = $3::bigint"
        " WHERE id = (SELECT id FROM redelivery_jobs WHERE state = 'running'"
        " AND (lease_until IS NULL OR lease_until <= " PG_CLOCK_MS ")"
        " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING " STORE_REDELIVERY_COLUMNS,
    /* id, token: the job's row locked for the step, its cursor read, while the
     * token holds it (a cancel or a takeover waits for the step, or the step
     * finds it gone). */
    [PG_SQL_REDELIVERY_LOCK] = "SELECT cursor_id FROM redelivery_jobs WHERE id = $1::bigint"
                               " AND lease_token = $2::text AND state = 'running' FOR UPDATE",
    /* ids (in order): the first of them that could not be locked, or whose
     * open manual entry could not be (none: every one is locked now). */
    [PG_SQL_REDELIVERY_LOCK_TASKS] =
        "WITH chunk AS MATERIALIZED (SELECT unnest($1::bigint[]) AS id),"
        " tasks_locked AS MATERIALIZED (SELECT t.id FROM tasks t WHERE t.id = ANY($1)"
        " ORDER BY t.id FOR UPDATE SKIP LOCKED),"
        " entries AS MATERIALIZED (SELECT m.task_id FROM manual m WHERE m.task_id = ANY($1)"
        " AND m.state = 'open'),"
        " entries_locked AS MATERIALIZED (SELECT m.task_id FROM manual m WHERE m.task_id = ANY($1)"
        " AND m.state = 'open' ORDER BY m.id FOR UPDATE SKIP LOCKED)"
        " SELECT min(c.id) FROM chunk c WHERE c.id NOT IN (SELECT id FROM tasks_locked)"
        " OR (c.id IN (SELECT task_id FROM entries)"
        " AND c.id NOT IN (SELECT task_id FROM entries_locked))",
    /* id, token, cursor, sent, skipped, done, lease_ms, now */
    [PG_SQL_REDELIVERY_ADVANCE] =
        "UPDATE redelivery_jobs SET cursor_id = $3::bigint, sent = sent + $4::bigint,"
        " skipped = skipped + $5::bigint, lease_until = " PG_CLOCK_MS " + $7::bigint,"
        " updated_at = $8::bigint, state = CASE WHEN $6::boolean THEN 'done' ELSE state END,"
        " finished_at = CASE WHEN $6 THEN $8 ELSE finished_at END,"
        " lease_token = CASE WHEN $6 THEN NULL ELSE lease_token END"
        " WHERE id = $1::bigint AND lease_token = $2::text AND state = 'running' RETURNING id",
    /* Strict order per key (store_ordering.h; pg_ordering.c). receiver, key,
     * now, block, task id, waiting: the key's row made or locked (its lock
     * orders one key's intakes across heraldd until the commit), the next
     * sequence number given to the task, which waits unless it is the head. */
    [PG_SQL_ORDERING_ENQUEUE] =
        "WITH k AS (INSERT INTO ordering_keys (receiver, ordering_key, last_seq, head_seq,"
        " updated_at) VALUES ($1::text, $2::text, 1, 1, $3::bigint)"
        " ON CONFLICT (receiver, ordering_key) DO UPDATE SET"
        " last_seq = ordering_keys.last_seq + 1, updated_at = excluded.updated_at"
        " RETURNING id, last_seq, head_seq),"
        " t AS (UPDATE tasks SET ordering_key = $2, ordering_key_id = k.id,"
        " ordering_seq = k.last_seq, ordering_block = $4::boolean,"
        " next_attempt_at = CASE WHEN k.last_seq > k.head_seq THEN $6::bigint"
        " ELSE tasks.next_attempt_at END FROM k WHERE tasks.id = $5::bigint"
        " RETURNING tasks.id, tasks.next_attempt_at),"
        " q AS (UPDATE task_queue SET due_at = t.next_attempt_at FROM t"
        " WHERE task_queue.task_id = t.id)"
        " SELECT last_seq, last_seq > head_seq FROM k",
    [PG_SQL_ORDERING_PLACE] = PG_ORDERING_PLACE_SQL(""),
    /* The key's row locked, after the task's (store_ordering.h's order). */
    [PG_SQL_ORDERING_PLACE_LOCK] = PG_ORDERING_PLACE_SQL(" FOR UPDATE OF k"),
    /* key id, seq, now, waiting: the head moved on, and the next made due. */
    [PG_SQL_ORDERING_PASS] =
        "WITH k AS (UPDATE ordering_keys SET head_seq = head_seq + 1, blocked_task_id = NULL,"
        " blocked_at = NULL, updated_at = $3::bigint WHERE id = $1::bigint"
        " AND head_seq = $2::bigint RETURNING id, head_seq, last_seq),"
        " t AS (UPDATE tasks SET next_attempt_at = $3 FROM k"
        " WHERE tasks.ordering_key_id = k.id AND tasks.ordering_seq = k.head_seq"
        " AND k.head_seq <= k.last_seq AND tasks.status = 'pending'"
        " AND tasks.next_attempt_at = $4::bigint RETURNING tasks.id, tasks.target_host),"
        " q AS (UPDATE task_queue SET due_at = $3 FROM t WHERE task_queue.task_id = t.id)"
        " SELECT target_host FROM t",
    [PG_SQL_ORDERING_BLOCK] =
        "UPDATE ordering_keys SET blocked_task_id = nullif($2::bigint, 0),"
        " blocked_at = CASE WHEN $2 = 0 THEN NULL ELSE $3::bigint END, updated_at = $3"
        " WHERE id = $1::bigint",
    [PG_SQL_ORDERING_REWAIT] =
        "WITH t AS (UPDATE tasks SET next_attempt_at = $2::bigint WHERE id = $1::bigint"
        " AND status = 'pending' RETURNING id)"
        " UPDATE task_queue SET due_at = $2 FROM t WHERE task_queue.task_id = t.id",
    [PG_SQL_ORDERING_LIST] =
        "SELECT id, receiver, ordering_key, last_seq, head_seq, coalesce(blocked_task_id, 0),"
        " coalesce(blocked_at, 0), updated_at FROM ordering_keys WHERE id < $1::bigint"
        " AND (NOT $2::boolean OR blocked_task_id IS NOT NULL)"
        " AND ($3::text IS NULL OR receiver = $3) AND ($4::text IS NULL OR ordering_key = $4)"
        " ORDER BY CASE WHEN $6::boolean THEN blocked_at END, id DESC LIMIT $5::integer",
    [PG_SQL_ORDERING_BLOCKED] =
        "SELECT count(*), coalesce(min(blocked_at), 0) FROM ordering_keys"
        " WHERE blocked_task_id IS NOT NULL AND blocked_at < $1::bigint",
    /* The heads that ended on keys they did not move (store_ordering_heal). */
    [PG_SQL_ORDERING_STALLED] =
        "SELECT t.id FROM ordering_keys k JOIN tasks t ON t.ordering_key_id = k.id"
        " AND t.ordering_seq = k.head_seq WHERE k.head_seq <= k.last_seq"
        " AND k.blocked_task_id IS NULL AND t.status IN ('succeeded', 'failed')"
        " ORDER BY k.id LIMIT $1::integer",
};
