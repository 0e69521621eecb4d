//! Fixture helpers for the twin tests.
#![allow(dead_code)]

pub use super::shared_data;

/// A numeric CSV with a header: (header, rows).
pub fn read_csv(rel: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(shared_data(rel)).unwrap();
    let mut lines = text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    let header = lines.next().unwrap().split(',').map(|s| s.trim().to_string()).collect();
    let rows = lines.map(|l| l.split(',').map(|c| c.trim().parse::<f64>().unwrap()).collect()).collect();
    (header, rows)
}

/// Column `name` of a CSV read with [`read_csv`].
pub fn column(header: &[String], rows: &[Vec<f64>], name: &str) -> Vec<f64> {
    let k = header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    rows.iter().map(|r| r[k]).collect()
}
