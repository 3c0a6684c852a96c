-- Telegram transport: retry timing for inbox updates and the per-chat lookup the applier needs.
--
-- An update whose handler failed is retried with backoff; until then the chat's later updates
-- wait, so one chat's updates are applied in order. next_attempt_at (ms since the epoch) says
-- when it may be tried again; 0 means at once.
ALTER TABLE inbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;

-- The applier looks up the lowest pending update of a chat.
CREATE INDEX inbox_chat_pending ON inbox (chat_id, status, update_id);

-- The sender looks up the oldest pending row of a chat (order within a chat).
CREATE INDEX outbox_chat_status ON outbox (chat_id, status, id);

-- 403s mark recipients unreachable by chat id.
CREATE INDEX residents_chat ON residents (chat_id);
CREATE INDEX mediators_chat ON mediators (chat_id);
