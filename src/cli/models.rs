//! `battsentinel models`: train and apply the fault models on numeric CSV tables.
//!
//! ```text
//! battsentinel models train --data X.csv --target label --model forest -o model.json
//! battsentinel models predict --model model.json --data X.csv [--target label]
//! ```
//! The CSV has a header row and numeric columns; every column except `--target` is a feature. The model file
//! is the shared JSON format (`battsentinel_core::models::Persist`), loadable from Python and JS.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use battsentinel_core::models::forest::{RandomForestClassifier, RandomForestParams, RandomForestRegressor};
use battsentinel_core::models::iforest::{IsolationForest, IsolationForestParams};
use battsentinel_core::models::mlp::{MlpClassifier, MlpParams, MlpRegressor};
use battsentinel_core::models::svm::{OneClassSvm, SvmClassifier, SvmKernel, SvmParams};
use battsentinel_core::models::{metrics, model_kind, Persist};
use ndarray::{Array1, Array2};

/// Arguments of `battsentinel models`.
#[derive(clap::Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    command: ModelsCommand,
}

#[derive(clap::Subcommand)]
enum ModelsCommand {
    /// Fit a model to a CSV table and save it as JSON.
    Train(TrainArgs),
    /// Apply a saved model to a CSV table; prints CSV (and the score when the target column is present).
    Predict(PredictArgs),
}

/// Which estimator to train.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ModelKind {
    /// Random forest (classifier or regressor).
    Forest,
    /// C-SVC with RBF kernel (classifier); one-class SVM when no target is given.
    Svm,
    /// Isolation forest (anomaly scores; the target column, if any, is ignored).
    Iforest,
    /// Multi-layer perceptron (classifier or regressor).
    Mlp,
}

/// Classification or regression.
#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Task {
    /// Classification if the target holds only non-negative integers (≤ 100 distinct), else regression.
    Auto,
    /// Class labels (non-negative integers).
    Classify,
    /// Real-valued target.
    Regress,
}

#[derive(clap::Args)]
struct TrainArgs {
    /// Training table (CSV with header).
    #[arg(long)]
    data: PathBuf,
    /// Target column name (required except for iforest).
    #[arg(long)]
    target: Option<String>,
    /// Estimator.
    #[arg(long, value_enum)]
    model: ModelKind,
    /// Classification or regression.
    #[arg(long, value_enum, default_value = "auto")]
    task: Task,
    /// Output model file.
    #[arg(short, long)]
    output: PathBuf,
    /// Seed for every random choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Trees (forest, iforest).
    #[arg(long, default_value_t = 100)]
    n_trees: usize,
    /// SVM penalty C.
    #[arg(long, default_value_t = 1.0)]
    c: f64,
    /// SVM RBF gamma (default 1 / (n_features · variance of X), scikit-learn's "scale").
    #[arg(long)]
    gamma: Option<f64>,
    /// Columns to leave out of the features, comma-separated (e.g. a second target that would leak the answer).
    #[arg(long, value_delimiter = ',')]
    drop: Vec<String>,
}

#[derive(clap::Args)]
struct PredictArgs {
    /// Saved model (JSON).
    #[arg(long)]
    model: PathBuf,
    /// Table to predict (CSV with header).
    #[arg(long)]
    data: PathBuf,
    /// Target column to exclude from the features (and score against).
    #[arg(long)]
    target: Option<String>,
    /// Columns to leave out of the features, comma-separated (the same as at training).
    #[arg(long, value_delimiter = ',')]
    drop: Vec<String>,
}

struct Table {
    x: Array2<f64>,
    y: Option<Vec<f64>>,
}

fn read_table(path: &PathBuf, target: Option<&str>, drop: &[String]) -> Result<Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().context("empty CSV")?.split(',').map(str::trim).collect();
    let t_idx = match target {
        Some(t) => Some(header.iter().position(|h| *h == t).with_context(|| format!("no column `{t}`"))?),
        None => None,
    };
    let mut dropped = vec![false; header.len()];
    for d in drop {
        let j = header.iter().position(|h| h == d).with_context(|| format!("--drop: no column `{d}`"))?;
        if Some(j) == t_idx {
            bail!("--drop `{d}` is the target column");
        }
        dropped[j] = true;
    }
    let mut feats = Vec::new();
    let mut ys = Vec::new();
    let mut n = 0;
    for (ln, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != header.len() {
            bail!("line {}: {} cells, header has {}", ln + 2, cells.len(), header.len());
        }
        for (j, c) in cells.iter().enumerate() {
            let v: f64 = c
                .parse()
                .with_context(|| format!("line {}, column `{}`: `{c}` is not a number", ln + 2, header[j]))?;
            if Some(j) == t_idx {
                ys.push(v);
            } else if !dropped[j] {
                feats.push(v);
            }
        }
        n += 1;
    }
    let p = header.len() - usize::from(t_idx.is_some()) - dropped.iter().filter(|&&d| d).count();
    Ok(Table { x: Array2::from_shape_vec((n, p), feats)?, y: t_idx.map(|_| ys) })
}

fn as_labels(y: &[f64]) -> Option<Array1<usize>> {
    y.iter().map(|&v| (v >= 0.0 && v.fract() == 0.0 && v < 1e9).then_some(v as usize)).collect()
}

/// Runs `battsentinel models …`.
///
/// # Errors
/// Unreadable or non-numeric CSV, a missing target, and every model error.
pub fn run(args: ModelsArgs) -> Result<()> {
    match args.command {
        ModelsCommand::Train(a) => train(a),
        ModelsCommand::Predict(a) => predict(a),
    }
}

fn train(a: TrainArgs) -> Result<()> {
    let t = read_table(&a.data, a.target.as_deref(), &a.drop)?;
    let x = t.x.view();
    let labels = t.y.as_deref().and_then(as_labels);
    let classify = match a.task {
        Task::Classify => {
            if labels.is_none() {
                bail!("--task classify needs non-negative integer labels in the target column");
            }
            true
        }
        Task::Regress => false,
        Task::Auto => labels.as_ref().is_some_and(|l| {
            let mut d = l.to_vec();
            d.sort_unstable();
            d.dedup();
            d.len() <= 100
        }),
    };
    let need_y = || t.y.clone().map(Array1::from).context("--target is required for this model");
    let json = match (a.model, classify) {
        (ModelKind::Iforest, _) => {
            IsolationForest::fit(&IsolationForestParams::default().n_trees(a.n_trees).seed(a.seed), &x)?
                .save_json()?
        }
        (ModelKind::Forest, true) => {
            let p = RandomForestParams::default().n_trees(a.n_trees).seed(a.seed).oob_score(true);
            let m = RandomForestClassifier::fit(&p, &x, &labels.context("labels")?.view())?;
            eprintln!("out-of-bag accuracy: {:.4}", m.oob_score().unwrap_or(f64::NAN));
            m.save_json()?
        }
        (ModelKind::Forest, false) => {
            let p = RandomForestParams::default().n_trees(a.n_trees).seed(a.seed).oob_score(true);
            let m = RandomForestRegressor::fit(&p, &x, &need_y()?.view())?;
            eprintln!("out-of-bag R²: {:.4}", m.oob_score().unwrap_or(f64::NAN));
            m.save_json()?
        }
        (ModelKind::Svm, c) => {
            let gamma = a.gamma.unwrap_or_else(|| {
                let var = x.var(0.0);
                if var > 0.0 {
                    1.0 / (x.ncols() as f64 * var)
                } else {
                    1.0
                }
            });
            let p = SvmParams::default().c(a.c).kernel(SvmKernel::Rbf { gamma });
            match (&labels, a.target.is_some()) {
                (Some(l), true) if c => SvmClassifier::fit(&p, &x, &l.view())?.save_json()?,
                (_, false) => OneClassSvm::fit(&p, &x)?.save_json()?,
                _ => bail!("svm needs integer class labels (regression is not offered)"),
            }
        }
        (ModelKind::Mlp, true) => {
            let p = MlpParams::default().seed(a.seed);
            MlpClassifier::fit(&p, &x, &labels.context("labels")?.view())?.save_json()?
        }
        (ModelKind::Mlp, false) => {
            MlpRegressor::fit(&MlpParams::default().seed(a.seed), &x, &need_y()?.view())?.save_json()?
        }
    };
    std::fs::write(&a.output, &json).with_context(|| format!("writing {}", a.output.display()))?;
    eprintln!("saved {} ({} bytes)", a.output.display(), json.len());
    Ok(())
}

fn print_classes(classes: &[usize], pred: &Array1<usize>, proba: Option<&Array2<f64>>) {
    let head: Vec<String> = classes.iter().map(|c| format!("p_{c}")).collect();
    println!("prediction{}", if proba.is_some() { format!(",{}", head.join(",")) } else { String::new() });
    for (i, p) in pred.iter().enumerate() {
        let probs = proba
            .map(|pr| pr.row(i).iter().map(|v| format!(",{v:.6}")).collect::<String>())
            .unwrap_or_default();
        println!("{p}{probs}");
    }
}

fn predict(a: PredictArgs) -> Result<()> {
    let json = std::fs::read_to_string(&a.model).with_context(|| format!("reading {}", a.model.display()))?;
    let t = read_table(&a.data, a.target.as_deref(), &a.drop)?;
    let x = t.x.view();
    let labels = t.y.as_deref().and_then(as_labels);
    let kind = model_kind(&json)?;
    let mut score = None;
    match kind.as_str() {
        "random_forest_classifier" | "svm_classifier" | "mlp_classifier" => {
            let (classes, pred, proba) = match kind.as_str() {
                "random_forest_classifier" => {
                    let m = RandomForestClassifier::load_json(&json)?;
                    (m.classes().to_vec(), m.predict(&x)?, Some(m.predict_proba(&x)?))
                }
                "svm_classifier" => {
                    let m = SvmClassifier::load_json(&json)?;
                    (m.classes().to_vec(), m.predict(&x)?, m.predict_proba(&x).ok())
                }
                _ => {
                    let m = MlpClassifier::load_json(&json)?;
                    (m.classes().to_vec(), m.predict(&x)?, Some(m.predict_proba(&x)?))
                }
            };
            print_classes(&classes, &pred, proba.as_ref());
            if let Some(l) = labels {
                score = Some(("accuracy", metrics::accuracy(&l.view(), &pred.view())?));
            }
        }
        "random_forest_regressor" | "mlp_regressor" => {
            let pred = if kind == "mlp_regressor" {
                MlpRegressor::load_json(&json)?.predict(&x)?
            } else {
                RandomForestRegressor::load_json(&json)?.predict(&x)?
            };
            println!("prediction");
            pred.iter().for_each(|v| println!("{v}"));
            if let Some(y) = &t.y {
                score = Some(("r2", metrics::r2(&Array1::from(y.clone()).view(), &pred.view())?));
            }
        }
        "isolation_forest" => {
            let m = IsolationForest::load_json(&json)?;
            let (s, d) = (m.score_samples(&x)?, m.decision_function(&x)?);
            println!("score,decision,outlier");
            for (a, b) in s.iter().zip(&d) {
                println!("{a},{b},{}", u8::from(*b < 0.0));
            }
        }
        "one_class_svm" => {
            let m = OneClassSvm::load_json(&json)?;
            println!("decision,outlier");
            for d in m.decision_function(&x)? {
                println!("{d},{}", u8::from(d < 0.0));
            }
        }
        other => bail!("unknown model kind `{other}`"),
    }
    if let Some((name, v)) = score {
        eprintln!("{name}: {v:.4}");
    }
    Ok(())
}
