//! Drill scenarios (`drills/<id>.yaml`): typed schema, parsing with file:line:col errors, and
//! validation against the hub (class, step ids, services, fault kinds).

use crate::faults::{FaultKind, Target};
use cdb_docs::yaml::Spanned;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub title: String,
    pub class: Spanned<String>,
    /// `leak` or `routine`.
    pub trigger: Spanned<String>,
    pub briefing: String,
    /// What the person on call is told in `--shell` (what leaked, where, when): unlike
    /// `briefing`, it never names the fault. Default: built from `trigger` and `leaked`.
    #[serde(default)]
    pub situation: Option<String>,
    /// Secret files whose values at the start of the drill leaked.
    #[serde(default)]
    pub leaked: Vec<Spanned<String>>,
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Compose overlays the stack starts with, after each project's file (`[tls.yml]`);
    /// default: `tls.yml` for the `tls` class, none for the others (overlays.rs).
    #[serde(default)]
    pub overlays: Option<Vec<Spanned<String>>>,
    pub expect: Expect,
    #[serde(skip)]
    pub id: String,
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub kind: Spanned<String>,
    /// A step id, or `start`.
    pub after: Spanned<String>,
    #[serde(default)]
    pub target: Option<Spanned<String>>,
    /// How many times it takes effect; 0 means every time (default 1).
    #[serde(default = "one")]
    pub times: u32,
    #[serde(default)]
    pub note: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `recovered` or `escalated`.
    pub outcome: Spanned<String>,
    /// Step ids any one of which must be the first to fail after the inject.
    #[serde(default)]
    pub detected_by: Vec<Spanned<String>>,
    /// Recovery-time budget; default: the class's `rto` in the matrix.
    #[serde(default)]
    pub budget: Option<Spanned<String>>,
    #[serde(default)]
    pub safe_state: SafeState,
}

/// The state an escalated drill must leave the stack in.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafeState {
    #[serde(default)]
    pub trading_paused: bool,
    /// Services allowed to be unhealthy or stopped at the end.
    #[serde(default)]
    pub degraded: Vec<Spanned<String>>,
}

/// Why a scenario cannot be used (exit 2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct ScenarioError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

fn at<T>(path: &str, s: &Spanned<T>, message: String) -> ScenarioError {
    let loc = s.referenced;
    ScenarioError {
        path: path.to_owned(),
        line: (loc.line() as usize).max(1),
        column: (loc.column() as usize).max(1),
        message,
    }
}

/// The scenario ids under `root/drills`, sorted. A tree without a `drills/` folder has none;
/// any other error while listing is returned, so a caller that must see every scenario (a
/// drill of them all) cannot miss one silently.
pub fn try_list(root: &Path) -> std::io::Result<Vec<String>> {
    let rd = match std::fs::read_dir(root.join("drills")) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut ids = Vec::new();
    for entry in rd {
        let n = entry?.file_name().to_string_lossy().into_owned();
        if let Some(id) = n.strip_suffix(".yaml") {
            ids.push(id.to_owned());
        }
    }
    ids.sort();
    Ok(ids)
}

/// [`try_list`] where an unreadable folder means no scenario is known: the `known:` hint of an
/// error message and the static coverage (which then asks for more drills, never fewer).
pub fn list(root: &Path) -> Vec<String> {
    // Dropping the error is right for these callers (see above); `try_list` reports it.
    try_list(root).unwrap_or_default()
}

/// Reads and parses `root/drills/<id>.yaml` (no hub validation yet).
pub fn load(root: &Path, id: &str) -> Result<Scenario, ScenarioError> {
    let rel = format!("drills/{id}.yaml");
    let err = |message: String| ScenarioError {
        path: rel.clone(),
        line: 1,
        column: 1,
        message,
    };
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(err(format!(
            "`{id}` is not a scenario id (letters, digits, `-`)"
        )));
    }
    let path = root.join(&rel);
    // Through `fsio`: a FIFO or a symlink to /dev/zero as a scenario must not hang the drill.
    let read = cdb_docs::fsio::read_text(&path, Some(root), cdb_docs::fsio::MAX_FILE_BYTES);
    let text = read.map_err(|e| {
        let known = list(root);
        err(format!(
            "cannot read the scenario: {e} (known: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ))
    })?;
    parse(&text, &rel).map(|mut s| {
        s.id = id.to_owned();
        s.path = path;
        s
    })
}

/// Parses scenario text; `rel` names the file in errors.
pub fn parse(text: &str, rel: &str) -> Result<Scenario, ScenarioError> {
    cdb_docs::yaml::from_str::<Scenario>(text).map_err(|e| ScenarioError {
        path: rel.to_owned(),
        line: e.line,
        column: e.column,
        message: e.message,
    })
}

impl Scenario {
    /// The overlays the drill's stack starts with (overlays.rs).
    pub fn start_overlays(&self) -> Vec<String> {
        match &self.overlays {
            Some(v) => v.iter().map(|o| o.value.clone()).collect(),
            None => crate::overlays::default_overlays(&self.class.value),
        }
    }

    pub fn rel_path(&self) -> String {
        format!("drills/{}.yaml", self.id)
    }

    pub fn is_leak(&self) -> bool {
        self.trigger.value == "leak"
    }

    /// Checks the scenario against the hub: the class exists, step ids are the class's, kinds are known.
    pub fn validate(&self, hub: &cdb_docs::Hub) -> Result<(), ScenarioError> {
        let p = self.rel_path();
        let Some(matrix) = hub.matrix() else {
            return Err(ScenarioError {
                path: hub.layout.matrix.clone(),
                line: 1,
                column: 1,
                message:
                    "the rotation matrix is missing or does not parse (run `cargo xtask verify`)"
                        .into(),
            });
        };
        if matrix.class(&self.class.value).is_none() {
            let known: Vec<&str> = matrix.classes.iter().map(|c| c.id.value.as_str()).collect();
            return Err(at(
                &p,
                &self.class,
                format!(
                    "unknown class `{}` (matrix classes: {})",
                    self.class.value,
                    known.join(", ")
                ),
            ));
        }
        if !matches!(self.trigger.value.as_str(), "leak" | "routine") {
            return Err(at(
                &p,
                &self.trigger,
                format!(
                    "trigger must be `leak` or `routine`, not `{}`",
                    self.trigger.value
                ),
            ));
        }
        for o in self.overlays.iter().flatten() {
            if !crate::overlays::OVERLAY_FILES.contains(&o.value.as_str()) {
                return Err(at(
                    &p,
                    o,
                    format!(
                        "unknown overlay `{}` (the drill's Compose folder has: {})",
                        o.value,
                        crate::overlays::OVERLAY_FILES.join(", ")
                    ),
                ));
            }
        }
        if self.is_leak() && self.leaked.is_empty() {
            return Err(at(
                &p,
                &self.trigger,
                "a leak scenario names the leaked secret files in `leaked:`".into(),
            ));
        }
        // A step id must look like one of the class's (`<class>-…`); whether it still exists in
        // the hub is judged by the drill (a runbook that lost a step fails the drill, exit 1).
        let prefix = format!("{}-", self.class.value);
        let step_ok = |id: &str| id.starts_with(&prefix) && id.len() > prefix.len();
        for f in &self.faults {
            // The kinds and what their targets name are `FaultKind`'s facts.
            let Some(kind) = FaultKind::parse(&f.kind.value).filter(|k| k.in_scenarios()) else {
                let known: Vec<&str> = FaultKind::ALL
                    .into_iter()
                    .filter(|k| k.in_scenarios())
                    .map(FaultKind::as_str)
                    .collect();
                return Err(at(
                    &p,
                    &f.kind,
                    format!(
                        "unknown fault kind `{}` (known: {})",
                        f.kind.value,
                        known.join(", ")
                    ),
                ));
            };
            if f.after.value != "start" && !step_ok(&f.after.value) {
                return Err(at(
                    &p,
                    &f.after,
                    format!(
                        "`after: {}` is not a step id of class `{}` (`{}-…`, or `start`)",
                        f.after.value, self.class.value, self.class.value
                    ),
                ));
            }
            match &f.target {
                None if kind.needs_target() => {
                    return Err(at(
                        &p,
                        &f.kind,
                        format!("fault `{}` needs a `target`", f.kind.value),
                    ));
                }
                Some(t)
                    if kind.target() == Target::Service
                        && !crate::stack::all_services().any(|s| s == t.value) =>
                {
                    return Err(at(&p, t, format!("unknown service `{}`", t.value)));
                }
                _ => {}
            }
        }
        for d in &self.expect.detected_by {
            if !step_ok(&d.value) {
                return Err(at(
                    &p,
                    d,
                    format!(
                        "`{}` is not a step id of class `{}` (`{}-…`)",
                        d.value, self.class.value, self.class.value
                    ),
                ));
            }
        }
        if !matches!(
            self.expect.outcome.value.as_str(),
            "recovered" | "escalated"
        ) {
            return Err(at(
                &p,
                &self.expect.outcome,
                format!(
                    "outcome must be `recovered` or `escalated`, not `{}`",
                    self.expect.outcome.value
                ),
            ));
        }
        if let Some(b) = &self.expect.budget
            && b.value.parse::<cdb_docs::Duration>().is_err()
        {
            return Err(at(
                &p,
                b,
                format!("`{}` is not a duration (30m, 1h)", b.value),
            ));
        }
        for d in &self.expect.safe_state.degraded {
            if !crate::stack::all_services().any(|s| s == d.value) {
                return Err(at(&p, d, format!("unknown service `{}`", d.value)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_error_is_path_line_column_message() {
        let e = ScenarioError {
            path: "drills/x.yaml".into(),
            line: 5,
            column: 3,
            message: "unknown service `cdb_nope`".into(),
        };
        assert_eq!(
            e.to_string(),
            "drills/x.yaml:5:3: unknown service `cdb_nope`"
        );
    }

    #[test]
    fn listing_reports_a_drills_path_it_cannot_read() {
        let dir = std::env::temp_dir().join(format!("cdb-model-list-{}", std::process::id()));
        // A leftover of an earlier run with the same pid, usually absent: nothing to report.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the test's directory");
        // No `drills/`: no scenario, and no error.
        assert_eq!(try_list(&dir).map_err(|e| e.to_string()), Ok(vec![]));
        // A file where the folder should be: an error, not an empty list.
        std::fs::write(dir.join("drills"), "").expect("the test's file");
        assert!(try_list(&dir).is_err());
        assert!(list(&dir).is_empty());
        std::fs::remove_file(dir.join("drills")).expect("remove the file");
        std::fs::create_dir(dir.join("drills")).expect("the drills folder");
        for f in ["b.yaml", "a.yaml", "notes.md"] {
            std::fs::write(dir.join("drills").join(f), "").expect("a scenario file");
        }
        assert_eq!(
            try_list(&dir).map_err(|e| e.to_string()),
            Ok(vec!["a".to_owned(), "b".to_owned()])
        );
        // Clean-up in the system's temporary folder: a failure leaves a small folder behind.
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn malformed_scenarios_name_the_line() {
        let e = parse("title: t\nclass: database\ntrigger: leak\nbriefing: b\ncolour: red\nexpect: {outcome: recovered}\n", "drills/x.yaml")
            .expect_err("unknown field");
        assert_eq!((e.path.as_str(), e.line), ("drills/x.yaml", 5), "{e}");
        assert!(e.message.contains("colour"), "{e}");
    }
}
