-- 016: strict order per key (issue 26, part 3). A task may carry an ordering_key: the
-- tasks of one key and one receiver are delivered one at a time, in the order they
-- were accepted. ordering_keys holds each (receiver, key): the sequence of the newest
-- task accepted (last_seq) and the one allowed to be attempted now (head_seq; a key
-- whose head_seq is past last_seq is idle). A task behind its head waits with
-- next_attempt_at at STORE_ORDERING_WAITING (never due) until its predecessor succeeds
-- or leaves for manual handling. blocked_task_id names a head that went to manual
-- handling under ordering_on_failure = block: the key waits for an operator.
CREATE TABLE ordering_keys (
    id              INTEGER PRIMARY KEY,
    receiver        TEXT    NOT NULL,        -- scheme://host:port, as tasks.target_host was
    ordering_key    TEXT    NOT NULL,
    last_seq        INTEGER NOT NULL,
    head_seq        INTEGER NOT NULL,
    blocked_task_id INTEGER,
    blocked_at      INTEGER,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX ordering_keys_name ON ordering_keys (receiver, ordering_key);
CREATE INDEX ordering_keys_blocked ON ordering_keys (blocked_at) WHERE blocked_task_id IS NOT NULL;
-- The keys with tasks not yet done, for the sweep that finds one whose head ended
-- without moving it on (store_ordering_heal): few, however many keys were ever used.
CREATE INDEX ordering_keys_active ON ordering_keys (id) WHERE head_seq <= last_seq;
-- The task's place: its key (as given, for the request and the header), the key's
-- row (a repair of the URL does not move it out of its sequence), its sequence
-- number (1-based, without gaps), and whether a head that goes to manual handling
-- blocks the key (its business type's ordering_on_failure when it was accepted).
ALTER TABLE tasks ADD COLUMN ordering_key TEXT;
ALTER TABLE tasks ADD COLUMN ordering_key_id INTEGER;
ALTER TABLE tasks ADD COLUMN ordering_seq INTEGER;
ALTER TABLE tasks ADD COLUMN ordering_block INTEGER;
CREATE INDEX tasks_ordering ON tasks (ordering_key_id, ordering_seq)
    WHERE ordering_key_id IS NOT NULL;
