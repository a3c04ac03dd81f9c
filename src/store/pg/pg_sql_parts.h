/*
 * store/pg_sql_parts: the pieces of SQL text several of pg_sql.c's
 * statements share (a fence, a claim with or without a gate, a filter's
 * match, a rate bucket's arithmetic), as string-literal macros. Included by
 * pg_sql.c only.
 */
#ifndef HERALD_PG_SQL_PARTS_H
#define HERALD_PG_SQL_PARTS_H

#include "pg.h"

#define PG_TASKS_WITH_BODIES "tasks t JOIN task_bodies b ON b.task_id = t.id"

#define PG_ALERT_COLUMNS                                                                           \
    "id, kind, state, count, details, created_at, sent_at, send_error, webhook_sent_at,"           \
    " command_sent_at, instance"

/* A leader's fence (store.h, StoreFence): true while the lease of holder
 * HOLDER has term TERM and has not expired by the server's clock. FOR SHARE
 * keeps the row (and so the term) as it is until the transaction ends: a
 * takeover's UPDATE waits for it, then finds the newer lease. */
#define PG_FENCE(holder, term)                                                                     \
    "EXISTS (SELECT 1 FROM leadership WHERE name = 'herald' AND holder = " holder "::text"       \
    " AND term = " term "::bigint AND expires_at > " PG_CLOCK_MS " FOR SHARE)"

/* True unless WRITTEN (a URL as written, or NULL) is what a keyless task of
 * TYPE and ID stored before herald normalised URLs is known by. Only such
 * old tasks can be known by a URL not in its normal form, and none is ever
 * added, so this needs no unique index to hold against other writers. */
#define PG_WRITTEN_ABSENT(type, id, written)                                                       \
    "(" written " IS NULL OR NOT EXISTS (SELECT 1 FROM tasks o WHERE o.idempotency_key IS NULL"    \
    " AND o.business_type = " type " AND o.business_id = " id                                      \
    " AND md5(coalesce(o.dedup_url, o.target_url)) = md5(" written ")"                             \
    " AND coalesce(o.dedup_url, o.target_url) = " written "))"

/* Makes the tasks SELECT gives (task_id, target_host, due_at) due in the
 * hot queue (migration 009), whether or not they have a row there. */
#define PG_QUEUE_DUE(select)                                                                       \
    "INSERT INTO task_queue (task_id, target_host, due_at) " select                                \
    " ON CONFLICT (task_id) DO UPDATE SET target_host = excluded.target_host,"                    \
    " due_at = excluded.due_at, delivering = false, lease_until = NULL"

/* What a claim returns after PG_TASK_COLUMNS (pg_claim_read_extra): where
 * the task's retry schedule starts, its ordering key and its sequence
 * number; with migration 017, before it (016), before 016. */
#define PG_CLAIM_EXTRA_ORDERED ", t.retry_base, t.ordering_key, t.ordering_seq"
/* And with migration 019 the task's trace (pg_task_read finds it by name). */
#define PG_CLAIM_EXTRA_TRACED PG_CLAIM_EXTRA_ORDERED ", t.traceparent, t.tracestate"
#define PG_CLAIM_EXTRA_BASE ", t.retry_base, NULL::text, 0::bigint"
#define PG_CLAIM_EXTRA_NONE ", 0, NULL::text, 0::bigint"

/* PG_SQL_CLAIM's text with GATE, the condition on the receiver's row (see
 * there), so its variant before the receivers table differs by that alone,
 * and BASE, the columns after the task's (PG_CLAIM_EXTRA_*). */
#define PG_CLAIM_SQL(gate, base)                                                                    \
    "WITH due AS MATERIALIZED (SELECT q.task_id FROM task_queue q JOIN tasks t"                \
    " ON t.id = q.task_id WHERE NOT q.delivering AND q.target_host = $1::text"                 \
    " AND q.due_at <= $2::bigint AND t.status = 'pending'" gate                                \
    " ORDER BY q.due_at LIMIT $3::integer FOR UPDATE OF q, t SKIP LOCKED),"                    \
    " claimed AS (UPDATE tasks t SET status = 'delivering', attempts = t.attempts + 1,"        \
    " next_attempt_at = " PG_CLOCK_MS " + $4::bigint, claim_token = $5::text,"                 \
    " updated_at = $2 FROM due WHERE t.id = due.task_id RETURNING t.*),"                       \
    " leased AS (UPDATE task_queue q SET delivering = true,"                                   \
    " lease_until = claimed.next_attempt_at FROM claimed WHERE q.task_id = claimed.id)"        \
    " SELECT " PG_TASK_COLUMNS base " FROM claimed t JOIN task_bodies b ON b.task_id = t.id"

/* The tasks a redelivery job's filter matches after its cursor and up to
 * its bound ($1, $2); a NULL term matches any. A task waiting behind its
 * ordering key's head is not one: it goes in its turn. */
#define PG_REDELIVERY_MATCH                                                                        \
    "t.id > $1::bigint AND t.id <= $2::bigint AND t.status = $3::text"                            \
    " AND t.next_attempt_at <> " STORE_STRINGIFY(STORE_ORDERING_WAITING_LITERAL)                   \
    " AND ($4::text IS NULL OR t.business_type = $4) AND ($5::text IS NULL OR t.target_host = $5)" \
    " AND ($6::text IS NULL OR substr(t.target_url, 1, length($6)) = $6)"                         \
    " AND ($7::bigint IS NULL OR t.created_at >= $7) AND ($8::bigint IS NULL OR t.created_at < $8)"\
    " AND ($9::text IS NULL OR EXISTS (SELECT 1 FROM attempts a WHERE a.task_id = t.id"           \
    " AND a.attempt = t.attempts AND a.error_class = $9))"

/* A redelivery step's next tasks ($10 of them) and a bulk action's open
 * entries (business_type, since, until, reason, through_id; NULL: any),
 * with TRACE the task's traceparent column (NULL::text before 019). */
#define PG_REDELIVERY_TASKS_SQL(trace)                                                             \
    "SELECT t.id, t.business_type, " trace " FROM tasks t WHERE " PG_REDELIVERY_MATCH             \
    " ORDER BY t.id LIMIT $10::integer"
#define PG_MANUAL_MATCHING_SQL(trace)                                                              \
    "SELECT m.task_id, t.business_type, m.id, " trace " FROM manual m"                            \
    " JOIN tasks t ON t.id = m.task_id"                                                            \
    " WHERE m.state = 'open' AND ($1::text IS NULL OR t.business_type = $1)"                      \
    " AND ($4::text IS NULL OR m.reason = $4)"                                                     \
    " AND m.moved_at >= $2::bigint AND m.moved_at < $3::bigint AND m.id <= $5::bigint"            \
    " ORDER BY m.id"

/* PG_SQL_RATE_TAKE's tokens taken from an existing bucket r ($2 the
 * interval, $3 the burst, $4 wanted; excluded.taken_at_us the clock), from
 * its TAT as rate_bucket_take reads it: not in the past, and no more than a
 * burst ahead (a bucket charged under a slower rate). */
#define PG_RATE_TAT                                                                                \
    "least(greatest(r.tat_us, excluded.taken_at_us), excluded.taken_at_us + $3 * $2)"
#define PG_RATE_TAKEN                                                                              \
    "greatest(0, least($4, (excluded.taken_at_us + $3 * $2 - " PG_RATE_TAT ") / $2))"

/* The claim's gate from migration 014: paused, open, or held by a Retry-After. */
#define PG_CLAIM_GATE_HELD                                                                         \
    " AND NOT EXISTS (SELECT 1 FROM receivers r WHERE r.receiver = $1 AND (r.paused"               \
    " OR r.breaker_open OR r.held_until > " PG_CLOCK_MS "))"
/* The probe's, from migration 014: not while the receiver is held. */
#define PG_PROBE_GATE_HELD " AND (r.held_until IS NULL OR r.held_until <= " PG_CLOCK_MS ")"

/* PG_SQL_CLAIM_PROBE's text with HELD, the condition on the receiver's
 * Retry-After hold, so its variant before migration 014 differs by that
 * alone, and BASE as PG_CLAIM_SQL's. */
#define PG_CLAIM_PROBE_SQL(held, base)                                                                   \
    "WITH gate AS MATERIALIZED (SELECT r.receiver FROM receivers r"                                \
    " WHERE r.receiver = $1::text AND r.breaker_open AND NOT r.paused"                             \
    " AND r.next_probe_at <= " PG_CLOCK_MS                                                         \
    " AND (r.probe_token IS NULL OR r.probe_until <= " PG_CLOCK_MS ")" held                        \
    " FOR UPDATE SKIP LOCKED),"                                                                    \
    " due AS MATERIALIZED (SELECT q.task_id FROM task_queue q JOIN tasks t"                        \
    " ON t.id = q.task_id WHERE EXISTS (SELECT 1 FROM gate) AND NOT q.delivering"                  \
    " AND q.target_host = $1 AND q.due_at <= $2::bigint AND t.status = 'pending'"                  \
    " ORDER BY q.due_at LIMIT 1 FOR UPDATE OF q, t SKIP LOCKED),"                                  \
    " probe AS (UPDATE receivers r SET probe_token = $4::text,"                                    \
    " probe_until = " PG_CLOCK_MS " + $3::bigint FROM due WHERE r.receiver = $1),"                 \
    " claimed AS (UPDATE tasks t SET status = 'delivering', attempts = t.attempts + 1,"            \
    " next_attempt_at = " PG_CLOCK_MS " + $3, claim_token = $4,"                                   \
    " updated_at = $2 FROM due WHERE t.id = due.task_id RETURNING t.*),"                           \
    " leased AS (UPDATE task_queue q SET delivering = true,"                                       \
    " lease_until = claimed.next_attempt_at FROM claimed WHERE q.task_id = claimed.id)"            \
    " SELECT " PG_TASK_COLUMNS base " FROM claimed t JOIN task_bodies b ON b.task_id = t.id"

/* PG_SQL_RESCUE_SELECT's text with OPEN, whether the task's receiver's
 * circuit is open, so its variant before migration 013 differs by that alone. */
#define PG_RESCUE_SQL(open)                                                                   \
    "SELECT t.id, t.attempts, t.max_retry, t.updated_at, t.last_status_code,"                  \
    " (SELECT count(*) FROM (SELECT a.error_class FROM attempts a"                             \
    " WHERE a.task_id = t.id ORDER BY a.attempt DESC, a.id DESC"                               \
    " LIMIT " STORE_STRINGIFY(STORE_RESCUE_STREAK) " - 1) AS latest"                           \
    " WHERE latest.error_class = 'interrupted'), t.claim_token, t.target_host, " open         \
    " FROM task_queue q JOIN tasks t ON t.id = q.task_id WHERE q.delivering"                   \
    " AND t.status = 'delivering' AND ($1::boolean OR q.lease_until <= " PG_CLOCK_MS ")"       \
    " AND ($1 OR t.next_attempt_at <= " PG_CLOCK_MS ")"                                        \
    " ORDER BY t.id FOR UPDATE OF t SKIP LOCKED"

/* PG_SQL_MANUAL_RETRY_TASK's text with BASE, where the task's retry schedule
 * starts again (" retry_base = attempts,", or "" before migration 016). */
#define PG_RETRY_TASK_SQL(base)                                                                    \
    "WITH t AS (UPDATE tasks SET status = 'pending', next_attempt_at = $2::bigint,"                \
    " updated_at = $2, max_retry = CASE WHEN status = 'pending'"                                   \
    " THEN greatest(max_retry, attempts + $3::integer) ELSE attempts + $3 END," base               \
    " target_url = coalesce($4::text, target_url),"                                                \
    " target_host = coalesce($5::text, target_host),"                                              \
    " dedup_url = CASE WHEN $4 IS NULL THEN dedup_url"                                             \
    " ELSE coalesce(dedup_url, target_url) END,"                                                   \
    " payload_is_json = CASE WHEN $6::boolean THEN $7::boolean ELSE payload_is_json END"           \
    " WHERE id = $1::bigint AND (status = 'failed' OR ($11::boolean AND status = 'succeeded')"     \
    " OR ($12::boolean AND status = 'pending')) AND ($13::text IS NULL OR status = $13)"           \
    " RETURNING id, target_host),"                                                                 \
    " queued AS (" PG_QUEUE_DUE("SELECT id, target_host, $2 FROM t") "),"                          \
    " body AS (UPDATE task_bodies"                                                                 \
    " SET payload = CASE WHEN $6 THEN $8::bytea ELSE payload END,"                                 \
    " headers = CASE WHEN $9::boolean THEN $10::text ELSE headers END FROM t"                      \
    " WHERE task_bodies.task_id = t.id AND ($6 OR $9))"                                            \
    " SELECT target_host FROM t"

/* A task's place in its ordering key, with LOCK (its key's row locked, or not). */
#define PG_ORDERING_PLACE_SQL(lock)                                                                \
    "SELECT t.ordering_key_id, t.ordering_seq, coalesce(t.ordering_block, false), t.status,"       \
    " k.head_seq, k.last_seq, coalesce(k.blocked_task_id, 0), t.ordering_key, k.receiver"          \
    " FROM tasks t JOIN ordering_keys k ON k.id = t.ordering_key_id WHERE t.id = $1::bigint" lock

/* PG_SQL_TASK_INSERT's text; COLUMNS and VALUES: the trace's, or "" before
 * migration 019. */
#define PG_TASK_INSERT_SQL(columns, values)                                                         \
    "WITH t AS (INSERT INTO tasks (webhook_id, business_id, business_type, target_url,"            \
    " target_host, payload_is_json, idempotency_key, request_hash, status, attempts,"              \
    " max_retry, next_attempt_at, created_at, updated_at, dedup_url" columns ")"                  \
    " SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::boolean, $7::text,"             \
    " $8::bytea, 'pending', 0, $9::integer, $10::bigint, $10, $10, $13::text" values              \
    " WHERE " PG_WRITTEN_ABSENT("$3::text", "$2::text", "$14::text")                               \
    " ON CONFLICT DO NOTHING RETURNING id),"                                                       \
    " q AS (INSERT INTO task_queue (task_id, target_host, due_at)"                                 \
    " SELECT id, $5, $10 FROM t)"                                                                 \
    " INSERT INTO task_bodies (task_id, payload, headers)"                                         \
    " SELECT id, $11::bytea, $12::text FROM t RETURNING task_id"

/* PG_SQL_TASK_INSERT_MANY's text; ARRAYS, NAMES and COLUMNS: the trace's
 * arrays, their names in the input and the tasks' columns, or "" before 019. */
#define PG_TASK_INSERT_MANY_SQL(arrays, names, columns)                                             \
    "WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"          \
    " $5::text[], $6::boolean[], $7::text[], $8::bytea[], $9::integer[], $10::bytea[],"           \
    " $11::text[], $12::text[], $13::text[]" arrays ") WITH ORDINALITY AS i (webhook_id,"         \
    " business_id, business_type, target_url, target_host, payload_is_json, idempotency_key,"     \
    " request_hash, max_retry, payload, headers, dedup_url, written" names ", n)),"                \
    " t AS (INSERT INTO tasks (webhook_id, business_id, business_type, target_url,"                \
    " target_host, payload_is_json, idempotency_key, request_hash, status, attempts,"              \
    " max_retry, next_attempt_at, created_at, updated_at, dedup_url" columns ")"                  \
    " SELECT webhook_id, business_id, business_type, target_url, target_host,"                     \
    " payload_is_json, idempotency_key, request_hash, 'pending', 0, max_retry,"                    \
    " $14::bigint, $14, $14, dedup_url" columns " FROM input"                                     \
    " WHERE " PG_WRITTEN_ABSENT("input.business_type", "input.business_id", "input.written")       \
    " ORDER BY n ON CONFLICT DO NOTHING RETURNING id, webhook_id, target_host),"                   \
    " q AS (INSERT INTO task_queue (task_id, target_host, due_at)"                                 \
    " SELECT id, target_host, $14 FROM t),"                                                       \
    " b AS (INSERT INTO task_bodies (task_id, payload, headers)"                                   \
    " SELECT t.id, input.payload, input.headers FROM t JOIN input USING (webhook_id))"            \
    " SELECT input.n, t.id FROM t JOIN input USING (webhook_id)"

#endif
