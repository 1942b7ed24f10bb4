//! The mutation check: remove each verify step in turn from a temp copy of the hub and show
//! that some sweep case then ends differently; a step whose removal changes nothing is dead
//! weight and is reported with file:line.

use crate::engine::{Config, DrillError};
use crate::sweep::{self, Case, CaseResult, Plan};
use cdb_docs::Phase;
use serde::Serialize;
// Writing into a String cannot fail: each `let _ = write!(…)` below drops an `Ok(())`.
use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// What removing one verify step did.
#[derive(Clone, Debug, Serialize)]
pub struct Mutant {
    pub step: String,
    /// `path:line` of the step's fence.
    pub doc: String,
    /// Whether some sweep case ends differently without it.
    pub needed: bool,
    /// The first case that became a gap without it.
    pub witness: Option<String>,
    pub detail: String,
}

fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let p = e.path();
        let ft = e.file_type()?;
        if ft.is_dir() {
            copy_dir(&p, &to.join(e.file_name()))?;
        } else if ft.is_file() {
            std::fs::copy(&p, to.join(e.file_name()))?;
        }
    }
    Ok(())
}

/// A temp copy of what a drill reads: the hub folder, `drills/` and `SECURITY_ISSUES.md`.
fn copy_root(root: &Path, hub: &cdb_docs::Hub) -> io::Result<tempfile::TempDir> {
    let d = tempfile::Builder::new().prefix("cdb-mutate-").tempdir()?;
    let hub_dir = hub
        .layout
        .runbook
        .split('/')
        .next()
        .unwrap_or("Claire_de_Binare_Docs")
        .to_owned();
    for dir in [hub_dir.as_str(), "drills"] {
        if root.join(dir).is_dir() {
            copy_dir(&root.join(dir), &d.path().join(dir))?;
        }
    }
    let si = root.join("SECURITY_ISSUES.md");
    if si.is_file() {
        std::fs::copy(&si, d.path().join("SECURITY_ISSUES.md"))?;
    }
    Ok(d)
}

/// Runs the mutation check over the verify steps of the swept classes.
pub fn check(cfg: &Config, class: Option<&str>) -> Result<Vec<Mutant>, DrillError> {
    let hub = sweep::load_hub(&cfg.root)?;
    let base = sweep::sweep(cfg, &hub, class)?;
    let steps = sweep::hub_steps(&hub);
    let planned = sweep::plan(&steps, class);
    // Cases that ran themselves (not `same as`), with their result.
    let ran: Vec<(&Case, &CaseResult)> = planned
        .iter()
        .filter(|(_, p)| *p == Plan::Run)
        .filter_map(|(c, _)| {
            let id = c.id();
            base.cases.iter().find(|r| r.case == id).map(|r| (c, r))
        })
        .collect();
    let swept: Vec<&str> = planned.iter().map(|(c, _)| c.class.as_str()).collect();
    let mut out = Vec::new();
    for doc in &hub.docs {
        for s in doc.steps.iter().filter(|s| s.phase == Phase::Verify) {
            if !swept.contains(&s.class.as_str()) {
                continue;
            }
            let line = doc.lines.line_col(&doc.text, s.fence_span.start).line;
            let loc = format!("{}:{line}", doc.path);
            // Removing a step that passed in a case cannot change that case's control flow: only
            // the cases where it failed are re-run.
            let affected: Vec<&(&Case, &CaseResult)> = ran
                .iter()
                .filter(|(_, r)| !r.outcome.is_gap() && r.failed.contains(&s.id))
                .collect();
            if affected.is_empty() {
                out.push(Mutant {
                    step: s.id.clone(),
                    doc: loc,
                    needed: false,
                    witness: None,
                    detail: "it fails in no sweep case: removing it changes nothing".into(),
                });
                continue;
            }
            let copy = copy_root(&cfg.root, &hub)?;
            let path = copy.path().join(&doc.path);
            let mut text = doc.text.clone();
            text.replace_range(s.span.clone(), "");
            std::fs::write(&path, text)?;
            let mhub = sweep::load_hub(copy.path())?;
            let mcfg = Config {
                root: copy.path().to_path_buf(),
                ..cfg.clone()
            };
            let mut witness = None;
            // Batches of a few cases per core: stop at the first case that becomes a gap.
            let batch = std::thread::available_parallelism().map_or(1, |n| n.get()) * 2;
            for chunk in affected.chunks(batch) {
                let results = sweep::parallel(chunk, |(c, _)| sweep::run_case(&mcfg, &mhub, c));
                for (r, (_, before)) in results.into_iter().zip(chunk) {
                    let r = r?;
                    if r.outcome.is_gap() {
                        witness = Some((r, before.outcome));
                        break;
                    }
                }
                if witness.is_some() {
                    break;
                }
            }
            out.push(match witness {
                Some((r, before)) => Mutant {
                    step: s.id.clone(),
                    doc: loc,
                    needed: true,
                    witness: Some(r.case.clone()),
                    detail: format!(
                        "without it `{}` goes from {before:?} to {:?}",
                        r.case, r.outcome
                    ),
                },
                None => Mutant {
                    step: s.id.clone(),
                    doc: loc,
                    needed: false,
                    witness: None,
                    detail: format!(
                        "it failed in {} case(s), and without it other steps still catch and recover every one",
                        affected.len()
                    ),
                },
            });
        }
    }
    Ok(out)
}

/// `drill --mutate`: exit 0 every verify step is needed, 1 some are dead weight, 2 errors.
pub fn main(
    cfg: &Config,
    class: Option<&str>,
    format: crate::cli::Format,
    out: &mut dyn io::Write,
    err: &mut dyn io::Write,
) -> u8 {
    // The writes to `out` and `err` below drop their result: the exit code says what happened,
    // and a closed stdout or stderr has nobody left to tell.
    let mutants = match check(cfg, class) {
        Ok(m) => m,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 2;
        }
    };
    let mut text = String::new();
    for m in &mutants {
        match format {
            crate::cli::Format::Json => match serde_json::to_string(m) {
                Ok(line) => {
                    text.push_str(&line);
                    text.push('\n');
                }
                Err(e) => {
                    let _ = writeln!(err, "error: cannot write the mutants as JSON: {e}");
                    return 2;
                }
            },
            // `--format html` is refused with `--mutate` (cli::parse_args).
            crate::cli::Format::Human | crate::cli::Format::Html => {
                let _ = writeln!(
                    text,
                    "{} {} ({}): {}",
                    if m.needed { "needed" } else { "DEAD  " },
                    m.step,
                    m.doc,
                    m.detail
                );
            }
        }
    }
    let _ = write!(out, "{text}");
    let dead: Vec<&Mutant> = mutants.iter().filter(|m| !m.needed).collect();
    if dead.is_empty() {
        0
    } else {
        let _ = writeln!(
            err,
            "mutate: {} verify step(s) whose removal changes no sweep case: {}",
            dead.len(),
            dead.iter()
                .map(|m| format!("{} ({})", m.step, m.doc))
                .collect::<Vec<_>>()
                .join(", ")
        );
        1
    }
}
