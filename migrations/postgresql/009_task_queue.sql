-- 009: the hot queue, a narrow table beside tasks (issue 25). A task has a row
-- here while it is pending or delivering, and none once it ended: intake
-- inserts it, a claim marks it delivering with the lease's end, an outcome
-- deletes it or makes it pending again. The claim, the rescue, the hosts with
-- work and the counts of work in hand find their tasks through this table (the
-- claim and the rescue lock the task beside its row), so tasks can lose its
-- indexes on status (migration 011): an update of a task then changes no
-- indexed column and is a HOT update, which adds no index entry.
--
-- tasks stays the record of each task (status, attempts, lease, claim token):
-- reads and the outcome's fence use it as before. This table is written in
-- the same transaction as the task, so the two agree at every commit.
-- Migration 010 fills it with the work in hand; 011 drops tasks' indexes.
CREATE TABLE task_queue (
    task_id     bigint  PRIMARY KEY,     -- tasks (id); no foreign key, as task_bodies
    target_host text    NOT NULL,
    due_at      bigint  NOT NULL,        -- when due (a claim leaves it as it was)
    delivering  boolean NOT NULL DEFAULT false,
    lease_until bigint                   -- while delivering: when the lease ends
) WITH (fillfactor = 70);
-- Claims, host by host: the tasks_host_due of this table. Not partial, and
-- nothing else indexed: a claim changes only delivering and lease_until, so
-- its update of the row is HOT (room for it: fillfactor). A claim passes over
-- the host's tasks in flight at the front of its range, at most the host's
-- concurrency; the rescue, once a minute, reads the table through.
CREATE INDEX task_queue_due ON task_queue (target_host, due_at);
-- Every row is rewritten by its claim and deleted by its outcome: vacuum often.
ALTER TABLE task_queue SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 0
);

-- During a rolling upgrade, heraldd of the previous release keep writing
-- tasks without this table; so would a person's UPDATE of a task by hand.
-- This trigger keeps the queue in step with what they write. heraldd from
-- this release on write the queue themselves and mark their sessions (SET
-- herald.queue = 'on'), for which the WHEN clause skips the trigger without
-- calling it.
CREATE FUNCTION herald_queue_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM task_queue WHERE task_id = OLD.id;
    ELSIF NEW.status = 'pending' THEN
        INSERT INTO task_queue (task_id, target_host, due_at)
        VALUES (NEW.id, NEW.target_host, NEW.next_attempt_at)
        ON CONFLICT (task_id) DO UPDATE SET target_host = excluded.target_host,
            due_at = excluded.due_at, delivering = false, lease_until = NULL;
    ELSIF NEW.status = 'delivering' THEN
        INSERT INTO task_queue (task_id, target_host, due_at, delivering, lease_until)
        VALUES (NEW.id, NEW.target_host, NEW.next_attempt_at, true, NEW.next_attempt_at)
        ON CONFLICT (task_id) DO UPDATE SET delivering = true,
            lease_until = excluded.lease_until;
    ELSE
        DELETE FROM task_queue WHERE task_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_queue_follow AFTER INSERT OR UPDATE OR DELETE ON tasks FOR EACH ROW
    WHEN (current_setting('herald.queue', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION herald_queue_follow();

-- TRUNCATE fires no row trigger: the queue goes with the tasks. (DELETE, not
-- TRUNCATE: a TRUNCATE naming both tables would refuse a second one here.)
CREATE FUNCTION herald_queue_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM task_queue;
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_queue_truncate AFTER TRUNCATE ON tasks FOR EACH STATEMENT
    EXECUTE FUNCTION herald_queue_truncate();

-- The work in hand when this commits is copied in by migration 010, a batch
-- of ids at a time (each its own transaction), so that other heraldd's writes
-- to tasks never wait for the whole copy: the trigger follows every change
-- from this commit on. Each batch locks the rows it copies and so reads them
-- as the last change left them; a row the trigger has written meanwhile is
-- newer and is kept. A row another session holds is passed over, never
-- waited for (an older heraldd's outcome locks its tasks in no set order, so
-- waiting could deadlock), and the batch is tried again until every pending
-- or delivering task of its ids has its row. Migration 011 drops this.
CREATE PROCEDURE herald_queue_fill(batch bigint) LANGUAGE plpgsql AS $$
DECLARE
    low bigint := 0;
    high bigint;
BEGIN
    SELECT coalesce(max(id), 0) INTO high FROM tasks;
    WHILE low < high LOOP
        LOOP
            INSERT INTO task_queue (task_id, target_host, due_at, delivering, lease_until)
            SELECT id, target_host, next_attempt_at, status = 'delivering',
                CASE WHEN status = 'delivering' THEN next_attempt_at END
            FROM tasks WHERE id > low AND id <= low + batch
                AND status IN ('pending', 'delivering')
                AND NOT EXISTS (SELECT 1 FROM task_queue q WHERE q.task_id = tasks.id)
            FOR UPDATE OF tasks SKIP LOCKED
            ON CONFLICT (task_id) DO NOTHING;
            COMMIT;
            EXIT WHEN NOT EXISTS (SELECT 1 FROM tasks WHERE id > low AND id <= low + batch
                AND status IN ('pending', 'delivering')
                AND NOT EXISTS (SELECT 1 FROM task_queue q WHERE q.task_id = tasks.id));
            PERFORM pg_sleep(0.01);
        END LOOP;
        low := low + batch;
    END LOOP;
END
$$;

-- The migrations each heraldd knows, written with its heartbeat: a migration
-- that takes away what older heraldd use waits until none of them beats
-- (pg_schema.c; migration 011). Those older heraldd do not write it: 0.
ALTER TABLE instances ADD COLUMN schema_known integer NOT NULL DEFAULT 0;

-- A claim and an outcome each update the task; once nothing indexed changes
-- (011), each is a HOT update if the new version fits on the task's page. The
-- space of a version an update left behind comes back only once no snapshot
-- can see it, which for the claim's is often later than the outcome, so new
-- pages of tasks are filled to half, leaving room for both. Measured (bench/
-- NOTES.md, "The hot queue"): 92% of updates HOT at 50, 53% at 80, and the
-- table smaller at 50 than at 80, since an update that is not HOT puts the
-- new version on another page.
ALTER TABLE tasks SET (fillfactor = 50);
