//! `battsentinel explain`: Kernel SHAP, exact TreeSHAP or LIME for a model in the reference JSON format
//! (linear, multinomial logistic, decision tree / forest), writing JSON and optional SVG plots.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use battsentinel_core::explain::{
    plot, Background, Discretizer, ExplanationSet, FeaturePerturbation, FeatureSelection, KernelExplainer,
    KernelShapParams, L1Reg, LimeMode, LimeParams, LimeTabular, Link, Predictor, ReferenceModel,
    TreeExplainer, TreeShapParams,
};
use ndarray::Array2;

/// Explanation method.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Method {
    /// Kernel SHAP (model-agnostic; exact for up to 11 varying features with the default budget).
    Kernel,
    /// Exact TreeSHAP (tree models only): interventional against `--data`, or path-dependent from the
    /// trees' node covers (`--feature-perturbation tree_path_dependent`, no `--data`).
    Tree,
    /// LIME tabular (the data file is the training data).
    Lime,
}

/// TreeSHAP perturbation (shap's `feature_perturbation`).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum PerturbationArg {
    /// Against the background in `--data`.
    Interventional,
    /// From the trees' node covers; no background.
    #[value(name = "tree_path_dependent", alias = "tree-path-dependent")]
    TreePathDependent,
}

/// Link function for Kernel SHAP.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum LinkArg {
    /// Identity.
    Identity,
    /// Logit (for probabilities).
    Logit,
}

/// LIME discretiser (lime's `discretizer`).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum DiscretizerArg {
    /// Quartiles (lime's default).
    Quartile,
    /// Deciles.
    Decile,
    /// Depth-3 entropy trees on the training labels (needs `--training-labels`).
    Entropy,
    /// No discretisation.
    None,
}

/// LIME feature selection (lime's `feature_selection`).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum FeatureSelectionArg {
    /// Forward selection for ≤ 6 features, else highest weights.
    Auto,
    /// Greedy forward selection.
    #[value(name = "forward_selection", alias = "forward-selection")]
    ForwardSelection,
    /// Largest |coef · x| of a Ridge on all features.
    #[value(name = "highest_weights", alias = "highest-weights")]
    HighestWeights,
    /// The Lasso path.
    #[value(name = "lasso_path", alias = "lasso-path")]
    LassoPath,
    /// All features.
    None,
}

/// `--l1-reg` in shap's spellings (`false`, `num_features(10)`, `aic`, `bic`).
fn parse_l1_reg(text: &str) -> Result<L1Reg, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).map_err(|e| e.to_string())
}

/// Arguments of `battsentinel explain`.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// Model in the reference JSON format (`type`: linear, multinomial_logistic, decision_tree_*, random_forest_*).
    #[arg(long, alias = "model-json")]
    pub model: PathBuf,
    /// CSV with a header: background rows (SHAP) or training data (LIME). Not needed for path-dependent
    /// TreeSHAP.
    #[arg(long, alias = "background")]
    pub data: Option<PathBuf>,
    /// CSV with a header: instances to explain.
    #[arg(long)]
    pub instances: PathBuf,
    /// Method.
    #[arg(long, value_enum, default_value = "kernel")]
    pub method: Method,
    /// TreeSHAP perturbation; default: interventional with `--data`, tree_path_dependent without.
    #[arg(long, value_enum)]
    pub feature_perturbation: Option<PerturbationArg>,
    /// TreeSHAP (path-dependent): also write SHAP interaction values
    /// (`[instance][feature][feature][output]`, JSON) to this file.
    #[arg(long)]
    pub interactions: Option<PathBuf>,
    /// Link (Kernel SHAP).
    #[arg(long, value_enum, default_value = "identity")]
    pub link: LinkArg,
    /// Kernel SHAP feature selection in shap's spellings: `false` (default), `num_features(r)`, `aic`,
    /// `bic`.
    #[arg(long, value_parser = parse_l1_reg, default_value = "false")]
    pub l1_reg: L1Reg,
    /// Coalition budget (Kernel SHAP; default 2M + 2048).
    #[arg(long)]
    pub nsamples: Option<usize>,
    /// Seed (Kernel SHAP sampled part, LIME neighbourhood); instance i of `--instances` uses `seed + i`.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Memory budget in MiB for Kernel SHAP batches.
    #[arg(long, default_value_t = 256)]
    pub memory_budget_mib: usize,
    /// Summarise the background with k-means to this many weighted centres (Kernel SHAP).
    #[arg(long)]
    pub kmeans: Option<usize>,
    /// LIME: number of features.
    #[arg(long, default_value_t = 10)]
    pub num_features: usize,
    /// LIME: discretiser.
    #[arg(long, value_enum, default_value = "quartile")]
    pub discretizer: DiscretizerArg,
    /// LIME: feature selection.
    #[arg(long, value_enum, default_value = "auto")]
    pub feature_selection: FeatureSelectionArg,
    /// LIME: CSV with a header and one column, the training label of every `--data` row (lime's
    /// `training_labels`; class labels, required by `--discretizer entropy`).
    #[arg(long)]
    pub training_labels: Option<PathBuf>,
    /// LIME: neighbourhood size.
    #[arg(long, default_value_t = 5000)]
    pub num_samples: usize,
    /// Output index (class) to plot / explain with LIME.
    #[arg(long, default_value_t = 0)]
    pub output: usize,
    /// JSON output file (stdout when absent).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Directory for SVG plots (waterfall/force of the first instance, bar and beeswarm; LIME bar).
    #[arg(long)]
    pub svg_dir: Option<PathBuf>,
}

fn read_csv(path: &Path) -> anyhow::Result<(Vec<String>, Array2<f64>)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> =
        lines.next().context("empty CSV")?.split(',').map(|s| s.trim().to_string()).collect();
    let mut vals = Vec::new();
    let mut rows = 0;
    for (i, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != header.len() {
            bail!(
                "{}: line {} has {} fields, header has {}",
                path.display(),
                i + 2,
                fields.len(),
                header.len()
            );
        }
        for (c, f) in fields.iter().enumerate() {
            let v: f64 = f
                .trim()
                .parse()
                .with_context(|| format!("{}: line {} column {}", path.display(), i + 2, c + 1))?;
            vals.push(v);
        }
        rows += 1;
    }
    let cols = header.len();
    Ok((header, Array2::from_shape_vec((rows, cols), vals)?))
}

fn write_out(args: &ExplainArgs, json: String) -> anyhow::Result<()> {
    match &args.out {
        Some(p) => std::fs::write(p, json).with_context(|| format!("writing {}", p.display())),
        None => {
            println!("{json}");
            Ok(())
        }
    }
}

fn write_svg(dir: &Path, name: &str, svg: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let p = dir.join(name);
    std::fs::write(&p, svg).with_context(|| format!("writing {}", p.display()))
}

fn shap_plots(args: &ExplainArgs, set: &ExplanationSet) -> anyhow::Result<()> {
    if let Some(dir) = &args.svg_dir {
        if let Some(first) = set.get(0) {
            write_svg(dir, "waterfall.svg", &plot::waterfall_svg(&first, args.output, 10)?)?;
            write_svg(dir, "force.svg", &plot::force_svg(&first, args.output)?)?;
        }
        write_svg(dir, "bar.svg", &plot::bar_svg(set, args.output)?)?;
        write_svg(dir, "beeswarm.svg", &plot::beeswarm_svg(set, args.output, 20)?)?;
    }
    Ok(())
}

/// Runs the subcommand.
///
/// # Errors
/// Unreadable files, malformed CSV/JSON, shape mismatches and explainer errors.
pub fn run(args: ExplainArgs) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(&args.model).with_context(|| format!("reading {}", args.model.display()))?;
    let (model, names) = ReferenceModel::from_json(&text)?;
    let data = args.data.as_deref().map(read_csv).transpose()?.map(|(_, d)| d);
    let need_data = || data.clone().context("--data is required for this method");
    let (_, xs) = read_csv(&args.instances)?;
    match args.method {
        Method::Kernel => {
            let link = match args.link {
                LinkArg::Identity => Link::Identity,
                LinkArg::Logit => Link::Logit,
            };
            let params = KernelShapParams::default()
                .link(link)
                .nsamples(args.nsamples)
                .seed(args.seed)
                .l1_reg(args.l1_reg)
                .memory_budget_bytes(args.memory_budget_mib.max(1) << 20);
            let data = need_data()?;
            let bg = match args.kmeans {
                Some(k) => Background::kmeans(data.view(), k, 10, true, args.seed)?,
                None => Background::new(data)?,
            };
            let ex = KernelExplainer::new(&model, bg, &params)?.with_feature_names(names)?;
            let set = ex.explain_rows(xs.view())?;
            shap_plots(&args, &set)?;
            write_out(&args, serde_json::to_string_pretty(&set)?)
        }
        Method::Tree => {
            let ReferenceModel::Trees(trees) = &model else { bail!("--method tree needs a tree model") };
            let bg = data.map(Background::new).transpose()?;
            let mut params = TreeShapParams::default();
            if let Some(p) = args.feature_perturbation {
                params = params.feature_perturbation(match p {
                    PerturbationArg::Interventional => FeaturePerturbation::Interventional,
                    PerturbationArg::TreePathDependent => FeaturePerturbation::TreePathDependent,
                });
            }
            let ex = TreeExplainer::with_params(trees, bg.as_ref(), &params)?.with_feature_names(names)?;
            let set = ex.explain_rows(xs.view())?;
            if let Some(path) = &args.interactions {
                let iv = ex.interaction_values_rows(xs.view())?;
                let nested: Vec<Vec<Vec<Vec<f64>>>> = iv
                    .outer_iter()
                    .map(|a| a.outer_iter().map(|b| b.outer_iter().map(|c| c.to_vec()).collect()).collect())
                    .collect();
                std::fs::write(path, serde_json::to_string(&nested)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            shap_plots(&args, &set)?;
            write_out(&args, serde_json::to_string_pretty(&set)?)
        }
        Method::Lime => {
            let mode = if model.n_outputs() > 1 { LimeMode::Classification } else { LimeMode::Regression };
            let params = LimeParams::default()
                .num_features(args.num_features)
                .num_samples(args.num_samples)
                .seed(args.seed)
                .mode(mode)
                .discretizer(match args.discretizer {
                    DiscretizerArg::Quartile => Discretizer::Quartile,
                    DiscretizerArg::Decile => Discretizer::Decile,
                    DiscretizerArg::Entropy => Discretizer::Entropy,
                    DiscretizerArg::None => Discretizer::None,
                })
                .feature_selection(match args.feature_selection {
                    FeatureSelectionArg::Auto => FeatureSelection::Auto,
                    FeatureSelectionArg::ForwardSelection => FeatureSelection::ForwardSelection,
                    FeatureSelectionArg::HighestWeights => FeatureSelection::HighestWeights,
                    FeatureSelectionArg::LassoPath => FeatureSelection::LassoPath,
                    FeatureSelectionArg::None => FeatureSelection::None,
                });
            let labels = match &args.training_labels {
                Some(path) => {
                    let (_, l) = read_csv(path)?;
                    if l.ncols() != 1 {
                        bail!("{}: expected one label column, found {}", path.display(), l.ncols());
                    }
                    Some(l.column(0).to_vec())
                }
                None => None,
            };
            let lime = LimeTabular::fit_with_labels(need_data()?.view(), labels.as_deref(), names, &params)?;
            // Instance i with seed `seed + i`, on all cores.
            let out = lime.explain_rows(xs.view(), &model, &[args.output])?;
            if let (Some(dir), Some(e)) = (&args.svg_dir, out.first()) {
                write_svg(dir, "lime.svg", &plot::lime_bar_svg(e))?;
            }
            write_out(&args, serde_json::to_string_pretty(&out)?)
        }
    }
}
