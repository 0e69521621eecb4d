//! Errors of the `io` module: one enum, [`ParseError`], with a stable [`ParseError::code`] per variant and
//! the file / line / column context of the failure.

/// Errors raised while detecting or reading a battery data file.
///
/// `file` is the source name when known (from [`crate::io::ReadOptions::file_name`] or the path);
/// `line` is 1-based in the source file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The layout could not be recognised and no generic reading was possible.
    #[error("{}: unknown format: {reason}", file_label(file))]
    UnknownFormat {
        /// Source name.
        file: Option<String>,
        /// What was tried.
        reason: String,
    },
    /// The header row is missing or unusable.
    #[error("{}: line {line}: bad header: {reason}", file_label(file))]
    BadHeader {
        /// Source name.
        file: Option<String>,
        /// Line of the header (1-based; 0 when no header line was found).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A value could not be read and the row could not be kept or repaired.
    #[error("{}: line {line}, column `{column}`: cannot read value `{value}`", file_label(file))]
    BadValue {
        /// Source name.
        file: Option<String>,
        /// Line (1-based).
        line: usize,
        /// Column header.
        column: String,
        /// The text found.
        value: String,
    },
    /// A required column is absent.
    #[error("{}: missing column `{column}`", file_label(file))]
    MissingColumn {
        /// Source name.
        file: Option<String>,
        /// The channel that was needed (for example `"frequency_hz"`).
        column: String,
    },
    /// The input holds no data.
    #[error("{}: no data", file_label(file))]
    Empty {
        /// Source name.
        file: Option<String>,
    },
    /// The text encoding is not supported (for example UTF-16).
    #[error("{}: unsupported text encoding: {encoding}", file_label(file))]
    Encoding {
        /// Source name.
        file: Option<String>,
        /// The encoding found.
        encoding: String,
    },
    /// Reading the source failed.
    #[error("{}: read failed", file_label(file))]
    Io {
        /// Source name.
        file: Option<String>,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is a table of another kind (EIS spectrum, per-cycle summary, OCV table) rather than a time series.
    #[error("{}: not a time series ({format}): {reason}", file_label(file))]
    NotATimeSeries {
        /// Source name.
        file: Option<String>,
        /// Detected format.
        format: String,
        /// What to use instead.
        reason: String,
    },
    /// A spreadsheet (XLSX, XLS, ODS) could not be opened or the sheet was not found.
    #[error("{}: spreadsheet: {reason}", file_label(file))]
    Spreadsheet {
        /// Source name.
        file: Option<String>,
        /// What failed.
        reason: String,
    },
    /// Invalid options.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
}

fn file_label(file: &Option<String>) -> &str {
    file.as_deref().unwrap_or("<input>")
}

impl ParseError {
    /// Stable snake_case code, shared by every front-end.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::io::{read_bytes, ReadOptions};
    /// let e = read_bytes(b"", &ReadOptions::default()).unwrap_err();
    /// assert_eq!(e.code(), "empty");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::UnknownFormat { .. } => "unknown_format",
            ParseError::BadHeader { .. } => "bad_header",
            ParseError::BadValue { .. } => "bad_value",
            ParseError::MissingColumn { .. } => "missing_column",
            ParseError::Empty { .. } => "empty",
            ParseError::Encoding { .. } => "encoding",
            ParseError::Io { .. } => "io",
            ParseError::NotATimeSeries { .. } => "not_a_time_series",
            ParseError::Spreadsheet { .. } => "spreadsheet",
            ParseError::Params(e) => e.code(),
        }
    }

    /// The source name attached to the error, if any.
    pub fn file(&self) -> Option<&str> {
        match self {
            ParseError::UnknownFormat { file, .. }
            | ParseError::BadHeader { file, .. }
            | ParseError::BadValue { file, .. }
            | ParseError::MissingColumn { file, .. }
            | ParseError::Empty { file }
            | ParseError::Encoding { file, .. }
            | ParseError::Io { file, .. }
            | ParseError::NotATimeSeries { file, .. }
            | ParseError::Spreadsheet { file, .. } => file.as_deref(),
            ParseError::Params(_) => None,
        }
    }
}
