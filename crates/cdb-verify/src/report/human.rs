//! rustc-style diagnostics: severity and rule id, message, `--> path:line:col`, the source line and a caret.

use super::Report;
use crate::finding::Severity;
use std::fmt::Write;

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const CYAN: &str = "\x1b[1;36m";
const BLUE: &str = "\x1b[1;34m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

pub fn render(r: &Report<'_>) -> String {
    let paint = |code: &str, s: &str| {
        if r.color {
            format!("{code}{s}{RESET}")
        } else {
            s.to_owned()
        }
    };
    let mut out = String::new();
    for f in r.findings {
        let sev_color = match f.severity {
            Severity::Error => RED,
            Severity::Warning => YELLOW,
            Severity::Note => CYAN,
        };
        let head = format!("{}[{}]", f.severity, f.rule);
        let _ = writeln!(
            out,
            "{}{}",
            paint(sev_color, &head),
            paint(BOLD, &format!(": {}", f.message))
        );
        let line_no = f.line.to_string();
        let pad = " ".repeat(line_no.len());
        let _ = writeln!(
            out,
            "{pad}{} {}:{}:{}",
            paint(BLUE, "-->"),
            f.path,
            f.line,
            f.column
        );
        let source_line = (r.source)(&f.path).and_then(|text| text.lines().nth(f.line - 1));
        if let Some(src) = source_line {
            // Tabs are shown as four spaces so the caret stays under its character.
            let shown = src.replace('\t', "    ");
            let before: String = src.chars().take(f.column.saturating_sub(1)).collect();
            let caret_at = before.replace('\t', "    ").chars().count();
            let bar = paint(BLUE, "|");
            let _ = writeln!(out, "{pad} {bar}");
            let _ = writeln!(out, "{} {bar} {}", paint(BLUE, &line_no), shown);
            let _ = writeln!(
                out,
                "{pad} {bar} {}{}",
                " ".repeat(caret_at),
                paint(sev_color, "^")
            );
        }
        out.push('\n');
    }
    let errors = r.count(Severity::Error);
    let warnings = r.count(Severity::Warning);
    let notes = r.count(Severity::Note);
    let plural = |n: usize, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    let _ = writeln!(
        out,
        "verify: {}, {}, {} in {} files",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(notes, "note"),
        r.files_checked
    );
    out
}
