-- 004: each alert sink's own record of having taken an alert.
--
-- Until now one sent_at covered every sink together, so when one sink failed
-- the alert was sent again to the sinks that had taken it, every interval.
-- Each sink now gets each alert once; sent_at still says "every configured
-- sink took it" (the alerts_unsent index keys on it).
ALTER TABLE alerts ADD COLUMN webhook_sent_at INTEGER;
ALTER TABLE alerts ADD COLUMN command_sent_at INTEGER;
