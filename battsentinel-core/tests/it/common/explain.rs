//! Fixture helpers for the `explain` integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use ndarray::Array2;

pub use super::shared;

/// A case directory of the xai reference.
pub fn case(name: &str) -> PathBuf {
    shared(&format!("reference/xai/cases/{name}"))
}

/// Reads a CSV with a header row into a matrix.
pub fn read_csv(path: &std::path::Path) -> (Vec<String>, Array2<f64>) {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let mut vals = Vec::new();
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        for v in rec.iter() {
            vals.push(v.trim().parse::<f64>().unwrap());
        }
        rows += 1;
    }
    let cols = header.len();
    (header, Array2::from_shape_vec((rows, cols), vals).unwrap())
}

/// Reads a JSON file.
pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A JSON array of numbers as a vector.
pub fn f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}
