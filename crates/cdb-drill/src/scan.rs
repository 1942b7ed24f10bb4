//! The second transcript check: the workspace's secret scanner (`cdb-secrets`) over each step's
//! raw output, for values the world does not know (a pattern that looks like a real key); and
//! the drill's one masking point, [`mask_output`], which every text a drill writes (stdout, the
//! journal, the reports, the `--shell` transcript and report) passes through.

use std::sync::{Arc, Mutex, OnceLock};

/// Built once per process: compiling the detectors costs more than scanning a step's output.
fn scanner() -> &'static cdb_secrets::Scanner {
    static S: OnceLock<cdb_secrets::Scanner> = OnceLock::new();
    S.get_or_init(cdb_secrets::Scanner::new)
}

/// The rule ids of every secret-looking value in `text`.
pub fn scan(text: &str) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let mut rules: Vec<String> = scanner()
        .scan_raw(text)
        .iter()
        .map(|h| h.rule.to_owned())
        .collect();
    rules.sort();
    rules.dedup();
    rules
}

/// The drill's one masking point: what the scanner flags, and every known value (the world's)
/// with its base64, hex and reversed forms and its long substrings, replaced by `cdb-secrets`.
pub fn mask_output<'a>(text: &'a str, known: &[String]) -> std::borrow::Cow<'a, str> {
    known_mask(known).mask(text)
}

/// How many compiled value sets [`known_mask`] keeps: a sweep's cases of one class share their
/// world's values, and its threads work on a few classes at a time.
const MASK_CACHE: usize = 8;

/// The compiled matcher for `known`, built once per set of values: building it (thousands of
/// encoded forms) costs about 10 ms, far more than masking one journal, and the sweep masks
/// about a thousand journals whose worlds mostly hold the same values.
fn known_mask(known: &[String]) -> Arc<cdb_secrets::KnownMask> {
    static CACHE: Mutex<Vec<(Vec<String>, Arc<cdb_secrets::KnownMask>)>> = Mutex::new(Vec::new());
    // A poisoned lock only means another thread panicked while holding it; the entries are
    // still whole (they are pushed complete), so the cache stays usable.
    let lookup = |c: &Vec<(Vec<String>, Arc<cdb_secrets::KnownMask>)>| {
        c.iter()
            .find(|(k, _)| k.as_slice() == known)
            .map(|(_, m)| Arc::clone(m))
    };
    if let Some(m) = lookup(&CACHE.lock().unwrap_or_else(|e| e.into_inner())) {
        return m;
    }
    let refs: Vec<&str> = known.iter().map(String::as_str).collect();
    let built = Arc::new(cdb_secrets::KnownMask::new(&refs));
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= MASK_CACHE {
        cache.remove(0);
    }
    cache.push((known.to_vec(), Arc::clone(&built)));
    built
}

/// The secret parts of the values a world knows (every value it made, leaked ones included),
/// as [`mask_output`] takes them. A value that holds another value (a DSN holds its password)
/// is left to that one: its other parts (`postgresql://claire_user:`, the host, the database)
/// are no secret, and masking their long substrings would garble every command that names
/// them. A PEM block gives its base64 lines, without the armour lines that every key shares.
pub fn known_values(world: &crate::world::World) -> Vec<String> {
    let vals: Vec<&String> = world.values.keys().collect();
    let mut out = Vec::new();
    for v in &vals {
        if vals
            .iter()
            .any(|o| o.len() < v.len() && v.contains(o.as_str()))
        {
            continue;
        }
        for line in v.lines().map(str::trim) {
            if !line.is_empty() && !line.starts_with("-----") {
                out.push(line.to_owned());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Separates the journal's strings in the one text [`mask_journal`] masks (no detector and no
/// known value spans it: it holds a control character no value has).
const SEP: &str = "\n\u{1e}\n";

/// Masks every string of `j` with [`mask_output`] (one pass over all of them: building the
/// known values' automaton costs more than the text) and returns, in order and once each, the
/// ids of the steps whose output or calls held a known value's encoded form or a long part of
/// it (the exact values were replaced by `[secret:NAME]` already, and counted).
pub fn mask_journal(j: &mut crate::journal::Journal, known: &[String]) -> Vec<String> {
    let mut fields = j.strings_mut();
    let joined = fields
        .iter()
        .map(|(_, s)| s.as_str())
        .collect::<Vec<_>>()
        .join(SEP);
    let with_known = mask_output(&joined, known);
    if matches!(with_known, std::borrow::Cow::Borrowed(_)) {
        return Vec::new();
    }
    let scanner_only = cdb_secrets::mask(&joined);
    let a: Vec<&str> = with_known.split(SEP).collect();
    let b: Vec<&str> = scanner_only.split(SEP).collect();
    let mut leaks: Vec<String> = Vec::new();
    let mut note = |step: &Option<String>, differs: bool| {
        if let Some(id) = step
            && differs
            && !leaks.contains(id)
        {
            leaks.push(id.clone());
        }
    };
    if a.len() == fields.len() && b.len() == fields.len() {
        for (k, (step, s)) in fields.iter_mut().enumerate() {
            note(step, a[k] != b[k]);
            if **s != a[k] {
                **s = a[k].to_owned();
            }
        }
    } else {
        // A mask swallowed a separator: mask each string on its own (slower, same result).
        for (step, s) in fields.iter_mut() {
            let masked = mask_output(s, known).into_owned();
            note(step, masked != cdb_secrets::mask(s));
            **s = masked;
        }
    }
    leaks
}
