//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`, shown as annotations on the changed lines.
//!
//! Messages and paths were masked when the finding was made; control
//! characters are escaped here, as in the human report, since the log is read
//! in a terminal-like viewer.

use super::Report;
use crate::finding::Severity;
use cdb_secrets::escape_controls;

/// Escapes a command's message (`%`, CR, LF).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value, where `:` and `,` are separators too.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(r: &Report<'_>) -> String {
    let mut out = String::new();
    for f in r.findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        out.push_str(&format!(
            "::{level} file={},line={},col={},title={}::{}\n",
            escape_property(&escape_controls(&f.path)),
            f.line,
            f.column,
            escape_property(&f.rule),
            escape_data(&escape_controls(&f.message))
        ));
    }
    out
}
