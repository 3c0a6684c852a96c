-- The due range of the outbox is read only by the claim over it, which writes the status as
-- `status || ''`. Every other statement names its rows by id or by chat and writes the
-- status plainly, so no planner is drawn to this index by "pending" alone: with statistics
-- taken while nothing was pending (a quiet night before a town files at once), it would
-- otherwise read every pending row, and every entry left by rows since sent, for a claim
-- of three rows.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox ((status || ''), next_attempt_at);
