-- jiefen schema, SQLite dialect. The PostgreSQL twin is migrations/postgres/0001_schema.sql;
-- the two must describe the same tables and columns so one set of queries serves both.
--
-- Design choices shared by both dialects:
-- * Instants are BIGINT milliseconds since the Unix epoch (UTC). Both engines compare and
--   index them the same way, and the application converts them to the configured time zone
--   only when showing them to people.
-- * Booleans are BIGINT 0/1 with a CHECK: sqlx's Any driver cannot decode SQLite's BOOLEAN,
--   and one representation keeps the queries identical. Lists and details are JSON in TEXT.
-- * Enumerations are TEXT with CHECK constraints so a bad value is refused by the database
--   as well as by the domain types.
-- * Surrogate ids are 64-bit integers; people see committee codes and case numbers, never ids.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
-- routing_version is bumped in the same transaction as any change to committees or rules;
-- every instance compares it cheaply before routing and reloads its index when it moved.
INSERT INTO meta (key, value) VALUES ('routing_version', 1);

CREATE TABLE regions (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    level        TEXT NOT NULL CHECK (level IN ('province', 'city', 'county', 'township', 'village')),
    parent_code  TEXT REFERENCES regions (code),
    lat          DOUBLE PRECISION,
    lon          DOUBLE PRECISION,
    population   BIGINT CHECK (population IS NULL OR population >= 0),
    illustrative BIGINT NOT NULL DEFAULT 0 CHECK (illustrative IN (0, 1))
);
CREATE INDEX regions_parent ON regions (parent_code);

CREATE TABLE committees (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('village', 'township', 'county', 'industry', 'court')),
    specialties  TEXT NOT NULL DEFAULT '[]',
    region_code  TEXT NOT NULL REFERENCES regions (code),
    lat          DOUBLE PRECISION NOT NULL,
    lon          DOUBLE PRECISION NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    capacity     BIGINT NOT NULL DEFAULT 100 CHECK (capacity >= 0),
    active       BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    illustrative BIGINT NOT NULL DEFAULT 0 CHECK (illustrative IN (0, 1)),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX committees_region ON committees (region_code);

CREATE TABLE mediators (
    id               INTEGER PRIMARY KEY,
    committee_id     BIGINT NOT NULL REFERENCES committees (id),
    name             TEXT NOT NULL,
    phone            TEXT,
    telegram_user_id BIGINT UNIQUE,
    chat_id          BIGINT,
    language         TEXT NOT NULL DEFAULT 'zh-CN',
    active           BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    reachable        BIGINT NOT NULL DEFAULT 1 CHECK (reachable IN (0, 1)),
    created_at       BIGINT NOT NULL,
    linked_at        BIGINT
);
CREATE INDEX mediators_committee ON mediators (committee_id);

-- Invite codes are shown once and stored as SHA-256 hashes; single use, expiring.
CREATE TABLE invites (
    id          INTEGER PRIMARY KEY,
    mediator_id BIGINT NOT NULL REFERENCES mediators (id),
    code_hash   TEXT NOT NULL UNIQUE,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE residents (
    id                  INTEGER PRIMARY KEY,
    telegram_user_id    BIGINT NOT NULL UNIQUE,
    chat_id             BIGINT NOT NULL,
    language            TEXT NOT NULL DEFAULT 'zh-CN',
    consent_at          BIGINT,
    consent_declined_at BIGINT,
    phone               TEXT,
    reachable           BIGINT NOT NULL DEFAULT 1 CHECK (reachable IN (0, 1)),
    created_at          BIGINT NOT NULL,
    erased_at           BIGINT
);

-- One counter per county and year makes case numbers short and dense (620722-2026-000123).
CREATE TABLE case_sequences (
    county_code TEXT NOT NULL,
    year        BIGINT NOT NULL,
    last_seq    BIGINT NOT NULL,
    PRIMARY KEY (county_code, year)
);

CREATE TABLE cases (
    id                INTEGER PRIMARY KEY,
    case_number       TEXT NOT NULL UNIQUE,
    resident_id       BIGINT REFERENCES residents (id),
    language          TEXT NOT NULL DEFAULT 'zh-CN',
    category          TEXT NOT NULL CHECK (category IN ('family', 'neighbor', 'housing', 'land', 'labor',
                          'property_mgmt', 'traffic', 'medical', 'consumer', 'debt', 'expropriation',
                          'environment', 'other')),
    description       TEXT NOT NULL,
    other_party       TEXT NOT NULL DEFAULT '',
    party_count       BIGINT NOT NULL CHECK (party_count >= 1),
    lat               DOUBLE PRECISION,
    lon               DOUBLE PRECISION,
    location_source   TEXT NOT NULL CHECK (location_source IN ('shared', 'region', 'address')),
    address           TEXT NOT NULL DEFAULT '',
    region_code       TEXT NOT NULL REFERENCES regions (code),
    at_risk           BIGINT NOT NULL DEFAULT 0 CHECK (at_risk IN (0, 1)),
    contact_phone     TEXT,
    status            TEXT NOT NULL CHECK (status IN ('submitted', 'unrouted', 'assigned', 'accepted',
                          'scheduled', 'resolved', 'failed', 'closed', 'withdrawn')),
    committee_id      BIGINT REFERENCES committees (id),
    mediator_id       BIGINT REFERENCES mediators (id),
    rule_id           BIGINT,
    submitted_at      BIGINT NOT NULL,
    assigned_at       BIGINT,
    accepted_at       BIGINT,
    resolved_at       BIGINT,
    closed_at         BIGINT,
    accept_deadline   BIGINT,
    resolve_deadline  BIGINT,
    followup_due      BIGINT,
    scheduled_at      BIGINT,
    scheduled_place   TEXT,
    outcome           TEXT CHECK (outcome IS NULL OR outcome IN ('agreement', 'arbitration', 'litigation',
                          'withdrawn', 'admin_closed')),
    agreement         TEXT,
    judicial_confirmation BIGINT CHECK (judicial_confirmation IS NULL OR judicial_confirmation IN (0, 1)),
    rating            BIGINT CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    fulfilment        TEXT CHECK (fulfilment IS NULL OR fulfilment IN ('full', 'partial', 'none')),
    version           BIGINT NOT NULL DEFAULT 0,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX cases_committee_status ON cases (committee_id, status);
CREATE INDEX cases_resident ON cases (resident_id);
CREATE INDEX cases_status_submitted ON cases (status, submitted_at);
CREATE INDEX cases_region ON cases (region_code);
CREATE INDEX cases_accept_deadline ON cases (accept_deadline);
CREATE INDEX cases_resolve_deadline ON cases (resolve_deadline);

CREATE TABLE case_attachments (
    id             INTEGER PRIMARY KEY,
    case_id        BIGINT NOT NULL REFERENCES cases (id),
    kind           TEXT NOT NULL CHECK (kind IN ('photo', 'document', 'voice', 'video')),
    file_id        TEXT NOT NULL,
    file_unique_id TEXT NOT NULL DEFAULT '',
    caption        TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL
);
CREATE INDEX case_attachments_case ON case_attachments (case_id);

-- The timeline: one row per transition or action, never updated.
CREATE TABLE case_events (
    id          INTEGER PRIMARY KEY,
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    at          BIGINT NOT NULL,
    actor_kind  TEXT NOT NULL CHECK (actor_kind IN ('resident', 'mediator', 'admin', 'system')),
    actor_id    TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    committee_id BIGINT,
    reason      TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_case ON case_events (case_id, id);

-- Committees that declined (or let the accept deadline pass on) a case; escalation skips them.
CREATE TABLE case_declines (
    case_id      BIGINT NOT NULL REFERENCES cases (id),
    committee_id BIGINT NOT NULL REFERENCES committees (id),
    at           BIGINT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (case_id, committee_id)
);

CREATE TABLE routing_rules (
    id                  INTEGER PRIMARY KEY,
    priority            BIGINT NOT NULL,
    name                TEXT NOT NULL UNIQUE,
    enabled             BIGINT NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    categories          TEXT NOT NULL DEFAULT '[]',
    region_prefix       TEXT,
    min_parties         BIGINT,
    at_risk             BIGINT CHECK (at_risk IS NULL OR at_risk IN (0, 1)),
    target_committee_id BIGINT REFERENCES committees (id),
    target_kind         TEXT CHECK (target_kind IS NULL OR target_kind IN ('village', 'township', 'county',
                            'industry', 'court')),
    target_specialty    TEXT,
    max_distance_km     DOUBLE PRECISION,
    within_county       BIGINT NOT NULL DEFAULT 0 CHECK (within_county IN (0, 1)),
    accept_hours        BIGINT,
    resolve_days        BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    -- exactly one kind of target
    CHECK ((target_committee_id IS NULL) <> (target_kind IS NULL))
);
CREATE INDEX routing_rules_priority ON routing_rules (priority, id);

-- Dialogue state per chat, JSON, with a version for optimistic concurrency.
CREATE TABLE conversations (
    chat_id    BIGINT PRIMARY KEY,
    state      TEXT NOT NULL,
    version    BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

-- Durable inbox: every Telegram update lands here before it is acknowledged.
CREATE TABLE inbox (
    update_id   BIGINT PRIMARY KEY,
    chat_id     BIGINT,
    payload     TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts    BIGINT NOT NULL DEFAULT 0,
    received_at BIGINT NOT NULL,
    applied_at  BIGINT,
    error       TEXT
);
CREATE INDEX inbox_pending ON inbox (status, update_id);

-- Durable outbox: replies and notifications, committed with the change that caused them.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    chat_id         BIGINT NOT NULL,
    method          TEXT NOT NULL,
    payload         TEXT NOT NULL,
    case_id         BIGINT,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'dropped')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_by      TEXT,
    claimed_until   BIGINT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    error           TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_chat ON outbox (chat_id, id);

CREATE TABLE admin_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_kind TEXT NOT NULL DEFAULT '',
    object_id   TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);

-- Deadline and job bookkeeping: a job row is claimed once, so a deadline is acted on once
-- even with several instances.
CREATE TABLE jobs_done (
    job_key TEXT PRIMARY KEY,
    done_at BIGINT NOT NULL
);
