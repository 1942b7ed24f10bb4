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

/// The source line as shown: every secret on it, found by any finding of the
/// run or by a fresh scan of the line itself, is replaced by a mask, so a
/// diagnostic about a link can never print a token that sits beside it.
fn masked(
    line: &str,
    f: &crate::Finding,
    all: &[crate::Finding],
    scanner: &mut Option<cdb_secrets::Scanner>,
) -> String {
    let mut ranges: Vec<(usize, usize)> = all
        .iter()
        .filter(|o| o.path == f.path && o.line == f.line)
        .filter_map(|o| o.mask_chars.map(|n| (o.column - 1, o.column - 1 + n)))
        .collect();
    let scanner = scanner.get_or_insert_with(cdb_secrets::Scanner::new);
    for hit in scanner.scan_raw(line) {
        let start = line[..hit.start].chars().count();
        let end = start + line[hit.start..hit.end.min(line.len())].chars().count();
        ranges.push((start, end));
    }
    if ranges.is_empty() {
        return line.to_owned();
    }
    line.chars()
        .enumerate()
        .map(|(i, c)| {
            if ranges.iter().any(|&(s, e)| i >= s && i < e) {
                '*'
            } else {
                c
            }
        })
        .collect()
}

pub fn render(r: &Report<'_>) -> String {
    let mut scanner = None;
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
        if let Some(src) = source_line.map(|l| masked(l, f, r.findings, &mut scanner)) {
            let src = src.as_str();
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
