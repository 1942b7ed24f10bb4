//! Drill scenarios (`drills/<id>.yaml`): typed schema, parsing with file:line:col errors, and
//! validation against the hub (class, step ids, services, fault kinds).
//!
//! A file is read into a [`Draft`] (its text as YAML gives it); [`Draft::validate`] checks it
//! against the hub and parses the trigger, the fault kinds and the expected outcome into their
//! enums on the way, in the order the schema has always checked them, so a file with several
//! mistakes is told the same first one. What runs is a [`Scenario`], typed.

use crate::faults::{FaultKind, Target};
use crate::outcome::DrillOutcome;
use cdb_docs::Trigger;
use cdb_docs::yaml::Spanned;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A whole scenario, checked: its trigger, fault kinds and expected outcome parsed once (by
/// [`Draft::validate`] or [`Draft::typed`]) into their enums, each with the place in the file
/// its text came from.
#[derive(Debug)]
pub struct Scenario {
    pub title: String,
    pub class: Spanned<String>,
    /// `leak` or `routine` (never [`Trigger::Any`]).
    pub trigger: Spanned<Trigger>,
    pub briefing: String,
    /// What the person on call is told in `--shell` (what leaked, where, when): unlike
    /// `briefing`, it never names the fault. Default: built from `trigger` and `leaked`.
    pub situation: Option<String>,
    /// Secret files whose values at the start of the drill leaked.
    pub leaked: Vec<Spanned<String>>,
    pub faults: Vec<Fault>,
    /// Compose overlays the stack starts with, after each project's file (`[tls.yml]`);
    /// default: `tls.yml` for the `tls` class, none for the others (overlays.rs).
    pub overlays: Option<Vec<Spanned<String>>>,
    pub expect: Expect,
    pub id: String,
    pub path: PathBuf,
}

#[derive(Debug)]
pub struct Fault {
    /// A kind scenarios may name ([`FaultKind::in_scenarios`]).
    pub kind: Spanned<FaultKind>,
    /// A step id, or `start`.
    pub after: Spanned<String>,
    pub target: Option<Spanned<String>>,
    /// How many times it takes effect; 0 means every time (default 1).
    pub times: u32,
    pub note: Option<String>,
}

#[derive(Debug)]
pub struct Expect {
    /// `recovered` or `escalated` ([`DrillOutcome::expectable`]).
    pub outcome: Spanned<DrillOutcome>,
    /// Step ids any one of which must be the first to fail after the inject.
    pub detected_by: Vec<Spanned<String>>,
    /// Recovery-time budget; default: the class's `rto` in the matrix.
    pub budget: Option<Spanned<String>>,
    pub safe_state: SafeState,
}

/// A scenario file as YAML gives it, with text where [`Scenario`] has enums: what `--list` and
/// the static coverage read, and what [`Draft::validate`] turns into a [`Scenario`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    pub title: String,
    pub class: Spanned<String>,
    pub trigger: Spanned<String>,
    pub briefing: String,
    #[serde(default)]
    pub situation: Option<String>,
    #[serde(default)]
    pub leaked: Vec<Spanned<String>>,
    #[serde(default)]
    pub faults: Vec<DraftFault>,
    #[serde(default)]
    pub overlays: Option<Vec<Spanned<String>>>,
    pub expect: DraftExpect,
    #[serde(skip)]
    pub id: String,
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftFault {
    pub kind: Spanned<String>,
    pub after: Spanned<String>,
    #[serde(default)]
    pub target: Option<Spanned<String>>,
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
pub struct DraftExpect {
    pub outcome: Spanned<String>,
    #[serde(default)]
    pub detected_by: Vec<Spanned<String>>,
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

/// Reads and parses `root/drills/<id>.yaml` (no hub validation yet: [`Draft::validate`]).
pub fn load(root: &Path, id: &str) -> Result<Draft, ScenarioError> {
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

/// Parses scenario text; `rel` names the file in errors (no hub validation yet).
pub fn parse(text: &str, rel: &str) -> Result<Draft, ScenarioError> {
    cdb_docs::yaml::from_str::<Draft>(text).map_err(|e| ScenarioError {
        path: rel.to_owned(),
        line: e.line,
        column: e.column,
        message: e.message,
    })
}

/// `value`, at the place in the file the text it was parsed from came from.
fn respan<T, U>(text: &Spanned<T>, value: U) -> Spanned<U> {
    Spanned::new(value, text.referenced, text.defined)
}

impl Draft {
    pub fn rel_path(&self) -> String {
        format!("drills/{}.yaml", self.id)
    }

    /// Checks the scenario against the hub (the class exists, step ids are the class's, kinds
    /// are known, services exist) and returns it typed. The checks run in the schema's order,
    /// the text of the trigger, kinds and outcome parsed where each is checked: the first
    /// mistake of a file is reported, as `file:line:col: message`.
    pub fn validate(self, hub: &cdb_docs::Hub) -> Result<Scenario, ScenarioError> {
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
        self.build(true)
    }

    /// The scenario typed without the hub's checks: its trigger, kinds and outcome parsed, and
    /// nothing else checked (for a tool or test that runs a scenario it built itself; the
    /// engine still refuses a budget that does not parse).
    pub fn typed(self) -> Result<Scenario, ScenarioError> {
        self.build(false)
    }

    /// Parses the trigger, the kinds and the outcome, and with `check` runs the schema's other
    /// checks that need no hub between them, in the order `validate` has always run them.
    fn build(self, check: bool) -> Result<Scenario, ScenarioError> {
        let p = self.rel_path();
        let trigger = match self.trigger.value.parse::<Trigger>() {
            Ok(t @ (Trigger::Leak | Trigger::Routine)) => t,
            _ => {
                return Err(at(
                    &p,
                    &self.trigger,
                    format!(
                        "trigger must be `leak` or `routine`, not `{}`",
                        self.trigger.value
                    ),
                ));
            }
        };
        if check {
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
            if trigger == Trigger::Leak && self.leaked.is_empty() {
                return Err(at(
                    &p,
                    &self.trigger,
                    "a leak scenario names the leaked secret files in `leaked:`".into(),
                ));
            }
        }
        // A step id must look like one of the class's (`<class>-…`); whether it still exists in
        // the hub is judged by the drill (a runbook that lost a step fails the drill, exit 1).
        let prefix = format!("{}-", self.class.value);
        let step_ok = |id: &str| id.starts_with(&prefix) && id.len() > prefix.len();
        let mut faults = Vec::with_capacity(self.faults.len());
        for f in self.faults {
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
            if check {
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
                        return Err(at(&p, &f.kind, format!("fault `{kind}` needs a `target`")));
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
            faults.push(Fault {
                kind: respan(&f.kind, kind),
                after: f.after,
                target: f.target,
                times: f.times,
                note: f.note,
            });
        }
        if check {
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
        }
        let outcome = match self.expect.outcome.value.parse::<DrillOutcome>() {
            Ok(o) if o.expectable() => o,
            _ => {
                return Err(at(
                    &p,
                    &self.expect.outcome,
                    format!(
                        "outcome must be `recovered` or `escalated`, not `{}`",
                        self.expect.outcome.value
                    ),
                ));
            }
        };
        if check {
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
        }
        Ok(Scenario {
            title: self.title,
            trigger: respan(&self.trigger, trigger),
            class: self.class,
            briefing: self.briefing,
            situation: self.situation,
            leaked: self.leaked,
            faults,
            overlays: self.overlays,
            expect: Expect {
                outcome: respan(&self.expect.outcome, outcome),
                detected_by: self.expect.detected_by,
                budget: self.expect.budget,
                safe_state: self.expect.safe_state,
            },
            id: self.id,
            path: self.path,
        })
    }
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
        self.trigger.value == Trigger::Leak
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

    fn scenario(trigger: &str, kind: &str, outcome: &str) -> Result<Scenario, ScenarioError> {
        let mut d = parse(
            &format!(
                "title: t\nclass: database\ntrigger: {trigger}\nbriefing: b\nfaults:\n  - kind: {kind}\n    after: start\n    target: cdb_risk\nexpect:\n  outcome: {outcome}\n"
            ),
            "drills/x.yaml",
        )?;
        d.id = "x".into();
        d.typed()
    }

    /// The trigger, the kinds and the outcome come out typed as enums, each still at the place
    /// in the file its text was.
    #[test]
    fn parse_types_the_trigger_kinds_and_outcome() {
        let sc = scenario("leak", "service-crash", "escalated").expect("valid");
        assert_eq!(sc.trigger.value, Trigger::Leak);
        assert!(sc.is_leak());
        assert_eq!(sc.faults[0].kind.value, FaultKind::ServiceCrash);
        assert_eq!(sc.expect.outcome.value, DrillOutcome::Escalated);
        assert_eq!(cdb_docs::yaml::pos(&sc.trigger), (3, 10));
        assert_eq!(cdb_docs::yaml::pos(&sc.faults[0].kind), (6, 11));
        assert_eq!(cdb_docs::yaml::pos(&sc.expect.outcome), (10, 12));
        let sc = scenario("routine", "recreate-ignored", "recovered").expect("valid");
        assert_eq!(sc.trigger.value, Trigger::Routine);
        assert_eq!(sc.faults[0].kind.value, FaultKind::RecreateIgnored);
        assert_eq!(sc.expect.outcome.value, DrillOutcome::Recovered);
    }

    /// What a drill cannot run or expect is refused when it is typed, with the words, file, line
    /// and column the schema has always used.
    #[test]
    fn parse_refuses_unknown_text_with_file_line_and_column() {
        let e = scenario("any", "service-crash", "recovered").expect_err("not a drill trigger");
        assert_eq!(
            e.to_string(),
            "drills/x.yaml:3:10: trigger must be `leak` or `routine`, not `any`"
        );
        let e = scenario("routine", "service-crash", "not-recovered").expect_err("not expectable");
        assert_eq!(
            e.to_string(),
            "drills/x.yaml:10:12: outcome must be `recovered` or `escalated`, not `not-recovered`"
        );
        let e = scenario("routine", "service-crsh", "recovered").expect_err("unknown kind");
        assert!(
            e.to_string().starts_with(
                "drills/x.yaml:6:11: unknown fault kind `service-crsh` (known: recreate-ignored, "
            ),
            "{e}"
        );
    }

    #[test]
    fn malformed_scenarios_name_the_line() {
        let e = parse("title: t\nclass: database\ntrigger: leak\nbriefing: b\ncolour: red\nexpect: {outcome: recovered}\n", "drills/x.yaml")
            .expect_err("unknown field");
        assert_eq!((e.path.as_str(), e.line), ("drills/x.yaml", 5), "{e}");
        assert!(e.message.contains("colour"), "{e}");
    }
}
