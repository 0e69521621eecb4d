//! Sample storage: one upload = one transaction of `INSERT … ON CONFLICT DO NOTHING` statements (on SQLite,
//! multi-row statements of bound values; on PostgreSQL, `INSERT … SELECT` expanding a chunk of rows sent as one
//! JSON text), and range reads with optional
//! bucket-mean downsampling computed while streaming, in bounded memory.
//!
//! The fixed channels ([`CHANNELS`]) are columns of `samples`; every other channel of a log (temperature
//! sensors after the first as `temperature_c:<name>`, `charge_energy_wh`, `discharge_energy_wh`, the reader's
//! extra channels under their own names) is stored in `sample_channels`, one row per present value.

use super::auth::hex;
use super::error::ApiError;
use super::state::{now_ms, Backend, Db};
use crate::data::{BatteryLog, QualityReport};
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Row};

/// Stored channels besides time, in column order. The last two are integers.
pub(crate) const CHANNELS: [&str; 7] = [
    "voltage_v",
    "current_a",
    "temperature_c",
    "charge_capacity_ah",
    "discharge_capacity_ah",
    "cycle_index",
    "step_index",
];
const FLOAT_CHANNELS: usize = 5;

/// Rows ready for the database, in columns.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    /// Absolute time (s): `time_s` plus the log's start time (Unix seconds) when it has one.
    pub t_s: Vec<f64>,
    /// The five float channels; `None` where missing.
    pub floats: [Vec<Option<f64>>; FLOAT_CHANNELS],
    /// Cycle and step index.
    pub ints: [Vec<Option<i64>>; 2],
    /// Every other channel.
    pub extras: Vec<ExtraChannel>,
    /// Seconds added to `time_s`.
    pub offset_s: f64,
}

/// A channel outside the fixed columns.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExtraChannel {
    /// Stored name (see [`rows_from_log`]).
    pub name: String,
    /// Unit as the reader found it.
    pub unit: String,
    /// Values aligned with [`Rows::t_s`]; `None` where missing.
    pub values: Vec<Option<f64>>,
}

/// Longest stored channel name.
pub(crate) const MAX_CHANNEL_NAME: usize = 100;

/// A channel name safe to store and to list in `?channels=` (no commas or control characters, bounded).
fn clean_name(raw: &str, fallback: usize) -> String {
    let s: String = raw
        .trim()
        .chars()
        .map(|c| if c.is_control() || c == ',' { '_' } else { c })
        .take(MAX_CHANNEL_NAME)
        .collect();
    if s.is_empty() {
        format!("extra_{fallback}")
    } else {
        s
    }
}

impl Rows {
    pub(crate) fn len(&self) -> usize {
        self.t_s.len()
    }

    /// SHA-256 over the rows, so the same data uploaded again (in any file format) is recognised.
    pub(crate) fn digest(&self) -> String {
        let mut h = Sha256::new();
        for i in 0..self.len() {
            h.update(self.t_s[i].to_bits().to_le_bytes());
            for col in &self.floats {
                h.update(col[i].map_or(u64::MAX, f64::to_bits).to_le_bytes());
            }
            for col in &self.ints {
                h.update(col[i].map_or(i64::MIN, |v| v).to_le_bytes());
            }
        }
        for e in &self.extras {
            h.update((e.name.len() as u64).to_le_bytes());
            h.update(e.name.as_bytes());
            for v in &e.values {
                h.update(v.map_or(u64::MAX, f64::to_bits).to_le_bytes());
            }
        }
        hex(&h.finalize())
    }
}

/// Columns of a log as stored rows: the fixed channels, the first temperature sensor as `temperature_c`,
/// further sensors as `temperature_c:<name>`, the energies, and every extra channel under its (cleaned) name
/// (prefixed `extra:` if it would collide with another channel). Non-finite values become missing.
///
/// # Errors
/// 422 when the columns have different lengths, the log is empty, or a time is not finite.
pub(crate) fn rows_from_log(log: &BatteryLog) -> Result<Rows, ApiError> {
    log.validate().map_err(|e| ApiError::invalid(e.column.clone(), e.to_string()))?;
    if log.is_empty() {
        return Err(ApiError::invalid("samples", "no samples"));
    }
    if let Some(i) = log.time_s.iter().position(|t| !t.is_finite()) {
        return Err(ApiError::invalid(format!("samples[{i}].time_s"), "must be a finite number"));
    }
    let offset_s = log.start_time.map_or(0.0, |t| t.and_utc().timestamp_millis() as f64 / 1000.0);
    let fl = |c: Option<&[f64]>| -> Vec<Option<f64>> {
        match c {
            Some(v) => v.iter().map(|x| x.is_finite().then_some(*x)).collect(),
            None => vec![None; log.len()],
        }
    };
    let int = |c: &Option<Vec<Option<u32>>>| -> Vec<Option<i64>> {
        match c {
            Some(v) => v.iter().map(|x| x.map(i64::from)).collect(),
            None => vec![None; log.len()],
        }
    };
    let mut extras: Vec<ExtraChannel> = Vec::new();
    let mut push = |name: String, unit: &str, values: &[f64]| {
        let taken = |ex: &[ExtraChannel], n: &str| CHANNELS.contains(&n) || ex.iter().any(|e| e.name == n);
        let name = if taken(&extras, &name) { format!("extra:{name}") } else { name };
        if !taken(&extras, &name) {
            let values = values.iter().map(|x| x.is_finite().then_some(*x)).collect();
            extras.push(ExtraChannel { name, unit: unit.to_string(), values });
        }
    };
    for (i, ch) in log.temperatures_c.iter().enumerate().skip(1) {
        push(format!("temperature_c:{}", clean_name(&ch.name, i)), &ch.unit, &ch.values);
    }
    for (name, col) in
        [("charge_energy_wh", &log.charge_energy_wh), ("discharge_energy_wh", &log.discharge_energy_wh)]
    {
        if let Some(v) = col {
            push(name.to_string(), "Wh", v);
        }
    }
    for (i, ch) in log.extra.iter().enumerate() {
        push(clean_name(&ch.name, i), &ch.unit, &ch.values);
    }
    Ok(Rows {
        extras,
        t_s: log.time_s.iter().map(|t| t + offset_s).collect(),
        floats: [
            fl(log.voltage_v.as_deref()),
            fl(log.current_a.as_deref()),
            fl(log.temperature_c()),
            fl(log.charge_capacity_ah.as_deref()),
            fl(log.discharge_capacity_ah.as_deref()),
        ],
        ints: [int(&log.cycle_index), int(&log.step_index)],
        offset_s,
    })
}

/// What an upload did.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub upload_id: i64,
    pub rows_inserted: u64,
    /// Values stored in `sample_channels`.
    pub extra_values_inserted: u64,
    /// What the rule engine's events did to the battery's alerts.
    pub alerts: super::engine::Recorded,
}

/// Rows per INSERT statement on PostgreSQL. Each statement carries its rows as one JSON text parameter that
/// the server expands (`json_array_elements`; `float8in` parses the shortest round-trip text back to the same
/// bits): one bound value per statement instead of ten per row.
const CHUNK_ROWS_JSON: usize = 20_000;
/// Rows per INSERT statement on SQLite, where values are bound one by one (SQLite's own text-to-double
/// conversion is off by one unit in the last place for some values, e.g. -1e-300, so text is not an option;
/// 10 000 parameters a statement stay below SQLite's limit of 32 766).
const CHUNK_ROWS_BOUND: usize = 1_000;

const SAMPLE_COLUMNS: &str = "samples (battery_id, upload_id, t_s, voltage_v, current_a, temperature_c, \
     charge_capacity_ah, discharge_capacity_ah, cycle_index, step_index)";
const EXTRA_COLUMNS: &str = "sample_channels (battery_id, channel, t_s, upload_id, value)";

/// SQLite: `INSERT INTO <target> VALUES (?, …), … ON CONFLICT (<key>) DO NOTHING` for `rows` rows of `cols`
/// values. Anonymous `?` placeholders, not `$n`: the driver looks up each named parameter with
/// `sqlite3_bind_parameter_name`, a linear scan, which made binding quadratic in the statement size (72 % of
/// an upload's time at 1 000 parameters a statement).
fn insert_sql(target: &str, cols: usize, rows: usize, key: &str) -> String {
    let mut sql = String::with_capacity(2 * cols * rows + 200);
    sql.push_str("INSERT INTO ");
    sql.push_str(target);
    sql.push_str(" VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            sql.push('?');
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (");
    sql.push_str(key);
    sql.push_str(") DO NOTHING");
    sql
}

/// PostgreSQL: `INSERT … SELECT` of `samples` rows from the JSON array `$3` of `[t_s, 5 floats, 2 integers]` rows.
fn samples_insert_sql() -> &'static str {
    "INSERT INTO samples (battery_id, upload_id, t_s, voltage_v, current_a, temperature_c, \
             charge_capacity_ah, discharge_capacity_ah, cycle_index, step_index) \
             SELECT $1, $2, (e ->> 0)::float8, (e ->> 1)::float8, (e ->> 2)::float8, (e ->> 3)::float8, \
             (e ->> 4)::float8, (e ->> 5)::float8, (e ->> 6)::bigint, (e ->> 7)::bigint \
             FROM json_array_elements($3::text::json) AS e ON CONFLICT (battery_id, t_s) DO NOTHING"
}

/// PostgreSQL: `INSERT … SELECT` of `sample_channels` rows from the JSON array `$4` of `[t_s, value]` pairs.
fn extra_insert_sql() -> &'static str {
    "INSERT INTO sample_channels (battery_id, channel, t_s, upload_id, value) \
             SELECT $1, $2, (e ->> 0)::float8, $3, (e ->> 1)::float8 \
             FROM json_array_elements($4::text::json) AS e ON CONFLICT (battery_id, channel, t_s) DO NOTHING"
}

/// Appends `x` to a JSON text: the shortest representation that parses back to the same bits (`{:?}` of
/// an `f64`: exponent notation for very large and very small magnitudes), `null` for missing.
fn push_json_f64(out: &mut String, x: Option<f64>) {
    use std::fmt::Write;
    match x {
        Some(v) if v.is_finite() => {
            let _ = write!(out, "{v:?}");
        }
        _ => out.push_str("null"),
    }
}

/// Rows `range` of the fixed columns as a JSON array of `[t_s, v, i, T, q_ch, q_dis, cycle, step]`.
fn samples_json(rows: &Rows, range: std::ops::Range<usize>) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(range.len() * 96 + 2);
    s.push('[');
    for i in range {
        if s.len() > 1 {
            s.push(',');
        }
        s.push('[');
        push_json_f64(&mut s, Some(rows.t_s[i]));
        for col in &rows.floats {
            s.push(',');
            push_json_f64(&mut s, col[i]);
        }
        for col in &rows.ints {
            s.push(',');
            match col[i] {
                Some(v) => {
                    let _ = write!(s, "{v}");
                }
                None => s.push_str("null"),
            }
        }
        s.push(']');
    }
    s.push(']');
    s
}

/// Present values of an extra channel as a JSON array of `[t_s, value]`.
fn extra_json(pairs: &[(f64, f64)]) -> String {
    let mut s = String::with_capacity(pairs.len() * 40 + 2);
    s.push('[');
    for (k, &(t, v)) in pairs.iter().enumerate() {
        if k > 0 {
            s.push(',');
        }
        s.push('[');
        push_json_f64(&mut s, Some(t));
        s.push(',');
        push_json_f64(&mut s, Some(v));
        s.push(']');
    }
    s.push(']');
    s
}

/// Stores an upload in one transaction: the `uploads` row (unique per battery and content digest), every
/// sample, every extra channel value, and the alerts the rule engine raised on it. Samples whose time
/// already exists for the battery are skipped and counted as duplicates.
///
/// # Errors
/// 409 `duplicate_upload` when the same rows were uploaded before (nothing written); 500 on database errors
/// (the transaction is rolled back, nothing written).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn store(
    db: &Db,
    battery_id: i64,
    owner_id: i64,
    rows: &Rows,
    source_name: Option<&str>,
    format: &str,
    quality: &QualityReport,
    events: &super::engine::Evaluated,
) -> Result<Stored, ApiError> {
    let digest = rows.digest();
    let quality_json = serde_json::to_string(quality)
        .map_err(|e| ApiError::Internal { detail: format!("quality json: {e}") })?;
    let mut tx = db.pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO uploads (battery_id, content_sha256, source_name, format, rows_read, rows_kept, \
         rows_inserted, quality_json, created_ms) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8) RETURNING id",
    )
    .bind(battery_id)
    .bind(&digest)
    .bind(source_name)
    .bind(format)
    .bind(i64::try_from(quality.rows_read).unwrap_or(i64::MAX))
    .bind(i64::try_from(quality.rows_kept).unwrap_or(i64::MAX))
    .bind(quality_json)
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await;
    let upload_id: i64 = match inserted {
        Ok(row) => row.try_get("id")?,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            tx.rollback().await?;
            let earlier: i64 =
                sqlx::query("SELECT id FROM uploads WHERE battery_id = $1 AND content_sha256 = $2")
                    .bind(battery_id)
                    .bind(&digest)
                    .fetch_one(&db.pool)
                    .await?
                    .try_get("id")?;
            return Err(ApiError::Conflict {
                code: "duplicate_upload",
                message: format!("the same samples were already uploaded (upload {earlier})"),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let json = db.backend == Backend::Postgres;
    let chunk = if json { CHUNK_ROWS_JSON } else { CHUNK_ROWS_BOUND };
    let key = "battery_id, t_s";
    let full_sql = insert_sql(SAMPLE_COLUMNS, 10, CHUNK_ROWS_BOUND, key);
    let mut rows_inserted = 0u64;
    let mut start = 0;
    while start < rows.len() {
        let end = (start + chunk).min(rows.len());
        let q = if json {
            sqlx::query(AssertSqlSafe(samples_insert_sql()))
                .bind(battery_id)
                .bind(upload_id)
                .bind(samples_json(rows, start..end))
        } else {
            let sql = if end - start == CHUNK_ROWS_BOUND {
                full_sql.clone()
            } else {
                insert_sql(SAMPLE_COLUMNS, 10, end - start, key)
            };
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for i in start..end {
                q = q.bind(battery_id).bind(upload_id).bind(rows.t_s[i]);
                for col in &rows.floats {
                    q = q.bind(col[i]);
                }
                for col in &rows.ints {
                    q = q.bind(col[i]);
                }
            }
            q
        };
        rows_inserted += q.execute(&mut *tx).await?.rows_affected();
        start = end;
    }
    let mut extra_values_inserted = 0u64;
    let key = "battery_id, channel, t_s";
    let extra_chunk = if json { CHUNK_ROWS_JSON } else { 2 * CHUNK_ROWS_BOUND };
    let full_sql = insert_sql(EXTRA_COLUMNS, 5, extra_chunk, key);
    for ch in &rows.extras {
        sqlx::query(
            "INSERT INTO battery_channels (battery_id, channel, unit) VALUES ($1, $2, $3) \
             ON CONFLICT (battery_id, channel) DO NOTHING",
        )
        .bind(battery_id)
        .bind(&ch.name)
        .bind(&ch.unit)
        .execute(&mut *tx)
        .await?;
        let present: Vec<(f64, f64)> =
            rows.t_s.iter().zip(&ch.values).filter_map(|(t, v)| v.map(|v| (*t, v))).collect();
        for part in present.chunks(extra_chunk) {
            let q = if json {
                sqlx::query(AssertSqlSafe(extra_insert_sql()))
                    .bind(battery_id)
                    .bind(&ch.name)
                    .bind(upload_id)
                    .bind(extra_json(part))
            } else {
                let sql = if part.len() == extra_chunk {
                    full_sql.clone()
                } else {
                    insert_sql(EXTRA_COLUMNS, 5, part.len(), key)
                };
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for &(t, v) in part {
                    q = q.bind(battery_id).bind(&ch.name).bind(t).bind(upload_id).bind(v);
                }
                q
            };
            extra_values_inserted += q.execute(&mut *tx).await?.rows_affected();
        }
    }
    sqlx::query("UPDATE uploads SET rows_inserted = $1 WHERE id = $2")
        .bind(i64::try_from(rows_inserted).unwrap_or(i64::MAX))
        .bind(upload_id)
        .execute(&mut *tx)
        .await?;
    let alerts = super::engine::record(&mut tx, battery_id, owner_id, upload_id, events).await?;
    tx.commit().await?;
    Ok(Stored { upload_id, rows_inserted, extra_values_inserted, alerts })
}

/// A read request after validation.
#[derive(Debug, Clone)]
pub(crate) struct Range {
    pub from_s: Option<f64>,
    pub to_s: Option<f64>,
    pub after_s: Option<f64>,
    /// Indices into [`CHANNELS`].
    pub channels: Vec<usize>,
    /// Channels of `sample_channels`.
    pub extras: Vec<String>,
}

/// Samples in columns, as read back.
#[derive(Debug, Default)]
pub(crate) struct Series {
    pub t_s: Vec<f64>,
    /// Aligned with [`Range::channels`].
    pub values: Vec<Vec<Option<f64>>>,
    /// Aligned with [`Range::extras`].
    pub extra_values: Vec<Vec<Option<f64>>>,
}

/// The stored extra channels of a battery, with their units, by name.
pub(crate) async fn extra_channels(db: &Db, battery_id: i64) -> Result<Vec<(String, String)>, ApiError> {
    let rows =
        sqlx::query("SELECT channel, unit FROM battery_channels WHERE battery_id = $1 ORDER BY channel")
            .bind(battery_id)
            .fetch_all(&db.pool)
            .await?;
    rows.iter().map(|r| Ok((r.try_get("channel")?, r.try_get("unit")?))).collect()
}

/// Values of one extra channel with `lo <= t_s <= hi`, in time order, streamed into `f`.
async fn each_extra(
    db: &Db,
    battery_id: i64,
    channel: &str,
    lo: f64,
    hi: f64,
    mut f: impl FnMut(f64, Option<f64>),
) -> Result<(), ApiError> {
    let mut stream = sqlx::query(
        "SELECT t_s, value FROM sample_channels WHERE battery_id = $1 AND channel = $2 AND t_s >= $3 \
         AND t_s <= $4 ORDER BY t_s",
    )
    .bind(battery_id)
    .bind(channel)
    .bind(lo)
    .bind(hi)
    .fetch(&db.pool);
    while let Some(row) = stream.try_next().await? {
        f(row.try_get(0)?, row.try_get(1)?);
    }
    Ok(())
}

fn select_sql(range: &Range, tail: &str) -> (String, Vec<f64>) {
    let cols: Vec<&str> = range.channels.iter().map(|&c| CHANNELS[c]).collect();
    let mut sql = format!(
        "SELECT t_s{}{} FROM samples WHERE battery_id = $1",
        if cols.is_empty() { "" } else { ", " },
        cols.join(", ")
    );
    let mut binds = Vec::new();
    for (op, v) in [(">=", range.from_s), ("<=", range.to_s), (">", range.after_s)] {
        if let Some(v) = v {
            binds.push(v);
            sql.push_str(&format!(" AND t_s {op} ${}", binds.len() + 1));
        }
    }
    sql.push_str(tail);
    (sql, binds)
}

fn value(row: &sqlx::any::AnyRow, k: usize, channel: usize) -> Result<Option<f64>, sqlx::Error> {
    if channel < FLOAT_CHANNELS {
        row.try_get::<Option<f64>, _>(k)
    } else {
        Ok(row.try_get::<Option<i64>, _>(k)?.map(|v| v as f64))
    }
}

/// Up to `limit` samples in time order (and whether more follow).
pub(crate) async fn read_page(
    db: &Db,
    battery_id: i64,
    range: &Range,
    limit: u32,
) -> Result<(Series, bool), ApiError> {
    let (sql, binds) = select_sql(range, &format!(" ORDER BY t_s LIMIT {}", u64::from(limit) + 1));
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(battery_id);
    for b in binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(&db.pool).await?;
    let more = rows.len() > limit as usize;
    let mut out = Series {
        t_s: Vec::new(),
        values: vec![Vec::new(); range.channels.len()],
        extra_values: vec![Vec::new(); range.extras.len()],
    };
    for row in rows.iter().take(limit as usize) {
        out.t_s.push(row.try_get(0)?);
        for (k, &c) in range.channels.iter().enumerate() {
            out.values[k].push(value(row, k + 1, c)?);
        }
    }
    if let (Some(&lo), Some(&hi)) = (out.t_s.first(), out.t_s.last()) {
        for (k, name) in range.extras.iter().enumerate() {
            // Both sides are sorted by time: walk them together.
            let col = &mut out.extra_values[k];
            col.resize(out.t_s.len(), None);
            let mut i = 0;
            let t_s = &out.t_s;
            each_extra(db, battery_id, name, lo, hi, |t, v| {
                while i < t_s.len() && t_s[i] < t {
                    i += 1;
                }
                if i < t_s.len() && t_s[i] == t {
                    col[i] = v;
                }
            })
            .await?;
        }
    }
    Ok((out, more))
}

/// At most `max_points` points over `[from, to]`: the range is cut into `max_points` equal time buckets and
/// each non-empty bucket gives the mean time and the mean of each float channel (missing values ignored);
/// the integer channels (cycle and step index) take the bucket's last value. Memory is O(`max_points`).
pub(crate) async fn read_downsampled(
    db: &Db,
    battery_id: i64,
    range: &Range,
    max_points: u32,
) -> Result<Series, ApiError> {
    let n = max_points as usize;
    let (lo, hi) = match (range.from_s, range.to_s) {
        (Some(a), Some(b)) => (a, b),
        _ => {
            let (sql, binds) = select_sql(&Range { channels: vec![], extras: vec![], ..range.clone() }, "");
            let sql = sql.replacen("SELECT t_s", "SELECT MIN(t_s) AS lo, MAX(t_s) AS hi", 1);
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(battery_id);
            for b in binds {
                q = q.bind(b);
            }
            let row = q.fetch_one(&db.pool).await?;
            match (row.try_get::<Option<f64>, _>("lo")?, row.try_get::<Option<f64>, _>("hi")?) {
                (Some(a), Some(b)) => (range.from_s.unwrap_or(a), range.to_s.unwrap_or(b)),
                _ => {
                    return Ok(Series {
                        t_s: vec![],
                        values: vec![vec![]; range.channels.len()],
                        extra_values: vec![vec![]; range.extras.len()],
                    })
                }
            }
        }
    };
    // Buckets are computed by the database (`GROUP BY` over the range, in C, a few rows back) with the same
    // double arithmetic as `((t - lo) / width) as usize`, clamped to the last bucket.
    let width = (hi - lo) / n as f64;
    let last_bucket = i64::from(max_points) - 1;
    let bucket = match db.backend {
        Backend::Sqlite => "CASE WHEN $4 > 0 THEN MIN(CAST((t_s - $2) / $4 AS INTEGER), $5) ELSE 0 END",
        Backend::Postgres => "CASE WHEN $4 > 0 THEN LEAST(FLOOR((t_s - $2) / $4)::bigint, $5) ELSE 0 END",
    };
    let nc = range.channels.len();
    let ne = range.extras.len();
    // Float channels: the mean of the present values; integer channels (cycle, step): the last present value.
    let mut sql = format!("SELECT {bucket} AS b, AVG(t_s) AS t");
    for &c in range.channels.iter().filter(|&&c| c < FLOAT_CHANNELS) {
        sql.push_str(&format!(", AVG({}) AS {}", CHANNELS[c], CHANNELS[c]));
    }
    sql.push_str(" FROM samples WHERE battery_id = $1 AND t_s >= $2 AND t_s <= $3 GROUP BY b ORDER BY b");
    let grid = BucketGrid { battery_id, lo, hi, width, last_bucket };
    let rows = grid.query(sql).fetch_all(&db.pool).await?;
    let mut out = Series {
        t_s: Vec::with_capacity(rows.len()),
        values: vec![Vec::new(); nc],
        extra_values: vec![Vec::new(); ne],
    };
    let mut buckets = Vec::with_capacity(rows.len());
    for row in &rows {
        buckets.push(row.try_get::<i64, _>("b")?);
        out.t_s.push(row.try_get::<f64, _>("t")?);
        for (k, &c) in range.channels.iter().enumerate() {
            if c < FLOAT_CHANNELS {
                out.values[k].push(row.try_get::<Option<f64>, _>(CHANNELS[c])?);
            }
        }
    }
    for (k, &c) in range.channels.iter().enumerate().filter(|(_, &c)| c >= FLOAT_CHANNELS) {
        let col = CHANNELS[c];
        let sql = format!(
            "SELECT b, CAST(v AS DOUBLE PRECISION) AS v FROM (SELECT {bucket} AS b, {col} AS v, ROW_NUMBER() \
             OVER (PARTITION BY {bucket} ORDER BY t_s DESC) AS rn FROM samples WHERE battery_id = $1 \
             AND t_s >= $2 AND t_s <= $3 AND {col} IS NOT NULL) last_in_bucket WHERE rn = 1"
        );
        out.values[k] = grid.column(db, grid.query(sql), &buckets).await?;
    }
    for (k, name) in range.extras.iter().enumerate() {
        let sql = format!(
            "SELECT {bucket} AS b, AVG(value) AS v FROM sample_channels WHERE battery_id = $1 AND t_s >= $2 \
             AND t_s <= $3 AND channel = $6 GROUP BY b"
        );
        out.extra_values[k] = grid.column(db, grid.query(sql).bind(name), &buckets).await?;
    }
    Ok(out)
}

/// The bucket grid of a downsampled read: queries bind `$1` battery, `$2` lo, `$3` hi, `$4` bucket width and
/// `$5` last bucket index.
struct BucketGrid {
    battery_id: i64,
    lo: f64,
    hi: f64,
    width: f64,
    last_bucket: i64,
}

impl BucketGrid {
    fn query(&self, sql: String) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
        sqlx::query(AssertSqlSafe(sql))
            .bind(self.battery_id)
            .bind(self.lo)
            .bind(self.hi)
            .bind(self.width)
            .bind(self.last_bucket)
    }

    /// Runs a query of `(b, v)` rows and aligns `v` with `buckets` (missing where a bucket has no row).
    async fn column(
        &self,
        db: &Db,
        query: sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>,
        buckets: &[i64],
    ) -> Result<Vec<Option<f64>>, ApiError> {
        let mut column = vec![None; buckets.len()];
        for row in query.fetch_all(&db.pool).await? {
            if let Ok(i) = buckets.binary_search(&row.try_get::<i64, _>("b")?) {
                column[i] = row.try_get::<Option<f64>, _>("v")?;
            }
        }
        Ok(column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rows_keep_every_bit_and_missing_values() {
        let rows = Rows {
            t_s: vec![0.1 + 0.2, 1e-300],
            floats: [
                vec![Some(3.0), Some(f64::MIN_POSITIVE / 8.0)],
                vec![None, Some(-1.5e300)],
                vec![Some(25.0), None],
                vec![Some(0.0), None],
                vec![None, Some(1.0 / 3.0)],
            ],
            ints: [vec![Some(1), None], vec![Some(-2), Some(i64::from(u32::MAX))]],
            ..Rows::default()
        };
        let s = samples_json(&rows, 0..2);
        assert!(s.starts_with("[[0.30000000000000004,3.0,null,25.0,0.0,null,1,-2],[1e-300,"), "{s}");
        let back: Vec<Vec<Option<f64>>> = serde_json::from_str(&s).unwrap();
        assert_eq!(back[1][1].unwrap().to_bits(), (f64::MIN_POSITIVE / 8.0).to_bits());
        assert_eq!(back[1][5].unwrap().to_bits(), (1.0f64 / 3.0).to_bits());
        assert_eq!(back[1][7], Some(f64::from(u32::MAX)));
        assert_eq!(extra_json(&[(1.0, -0.25), (2.5, 1e21)]), "[[1.0,-0.25],[2.5,1e21]]");
        assert_eq!(extra_json(&[]), "[]");
    }

    #[test]
    fn rows_from_log_offsets_by_start_time_and_maps_nan_to_missing() {
        let mut log = BatteryLog::with_time(vec![0.0, 1.0]);
        log.voltage_v = Some(vec![4.0, f64::NAN]);
        log.start_time = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
        let r = rows_from_log(&log).unwrap();
        assert_eq!(r.t_s, vec![1_577_836_800.0, 1_577_836_801.0]);
        assert_eq!(r.floats[0], vec![Some(4.0), None]);
        assert_eq!(r.floats[1], vec![None, None]);
        let mut bad = BatteryLog::with_time(vec![0.0, f64::INFINITY]);
        bad.voltage_v = Some(vec![1.0, 1.0]);
        assert!(rows_from_log(&bad).is_err());
        assert!(rows_from_log(&BatteryLog::default()).is_err());
    }

    #[test]
    fn digest_depends_on_every_value() {
        let mut log = BatteryLog::with_time(vec![0.0, 1.0]);
        log.current_a = Some(vec![1.0, 2.0]);
        let a = rows_from_log(&log).unwrap().digest();
        log.current_a = Some(vec![1.0, 2.5]);
        assert_ne!(a, rows_from_log(&log).unwrap().digest());
    }
}
