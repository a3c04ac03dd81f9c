-- 009: the claim token. Each claim writes a fresh random 128-bit token (32 hex
-- digits) beside the lease; an outcome, a rescue or an ambiguous commit's check
-- names the token of the claim it belongs to, and applies only while the task
-- still holds that token. The attempt number alone can be handed out twice
-- (a claim whose commit was lost leaves the count where it was). NULL when no
-- claim holds the task.
ALTER TABLE tasks ADD COLUMN claim_token TEXT;
