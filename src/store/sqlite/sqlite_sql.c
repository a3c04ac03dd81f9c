/*
 * store/sqlite_sql: the text of every statement the SQLite backend caches,
 * indexed by StoreSql (sqlite.h). The filtered listings build theirs in
 * sqlite_tasks.c and sqlite_manual.c.
 */
#include "sqlite.h"

/* An alert row as sqlite_alert_read_row() reads it. */
#define STORE_ALERT_COLUMNS                                                                        \
    "id, kind, state, count, details, created_at, sent_at, send_error, webhook_sent_at,"           \
    " command_sent_at, instance"

/* A leader's fence (store.h, StoreFence): its lease still has its term,
 * unexpired at :now. */
#define STORE_FENCE                                                                                \
    "EXISTS (SELECT 1 FROM leadership WHERE name = 'herald' AND holder = :holder"                  \
    " AND term = :term AND expires_at > :now)"

/* The tasks a redelivery job's filter matches after its cursor and up to
 * its bound (a NULL term: any); the latest attempt's class by the attempts
 * log's index on (task_id, attempt). */
#define SQLITE_REDELIVERY_MATCH                                                                    \
    "t.id > :after AND t.id <= :through AND t.status = :status"                                   \
    " AND t.next_attempt_at <> " STORE_STRINGIFY(STORE_ORDERING_WAITING_LITERAL)                   \
    " AND (:type IS NULL OR t.business_type = :type)"                                              \
    " AND (:receiver IS NULL OR t.target_host = :receiver)"                                        \
    " AND (:prefix IS NULL OR substr(t.target_url, 1, length(:prefix)) = :prefix)"                \
    " AND (:from IS NULL OR t.created_at >= :from) AND (:to IS NULL OR t.created_at < :to)"        \
    " AND (:class IS NULL OR EXISTS (SELECT 1 FROM attempts a WHERE a.task_id = t.id"              \
    " AND a.attempt = t.attempts AND a.error_class = :class))"

const char *const sqlite_sql_text[STORE_SQL_COUNT] = {
    [STORE_SQL_BEGIN] = "BEGIN IMMEDIATE",
    [STORE_SQL_COMMIT] = "COMMIT",
    [STORE_SQL_ROLLBACK] = "ROLLBACK",
    [STORE_SQL_SAVEPOINT] = "SAVEPOINT herald_item",
    [STORE_SQL_RELEASE] = "RELEASE herald_item",
    [STORE_SQL_ROLLBACK_TO] = "ROLLBACK TO herald_item",
    [STORE_SQL_PING] = "SELECT count(*) FROM sqlite_schema",
    [STORE_SQL_INSTANCE_BEAT] =
        "INSERT INTO instances (id, host, pid, version, started_at, heartbeat_at, leader,"
        " deliveries) VALUES (:id, :host, :pid, :version, :started, :beat, :leader, :deliveries)"
        " ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,"
        " leader = excluded.leader, deliveries = excluded.deliveries",
    [STORE_SQL_INSTANCE_FORGET] = "DELETE FROM instances WHERE heartbeat_at < :before",
    [STORE_SQL_INSTANCE_LEAVE] = "DELETE FROM instances WHERE id = :id",
    /* leader: the holder of the unexpired lease, not what it wrote of itself */
    [STORE_SQL_INSTANCE_LIST] =
        "SELECT i.id, i.host, i.pid, i.version, i.started_at, i.heartbeat_at,"
        " l.holder IS NOT NULL, i.deliveries FROM instances i LEFT JOIN leadership l"
        " ON l.name = 'herald' AND l.holder = i.id AND l.expires_at > :now"
        " ORDER BY i.heartbeat_at DESC, i.id",
    /* One heraldd uses a file at a time (its lock file): it takes the lease
     * whoever held it. The term grows at each new acquisition, as on
     * PostgreSQL. */
    [STORE_SQL_LEADER_ACQUIRE] =
        "INSERT INTO leadership (name, holder, term, expires_at)"
        " VALUES ('herald', :holder, 1, :now + :lease)"
        " ON CONFLICT (name) DO UPDATE SET term = CASE WHEN holder = excluded.holder"
        " AND expires_at > :now THEN term ELSE term + 1 END, holder = excluded.holder,"
        " expires_at = excluded.expires_at RETURNING term",
    [STORE_SQL_LEADER_RELEASE] = "UPDATE leadership SET expires_at = :now WHERE name = 'herald'"
                                 " AND holder = :holder AND term = :term AND expires_at > :now",
    [STORE_SQL_LEADER_HOLD] = "SELECT " STORE_FENCE,
    [STORE_SQL_TASK_INSERT] =
        "INSERT INTO tasks (webhook_id, business_id, business_type, target_url, payload,"
        " payload_is_json, headers, idempotency_key, request_hash, status, attempts, max_retry,"
        " next_attempt_at, created_at, updated_at, target_host, dedup_url, traceparent,"
        " tracestate)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?, ?, ?)",
    [STORE_SQL_TASK_GET] = "SELECT " STORE_TASK_COLUMNS " FROM tasks WHERE id = ?",
    [STORE_SQL_TASK_BY_KEY] =
        "SELECT " STORE_TASK_COLUMNS ", request_hash FROM tasks WHERE idempotency_key = ?",
    /* business_id, business_type, and the URL's normal form, or the URL as
     * written (a task stored before herald normalised is known by it): one
     * value a statement, so it is one seek of the tasks_business index
     * (migration 005), whose expression this matches; IN (?, ?) cost every
     * insert an ephemeral table. */
    [STORE_SQL_TASK_BY_BUSINESS] =
        "SELECT " STORE_TASK_COLUMNS ", request_hash FROM tasks"
        " WHERE business_id = ? AND business_type = ? AND coalesce(dedup_url, target_url) = ?"
        " AND idempotency_key IS NULL ORDER BY id LIMIT 1",
    /* The first host after :after with pending work, and its earliest due time:
     * one index seek, so listing hosts costs O(hosts), not O(tasks). */
    [STORE_SQL_HOSTS_PENDING] = "SELECT target_host, next_attempt_at FROM tasks"
                                " INDEXED BY tasks_host_due"
                                " WHERE status = 'pending' AND target_host > :after"
                                " ORDER BY target_host, next_attempt_at LIMIT 1",
    [STORE_SQL_HOST_NEXT_DUE] = "SELECT next_attempt_at FROM tasks"
                                " WHERE status = 'pending' AND target_host = ?"
                                " ORDER BY next_attempt_at LIMIT 1",
    /* This heraldd is the database's only one: its clock is the database's.
     * A paused receiver's tasks are not taken (store_receivers.c), nor those
     * of a receiver whose circuit is open (store_breaker.c), except by its
     * probe, whose token STORE_SQL_PROBE_GATE has just written there. */
    [STORE_SQL_CLAIM] =
        "UPDATE tasks SET status = 'delivering', attempts = attempts + 1,"
        " next_attempt_at = :now + :lease_ms, claim_token = :token, updated_at = :now"
        " WHERE id IN (SELECT id FROM tasks WHERE status = 'pending' AND target_host = :host"
        " AND next_attempt_at <= :now"
        " AND NOT EXISTS (SELECT 1 FROM receivers WHERE receiver = :host AND (paused"
        " OR (breaker_open AND probe_token IS NOT :token)))"
        " ORDER BY next_attempt_at LIMIT :limit)"
        " RETURNING " STORE_TASK_COLUMNS ", retry_base, ordering_key, ordering_seq",
    [STORE_SQL_ATTEMPT_INSERT] =
        "INSERT INTO attempts (task_id, attempt, started_at, duration_ms, status_code,"
        " error_class, error_message, response_body, response_truncated, target_host)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    /* An attempt's end (store_outcome.c), only while its claim holds; a
     * NULL token is a claim made before herald had tokens (the rescue's). */
    [STORE_SQL_TASK_END] =
        "UPDATE tasks SET status = :status, next_attempt_at = CASE WHEN :next <> 0"
        " THEN :next ELSE next_attempt_at END, updated_at = :now, last_status_code = :code,"
        " last_error = :error, claim_token = NULL, max_retry = max_retry + :extra"
        " WHERE id = :id AND status = 'delivering'"
        " AND attempts = :attempt AND claim_token IS :token",
    [STORE_SQL_MANUAL_INSERT] =
        "INSERT INTO manual (task_id, reason, attempts, last_status_code, last_error, moved_at)"
        " SELECT id, :reason, attempts, last_status_code, last_error, :now FROM tasks"
        " WHERE id = :id",
    [STORE_SQL_CLAIM_COUNT] = "SELECT count(*) FROM tasks WHERE claim_token = :token"
                              " AND (:id = 0 OR id = :id)",
    /* The tasks a rescue takes over (store_outcome.c): the writer holds the
     * database until the rescue's transaction ends. The streak counts the
     * cut-off attempts among the previous STORE_RESCUE_STREAK - 1; and
     * whether the task's receiver's circuit is open (store_breaker.c). */
    [STORE_SQL_RESCUE_SELECT] =
        "SELECT id, attempts, max_retry, updated_at, last_status_code,"
        " (SELECT count(*) FROM (SELECT a.error_class FROM attempts a"
        " WHERE a.task_id = tasks.id ORDER BY a.attempt DESC, a.id DESC"
        " LIMIT " STORE_STRINGIFY(STORE_RESCUE_STREAK) " - 1) AS latest"
        " WHERE latest.error_class = 'interrupted'), claim_token, target_host,"
        " EXISTS (SELECT 1 FROM receivers r WHERE r.receiver = tasks.target_host"
        " AND r.breaker_open) FROM tasks"
        " WHERE status = 'delivering' AND (:all OR next_attempt_at <= :now) ORDER BY id",
    [STORE_SQL_ATTEMPT_LIST] =
        "SELECT task_id, attempt, started_at, duration_ms, status_code, error_class,"
        " error_message, response_body, response_truncated, target_host FROM attempts"
        " WHERE task_id = ?"
        " ORDER BY attempt, id",
    [STORE_SQL_MANUAL_OPEN_ID] = "SELECT id FROM manual WHERE task_id = ? AND state = 'open'",
    /* A fresh budget on top of the attempts made, so attempt numbers keep
     * growing and the history stays readable (a pending task a redelivery job
     * hastens keeps a larger budget it has). */
    [STORE_SQL_MANUAL_RETRY_TASK] =
        "UPDATE tasks SET status = 'pending', next_attempt_at = :now, updated_at = :now,"
        " max_retry = CASE WHEN status = 'pending' THEN max(max_retry, attempts + :budget)"
        " ELSE attempts + :budget END, retry_base = attempts,"
        " target_url = coalesce(:url, target_url), target_host = coalesce(:host, target_host),"
        " dedup_url = CASE WHEN :url IS NULL THEN dedup_url"
        " ELSE coalesce(dedup_url, target_url) END,"
        " payload = CASE WHEN :has_payload THEN :payload ELSE payload END,"
        " payload_is_json = CASE WHEN :has_payload THEN :is_json ELSE payload_is_json END,"
        " headers = CASE WHEN :has_headers THEN :headers ELSE headers END"
        " WHERE id = :id AND (status = 'failed' OR (:redeliver AND status = 'succeeded')"
        " OR (:hasten AND status = 'pending')) AND (:expect IS NULL OR status = :expect)"
        " RETURNING target_host",
    [STORE_SQL_MANUAL_CLOSE] =
        "UPDATE manual SET state = 'resolved', resolved_at = :now, resolution = :resolution,"
        " note = :note WHERE id = :id",
    [STORE_SQL_MANUAL_MATCHING] =
        "SELECT m.task_id, t.business_type, m.id, t.traceparent FROM manual m"
        " JOIN tasks t ON t.id = m.task_id WHERE m.state = 'open' AND (:type IS NULL OR t.business_type = :type)"
        " AND (:reason IS NULL OR m.reason = :reason)"
        " AND m.moved_at >= :since AND m.moved_at < :until AND m.id <= :through"
        " ORDER BY m.id",
    [STORE_SQL_ACTION_INSERT] =
        "INSERT INTO actions (task_id, action, actor, note, details, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
    [STORE_SQL_ACTION_LIST] = "SELECT id, task_id, action, actor, note, details, created_at"
                              " FROM actions WHERE task_id = ? ORDER BY id",
    /* A scan of the (status, id) index: fine for a scrape every few seconds. */
    /* Each through its partial index (or tasks_status's range of one status). */
    [STORE_SQL_COUNT_ACTIVE] =
        "SELECT (SELECT count(*) FROM tasks WHERE status = 'pending'),"
        " (SELECT count(*) FROM tasks WHERE status = 'delivering'),"
        " (SELECT count(*) FROM manual WHERE state = 'open')",
    [STORE_SQL_COUNT_BY_STATUS] = "SELECT status, count(*) FROM tasks GROUP BY status",
    [STORE_SQL_COUNT_MANUAL_OPEN] = "SELECT count(*) FROM manual WHERE state = 'open'",
    /* The attempts_started index (migration 007). */
    [STORE_SQL_ATTEMPT_SERIES] =
        "SELECT (started_at - :since) / :bucket, sum(error_class IS NULL),"
        " sum(error_class IS NOT NULL) FROM attempts"
        " WHERE started_at >= :since AND started_at < :until GROUP BY 1",
    [STORE_SQL_RECEIVER_BACKLOG] =
        "SELECT target_host, sum(status = 'pending'), sum(status = 'delivering') FROM tasks"
        " WHERE status IN ('pending', 'delivering') GROUP BY target_host"
        " ORDER BY count(*) DESC LIMIT :limit",
    [STORE_SQL_RECEIVER_FAILURES] =
        /* with the latest failure's time, class and message, in one statement */
        "SELECT f.host, f.n, a.started_at, a.error_class, a.error_message FROM"
        " (SELECT coalesce(a.target_host, t.target_host) AS host, count(*) AS n,"
        " max(a.id) AS latest FROM attempts a JOIN tasks t ON t.id = a.task_id"
        " WHERE a.started_at >= :since AND a.error_class IS NOT NULL GROUP BY 1"
        " ORDER BY 2 DESC LIMIT :limit) f JOIN attempts a ON a.id = f.latest ORDER BY f.n DESC",
    [STORE_SQL_BACKLOG_COUNT] = "SELECT count(*) FROM manual WHERE state = 'open'"
                                " AND moved_at >= :since",
    [STORE_SQL_BACKLOG_BY_TYPE] =
        "SELECT t.business_type, count(*) AS n FROM manual m JOIN tasks t ON t.id = m.task_id"
        " WHERE m.state = 'open' AND m.moved_at >= :since GROUP BY t.business_type"
        " ORDER BY n DESC, t.business_type LIMIT "
        "32",
    [STORE_SQL_BACKLOG_SAMPLE] = "SELECT task_id, moved_at FROM manual WHERE state = 'open'"
                                 " AND moved_at >= :since ORDER BY moved_at, id LIMIT 10",
    /* :holder NULL: an instance's own alert, no fence; :after 0: no condition */
    [STORE_SQL_ALERT_INSERT] =
        "INSERT INTO alerts (kind, instance, state, count, details, created_at)"
        " SELECT :kind, :instance, :state, :count, :details, :now"
        " WHERE (:holder IS NULL OR " STORE_FENCE ")"
        " AND (:after = 0 OR NOT EXISTS (SELECT 1 FROM alerts WHERE kind = :kind"
        " AND instance IS :instance AND id > :after)) RETURNING id",
    [STORE_SQL_ALERT_CLAIM] =
        "UPDATE alerts SET sending_by = :holder, sending_term = :term,"
        " sending_until = :now + :claim WHERE id = :id AND sent_at IS NULL"
        " AND (sending_until IS NULL OR sending_until <= :now"
        " OR (sending_by = :holder AND sending_term = :term)) AND " STORE_FENCE " RETURNING id",
    [STORE_SQL_ALERT_SENT] = "UPDATE alerts SET webhook_sent_at = :webhook,"
                             " command_sent_at = :command, sent_at = :sent,"
                             " send_error = :error, sending_until = NULL WHERE id = :id"
                             " AND sending_by = :holder AND sending_term = :term",
    [STORE_SQL_ALERT_FIRING] =
        "SELECT " STORE_ALERT_COLUMNS " FROM alerts WHERE id IN (SELECT max(id) FROM alerts"
        " GROUP BY kind, instance) AND state = 'firing' ORDER BY id LIMIT 100",
    [STORE_SQL_ALERT_UNSENT] = "SELECT " STORE_ALERT_COLUMNS " FROM alerts"
                               " WHERE sent_at IS NULL ORDER BY id LIMIT 20",
    [STORE_SQL_ALERT_LIST] = "SELECT " STORE_ALERT_COLUMNS " FROM alerts WHERE id < :before"
                             " ORDER BY id DESC LIMIT :limit",
    [STORE_SQL_ALERT_LATEST] = "SELECT " STORE_ALERT_COLUMNS " FROM alerts WHERE kind = :kind"
                               " AND instance IS :instance ORDER BY id DESC LIMIT 1",
    /* Ids grow with time, so tasks created after the cutoff bound the scan. */
    [STORE_SQL_RETENTION_BOUNDARY] = "SELECT id FROM tasks WHERE created_at >= :cutoff"
                                     " ORDER BY id LIMIT 1",
    /* The sets of store_retention.c (backend.h). A task with an open entry
     * is in neither task set. */
    [STORE_SQL_RETENTION_SUCCEEDED] =
        "SELECT id FROM tasks WHERE status = 'succeeded' AND id < :boundary"
        " AND updated_at < :cutoff AND NOT EXISTS (SELECT 1 FROM manual m"
        " WHERE m.task_id = tasks.id AND m.state = 'open') ORDER BY id LIMIT :limit",
    [STORE_SQL_RETENTION_RESOLVED] =
        "SELECT id FROM tasks WHERE status = 'failed' AND id < :boundary"
        " AND updated_at < :cutoff AND NOT EXISTS (SELECT 1 FROM manual m"
        " WHERE m.task_id = tasks.id AND (m.state = 'open' OR m.resolved_at >= :cutoff))"
        " ORDER BY id LIMIT :limit",
    [STORE_SQL_RETENTION_ALERTS] = "SELECT id FROM alerts WHERE sent_at IS NOT NULL"
                                   " AND created_at < :cutoff ORDER BY id LIMIT :limit",
    /* Its attempts, entries and actions go by ON DELETE CASCADE. */
    [STORE_SQL_RETENTION_DELETE_TASK] =
        "DELETE FROM tasks WHERE id = :id AND status IN ('succeeded', 'failed')",
    [STORE_SQL_RETENTION_DELETE_ALERT] = "DELETE FROM alerts WHERE id = :id",
    /* Receivers an operator paused (sqlite_receivers.c). A pause or resume
     * returns the row only when it changed it. */
    /* The receivers paused, or whose circuit is open or counting failures. */
    [STORE_SQL_GATE_LIST] =
        "SELECT receiver, paused_at, paused_by, note, paused, breaker_open, failures,"
        " coalesce(opened_at, 0), coalesce(next_probe_at, 0),"
        " CASE WHEN probe_token IS NULL THEN 0 ELSE coalesce(probe_until, 0) END"
        " FROM receivers WHERE paused OR breaker_open OR failures > 0 ORDER BY receiver",
    [STORE_SQL_RECEIVER_PAUSE] =
        "INSERT INTO receivers (receiver, paused, paused_at, paused_by, note, updated_at)"
        " VALUES (:receiver, 1, :now, :actor, :note, :now) ON CONFLICT (receiver) DO UPDATE"
        " SET paused = 1, paused_at = :now, paused_by = :actor, note = :note, updated_at = :now"
        " WHERE NOT receivers.paused RETURNING receiver",
    [STORE_SQL_RECEIVER_RESUME] =
        "UPDATE receivers SET paused = 0, paused_at = NULL, paused_by = NULL, note = NULL,"
        " updated_at = :now WHERE receiver = :receiver AND paused RETURNING receiver",
    [STORE_SQL_RECEIVER_ACTION_INSERT] =
        "INSERT INTO receiver_actions (receiver, action, actor, note, created_at)"
        " VALUES (:receiver, :action, :actor, :note, :now)",
    [STORE_SQL_RECEIVER_ACTION_LIST] =
        "SELECT id, action, actor, note, created_at FROM receiver_actions"
        " WHERE receiver = :receiver AND id < :before ORDER BY id DESC LIMIT :limit",
    /* The probe of an open circuit (store_breaker.c): the receiver's row
     * takes the claim's token if a probe is due, none is out, and a task is
     * due; the claim (STORE_SQL_CLAIM, limit 1) then passes the circuit. */
    [STORE_SQL_PROBE_GATE] =
        "UPDATE receivers SET probe_token = :token, probe_until = :now + :lease_ms"
        " WHERE receiver = :host AND breaker_open AND NOT paused AND next_probe_at <= :now"
        " AND (probe_token IS NULL OR probe_until <= :now)"
        " AND EXISTS (SELECT 1 FROM tasks WHERE status = 'pending' AND target_host = :host"
        " AND next_attempt_at <= :now)",
    [STORE_SQL_BREAKER_READ] =
        "SELECT breaker_open, failures, coalesce(opened_at, 0), coalesce(probe_interval_ms, 0),"
        " probe_token FROM receivers WHERE receiver = :receiver",
    [STORE_SQL_BREAKER_ENSURE] = "INSERT INTO receivers (receiver, updated_at)"
                                 " VALUES (:receiver, :now) ON CONFLICT (receiver) DO NOTHING",
    /* At start, alone on the database: no probe is out any more. */
    [STORE_SQL_BREAKER_FORGET_PROBES] =
        "UPDATE receivers SET probe_token = NULL, probe_until = NULL"
        " WHERE probe_token IS NOT NULL",
    [STORE_SQL_BREAKER_WRITE] =
        "UPDATE receivers SET breaker_open = :open, failures = :failures,"
        " opened_at = nullif(:opened_at, 0), probe_interval_ms = nullif(:interval, 0),"
        " next_probe_at = CASE WHEN NOT :open THEN NULL WHEN :probe_in >= 0"
        " THEN :now + :probe_in ELSE next_probe_at END,"
        " probe_token = CASE WHEN :clear THEN NULL ELSE probe_token END,"
        " probe_until = CASE WHEN :clear THEN NULL ELSE probe_until END,"
        " closed_at = CASE WHEN :closed THEN :now ELSE closed_at END, updated_at = :now"
        " WHERE receiver = :receiver",
    /* Redelivery jobs (store_redelivery.c). */
    [STORE_SQL_REDELIVERY_COUNT] = "SELECT count(*) FROM tasks t WHERE " SQLITE_REDELIVERY_MATCH,
    [STORE_SQL_REDELIVERY_TASKS] = "SELECT t.id, t.business_type, t.traceparent FROM tasks t WHERE "
                                   SQLITE_REDELIVERY_MATCH " ORDER BY t.id LIMIT :limit",
    [STORE_SQL_TASK_NEWEST] = "SELECT coalesce(max(id), 0) FROM tasks",
    [STORE_SQL_REDELIVERY_INSERT] =
        "INSERT INTO redelivery_jobs (state, business_type, receiver, url_prefix, task_status,"
        " error_class, created_from, created_to, full_schedule, pace, reason, actor, through_id,"
        " matched, created_at, updated_at) VALUES ('running', :type, :receiver, :prefix, :status,"
        " :class, :from, :to, :full, :pace, :reason, :actor, :through, :matched, :now, :now)",
    [STORE_SQL_REDELIVERY_RUNNING] =
        "SELECT id FROM redelivery_jobs WHERE state = 'running' AND task_status = :status"
        " AND business_type IS :type AND receiver IS :receiver AND url_prefix IS :prefix"
        " AND error_class IS :class AND created_from IS :from AND created_to IS :to LIMIT 1",
    [STORE_SQL_REDELIVERY_GET] =
        "SELECT " STORE_REDELIVERY_COLUMNS " FROM redelivery_jobs WHERE id = :id",
    [STORE_SQL_REDELIVERY_LIST] = "SELECT " STORE_REDELIVERY_COLUMNS " FROM redelivery_jobs"
                                  " WHERE id < :before ORDER BY id DESC LIMIT :limit",
    [STORE_SQL_REDELIVERY_CANCEL] =
        "UPDATE redelivery_jobs SET state = 'cancelled', cancelled_by = :actor,"
        " finished_at = :now, updated_at = :now, lease_token = NULL"
        " WHERE id = :id AND state = 'running' RETURNING id",
    /* One heraldd has the database (its lock file says so) and one
     * redeliverer: a lease left by its last run is its own, and a restart
     * goes on at once. */
    [STORE_SQL_REDELIVERY_CLAIM] =
        "UPDATE redelivery_jobs SET lease_token = :token, lease_until = :now + :lease,"
        " updated_at = :now WHERE id = (SELECT id FROM redelivery_jobs WHERE state = 'running'"
        " ORDER BY id LIMIT 1)"
        " RETURNING " STORE_REDELIVERY_COLUMNS,
    /* The writer's transaction holds the database: no row lock to take. */
    [STORE_SQL_REDELIVERY_LOCK] = "SELECT cursor_id FROM redelivery_jobs WHERE id = :id"
                                  " AND lease_token = :token AND state = 'running'",
    [STORE_SQL_REDELIVERY_ADVANCE] =
        "UPDATE redelivery_jobs SET cursor_id = :cursor, sent = sent + :sent,"
        " skipped = skipped + :skipped, lease_until = :now + :lease, updated_at = :now,"
        " state = CASE WHEN :done THEN 'done' ELSE state END,"
        " finished_at = CASE WHEN :done THEN :now ELSE finished_at END,"
        " lease_token = CASE WHEN :done THEN NULL ELSE lease_token END"
        " WHERE id = :id AND lease_token = :token AND state = 'running' RETURNING id",
    /* Strict order per key (store_ordering.h; sqlite_ordering.c). */
    [STORE_SQL_ORDERING_KEY] =
        "INSERT INTO ordering_keys (receiver, ordering_key, last_seq, head_seq, updated_at)"
        " VALUES (:receiver, :key, 1, 1, :now) ON CONFLICT (receiver, ordering_key)"
        " DO UPDATE SET last_seq = last_seq + 1, updated_at = excluded.updated_at"
        " RETURNING id, last_seq, head_seq",
    [STORE_SQL_ORDERING_TASK] =
        "UPDATE tasks SET ordering_key = :key, ordering_key_id = :key_id, ordering_seq = :seq,"
        " ordering_block = :block,"
        " next_attempt_at = CASE WHEN :waiting THEN :waiting_at ELSE next_attempt_at END"
        " WHERE id = :id",
    [STORE_SQL_ORDERING_PLACE] =
        "SELECT t.ordering_key_id, t.ordering_seq, coalesce(t.ordering_block, 0), t.status,"
        " k.head_seq, k.last_seq, coalesce(k.blocked_task_id, 0), t.ordering_key, k.receiver"
        " FROM tasks t JOIN ordering_keys k ON k.id = t.ordering_key_id WHERE t.id = :id",
    [STORE_SQL_ORDERING_PASS] =
        "UPDATE ordering_keys SET head_seq = head_seq + 1, blocked_task_id = NULL,"
        " blocked_at = NULL, updated_at = :now WHERE id = :key_id AND head_seq = :seq"
        " RETURNING head_seq, last_seq",
    [STORE_SQL_ORDERING_RELEASE] =
        "UPDATE tasks SET next_attempt_at = :now WHERE ordering_key_id = :key_id"
        " AND ordering_seq = :seq AND status = 'pending' AND next_attempt_at = :waiting_at"
        " RETURNING target_host",
    [STORE_SQL_ORDERING_BLOCK] =
        "UPDATE ordering_keys SET blocked_task_id = nullif(:task, 0),"
        " blocked_at = CASE WHEN :task = 0 THEN NULL ELSE :now END, updated_at = :now"
        " WHERE id = :key_id",
    [STORE_SQL_ORDERING_REWAIT] =
        "UPDATE tasks SET next_attempt_at = :waiting_at WHERE id = :id AND status = 'pending'",
    [STORE_SQL_ORDERING_LIST] =
        "SELECT id, receiver, ordering_key, last_seq, head_seq, coalesce(blocked_task_id, 0),"
        " coalesce(blocked_at, 0), updated_at FROM ordering_keys WHERE id < :before"
        " AND (NOT :blocked OR blocked_task_id IS NOT NULL)"
        " AND (:receiver IS NULL OR receiver = :receiver)"
        " AND (:key IS NULL OR ordering_key = :key)"
        " ORDER BY CASE WHEN :oldest THEN blocked_at END, id DESC LIMIT :limit",
    [STORE_SQL_ORDERING_BLOCKED] =
        "SELECT count(*), coalesce(min(blocked_at), 0) FROM ordering_keys"
        " WHERE blocked_task_id IS NOT NULL AND blocked_at < :before",
    /* The heads that ended on keys they did not move: the keys not blocked
     * with tasks not yet done (ordering_keys_active) whose head succeeded or
     * failed (store_ordering_heal). */
    [STORE_SQL_ORDERING_STALLED] =
        "SELECT t.id FROM ordering_keys k JOIN tasks t ON t.ordering_key_id = k.id"
        " AND t.ordering_seq = k.head_seq WHERE k.head_seq <= k.last_seq"
        " AND k.blocked_task_id IS NULL AND t.status IN ('succeeded', 'failed')"
        " ORDER BY k.id LIMIT :limit",
};
