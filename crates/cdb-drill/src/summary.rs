//! The GitHub job summary of a drill run or a sweep (markdown appended to the file
//! `GITHUB_STEP_SUMMARY` names), the sweep's class × fault grid it and the HTML page share, and
//! the check that every output file can be written before anything runs.
//!
//! The summary is written only when the caller passes a path: `cli::main` and `cargo xtask
//! drill` take it from the environment, tests pass a temp file, so a test never writes to the
//! summary of the CI job running it.

use crate::journal::{Journal, clock};
use crate::report::span;
use crate::sweep::{CaseResult, Outcome, Sweep};
// Writing into a String cannot fail: each `let _ = write!(…)` below drops an `Ok(())`.
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// The variable GitHub Actions sets to the job summary file of the running step.
pub const ENV: &str = "GITHUB_STEP_SUMMARY";

/// The job summary file from the environment (unset or empty: none).
pub fn from_env() -> Option<std::path::PathBuf> {
    std::env::var_os(ENV)
        .filter(|v| !v.is_empty())
        .map(Into::into)
}

/// Checks that `path` can be written (a regular file or nothing yet; its directory must exist)
/// without changing it: an existing file is opened for appending, a missing one is probed with a
/// temp file beside it. `what` names the output in the error (`the job summary`, `the report`,
/// `the journal`). A FIFO or device is refused before it is opened, since opening one can block.
pub fn check_file(path: &Path, what: &str) -> Result<(), String> {
    let shown = cdb_secrets::escape_controls(&path.display().to_string()).into_owned();
    let fail = |e: std::io::Error| format!("cannot write {what} {shown}: {e}");
    match std::fs::metadata(path) {
        Ok(md) if md.is_dir() => Err(format!(
            "cannot write {what} {shown}: it is a directory, not a regular file"
        )),
        Ok(md) if !md.is_file() => Err(format!(
            "cannot write {what} {shown}: it exists and is not a regular file"
        )),
        Ok(_) => std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop)
            .map_err(fail),
        Err(_) => {
            let parent = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            tempfile::NamedTempFile::new_in(parent)
                .map(drop)
                .map_err(fail)
        }
    }
}

/// Checks that files can be created in directory `dir` (made when missing), with a probe file
/// removed at once.
pub fn check_dir(dir: &Path, what: &str) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write {what} into {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".cdb-drill-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)?;
    Ok(())
}

/// Appends `text` to the job summary file.
pub fn append(path: &Path, text: &str) -> Result<(), String> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot write the job summary {}: {e}", path.display()))
}

/// Text safe in a markdown table cell: no `|`, no line break, no backtick (cells use code spans).
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('`', "'")
}

/// The summary of drills run: a headline and one row per scenario.
pub fn drills(journals: &[Journal], errors: &[String]) -> String {
    let failed = journals.iter().filter(|j| !j.verdict.passed).count();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "### Drills: {} run, {}\n",
        journals.len() + errors.len(),
        if failed + errors.len() == 0 {
            "every one handled as expected".to_owned()
        } else {
            format!("{failed} failed, {} could not run", errors.len())
        }
    );
    o.push_str("| scenario | class | verdict | detected by | recovered at | budget |\n");
    o.push_str("|---|---|---|---|---|---|\n");
    // Failures first: they are what a reader has to act on.
    let mut order: Vec<&Journal> = journals.iter().collect();
    order.sort_by_key(|j| j.verdict.passed);
    for j in order {
        let detected = j.detection.as_ref().map_or("—".to_owned(), |d| {
            format!("`{}` at {}", cell(&d.step), clock(d.t))
        });
        let recovered = match &j.recovery {
            Some(r) if r.t <= j.budget_secs => clock(r.t),
            Some(r) => format!("{} (over budget)", clock(r.t)),
            None => format!("— ({})", cell(j.outcome.as_str())),
        };
        let _ = writeln!(
            o,
            "| `{}` | {} | {} | {detected} | {recovered} | {} |",
            cell(&j.scenario),
            cell(&j.class),
            if j.verdict.passed {
                "✅ pass".to_owned()
            } else {
                format!(
                    "❌ fail: {}",
                    cell(j.verdict.reasons.first().map_or("", String::as_str))
                )
            },
            span(j.budget_secs)
        );
    }
    for e in errors {
        let _ = writeln!(o, "| — | — | ❌ error: {} | — | — | — |", cell(e));
    }
    o.push('\n');
    o
}

/// The symbol of an outcome in the summary's grid.
pub fn symbol(o: Outcome) -> &'static str {
    match o {
        Outcome::Recovered => "✅",
        Outcome::DetectedNotRecovered => "⚠️",
        Outcome::Undetected => "❌",
        Outcome::NotApplicable => "➖",
    }
}

/// The sweep's class × fault grid: the classes in the sweep's order, the catalogue's faults
/// that apply to any of them, the faults with a gap first.
pub struct Grid<'a> {
    pub classes: Vec<&'a str>,
    pub faults: Vec<&'static str>,
    sweep: &'a Sweep,
}

impl<'a> Grid<'a> {
    pub fn new(s: &'a Sweep) -> Grid<'a> {
        let mut classes: Vec<&str> = Vec::new();
        for c in &s.cases {
            if !classes.contains(&c.class.as_str()) {
                classes.push(&c.class);
            }
        }
        let mut faults: Vec<&'static str> = cdb_model::faults::CATALOGUE
            .iter()
            .map(|f| f.id)
            .filter(|f| s.cases.iter().any(|c| c.fault == *f))
            .collect();
        // Stable: within gaps and within the rest, the catalogue's order.
        faults.sort_by_key(|f| !s.cases.iter().any(|c| c.fault == *f && c.outcome.is_gap()));
        Grid {
            classes,
            faults,
            sweep: s,
        }
    }

    /// The cases of one cell (with their index in the sweep), in the sweep's order.
    pub fn cell(&self, class: &str, fault: &str) -> Vec<(usize, &'a CaseResult)> {
        self.sweep
            .cases
            .iter()
            .enumerate()
            .filter(|(_, c)| c.class == class && c.fault == fault)
            .collect()
    }
}

/// The count of each outcome among `cases`, worst first: `U` undetected, `D` detected but not
/// recovered, `R` recovered, `N` not applicable.
pub fn counts(cases: &[(usize, &CaseResult)]) -> Vec<(Outcome, usize)> {
    [
        Outcome::Undetected,
        Outcome::DetectedNotRecovered,
        Outcome::Recovered,
        Outcome::NotApplicable,
    ]
    .into_iter()
    .map(|o| (o, cases.iter().filter(|(_, c)| c.outcome == o).count()))
    .filter(|(_, n)| *n > 0)
    .collect()
}

/// The sweep's summary: a headline, failing baselines and gaps first, then the grid.
pub fn sweep(s: &Sweep) -> String {
    let count = |o: Outcome| s.cases.iter().filter(|c| c.outcome == o).count();
    let gaps: Vec<&CaseResult> = s.gaps().collect();
    let bad_baselines: Vec<_> = s.baselines.iter().filter(|b| !b.passed).collect();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "### Fault sweep: {} case(s), {} gap(s)\n",
        s.cases.len(),
        gaps.len()
    );
    let _ = writeln!(
        o,
        "{} recovered · {} detected but not recovered · {} undetected · {} not applicable\n",
        count(Outcome::Recovered),
        count(Outcome::DetectedNotRecovered),
        count(Outcome::Undetected),
        count(Outcome::NotApplicable)
    );
    for b in &bad_baselines {
        let _ = writeln!(
            o,
            "- ❌ baseline `{}/{}` fails without any fault: {}",
            cell(&b.class),
            cell(b.trigger.as_str()),
            cell(&b.reasons.join("; "))
        );
    }
    if !gaps.is_empty() {
        o.push_str("\n| gap | outcome | detected by | should have been caught by |\n");
        o.push_str("|---|---|---|---|\n");
        for g in &gaps {
            let _ = writeln!(
                o,
                "| `{}` | {} {} | {} | {} |",
                cell(&g.case),
                symbol(g.outcome),
                match g.outcome {
                    Outcome::Undetected => "undetected",
                    _ => "detected, not recovered",
                },
                g.detected_by
                    .as_ref()
                    .map_or("—".to_owned(), |d| format!("`{}`", cell(d))),
                if g.should_have_caught.is_empty() {
                    "—".to_owned()
                } else {
                    cell(&g.should_have_caught.join(", "))
                }
            );
        }
    }
    if !bad_baselines.is_empty() || !gaps.is_empty() {
        o.push('\n');
    }
    let grid = Grid::new(s);
    o.push_str("| fault \\ class |");
    for c in &grid.classes {
        let _ = write!(o, " {} |", cell(c));
    }
    o.push_str("\n|---|");
    for _ in &grid.classes {
        o.push_str("---|");
    }
    o.push('\n');
    for f in &grid.faults {
        let _ = write!(o, "| `{f}` |");
        for c in &grid.classes {
            let cases = grid.cell(c, f);
            let text = counts(&cases)
                .iter()
                .map(|(k, n)| format!("{}{n}", symbol(*k)))
                .collect::<Vec<_>>()
                .join(" ");
            let _ = write!(o, " {} |", if text.is_empty() { "·" } else { &text });
        }
        o.push('\n');
    }
    o.push_str(
        "\n✅ detected and recovered · ⚠️ detected, not recovered · ❌ undetected · ➖ not applicable (no effect there) · · fault does not apply; the number is the count of cases (trigger × injection point)\n\n",
    );
    o
}

/// Checks, before a run, that the report (a file, or a directory with several drills) and the
/// job summary can be written: a run of minutes should not end in "cannot write".
pub fn check_outputs(
    report: Option<&Path>,
    report_is_dir: bool,
    summary: Option<&Path>,
) -> Result<(), String> {
    match report {
        Some(p) if report_is_dir => check_dir(p, "the reports")?,
        Some(p) => check_file(p, "the report")?,
        None => {}
    }
    if let Some(p) = summary {
        check_file(p, "the job summary")?;
    }
    Ok(())
}
