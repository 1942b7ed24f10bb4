//! The sweep: every class × every applicable catalogue fault × every injection point, on
//! both triggers, each case a drill in its own sandbox, classified as detected and recovered,
//! detected but not recovered, undetected, or not applicable (the fault has no effect there).
//!
//! Planning is pure and lives in the model crate (`cdb_model::plan`), where the coverage rule
//! of `cdb-verify` uses it without running anything; this module runs and reports the cases.
//!
//! `plan.rs` builds the cases' scenarios and decides which cases need no run, `run.rs` runs
//! them on a thread pool (sharing each class's fault-free prefix), `report.rs` renders the
//! result (human, JSON lines; the HTML page is `page.rs`); this module holds the result types,
//! the glue and `drill --sweep`'s entry point.

mod plan;
mod report;
mod run;

pub(crate) use plan::baseline_scenario;
pub use report::{human, json_lines, table};
pub use run::{
    case_journal, case_journal_armed, classify, immediate_noop, parallel, record_baseline,
    run_case, run_cases,
};

use crate::engine::{Config, DrillError};
use cdb_docs::Trigger;
pub use cdb_model::plan::{
    Case, Plan, TRIGGERS, class_steps, hub_steps, leaked_files, plan, resume_step,
};
use serde::Serialize;

/// How a case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Recovered,
    DetectedNotRecovered,
    Undetected,
    NotApplicable,
}

impl Outcome {
    pub fn letter(self) -> char {
        match self {
            Outcome::Recovered => 'R',
            Outcome::DetectedNotRecovered => 'D',
            Outcome::Undetected => 'U',
            Outcome::NotApplicable => 'N',
        }
    }

    pub fn is_gap(self) -> bool {
        matches!(self, Outcome::DetectedNotRecovered | Outcome::Undetected)
    }
}

/// One classified case (one JSON object per case with `--format json`).
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    pub case: String,
    pub class: String,
    #[serde(with = "crate::journal::trigger_name")]
    pub trigger: Trigger,
    pub fault: String,
    pub target: Option<String>,
    pub after: String,
    pub outcome: Outcome,
    /// The first step that failed after the injection.
    pub detected_by: Option<String>,
    /// Every step that failed after the injection.
    pub failed: Vec<String>,
    /// For a gap: the verify steps of the class that ran after the injection (`id (path:line)`).
    pub should_have_caught: Vec<String>,
    pub reason: String,
    /// The case this one behaves as (not run itself).
    pub same_as: Option<String>,
    /// What the run's journal shows from the injection on ([`crate::report::excerpt`]), for a
    /// case the fault had an effect in (empty when not applicable, whether it ran or not, so
    /// the HTML page does not depend on which cases the sweep could decide without a run).
    #[serde(skip)]
    pub excerpt: Vec<String>,
}

/// A class and trigger run without any fault: every case assumes it passes.
#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    pub class: String,
    #[serde(with = "crate::journal::trigger_name")]
    pub trigger: Trigger,
    pub passed: bool,
    pub reasons: Vec<String>,
}

/// The result of a sweep.
#[derive(Debug, Default)]
pub struct Sweep {
    pub baselines: Vec<Baseline>,
    pub cases: Vec<CaseResult>,
}

impl Sweep {
    pub fn gaps(&self) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(|c| c.outcome.is_gap())
    }

    pub fn passed(&self) -> bool {
        self.baselines.iter().all(|b| b.passed) && self.gaps().next().is_none()
    }
}

/// Plans and runs the sweep (optionally one class).
pub fn sweep(cfg: &Config, hub: &cdb_docs::Hub, class: Option<&str>) -> Result<Sweep, DrillError> {
    let steps = hub_steps(hub);
    let planned = plan(&steps, class);
    let to_run: Vec<&Case> = planned
        .iter()
        .filter(|(_, p)| *p == Plan::Run)
        .map(|(c, _)| c)
        .collect();
    let mut pairs: Vec<(&str, Trigger)> = Vec::new();
    for (c, _) in &planned {
        if !pairs.iter().any(|(k, t)| *k == c.class && *t == c.trigger) {
            pairs.push((&c.class, c.trigger));
        }
    }
    let (baselines, results) = run_cases(cfg, hub, &pairs, &to_run, !run::from_scratch())?;
    let mut ran = results.into_iter();
    let mut by_index: Vec<Option<CaseResult>> = vec![None; planned.len()];
    for (i, (case, p)) in planned.iter().enumerate() {
        let r = match p {
            Plan::Run => match ran.next() {
                Some(r) => r,
                None => continue,
            },
            Plan::Same(rep) => match by_index.get(*rep).and_then(Option::as_ref) {
                Some(r) => CaseResult {
                    case: case.id(),
                    after: case.after.clone(),
                    same_as: Some(r.case.clone()),
                    ..r.clone()
                },
                None => continue,
            },
            Plan::Static(why) => CaseResult {
                case: case.id(),
                class: case.class.clone(),
                trigger: case.trigger,
                fault: case.fault.id.to_owned(),
                target: (!case.target.is_empty()).then(|| case.target.to_owned()),
                after: case.after.clone(),
                outcome: Outcome::NotApplicable,
                detected_by: None,
                failed: Vec::new(),
                should_have_caught: Vec::new(),
                reason: why.clone(),
                same_as: None,
                excerpt: Vec::new(),
            },
        };
        by_index[i] = Some(r);
    }
    Ok(Sweep {
        baselines,
        cases: by_index.into_iter().flatten().collect(),
    })
}

/// Loads the hub for a sweep or mutation run (exit 2 when it cannot).
pub fn load_hub(root: &std::path::Path) -> Result<cdb_docs::Hub, DrillError> {
    cdb_docs::Hub::load(
        root,
        cdb_docs::Layout::default(),
        cdb_docs::hub::LoadOptions {
            text_files: false,
            parse_markdown: true,
        },
    )
    .map_err(|e| DrillError::Hub(format!("{}: cannot load the Docs Hub: {e}", root.display())))
}

/// `drill --sweep` and `drill --mutate`: exit 0 no gap, 1 gaps (or dead verify steps), 2 errors.
pub fn main(
    o: &crate::cli::Options,
    exe: &std::path::Path,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> u8 {
    // The writes to `out` and `err` below drop their result: the exit code says what happened,
    // and a closed stdout or stderr (`| head`) has nobody left to tell.
    let cfg = Config {
        root: o.root.clone(),
        seed: o.seed,
        step_timeout: o.step_timeout,
        mock_exe: exe.to_path_buf(),
    };
    if o.mutate {
        return crate::mutate::main(&cfg, o.class.as_deref(), o.format, out, err);
    }
    let hub = match load_hub(&o.root) {
        Ok(h) => h,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 2;
        }
    };
    if let Some(c) = &o.class
        && !cdb_model::faults::classes().contains(&c.as_str())
    {
        let _ = writeln!(
            err,
            "error: no catalogue fault applies to class `{c}` (classes: {})",
            cdb_model::faults::classes().join(", ")
        );
        return 2;
    }
    if let Err(e) = crate::summary::check_outputs(o.report.as_deref(), false, o.summary.as_deref())
    {
        let _ = writeln!(err, "error: {e}");
        return 2;
    }
    let s = match sweep(&cfg, &hub, o.class.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 2;
        }
    };
    let text = match o.format {
        // Step ids and reasons come from the runbook: no control character reaches a terminal.
        crate::cli::Format::Human => cdb_secrets::escape_controls(&human(&s)).into_owned(),
        crate::cli::Format::Json => match json_lines(&s) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(err, "error: cannot write the sweep as JSON: {e}");
                return 2;
            }
        },
        crate::cli::Format::Html => crate::page::html(&s, o.seed),
    };
    // `--report FILE`: the output goes there instead of stdout (the page CI uploads).
    match &o.report {
        Some(p) => {
            if let Err(e) = std::fs::write(p, &text) {
                let _ = writeln!(err, "error: cannot write the report {}: {e}", p.display());
                return 2;
            }
        }
        None => {
            let _ = write!(out, "{text}");
        }
    }
    if let Some(p) = &o.summary
        && let Err(e) = crate::summary::append(p, &crate::summary::sweep(&s))
    {
        let _ = writeln!(err, "error: {e}");
        return 2;
    }
    if s.passed() {
        0
    } else {
        let _ = writeln!(
            err,
            "sweep: {} gap(s), {} failing baseline(s)",
            s.gaps().count(),
            s.baselines.iter().filter(|b| !b.passed).count()
        );
        1
    }
}
