-- BattSentinel server schema, step 2 (SQLite flavour). Keep in step with ../postgres/0002_channels_rules_jobs.sql.
-- Every channel of an upload is stored: the fixed columns of `samples` plus, here, further temperature
-- sensors (`temperature_c:<name>`), energies and the reader's extra channels, one row per value.

CREATE TABLE sample_channels (
    battery_id  BIGINT  NOT NULL REFERENCES batteries(id) ON DELETE CASCADE,
    channel     TEXT    NOT NULL,
    t_s         DOUBLE PRECISION NOT NULL,
    upload_id   BIGINT  NOT NULL,
    value       DOUBLE PRECISION,
    PRIMARY KEY (battery_id, channel, t_s)
) WITHOUT ROWID;

-- The extra channels a battery has, with their unit (listed by GET /batteries/{id}/data).
CREATE TABLE battery_channels (
    battery_id  BIGINT  NOT NULL REFERENCES batteries(id) ON DELETE CASCADE,
    channel     TEXT    NOT NULL,
    unit        TEXT    NOT NULL,
    PRIMARY KEY (battery_id, channel)
);

-- Alerts raised by the rule engine carry their rule, dedup key and lifecycle.
ALTER TABLE alerts ADD COLUMN rule_id TEXT;
ALTER TABLE alerts ADD COLUMN dedup_key TEXT;
ALTER TABLE alerts ADD COLUMN category TEXT;
ALTER TABLE alerts ADD COLUMN upload_id BIGINT;
ALTER TABLE alerts ADD COLUMN onset_t_s DOUBLE PRECISION;
ALTER TABLE alerts ADD COLUMN cleared_t_s DOUBLE PRECISION;
ALTER TABLE alerts ADD COLUMN occurrences BIGINT NOT NULL DEFAULT 1;
ALTER TABLE alerts ADD COLUMN trigger_json TEXT;
CREATE INDEX alerts_battery_key ON alerts(battery_id, dedup_key);

-- Per-battery rules (JSON of one `alerts::Rule`); a rule with the id of a default rule replaces it.
CREATE TABLE alert_rules (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    battery_id  BIGINT  NOT NULL REFERENCES batteries(id) ON DELETE CASCADE,
    rule_id     TEXT    NOT NULL,
    rule_json   TEXT    NOT NULL,
    created_ms  BIGINT  NOT NULL,
    updated_ms  BIGINT  NOT NULL,
    UNIQUE (battery_id, rule_id)
);

-- Digital-twin simulations run in the background; their status lives here so any instance can answer.
CREATE TABLE twin_jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    battery_id   BIGINT  NOT NULL REFERENCES batteries(id) ON DELETE CASCADE,
    status       TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    progress     DOUBLE PRECISION NOT NULL,
    request_json TEXT    NOT NULL,
    result_json  TEXT,
    error_code   TEXT,
    error        TEXT,
    created_ms   BIGINT  NOT NULL,
    updated_ms   BIGINT  NOT NULL
);
CREATE INDEX twin_jobs_battery ON twin_jobs(battery_id, id);

-- Stored analyses (fault probabilities, anomaly score, SOH/RUL) and their explanations.
CREATE TABLE analyses (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    battery_id       BIGINT  NOT NULL REFERENCES batteries(id) ON DELETE CASCADE,
    model            TEXT    NOT NULL,
    samples_used     BIGINT  NOT NULL,
    result_json      TEXT    NOT NULL,
    explanation_json TEXT,
    created_ms       BIGINT  NOT NULL
);
CREATE INDEX analyses_battery ON analyses(battery_id, id);
