//! rustc-style diagnostics: severity and rule id, message, `--> path:line:col`, the source line and a caret.
//!
//! Everything shown passes through `cdb_secrets`: messages and paths were
//! masked when the finding was made and have their control characters escaped
//! here, so a crafted link cannot print a fake summary line; source lines are
//! masked character for character (the caret must stay in place) and clipped
//! to a window around the caret, so a 7 MB line is not repeated per finding.

use super::{Report, one_line};
use crate::finding::Severity;
use cdb_secrets::escape_controls;
use std::collections::HashMap;
use std::fmt::Write;

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const CYAN: &str = "\x1b[1;36m";
const BLUE: &str = "\x1b[1;34m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Characters shown on each side of the caret; longer lines are clipped with `…`.
pub const CONTEXT_CHARS: usize = 60;

/// Character ranges of one source line to show as `*`: the values of secret
/// findings on it and every hit of a fresh scan of the line, so a diagnostic
/// about a link never prints a token that sits beside it. Computed once per line.
fn secret_ranges(
    line: &str,
    known: &[(usize, usize)],
    scanner: &mut Option<cdb_secrets::Scanner>,
) -> Vec<(usize, usize)> {
    let mut ranges = known.to_vec();
    let scanner = scanner.get_or_insert_with(cdb_secrets::Scanner::new);
    let mut hits = scanner.scan_raw(line);
    hits.sort_by_key(|h| h.start);
    // Byte offsets become character positions in one pass over the line.
    let mut chars = 0;
    let mut byte = 0;
    let mut to_char = |b: usize| {
        let b = b.min(line.len());
        chars += line.get(byte..b).map_or(0, |s| s.chars().count());
        byte = byte.max(b);
        chars
    };
    for hit in hits {
        let start = to_char(hit.start);
        let end = start
            + line
                .get(hit.start..hit.end.min(line.len()))
                .map_or(0, |s| s.chars().count());
        ranges.push((start, end));
    }
    ranges.sort_unstable();
    ranges
}

/// The window of the line shown under a finding: at most [`CONTEXT_CHARS`]
/// characters either side of the caret, masked and with control characters
/// escaped, and the caret's column within what is shown.
fn window(
    line: &str,
    caret_byte: usize,
    ranges: &[(usize, usize)],
    caret_char: usize,
) -> (String, usize) {
    let caret_byte = caret_byte.min(line.len());
    let start = line[..caret_byte]
        .char_indices()
        .rev()
        .nth(CONTEXT_CHARS.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    let end = line[caret_byte..]
        .char_indices()
        .nth(CONTEXT_CHARS)
        .map_or(line.len(), |(i, _)| caret_byte + i);
    let first_char = caret_char.saturating_sub(line[start..caret_byte].chars().count());
    let masked: String = line[start..end]
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let at = first_char + i;
            let hidden = ranges
                .iter()
                .take_while(|&&(s, _)| s <= at)
                .any(|&(s, e)| at >= s && at < e);
            if hidden { '*' } else { c }
        })
        .collect();
    let before_len = line[start..caret_byte].chars().count();
    let before: String = masked.chars().take(before_len).collect();
    let after: String = masked.chars().skip(before_len).collect();
    // Tabs are shown as four spaces so the caret stays under its character.
    let show = |s: &str| escape_controls(&s.replace('\t', "    ")).into_owned();
    let mut before = show(&before);
    let after = show(&after);
    if start > 0 {
        before.insert(0, '…');
    }
    let caret_at = before.chars().count();
    let mut shown = before + &after;
    if end < line.len() {
        shown.push('…');
    }
    (shown, caret_at)
}

pub fn render(r: &Report<'_>) -> String {
    let paint = |code: &str, s: &str| {
        if r.color {
            format!("{code}{s}{RESET}")
        } else {
            s.to_owned()
        }
    };
    // The values of secret findings, by line, gathered once.
    let mut known: HashMap<(&str, usize), Vec<(usize, usize)>> = HashMap::new();
    for o in r.findings {
        if let Some(n) = o.mask_chars {
            known
                .entry((o.path.as_str(), o.line))
                .or_default()
                .push((o.column - 1, o.column - 1 + n));
        }
    }
    let mut scanner = None;
    let mut line_ranges: HashMap<(&str, usize), Vec<(usize, usize)>> = HashMap::new();
    // Every `let _ = writeln!` below writes to this String, which cannot fail.
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
            paint(BOLD, &format!(": {}", one_line(&f.message)))
        );
        let line_no = f.line.to_string();
        let pad = " ".repeat(line_no.len());
        let _ = writeln!(
            out,
            "{pad}{} {}:{}:{}",
            paint(BLUE, "-->"),
            one_line(&f.path),
            f.line,
            f.column
        );
        let source = (r.source)(&f.path).and_then(|(text, index)| {
            let line = index.line_text(text, f.line)?;
            let lc = cdb_docs::LineCol {
                line: f.line,
                column: f.column,
            };
            let line_start = index.offset(
                text,
                cdb_docs::LineCol {
                    line: f.line,
                    column: 1,
                },
            )?;
            let caret_byte = index
                .offset(text, lc)
                .map_or(line.len(), |o| o - line_start);
            Some((line, caret_byte))
        });
        if let Some((line, caret_byte)) = source {
            let ranges = line_ranges
                .entry((f.path.as_str(), f.line))
                .or_insert_with(|| {
                    let k = known
                        .get(&(f.path.as_str(), f.line))
                        .map_or(&[][..], Vec::as_slice);
                    secret_ranges(line, k, &mut scanner)
                });
            let (shown, caret_at) = window(line, caret_byte, ranges, f.column.saturating_sub(1));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_clipped_around_the_caret() {
        let line = format!("{}X{}", "a".repeat(500), "b".repeat(500));
        let (shown, caret) = window(&line, 500, &[], 500);
        assert_eq!(shown.chars().nth(caret), Some('X'));
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert_eq!(shown.chars().count(), 2 * CONTEXT_CHARS + 2);
        let (short, caret) = window("ab\tX", 3, &[], 3);
        assert_eq!((short.as_str(), caret), ("ab    X", 6));
        // A masked range is shown as stars even when it starts before the window.
        let (masked, _) = window(&line, 500, &[(0, 480)], 500);
        assert!(masked.starts_with(&format!("…{}a", "*".repeat(40))));
    }
}
