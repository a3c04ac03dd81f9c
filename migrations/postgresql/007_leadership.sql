-- 007: leadership as a lease, and alerts that name their instance and their sender.
--
-- The leader of the heraldd sharing this database (the one that raises the
-- backlog alert, sends alerts and applies retention) holds the one row of
-- leadership: its holder (an instance id), its term (one more at each new
-- acquisition) and the end of its lease, on this server's clock. Every leader
-- action checks, in its own statement, that the row still holds its term and
-- has not expired, so a paused, partitioned or reconnected former leader does
-- nothing. (Until now leadership was a session advisory lock, which a frozen
-- process kept, and whose loss a reconnected session did not notice.)
--
-- alerts.instance: the instance a per-instance alert (delivery_lag) is about,
-- NULL for one about every instance (manual_backlog). sending_by,
-- sending_term, sending_until: the claim of the leader sending the alert, so
-- two instances never send one alert.
--
-- A new table and nullable columns without defaults: no table rewrite, and a
-- heraldd of the previous release (which names none of them) keeps working
-- during a rolling upgrade.
CREATE TABLE leadership (
    name       text   PRIMARY KEY,   -- 'herald': one lease per database
    holder     text   NOT NULL,      -- the leader's instance id (host:pid:start)
    term       bigint NOT NULL,      -- grows by one at each new acquisition
    expires_at bigint NOT NULL       -- Unix ms on this server's clock
);
ALTER TABLE alerts ADD COLUMN instance text;
ALTER TABLE alerts ADD COLUMN sending_by text;
ALTER TABLE alerts ADD COLUMN sending_term bigint;
ALTER TABLE alerts ADD COLUMN sending_until bigint;
CREATE INDEX alerts_kind_instance ON alerts (kind, instance, id);
