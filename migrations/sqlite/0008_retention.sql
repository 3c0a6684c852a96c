-- Retention: closed and withdrawn cases lose their personal data after the configured period
-- (JIEFEN_RETENTION_DAYS). What statistics need (category, region, status, times, outcome,
-- rating, fulfilment) stays; the words, phone numbers, addresses and exact place go.
ALTER TABLE cases ADD COLUMN pseudonymised_at BIGINT;
CREATE INDEX cases_retention ON cases (status, pseudonymised_at, closed_at);
