-- Oversight: early-warning alerts, event webhooks, and the indexes that keep cluster detection
-- and reports off full scans. SQLite dialect; migrations/postgres/0007_oversight.sql is its twin.

-- Cluster detection asks "cases of these categories, inside this latitude band, since then".
-- Category first (an IN list of one to three codes), then latitude (a range), with longitude
-- and the filing instant in the index too so the bounding box and the time window are checked
-- without touching the table.
CREATE INDEX cases_cluster ON cases (category, lat, lon, submitted_at);

-- Reports count mediation outcomes (events moving a case to resolved or failed) by instant.
CREATE INDEX case_events_status_at ON case_events (to_status, at);

-- One alert per cluster (kind 'cluster') or per single likely mass dispute ('mass_dispute').
-- category_group is the canonical key of the related categories ('labor+debt'); the centre is
-- the mean of the member cases' points and radius_km the largest distance from it to a member.
CREATE TABLE alerts (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('cluster', 'mass_dispute')),
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    category_group TEXT NOT NULL,
    region_code    TEXT NOT NULL,
    centre_lat     DOUBLE PRECISION NOT NULL,
    centre_lon     DOUBLE PRECISION NOT NULL,
    radius_km      DOUBLE PRECISION NOT NULL,
    case_count     BIGINT NOT NULL CHECK (case_count >= 1),
    party_total    BIGINT NOT NULL,
    first_case_at  BIGINT NOT NULL,
    last_case_at   BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    closed_at      BIGINT,
    closed_by      TEXT,
    close_reason   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alerts_open ON alerts (status, kind, category_group);
CREATE INDEX alerts_created ON alerts (created_at);

CREATE TABLE alert_cases (
    alert_id  BIGINT NOT NULL REFERENCES alerts (id),
    case_id   BIGINT NOT NULL REFERENCES cases (id),
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (alert_id, case_id)
);
CREATE INDEX alert_cases_case ON alert_cases (case_id);

-- Endpoints of other platforms. The secret is kept as given (not hashed): it is the HMAC key
-- every delivery is signed with. event_types is a JSON list of event codes. A deleted
-- subscription keeps its row (deliveries refer to it) with deleted_at set.
CREATE TABLE webhook_subscriptions (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL DEFAULT '',
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL,
    event_types   TEXT NOT NULL DEFAULT '[]',
    personal_data BIGINT NOT NULL DEFAULT 0 CHECK (personal_data IN (0, 1)),
    active        BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    deleted_at    BIGINT
);

-- Durable delivery queue, written in the transaction of the change it reports (outbox pattern).
-- delivery_id is random and sent to the receiver, which de-duplicates on it (delivery is
-- at-least-once). A worker leases due rows (claimed_by/claimed_until) so a crashed worker's
-- rows become due again when the lease runs out.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    delivery_id     TEXT NOT NULL UNIQUE,
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions (id),
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    give_up_at      BIGINT NOT NULL,
    claimed_by      TEXT,
    claimed_until   BIGINT,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    last_http_status BIGINT,
    last_error      TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);
