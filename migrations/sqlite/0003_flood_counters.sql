-- Per-user message counters for flood control. They live in the database, not in process
-- memory, so a resident who floods one instance is throttled by every instance.
-- One row per Telegram user: the start of the current fixed window (ms since the epoch),
-- how many events arrived in it, and whether the "please slow down" notice was already sent.
CREATE TABLE flood_counters (
    user_id      BIGINT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    notified     BIGINT NOT NULL DEFAULT 0 CHECK (notified IN (0, 1))
);
