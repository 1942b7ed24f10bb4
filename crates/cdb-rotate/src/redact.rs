//! The rotation's one redaction point: every string shown or journaled passes through
//! [`Redactor::clean`]: every value found in the `SECRETS_PATH` files (read again after each
//! step, so a value a step just staged is known), every value the executor knows, in the forms
//! `cdb_secrets::KnownMask` catches (base64, hex, reversed, long parts), and every detector
//! hit; then terminal control sequences escaped.

use std::path::Path;

/// Files of `SECRETS_PATH` that hold no secret: the playbook's incident marker (an id and a
/// time) and the runbook's server-clock cut-offs (epoch seconds). Masking them would hide the
/// incident id and garble times, and masks nothing worth hiding.
fn not_secret(name: &str) -> bool {
    name == "INCIDENT" || name.ends_with("-at") || name.ends_with(".altered-at.tmp")
}

/// Files bigger than this are not read as values (an evidence log, not a secret).
const MAX_VALUE_FILE: u64 = 64 * 1024;

/// The values of the top-level files of `dir` (each file's text, trimmed, and for a PEM block
/// its base64 lines).
pub fn values_in(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(md) = e.metadata() else { continue };
        if !md.is_file() || md.len() > MAX_VALUE_FILE || not_secret(&name) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(e.path()) else {
            continue;
        };
        push_value(&mut out, &text);
    }
    out
}

fn push_value(out: &mut Vec<String>, text: &str) {
    let t = text.trim();
    if t.is_empty() {
        return;
    }
    if t.contains("-----BEGIN") || t.lines().count() > 1 {
        for l in t.lines().map(str::trim) {
            if !l.is_empty() && !l.starts_with("-----") {
                out.push(l.to_owned());
            }
        }
    } else {
        out.push(t.to_owned());
    }
}

/// The compiled masks of the values known now.
#[derive(Debug)]
pub struct Redactor {
    mask: cdb_secrets::KnownMask,
}

impl Redactor {
    /// A value that holds another known value (a DSN holds its password) is left to that one:
    /// its other parts (`postgresql://claire_user:`, the host) are no secret, and masking their
    /// long parts would garble every line naming them (the drill does the same, scan.rs).
    pub fn new(mut values: Vec<String>) -> Redactor {
        values.sort();
        values.dedup();
        let keep: Vec<&str> = values
            .iter()
            .filter(|v| {
                !values
                    .iter()
                    .any(|o| o.len() < v.len() && o.len() >= 6 && v.contains(o.as_str()))
            })
            .map(String::as_str)
            .collect();
        Redactor {
            mask: cdb_secrets::KnownMask::new(&keep),
        }
    }

    /// `text` as it may be shown and written.
    pub fn clean(&self, text: &str) -> String {
        let masked = self.mask.mask(text);
        cdb_secrets::escape_controls(&masked).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_value_and_its_encodings_are_masked_and_the_incident_id_is_not() {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let v = "c0ffee5eed0fa11c0ffee5eed0fa11c0";
        std::fs::write(d.path().join("POSTGRES_PASSWORD"), format!("{v}\n"))
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(d.path().join("INCIDENT"), "incident=SEC-20261206-1\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let r = Redactor::new(values_in(d.path()));
        let hex: String = v.bytes().map(|b| format!("{b:02x}")).collect();
        let out = r.clean(&format!(
            "pw {v} hex {hex} id SEC-20261206-1 half {}",
            &v[..16]
        ));
        assert!(!out.contains(v), "{out}");
        assert!(!out.contains(&hex), "{out}");
        assert!(!out.contains(&v[..16]), "{out}");
        assert!(out.contains("SEC-20261206-1"), "{out}");
    }
}
