-- Mediators at work in chat. The PostgreSQL twin is migrations/postgres/0006_mediator_desk.sql.

-- Wrong invite codes per chat, in a fixed window: guessing codes is throttled on every
-- instance, because the counter lives in the database and not in one process.
CREATE TABLE invite_failures (
    chat_id      BIGINT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures     BIGINT NOT NULL
);

-- Individual mediators who declined the current assignment of a case. When every linked
-- mediator of the committee has declined, the committee as a whole is recorded in
-- case_declines and the case moves on; these rows are cleared at each new assignment.
CREATE TABLE mediator_declines (
    case_id      BIGINT NOT NULL REFERENCES cases (id),
    mediator_id  BIGINT NOT NULL REFERENCES mediators (id),
    committee_id BIGINT NOT NULL REFERENCES committees (id),
    at           BIGINT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (case_id, mediator_id)
);

-- The sweeper looks for due schedule reminders and follow-ups.
CREATE INDEX cases_status_scheduled ON cases (status, scheduled_at);
CREATE INDEX cases_status_followup ON cases (status, followup_due);
