//! The `secrets` group: one rule per `cdb-secrets` detector, run as one scan over every text file.
//!
//! A found value is never put in a finding: the message carries the
//! detector's summary and the redacted form (no prefix, no length), the
//! fingerprint is the scanner's keyed hash (with the baseline's key) or its
//! location fingerprint. Inline `cdb-allow` pragmas are honoured by the
//! scanner; the baseline file (`.secrets-baseline` at the root) drops accepted
//! findings by rule, path and fingerprint.

use super::{Ctx, RuleMeta, Sink};
use crate::Severity;
use crate::finding::Finding;
use cdb_secrets::{Baseline, Scanner};
use std::sync::OnceLock;

/// The baseline file, relative to the root.
pub const BASELINE_FILE: &str = ".secrets-baseline";

/// One `RuleMeta` per detector, plus the pseudo-rule for pragmas without a reason.
pub fn metas() -> &'static [RuleMeta] {
    static METAS: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    METAS.get_or_init(|| {
        let mut v: Vec<RuleMeta> = cdb_secrets::detectors()
            .iter()
            .map(|d| RuleMeta {
                id: d.id,
                group: "secrets",
                severity: Severity::Error,
                summary: d.summary,
            })
            .collect();
        v.push(RuleMeta {
            id: cdb_secrets::PRAGMA_MISSING_REASON,
            group: "secrets",
            severity: Severity::Error,
            summary: "a `cdb-allow` pragma gives no reason, so it suppresses nothing",
        });
        v
    })
}

fn meta(id: &str) -> Option<&'static RuleMeta> {
    metas().iter().find(|m| m.id == id)
}

/// Scans every text file the hub loaded with the selected detectors.
pub(crate) fn check(
    ctx: &Ctx<'_>,
    selected: &[&'static str],
    baseline: Option<&Baseline>,
    out: &mut Vec<Finding>,
) {
    if selected.is_empty() {
        return;
    }
    let detector_ids: Vec<&str> = selected
        .iter()
        .copied()
        .filter(|id| *id != cdb_secrets::PRAGMA_MISSING_REASON)
        .collect();
    // With the baseline's key, fingerprints are keyed hashes of the value; without one they
    // are location-based (see cdb-secrets' fingerprint.rs).
    let scanner =
        Scanner::with_only(&detector_ids).with_key(baseline.and_then(|b| b.key()).cloned());
    let texts: Vec<(&str, &str)> = ctx
        .hub
        .docs
        .iter()
        .map(|d| (d.path.as_str(), d.text.as_str()))
        .chain(
            ctx.hub
                .files
                .iter()
                .map(|f| (f.path.as_str(), f.text.as_str())),
        )
        .collect();
    // The scan is the costly part of a full verify, so files are shared across cores. Each
    // thread takes the next file from one counter, so a few large files cannot leave a core
    // idle as fixed chunks did; the findings are put back in file order afterwards.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(texts.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, Vec<Finding>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (scanner, texts, next) = (&scanner, &texts, &next);
                s.spawn(move || {
                    let mut found = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((path, text)) = texts.get(i) else {
                            break;
                        };
                        let mut one = Vec::new();
                        scan_one(scanner, path, text, selected, baseline, &mut one);
                        if !one.is_empty() {
                            found.push((i, one));
                        }
                    }
                    found
                })
            })
            .collect();
        // A scan thread that panicked re-raises its panic here: dropping its files' findings
        // would let a secret through with verify green.
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    let results = results.into_iter().map(|(_, f)| f);
    out.extend(results.flatten());
}

fn scan_one(
    scanner: &Scanner,
    path: &str,
    text: &str,
    selected: &[&'static str],
    baseline: Option<&Baseline>,
    out: &mut Vec<Finding>,
) {
    for hit in scanner.scan(text) {
        if !selected.contains(&hit.rule) {
            continue;
        }
        let value = text.get(hit.start..hit.end).unwrap_or_default();
        if baseline.is_some_and(|b| {
            b.contains(hit.rule, path, &hit.fingerprint) || b.contains_legacy(hit.rule, path, value)
        }) {
            continue;
        }
        let Some(meta) = meta(hit.rule) else { continue };
        let message = if hit.rule == cdb_secrets::PRAGMA_MISSING_REASON {
            "`cdb-allow` pragma without `reason:` suppresses nothing".to_owned()
        } else {
            format!("{}: `{}`", meta.summary, hit.redacted(text))
        };
        let mut sink_out = Vec::new();
        let mut sink = Sink::new(meta, &mut sink_out);
        sink.push(path, hit.line, hit.column, message, hit.fingerprint.clone());
        let on_line = value.split('\n').next().unwrap_or_default().chars().count();
        for f in &mut sink_out {
            f.mask_chars = Some(on_line);
        }
        out.append(&mut sink_out);
    }
}
