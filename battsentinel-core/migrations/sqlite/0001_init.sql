-- BattSentinel server schema, SQLite flavour. Keep in step with ../postgres/0001_init.sql:
-- same tables, columns and constraints; only the dialect differs (identity columns, WITHOUT ROWID).
-- Times are milliseconds since the Unix epoch (BIGINT) so both databases store them the same way.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    email         TEXT,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    created_ms    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  TEXT    NOT NULL UNIQUE,
    created_ms  BIGINT  NOT NULL,
    expires_ms  BIGINT  NOT NULL,
    revoked_ms  BIGINT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_failures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    username    TEXT    NOT NULL,
    at_ms       BIGINT  NOT NULL
);
CREATE INDEX login_failures_user_time ON login_failures(username, at_ms);

CREATE TABLE batteries (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id            BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name                TEXT    NOT NULL,
    chemistry           TEXT,
    serial_number       TEXT,
    nominal_capacity_ah DOUBLE PRECISION,
    nominal_voltage_v   DOUBLE PRECISION,
    created_ms          BIGINT  NOT NULL,
    updated_ms          BIGINT  NOT NULL
);
CREATE INDEX batteries_owner ON batteries(owner_id, id);

CREATE TABLE uploads (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    battery_id    BIGINT  NOT NULL REFERENCES batteries(id) ON DELETE CASCADE,
    content_sha256 TEXT   NOT NULL,
    source_name   TEXT,
    format        TEXT    NOT NULL,
    rows_read     BIGINT  NOT NULL,
    rows_kept     BIGINT  NOT NULL,
    rows_inserted BIGINT  NOT NULL,
    quality_json  TEXT    NOT NULL,
    created_ms    BIGINT  NOT NULL,
    UNIQUE (battery_id, content_sha256)
);

-- One row per sample; (battery, time) is the key, so a sample already stored is never stored twice.
CREATE TABLE samples (
    battery_id            BIGINT  NOT NULL REFERENCES batteries(id) ON DELETE CASCADE,
    t_s                   DOUBLE PRECISION NOT NULL,
    upload_id             BIGINT  NOT NULL,
    voltage_v             DOUBLE PRECISION,
    current_a             DOUBLE PRECISION,
    temperature_c         DOUBLE PRECISION,
    charge_capacity_ah    DOUBLE PRECISION,
    discharge_capacity_ah DOUBLE PRECISION,
    cycle_index           BIGINT,
    step_index            BIGINT,
    PRIMARY KEY (battery_id, t_s)
) WITHOUT ROWID;

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id    BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    battery_id  BIGINT  NOT NULL REFERENCES batteries(id) ON DELETE CASCADE,
    severity    TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    title       TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    created_ms  BIGINT  NOT NULL,
    read_ms     BIGINT
);
CREATE INDEX alerts_owner ON alerts(owner_id, id);
