//! The one `Report` abstraction: findings rendered as human diagnostics, JSON lines, SARIF 2.1.0 or GitHub workflow commands.

mod github;
mod human;
mod json;
mod sarif;

use crate::finding::{Finding, Severity};
use std::str::FromStr;

/// A message or path as a human-facing format shows it: control characters
/// escaped by `cdb_secrets::escape_controls`, and the line breaks it keeps
/// escaped too, since a finding is one line and a `\n` in a percent-decoded
/// link target could otherwise start a forged `verify: 0 errors` line.
pub(crate) fn one_line(s: &str) -> String {
    cdb_secrets::escape_controls(s)
        .replace('\n', "\\u{a}")
        .replace('\t', "\\u{9}")
}

/// An output format of `verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "human" => Ok(Format::Human),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "github" => Ok(Format::Github),
            _ => Err(format!("unknown format `{s}` (human, json, sarif, github)")),
        }
    }
}

/// The findings of one run and what the renderers need besides them.
pub struct Report<'a> {
    pub findings: &'a [Finding],
    /// The text of a root-relative file and its line index, for source lines under human diagnostics.
    pub source: &'a dyn Fn(&str) -> Option<(&'a str, &'a cdb_docs::LineIndex)>,
    /// Files read, for the summary line.
    pub files_checked: usize,
    pub color: bool,
}

impl Report<'_> {
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Human => human::render(self),
            Format::Json => json::render(self),
            Format::Sarif => sarif::render(self),
            Format::Github => github::render(self),
        }
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}
