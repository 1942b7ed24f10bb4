//! The scanner: one multi-literal prefilter pass, then each detector's pattern on candidate lines.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::Regex;

use crate::detector::{Candidate, Detector, Span, split_assignment};
use crate::detectors::detectors;
use crate::fingerprint::{FingerprintKey, assigned_name, keyed_fingerprint, location_fingerprint};
use crate::hit::Hit;
use crate::pragma;

struct Compiled {
    det: &'static Detector,
    regex: Regex,
    /// Index of capture group `v`, or `None` to take the whole match.
    value_group: Option<usize>,
    key_group: Option<usize>,
}

/// Scans text for every detector of the registry (or a subset). Build one and reuse it: building
/// compiles all patterns and the prefilter. It is `Send + Sync`, so threads can share it.
pub struct Scanner {
    compiled: Vec<Compiled>,
    prefilter: Option<AhoCorasick>,
    /// For each prefilter pattern, the compiled detectors it is a keyword of.
    routes: Vec<Vec<usize>>,
    /// The baseline's key: with it, fingerprints are keyed hashes of the value; without it,
    /// location fingerprints.
    key: Option<FingerprintKey>,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.compiled.iter().map(|c| c.det.id).collect();
        f.debug_struct("Scanner").field("detectors", &ids).finish()
    }
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

/// A raw finding before overlap resolution.
#[derive(Clone, Copy)]
struct Raw {
    det: usize,
    start: usize,
    end: usize,
}

impl Scanner {
    /// A scanner with every detector.
    pub fn new() -> Scanner {
        Scanner::build(detectors().iter().collect())
    }

    /// A scanner with only the detectors whose ids are listed; unknown ids are ignored.
    pub fn with_only(ids: &[&str]) -> Scanner {
        Scanner::build(detectors().iter().filter(|d| ids.contains(&d.id)).collect())
    }

    /// The detectors this scanner runs.
    pub fn detectors(&self) -> impl Iterator<Item = &'static Detector> + '_ {
        self.compiled.iter().map(|c| c.det)
    }

    fn build(dets: Vec<&'static Detector>) -> Scanner {
        let mut compiled = Vec::with_capacity(dets.len());
        let mut keywords: Vec<String> = Vec::new();
        let mut routes: Vec<Vec<usize>> = Vec::new();
        for det in dets {
            // The patterns are constants of this crate, checked by the test suite; a failure
            // here is a programming error, never a property of scanned input.
            #[allow(clippy::expect_used)]
            let regex = Regex::new(det.pattern).expect("detector patterns are valid constants");
            let value_group = regex.capture_names().position(|n| n == Some("v"));
            let key_group = regex.capture_names().position(|n| n == Some("k"));
            let ci = compiled.len();
            compiled.push(Compiled {
                det,
                regex,
                value_group,
                key_group,
            });
            for kw in det.keywords {
                let kw = kw.to_ascii_lowercase();
                match keywords.iter().position(|k| *k == kw) {
                    Some(pi) => routes[pi].push(ci),
                    None => {
                        keywords.push(kw);
                        routes.push(vec![ci]);
                    }
                }
            }
        }
        // A DFA is the fastest search kind and the keyword set is small enough for it.
        // Overlapping search is needed because one keyword can hide inside another
        // (`sk-` inside `sk-ant-`, `secret` inside `client_secret`).
        let build = |kind| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(kind)
                .build(&keywords)
        };
        // Should the DFA ever exceed its size limits, the automatically chosen kind is slower but
        // finds the same keywords. Dropping the error of both is right: the keywords are fixed at
        // compile time, so the build succeeds in every run or in none, and the example tests
        // (which find nothing without a prefilter) fail loudly in the second case.
        let prefilter = build(Some(AhoCorasickKind::DFA))
            .or_else(|_| build(None))
            .ok();
        Scanner {
            compiled,
            prefilter,
            routes,
            key: None,
        }
    }

    /// This scanner with fingerprints keyed by `key` (the baseline's), or location-based when
    /// `None`. See `fingerprint.rs` for why both exist.
    pub fn with_key(mut self, key: Option<FingerprintKey>) -> Scanner {
        self.key = key;
        self
    }

    /// Scans `text`, honouring the inline pragmas it contains: an allowed hit is dropped, and a
    /// pragma without a reason is reported as a [`crate::PRAGMA_MISSING_REASON`] hit.
    pub fn scan(&self, text: &str) -> Vec<Hit> {
        let pragmas = pragma::parse(text);
        let mut hits = self.scan_raw(text);
        hits.retain(|h| !pragmas.allows(h.rule, h.line));
        if !pragmas.missing_reason.is_empty() {
            hits.extend(pragmas.missing_reason);
            hits.sort_by_key(|h| (h.start, h.end));
        }
        hits
    }

    /// Scans `text` ignoring pragmas, as needed for transcripts where a pragma proves nothing.
    pub fn scan_raw(&self, text: &str) -> Vec<Hit> {
        let mut raws = Vec::new();
        self.collect_all(text, 0, &mut raws);
        if raws.is_empty() {
            return Vec::new();
        }
        self.resolve(&mut raws);
        self.finish(text, &raws)
    }

    /// The byte ranges [`Scanner::scan_raw`] would report, without lines, columns or
    /// fingerprints: what masking needs, at a fraction of the cost when hits are many.
    pub(crate) fn ranges(&self, text: &str) -> Vec<(usize, usize)> {
        let mut raws = Vec::new();
        self.collect_all(text, 0, &mut raws);
        if raws.is_empty() {
            return Vec::new();
        }
        self.resolve(&mut raws);
        raws.iter().map(|r| (r.start, r.end)).collect()
    }

    /// The direct scan of `text`, then, below [`MAX_DEPTH`], the scans of its `\`-continued
    /// lines joined and of its base64 runs decoded, each mapped back to `text`'s offsets.
    fn collect_all(&self, text: &str, depth: usize, out: &mut Vec<Raw>) {
        self.collect(text, out);
        if depth < MAX_DEPTH {
            self.collect_continued(text, depth, out);
            self.collect_base64(text, depth, out);
        }
    }

    /// Joins every group of lines continued with a trailing `\` (shell, env and YAML
    /// double-quoted strings split a long value that way) and scans the joined text. Only hits
    /// that cross a join are new; they replace the partial hits of the same detector that the
    /// direct scan found on either side of the break.
    fn collect_continued(&self, text: &str, depth: usize, out: &mut Vec<Raw>) {
        let bytes = text.as_bytes();
        let lf = memchr::memmem::Finder::new(b"\\\n");
        let crlf = memchr::memmem::Finder::new(b"\\\r\n");
        let find = |from: usize| {
            let a = lf.find(&bytes[from..]);
            let b = crlf.find(&bytes[from..]);
            match (a, b) {
                (Some(a), Some(b)) => Some(from + a.min(b)),
                (a, b) => a.or(b).map(|x| from + x),
            }
        };
        let mut next = 0usize;
        let mut found: Vec<Raw> = Vec::new();
        while let Some(at) = find(next) {
            let group_start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
            let mut joined = String::new();
            // (offset in `joined`, offset in `text`) where each piece starts.
            let mut pieces: Vec<(usize, usize)> = Vec::new();
            let mut joins: Vec<usize> = Vec::new();
            let mut cur = group_start;
            loop {
                let nl = memchr::memchr(b'\n', &bytes[cur..]).map_or(bytes.len(), |i| cur + i);
                let mut piece_end = nl;
                let continued = nl < bytes.len() && {
                    if piece_end > cur && bytes[piece_end - 1] == b'\r' {
                        piece_end -= 1;
                    }
                    piece_end > cur && bytes[piece_end - 1] == b'\\'
                };
                if continued {
                    piece_end -= 1;
                }
                pieces.push((joined.len(), cur));
                joined.push_str(&text[cur..piece_end]);
                if !continued {
                    next = nl;
                    break;
                }
                joins.push(joined.len());
                cur = nl + 1;
            }
            let mut inner = Vec::new();
            self.collect_all(&joined, depth + 1, &mut inner);
            let map = |j: usize| {
                let k = pieces.partition_point(|p| p.0 <= j).saturating_sub(1);
                pieces[k].1 + (j - pieces[k].0)
            };
            for r in inner {
                if joins.iter().any(|&jp| r.start < jp && jp < r.end) {
                    found.push(Raw {
                        det: r.det,
                        start: map(r.start),
                        end: map(r.end - 1) + 1,
                    });
                }
            }
            if next >= bytes.len() {
                break;
            }
        }
        if !found.is_empty() {
            out.retain(|o| {
                !found
                    .iter()
                    .any(|f| f.det == o.det && o.start < f.end && f.start < o.end)
            });
            out.extend(found);
        }
    }

    /// Decodes every run of at least [`MIN_BASE64`] base64 characters that decodes to
    /// printable text and scans it; a hit inside is reported on the whole run. Runs that decode
    /// to binary (digests, images, random keys) are dropped at their first unprintable byte,
    /// so the cost stays one pass over the text plus the few runs that are text.
    fn collect_base64(&self, text: &str, depth: usize, out: &mut Vec<Raw>) {
        let bytes = text.as_bytes();
        let n = bytes.len();
        let mut i = 0usize;
        // Invariant: `i` is 0 or just past a byte that cannot be part of a run.
        while i + MIN_BASE64 <= n {
            // A run of MIN_BASE64 or more starting at `i` covers `i + MIN_BASE64 - 1`; a
            // break found walking back from there lets the search jump past it.
            let probe = i + MIN_BASE64 - 1;
            match (i..=probe).rev().find(|&q| !is_base64_byte(bytes[q])) {
                Some(q) => {
                    i = q + 1;
                    continue;
                }
                None => {
                    let mut end = probe + 1;
                    while end < n && is_base64_byte(bytes[end]) {
                        end += 1;
                    }
                    let mut padded = end;
                    while padded < n && padded < end + 2 && bytes[padded] == b'=' {
                        padded += 1;
                    }
                    if let Some(decoded) = decode_printable(&bytes[i..end]) {
                        let mut inner = Vec::new();
                        self.collect_all(&decoded, depth + 1, &mut inner);
                        for r in inner {
                            out.push(Raw {
                                det: r.det,
                                start: i,
                                end: padded,
                            });
                        }
                    }
                    i = padded + 1;
                }
            }
        }
    }

    fn collect(&self, text: &str, out: &mut Vec<Raw>) {
        let Some(prefilter) = &self.prefilter else {
            return;
        };
        let bytes = text.as_bytes();
        // For each detector, the start of the last line it was run on: a line is scanned once
        // per detector however many keywords it holds.
        let mut done = vec![usize::MAX; self.compiled.len()];
        let (mut ls, mut le) = (usize::MAX, 0usize);
        for m in prefilter.find_overlapping_iter(text) {
            let pos = m.start();
            if !(ls <= pos && pos < le) {
                ls = memchr::memrchr(b'\n', &bytes[..pos]).map_or(0, |i| i + 1);
                le = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
            }
            for &ci in &self.routes[m.pattern().as_usize()] {
                if done[ci] == ls {
                    continue;
                }
                done[ci] = ls;
                let c = &self.compiled[ci];
                match c.det.span {
                    Span::Line => run(c, ci, text, ls, le, true, out),
                    Span::Block(max) => {
                        let mut end = (ls + max).min(text.len());
                        while !text.is_char_boundary(end) {
                            end -= 1;
                        }
                        run(c, ci, text, ls, end, false, out);
                    }
                }
            }
        }
    }

    /// Drops duplicates and, where hits of different kinds overlap, the less specific one.
    fn resolve(&self, raws: &mut Vec<Raw>) {
        raws.sort_by_key(|r| (r.start, r.end, r.det));
        raws.dedup_by_key(|r| (r.start, r.end, r.det));
        let mut keep = vec![true; raws.len()];
        for i in 0..raws.len() {
            for j in i + 1..raws.len() {
                if raws[j].start >= raws[i].end {
                    break;
                }
                let (a, b) = (
                    self.compiled[raws[i].det].det,
                    self.compiled[raws[j].det].det,
                );
                let (pa, pb) = (a.kind.priority(), b.kind.priority());
                if pa > pb {
                    keep[j] = false;
                } else if pb > pa {
                    keep[i] = false;
                } else if raws[i].start == raws[j].start && raws[i].end == raws[j].end {
                    // Same kind, same value: report it once, under the earlier registry entry.
                    keep[j] = false;
                }
            }
        }
        let mut k = keep.iter();
        raws.retain(|_| k.next().copied().unwrap_or(true));
    }

    fn finish(&self, text: &str, raws: &[Raw]) -> Vec<Hit> {
        let bytes = text.as_bytes();
        let mut hits = Vec::with_capacity(raws.len());
        let (mut cursor, mut line) = (0usize, 1usize);
        // The column is counted from the previous hit when it is on the same line, so many hits
        // on one long line cost one pass over it, not one pass per hit.
        let mut column = 1usize;
        let mut ranks: std::collections::HashMap<(usize, &str), usize> =
            std::collections::HashMap::new();
        for r in raws {
            // Raw hits are sorted by start, so lines are counted in one forward pass.
            let gap = &bytes[cursor..r.start];
            match memchr::memrchr(b'\n', gap) {
                Some(last) => {
                    line += memchr::memchr_iter(b'\n', gap).count();
                    column = 1 + count_chars(&gap[last + 1..]);
                }
                None => column += count_chars(gap),
            }
            cursor = r.start;
            let rule = self.compiled[r.det].det.id;
            hits.push(Hit {
                rule,
                start: r.start,
                end: r.end,
                line,
                column,
                fingerprint: match &self.key {
                    Some(key) => keyed_fingerprint(key, rule, &text[r.start..r.end]),
                    None => {
                        let name = assigned_name(text, r.start);
                        let rank = ranks.entry((r.det, name)).or_insert(0);
                        *rank += 1;
                        location_fingerprint(rule, name, *rank - 1)
                    }
                },
            });
        }
        hits
    }
}

/// How many times decoded or joined text is scanned again: a value base64-encoded twice is
/// found, a third layer is not, and a crafted input cannot make the scan recurse further.
const MAX_DEPTH: usize = 2;

/// The shortest base64 run worth decoding: 18 bytes of text, enough for `password=` and a
/// short value, or an AWS key id with its name.
const MIN_BASE64: usize = 24;

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Decodes a run of base64 (standard or URL-safe, not a mix) if it is text: valid UTF-8 of
/// printable characters, tabs and newlines, with at least one letter. `None` for anything else,
/// as soon as a byte shows it.
fn decode_printable(run: &[u8]) -> Option<String> {
    let url = run.iter().any(|&b| b == b'-' || b == b'_');
    let std = run.iter().any(|&b| b == b'+' || b == b'/');
    if (url && std) || run.len() % 4 == 1 {
        return None;
    }
    let value = |b: u8| -> u32 {
        match b {
            b'A'..=b'Z' => u32::from(b - b'A'),
            b'a'..=b'z' => u32::from(b - b'a') + 26,
            b'0'..=b'9' => u32::from(b - b'0') + 52,
            b'+' | b'-' => 62,
            _ => 63,
        }
    };
    let mut out = Vec::with_capacity(run.len() / 4 * 3 + 2);
    let printable = |b: u8| b >= 0x20 && b != 0x7f || b == b'\n' || b == b'\t' || b == b'\r';
    for chunk in run.chunks(4) {
        let mut acc = 0u32;
        for (k, &b) in chunk.iter().enumerate() {
            acc |= value(b) << (18 - 6 * k);
        }
        let produced = chunk.len() * 6 / 8;
        for k in 0..produced {
            let byte = ((acc >> (16 - 8 * k)) & 0xff) as u8;
            // Non-ASCII bytes are allowed through to the UTF-8 check; control bytes stop it.
            if !printable(byte) {
                return None;
            }
            out.push(byte);
        }
    }
    let text = String::from_utf8(out).ok()?;
    text.bytes()
        .any(|b| b.is_ascii_alphabetic())
        .then_some(text)
}

/// The number of chars in a UTF-8 byte slice: the bytes that do not continue a char.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xc0) != 0x80).count()
}

fn run(c: &Compiled, ci: usize, text: &str, from: usize, to: usize, all: bool, out: &mut Vec<Raw>) {
    let region = &text[from..to];
    // Most candidate lines hold a keyword but no match: a match test runs on the lazy DFA and
    // is much cheaper than a capture search, which only the matching lines then pay for.
    if !c.regex.is_match(region) {
        return;
    }
    // Without named groups the value is the whole match, and `find_iter` stays on the DFA
    // instead of paying for a capture search.
    if c.value_group.is_none() && c.key_group.is_none() {
        for m in c.regex.find_iter(region) {
            accept(c, ci, from, region, m, None, out);
            if !all {
                break;
            }
        }
        return;
    }
    if c.det.assignment {
        for m in c.regex.find_iter(region) {
            let (k, v) = match split_assignment(m.as_str()) {
                Some(split) => split,
                // Not expected for a pattern of this shape; resolving the captures is exact.
                None => {
                    if let Some(caps) = c.regex.captures_at(region, m.start()) {
                        let g = |i: Option<usize>| i.and_then(|i| caps.get(i));
                        let (Some(key), Some(value)) = (g(c.key_group), g(c.value_group)) else {
                            continue;
                        };
                        (
                            (key.start() - m.start(), key.end() - m.start()),
                            (value.start() - m.start(), value.end() - m.start()),
                        )
                    } else {
                        continue;
                    }
                }
            };
            let key = &region[m.start() + k.0..m.start() + k.1];
            let value = (m.start() + v.0, m.start() + v.1);
            accept_span(c, ci, from, region, value, Some(key), out);
            if !all {
                break;
            }
        }
        return;
    }
    // One set of capture slots, reused for every match of the region.
    let mut locs = c.regex.capture_locations();
    let mut at = 0usize;
    while at <= region.len() {
        let Some(whole) = c.regex.captures_read_at(&mut locs, region, at) else {
            break;
        };
        let group = |g: Option<usize>| g.and_then(|g| locs.get(g));
        let value = group(c.value_group).unwrap_or((whole.start(), whole.end()));
        let key = group(c.key_group).map(|(s, e)| &region[s..e]);
        accept_span(c, ci, from, region, value, key, out);
        if !all {
            break;
        }
        // An empty match cannot happen (every pattern needs a value), but stepping past one
        // keeps the loop finite whatever the pattern.
        at = if whole.end() > whole.start() {
            whole.end()
        } else {
            let mut next = whole.end() + 1;
            while next < region.len() && !region.is_char_boundary(next) {
                next += 1;
            }
            next
        };
    }
}

fn accept(
    c: &Compiled,
    ci: usize,
    from: usize,
    region: &str,
    m: regex::Match<'_>,
    key: Option<&str>,
    out: &mut Vec<Raw>,
) {
    accept_span(c, ci, from, region, (m.start(), m.end()), key, out);
}

fn accept_span(
    c: &Compiled,
    ci: usize,
    from: usize,
    region: &str,
    (start, end): (usize, usize),
    key: Option<&str>,
    out: &mut Vec<Raw>,
) {
    let cand = Candidate {
        value: &region[start..end],
        key,
        before: &region[..start],
        after: &region[end..],
    };
    if (c.det.validate)(&cand) {
        out.push(Raw {
            det: ci,
            start: from + start,
            end: from + end,
        });
    }
}
