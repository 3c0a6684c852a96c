-- Early warning runs after the filing commits, not inside it: every filing of a mass filing
-- would otherwise write the same cluster row and hold it until its batch commits. A filing
-- queues its case here in its own transaction; one worker at a time (it takes the turn row
-- first) grows and raises clusters in case order and removes the rows it handled.
CREATE TABLE early_warning_queue (
    case_id BIGINT PRIMARY KEY REFERENCES cases (id),
    queued_at BIGINT NOT NULL
);

CREATE TABLE early_warning_turn (
    id INTEGER PRIMARY KEY,
    taken_at BIGINT NOT NULL
);
INSERT INTO early_warning_turn (id, taken_at) VALUES (1, 0);
