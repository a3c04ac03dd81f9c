-- 017: strict order per key (issue 26, part 3). A task may carry an ordering_key: the
-- tasks of one key and one receiver are delivered one at a time, in the order they
-- were accepted. ordering_keys holds each (receiver, key): the sequence of the newest
-- task accepted (last_seq; its row lock orders the intakes of one key across heraldd)
-- and the one allowed to be attempted now (head_seq; a key whose head_seq is past
-- last_seq is idle). A task behind its head waits with next_attempt_at (and its
-- queue row's due_at) at STORE_ORDERING_WAITING, never due, until its predecessor
-- succeeds or leaves for manual handling. blocked_task_id names a head that went to
-- manual handling under ordering_on_failure = block: the key waits for an operator.
-- Nullable columns and a new table: no rewrite, an instant's lock. The index on
-- tasks is built by 018, concurrently.
CREATE TABLE ordering_keys (
    id              bigserial PRIMARY KEY,
    receiver        text    NOT NULL,
    ordering_key    text    NOT NULL,
    last_seq        bigint  NOT NULL,
    head_seq        bigint  NOT NULL,
    blocked_task_id bigint,
    blocked_at      bigint,
    updated_at      bigint  NOT NULL
);
CREATE UNIQUE INDEX ordering_keys_name ON ordering_keys (receiver, ordering_key);
CREATE INDEX ordering_keys_blocked ON ordering_keys (blocked_at) WHERE blocked_task_id IS NOT NULL;
-- The keys with tasks not yet done, for the sweep that finds one whose head ended
-- without moving it on (store_ordering_heal): few, however many keys were ever used.
CREATE INDEX ordering_keys_active ON ordering_keys (id) WHERE head_seq <= last_seq;
ALTER TABLE tasks ADD COLUMN ordering_key text;
ALTER TABLE tasks ADD COLUMN ordering_key_id bigint;
ALTER TABLE tasks ADD COLUMN ordering_seq bigint;
ALTER TABLE tasks ADD COLUMN ordering_block boolean;
