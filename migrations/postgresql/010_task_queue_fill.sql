-- 010: the work in hand (pending and delivering tasks) into task_queue, in
-- batches of 10,000 ids, each committed on its own (migration 009 says why
-- and how a batch agrees with the trigger). Run again after a crash part-way,
-- it copies what is missing and keeps what is there. The procedure stays until
-- migration 011, so that running this again always finds it.
-- herald: no-transaction
CALL herald_queue_fill(10000);
