-- 003: tasks is a queue: each task's row is rewritten by its claim and its outcome,
-- and the partial indexes of pending and delivering work fill with dead entries
-- until a vacuum removes them (plain index scans skip the ones they have met, but
-- the first reader of each still pays). PostgreSQL's default waits for 20% of the
-- table to be dead, which on a large table of finished tasks is a long time for the
-- small live part at its head; vacuum it after 1% (and at least 1,000 rows) instead,
-- without the cost-based pause, so it keeps up with delivery.
ALTER TABLE tasks SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 0
);
