//! The one redaction point: every string a tool writes for a person, a file or a CI upload passes
//! through here, so that no value the scanner would flag (or a drill world's known value, in any
//! simple encoding) and no terminal control sequence reaches the output.

use std::borrow::Cow;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::scanner::Scanner;

/// What a masked span is replaced by. It holds neither a prefix nor the length of the value, and
/// no detector flags it, so masking twice changes nothing.
pub const MASK: &str = "[REDACTED]";

/// Known values shorter than this are ignored by [`mask_known`]: masking every occurrence of a
/// five-letter word would garble ordinary text and hide nothing worth hiding.
const MIN_KNOWN: usize = 6;

/// Substrings of a known value at least this long (in chars) are masked wherever they occur,
/// so a value printed in two halves is still caught.
const MIN_PIECE: usize = 8;

/// The scanner every call shares; building it compiles all patterns once per process.
static SCANNER: LazyLock<Scanner> = LazyLock::new(Scanner::new);

/// Every span any detector flags in `text` replaced by its redacted form (hit::redact's successor).
pub fn mask(text: &str) -> Cow<'_, str> {
    let ranges = scanner_ranges(text);
    replace_ranges(text, ranges)
}

/// `mask`, plus every occurrence of each known value (a drill world's values), and of its base64
/// (standard and URL-safe, with and without padding), hex and reversed forms, and of any substring of
/// it of 8 or more chars, replaced. Empty or very short known values (< 6 chars) are ignored.
pub fn mask_known<'a>(text: &'a str, known: &[&str]) -> Cow<'a, str> {
    let mut ranges = scanner_ranges(text);
    let patterns = known_patterns(known);
    if !patterns.is_empty() {
        // The patterns are plain literals, so building only fails on absurd sizes; masking the
        // whole text then is the safe answer, never printing it raw.
        match AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
        {
            Ok(ac) => ranges.extend(ac.find_overlapping_iter(text).map(|m| (m.start(), m.end()))),
            Err(_) => ranges.push((0, text.len())),
        }
    }
    replace_ranges(text, ranges)
}

/// Control characters (C0 except \n and \t, DEL, C1, and bidi overrides U+202A–U+202E, U+2066–U+2069)
/// escaped as `\u{..}` so output cannot move the cursor or forge lines; \r escaped too.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    let Some(first) = text
        .char_indices()
        .find(|&(_, c)| is_control(c))
        .map(|(i, _)| i)
    else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if is_control(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// What every human-facing string passes through: `escape_controls(&mask(text))`.
pub fn for_human(text: &str) -> Cow<'_, str> {
    match mask(text) {
        Cow::Borrowed(s) => escape_controls(s),
        Cow::Owned(s) => match escape_controls(&s) {
            Cow::Borrowed(_) => Cow::Owned(s),
            Cow::Owned(e) => Cow::Owned(e),
        },
    }
}

fn is_control(c: char) -> bool {
    let u = u32::from(c);
    (u < 0x20 && c != '\n' && c != '\t')
        || (0x7f..=0x9f).contains(&u)
        || (0x202a..=0x202e).contains(&u)
        || (0x2066..=0x2069).contains(&u)
}

/// The byte ranges of every hit of the shared scanner, pragmas ignored: a pragma in printed text
/// proves nothing about whether the value may be printed.
fn scanner_ranges(text: &str) -> Vec<(usize, usize)> {
    SCANNER
        .scan_raw(text)
        .into_iter()
        .map(|h| (h.start, h.end))
        .collect()
}

/// Every literal whose occurrence in a text reveals one of the known values.
fn known_patterns(known: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in known {
        if value.chars().count() < MIN_KNOWN {
            continue;
        }
        let reversed: String = value.chars().rev().collect();
        let hex_lower: String = value.bytes().map(|b| format!("{b:02x}")).collect();
        let hex_upper = hex_lower.to_ascii_uppercase();
        let b64 = base64(value.as_bytes(), STANDARD);
        let b64url = base64(value.as_bytes(), URL_SAFE);
        let forms = [
            value.to_string(),
            reversed,
            hex_lower,
            hex_upper,
            b64.trim_end_matches('=').to_string(),
            b64url.trim_end_matches('=').to_string(),
            b64,
            b64url,
        ];
        for form in forms {
            // Every window of MIN_PIECE chars: the union of their matches is exactly the set
            // of places where a substring of MIN_PIECE or more chars of the form occurs. For
            // base64 this also catches `echo value | base64`, whose tail differs.
            let idx: Vec<usize> = form
                .char_indices()
                .map(|(i, _)| i)
                .chain([form.len()])
                .collect();
            for w in idx.windows(MIN_PIECE + 1) {
                out.push(form[w[0]..w[MIN_PIECE]].to_string());
            }
            out.push(form);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Replaces the union of `ranges` in `text` by [`MASK`], borrowing when there is nothing to do.
fn replace_ranges(text: &str, mut ranges: Vec<(usize, usize)>) -> Cow<'_, str> {
    ranges.retain(|&(s, e)| s < e && e <= text.len());
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    ranges.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0usize;
    let mut i = 0usize;
    while i < ranges.len() {
        let (start, mut end) = ranges[i];
        i += 1;
        while i < ranges.len() && ranges[i].0 <= end {
            end = end.max(ranges[i].1);
            i += 1;
        }
        let start = floor_boundary(text, start.max(cursor));
        let end = ceil_boundary(text, end);
        out.push_str(&text[cursor..start]);
        out.push_str(MASK);
        cursor = end;
    }
    out.push_str(&text[cursor..]);
    Cow::Owned(out)
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 with `=` padding over the given alphabet (RFC 4648).
pub(crate) fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                let idx = usize::try_from((n >> (18 - 6 * k)) & 63).unwrap_or(0);
                out.push(char::from(alphabet[idx]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw.as_bytes(), STANDARD), enc);
        }
        assert_eq!(base64(&[0xfb, 0xff], URL_SAFE), "-_8=");
    }
}
