//! `cargo xtask rotate <class>`: the runbook executed step by step, guarded and journaled
//! (issue 15).
//!
//! - `--dry-run`: the plan, read from the hub and the matrix, in the order
//!   `cdb_model::procedure` (the drill engine's phase order) runs it: the steps of every phase
//!   for the class and trigger, which ask before running, which are manual, the approvals the
//!   matrix requires, the recovery-time budget and what the operator must have at hand. Nothing
//!   runs, nothing is written.
//! - Without it: the guided rotation of `cdb-rotate` against the real stack (`SECRETS_PATH`
//!   from the environment, the Compose folder from `--compose` or the current directory, bash
//!   found as `cdb_rotate::exec::find_bash` says, Git for Windows' on Windows). xtask links
//!   cdb-rotate, which is portable, so this works from PowerShell.
//! - `--world SCENARIO` (a drill scenario, or `baseline`: the class's fault-free world): the same
//!   rotation against that mock world: this process replaces itself with
//!   `cargo run -p cdb-drill --bin cdb-mock -- rotate …` as `drill` does (the mock world is
//!   Linux-only); with `--lab`, `cargo run -p cdb-lab --bin cdb-lab-tool -- rotate …` (real
//!   PostgreSQL and Redis behind the steps). A rehearsal never sets `last_rotated`.

use crate::output::{emit, usage};
use cdb_docs::step::{Phase, Step, Trigger};
use cdb_docs::{Hub, Layout};
use cdb_model::procedure::{PhaseRun, Procedure};
use cdb_verify::for_human;
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Args)]
pub struct RotateArgs {
    /// The secret class (an `id` of the rotation matrix).
    pub class: String,
    /// The leak path (containment first, never back to the leaked value); default: routine.
    #[arg(long)]
    pub leak: bool,
    /// Print the plan and run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The incident record's id (`SEC-YYYYMMDD-N`): the rotation runs under the incident's
    /// guards, and the steps get it as `CDB_INCIDENT_ID`.
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
    /// Continue an interrupted rotation of the class at its first step not done.
    #[arg(long)]
    pub resume: bool,
    /// The journal to resume or print (default: the class's newest unfinished one; with
    /// --timeline its newest).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Print a journal as the incident timeline (markdown) and run nothing.
    #[arg(long, conflicts_with_all = ["resume", "dry_run", "world"])]
    pub timeline: bool,
    /// Run the steps that change something without asking (manual steps still wait).
    #[arg(long)]
    pub yes: bool,
    /// The bash that runs the steps (default: found on PATH; on Windows, Git for Windows').
    #[arg(long, value_name = "PATH")]
    pub bash: Option<PathBuf>,
    /// The folder holding the stack's Compose files (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub compose: Option<PathBuf>,
    /// Rotate in the mock world of this drill scenario instead of the real stack (Linux or WSL).
    #[arg(long, value_name = "SCENARIO")]
    pub world: Option<String>,
    /// With --world: run the steps against real PostgreSQL and Redis and stand-in consumers
    /// (crates/cdb-lab), the world modelling the rest.
    #[arg(long, requires = "world")]
    pub lab: bool,
    /// The mock world's seed (with --world).
    #[arg(long, default_value_t = 1, requires = "world")]
    pub seed: u64,
    /// The tree holding the Docs Hub (default: the workspace root).
    #[arg(long)]
    pub root: Option<PathBuf>,
}

pub fn run(args: RotateArgs) -> u8 {
    if !args.dry_run {
        return guided(&args);
    }
    let root = args.root.unwrap_or_else(crate::workspace_root);
    let hub = match Hub::load(
        &root,
        Layout::default(),
        cdb_docs::hub::LoadOptions {
            text_files: false,
            parse_markdown: true,
        },
    ) {
        Ok(h) => h,
        Err(e) => {
            return usage(&for_human(&format!(
                "{}: cannot load the Docs Hub: {e}",
                root.display()
            )));
        }
    };
    let matrix_path = root.join(&hub.layout.matrix);
    let matrix = match &hub.matrix {
        Some(Ok(m)) => m,
        Some(Err(e)) => return usage(&for_human(&format!("{}:{e}", matrix_path.display()))),
        None => {
            return usage(&for_human(&format!(
                "cannot read the rotation matrix {}",
                matrix_path.display()
            )));
        }
    };
    let Some(class) = matrix.class(&args.class) else {
        let known: Vec<&str> = matrix.classes.iter().map(|c| c.id.value.as_str()).collect();
        return usage(&for_human(&format!(
            "`{}` is not a class of {} (classes: {})",
            args.class,
            matrix_path.display(),
            known.join(", ")
        )));
    };
    let trigger = if args.leak {
        Trigger::Leak
    } else {
        Trigger::Routine
    };
    let steps: Vec<&Step> = hub
        .docs
        .iter()
        .flat_map(|d| d.steps.iter())
        .filter(|s| s.class == class.id.value && s.when.applies_to(trigger))
        .collect();
    if steps.is_empty() {
        return usage(&format!(
            "the hub has no step of class `{}` for a {} rotation",
            class.id.value,
            trigger.as_str()
        ));
    }
    let approvals = if args.leak {
        &class.approvals.emergency
    } else {
        &class.approvals.routine
    };
    let plan = Plan {
        class: &class.id.value,
        trigger,
        rto: &class.rto.value,
        approvals: approvals.iter().map(|a| a.value.as_str()).collect(),
        owner: &class.owner.value,
        backup: &class.backup_owner.value,
        last_rotated: class.last_rotated.as_ref().map(|d| d.value.as_str()),
        steps,
    };
    emit(&plan.render())
}

/// The guided rotation: the real stack in this process, the mock world in cdb-drill's binary.
fn guided(args: &RotateArgs) -> u8 {
    let words = cdb_rotate::cli::Args {
        class: args.class.clone(),
        leak: args.leak,
        incident: args.incident.clone(),
        resume: args.resume,
        journal: args.journal.clone(),
        yes: args.yes,
        bash: args.bash.clone(),
        compose: args.compose.clone(),
        root: args.root.clone(),
        world: args.world.clone(),
        seed: args.seed,
        dry_run: false,
        timeline: args.timeline,
    };
    if args.journal.is_some() && !args.resume && !args.timeline {
        return usage("--journal is for --resume or --timeline");
    }
    match &args.world {
        None => cdb_rotate::cli::main_real(&words, crate::workspace_root()),
        Some(_) => {
            if !cfg!(unix) {
                return usage(
                    "--world needs Linux or WSL (the mock world runs each step in Linux namespaces); \
                     without --world the rotation runs here against the real stack",
                );
            }
            let mut fwd = vec![args.class.clone()];
            for (on, flag) in [
                (args.leak, "--leak"),
                (args.resume, "--resume"),
                (args.yes, "--yes"),
            ] {
                if on {
                    fwd.push(flag.into());
                }
            }
            for (v, flag) in [
                (args.incident.clone(), "--incident"),
                (
                    args.journal.as_ref().map(|p| p.display().to_string()),
                    "--journal",
                ),
                (args.world.clone(), "--world"),
                (Some(args.seed.to_string()), "--seed"),
                (
                    Some(
                        args.root
                            .clone()
                            .unwrap_or_else(crate::workspace_root)
                            .display()
                            .to_string(),
                    ),
                    "--root",
                ),
            ] {
                if let Some(v) = v {
                    fwd.push(flag.into());
                    fwd.push(v);
                }
            }
            crate::drill::run_mock_subcommand(args.lab, "rotate", &fwd)
        }
    }
}

struct Plan<'a> {
    class: &'a str,
    trigger: Trigger,
    rto: &'a str,
    approvals: Vec<&'a str>,
    owner: &'a str,
    backup: &'a str,
    last_rotated: Option<&'a str>,
    steps: Vec<&'a Step>,
}

impl Plan<'_> {
    fn in_phase(&self, phase: Phase) -> impl Iterator<Item = &&Step> {
        self.steps.iter().filter(move |s| s.phase == phase)
    }

    /// The phases that only look: their steps run without asking (issue 15).
    fn read_only(phase: Phase) -> bool {
        matches!(phase, Phase::PreCheck | Phase::Verify | Phase::PostCheck)
    }

    fn render(&self) -> String {
        let leak = self.trigger == Trigger::Leak;
        let mut out = String::new();
        // Writing to a `String` cannot fail: the `fmt::Result`s here and in `phases` are dropped.
        let _ = writeln!(
            out,
            "ROTATION PLAN: {} · {} (dry run: nothing runs, nothing is written)",
            self.class,
            self.trigger.as_str()
        );
        let _ = writeln!(
            out,
            "owner {} (backup {}) · approvals ({}): {} · last rotated: {}",
            self.owner,
            self.backup,
            if leak { "emergency" } else { "routine" },
            if self.approvals.is_empty() {
                "none".to_owned()
            } else {
                self.approvals.join(", ")
            },
            self.last_rotated.unwrap_or("never")
        );
        let main = Procedure::main_line(leak);
        let main_secs: u64 = main
            .iter()
            .flat_map(|r| self.in_phase(r.phase))
            .map(|s| s.time.secs)
            .sum();
        let _ = writeln!(
            out,
            "recovery-time budget (matrix `rto`): {} · the main line's steps take about {}",
            self.rto,
            minutes(main_secs)
        );
        out.push_str("have at hand:\n");
        for need in self.needs() {
            let _ = writeln!(out, "  - {need}");
        }
        out.push_str("\nMain line (every step passes):\n");
        self.phases(&mut out, &main);
        for failing in [Phase::Rotate, Phase::Verify, Phase::Revoke] {
            if self.in_phase(failing).next().is_none() {
                continue;
            }
            let after = Procedure::after_failure_in(leak, failing);
            let names: Vec<&str> = after.iter().map(|r| r.phase.as_str()).collect();
            let _ = writeln!(
                out,
                "\nIf a {} step fails: {}",
                failing.as_str(),
                names.join(" → ")
            );
        }
        let way_back = Procedure::after_failure_in(leak, Phase::Verify);
        let rollback: Vec<PhaseRun> = way_back
            .into_iter()
            .filter(|r| r.phase == Phase::Rollback)
            .collect();
        out.push_str("\nRollback:\n");
        self.phases(&mut out, &rollback);
        let escalate: Vec<PhaseRun> = [PhaseRun {
            phase: Phase::Escalate,
            stop_at_first_failure: false,
            why: "when the stack is not back after the rollback",
        }]
        .into();
        out.push_str("\nEscalation:\n");
        self.phases(&mut out, &escalate);
        out.push_str(
            "\nmarks: [asks] changes something: shown with its expected outcome and run only after \
             y · [looks] read-only phase: runs without asking · [manual] you do it, then answer done or failed\n",
        );
        out
    }

    fn phases(&self, out: &mut String, runs: &[PhaseRun]) {
        for r in runs {
            let steps: Vec<&&Step> = self.in_phase(r.phase).collect();
            let _ = writeln!(
                out,
                "  {} — {}{}",
                r.phase.as_str(),
                r.why,
                if r.stop_at_first_failure {
                    " (stops at the first failing step)"
                } else {
                    ""
                }
            );
            if steps.is_empty() {
                out.push_str("      (no step of this class)\n");
            }
            for s in steps {
                let mark = if s.manual {
                    "manual"
                } else if Self::read_only(r.phase) {
                    "looks"
                } else {
                    "asks"
                };
                let _ = writeln!(out, "      [{mark:6}] {} ({})", s.id, minutes(s.time.secs));
            }
        }
    }

    /// What the steps need from the operator, read from their bodies and effects.
    fn needs(&self) -> Vec<String> {
        let any = |pat: &str| self.steps.iter().any(|s| s.body.contains(pat));
        let mut out = vec![
            "SECRETS_PATH: the folder of the stack's secret files (runbook, Prerequisites)"
                .to_owned(),
            "a terminal in the stack's Compose folder, with docker working".to_owned(),
        ];
        if any("CDB_TLS_DIR") {
            out.push("CDB_TLS_DIR: the TLS overlay's folder (runbook, Prerequisites)".into());
        }
        if self
            .steps
            .iter()
            .any(|s| s.effect.as_deref().is_some_and(|e| e.starts_with("mexc.")))
        {
            out.push("MEXC console access (the owner-operator, or the break-glass person)".into());
        }
        if any("api/datasources") {
            out.push("Grafana's admin login and its PostgreSQL datasource name".into());
        }
        if any("gh secret") {
            out.push("a GitHub login with rights to the repository's Actions secrets".into());
        }
        out
    }
}

/// `2m`, `1h 05m`, `45s`: a step or plan time as the runbook writes it.
fn minutes(s: u64) -> String {
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, sec) => format!("{m}m {sec:02}s"),
        (h, m, _) => format!("{h}h {m:02}m"),
    }
}
