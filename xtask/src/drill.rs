//! `cargo xtask drill`: argument parsing and wiring for the drill engine in `cdb-drill`.
//!
//! The drill's mock tools are this same binary: the sandbox's shims run
//! `xtask __cdb-mock TOOL ARGS…`, which [`mock_entry`] catches before clap sees it.

use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct DrillArgs {
    /// Scenario ids (files `drills/<id>.yaml`).
    pub scenario: Vec<String>,
    /// The workspace root holding `Claire_de_Binare_Docs/` and `drills/` (default: this workspace).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Seed of every random value in the world (same seed, same journal).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output on stdout: `human` (a timeline) or `json` (the journal); with --sweep also `html`
    /// (one self-contained page).
    #[arg(long, default_value = "human", value_parser = ["human", "json", "html"])]
    pub format: String,
    /// Write the JSON journal here (a directory with --all).
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Write the markdown after-action report here (a directory with --all); with --sweep, the
    /// sweep's output goes to this file instead of stdout.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Wall-time limit of one step, in seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Run every scenario under `drills/`.
    #[arg(long)]
    pub all: bool,
    /// Open an interactive shell in the scenario's sandbox and work through the runbook by hand.
    #[arg(long)]
    pub shell: bool,
    /// Feed the shell's commands from FILE instead of standard input (implies --shell).
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// List the scenarios.
    #[arg(long)]
    pub list: bool,
    /// Sweep the fault catalogue: every class × fault × injection point (exit 1 on any gap).
    #[arg(long)]
    pub sweep: bool,
    /// Remove each verify step in turn and show that some sweep case then fails (exit 1 on dead steps).
    #[arg(long)]
    pub mutate: bool,
    /// Limit --sweep or --mutate to one class.
    #[arg(long, value_name = "C")]
    pub class: Option<String>,
    /// Run the scenario twice, in the mock world and with real PostgreSQL and Redis and
    /// stand-in consumers (crates/cdb-lab), and fail when a step's verdict differs.
    #[arg(long)]
    pub lab: bool,
}

/// When the process was started as one of the drill's mock tools (or, in lab mode, as the
/// `docker` adapter or a stand-in consumer), runs it and returns its exit code.
pub fn mock_entry() -> Option<u8> {
    #[cfg(unix)]
    {
        if let Some(code) = cdb_lab::adapter::entry() {
            return Some(exit_u8(code));
        }
        if let Some(code) = cdb_lab::standin::entry() {
            return Some(exit_u8(code));
        }
    }
    cdb_drill::mock::entry()
}

#[cfg(unix)]
fn exit_u8(code: std::process::ExitCode) -> u8 {
    if code == std::process::ExitCode::SUCCESS {
        0
    } else {
        1
    }
}

pub fn run(args: DrillArgs) -> u8 {
    if !args.all && !args.list && !args.sweep && !args.mutate && args.scenario.is_empty() {
        eprintln!(
            "error: name a scenario, or use --all or --list\n{}",
            cdb_drill::cli::USAGE
        );
        return 2;
    }
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot find the xtask executable for the mock tools: {e}");
            return 2;
        }
    };
    if args.lab {
        return lab(&args, &exe);
    }
    let opts = cdb_drill::cli::Options {
        scenarios: args.scenario,
        root: args.root.unwrap_or_else(crate::workspace_root),
        seed: args.seed,
        format: match args.format.as_str() {
            "json" => cdb_drill::cli::Format::Json,
            "html" => cdb_drill::cli::Format::Html,
            _ => cdb_drill::cli::Format::Human,
        },
        journal: args.journal,
        report: args.report,
        all: args.all,
        list: args.list,
        sweep: args.sweep,
        mutate: args.mutate,
        class: args.class,
        step_timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        shell: args.shell || args.script.is_some(),
        script: args.script,
        // Written only when GitHub Actions (or the person) sets GITHUB_STEP_SUMMARY.
        summary: cdb_drill::summary::from_env(),
    };
    cdb_drill::cli::run(&opts, &exe, &mut std::io::stdout(), &mut std::io::stderr())
}

/// `drill <scenario>… --lab`: each scenario in the mock and in the lab; exit 1 when a step's
/// verdict differs (the step and both outputs are printed) or a drill fails, 2 when the lab cannot
/// run. Without the servers: skipped (exit 0) naming the install command, unless `CI=true`.
#[cfg(unix)]
fn lab(args: &DrillArgs, exe: &std::path::Path) -> u8 {
    if args.scenario.is_empty() {
        eprintln!(
            "error: --lab needs scenario ids (one of {:?})",
            cdb_lab::lab::SCENARIOS
        );
        return 2;
    }
    let cfg = cdb_drill::Config {
        root: args.root.clone().unwrap_or_else(crate::workspace_root),
        seed: args.seed,
        step_timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        mock_exe: exe.to_path_buf(),
    };
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let mut code = 0;
    for id in &args.scenario {
        let t = std::time::Instant::now();
        let o = match cdb_lab::lab::run(&cfg, id) {
            Ok(o) => o,
            Err(cdb_lab::conformance::SuiteError::Lab(e)) if e.is_missing() && !ci => {
                println!("skipped: drill {id} --lab: {e} (or run .ci/install-servers)");
                continue;
            }
            Err(e) => {
                eprintln!("error: drill {id} --lab: {e}");
                return 2;
            }
        };
        if let Some(p) = &args.journal {
            // One scenario: the file; several: `<dir>/<id>.lab.json`.
            let path = if args.scenario.len() > 1 {
                p.join(format!("{id}.lab.json"))
            } else {
                p.clone()
            };
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&path, o.lab.to_json() + "\n"));
            if let Err(e) = written {
                eprintln!(
                    "error: cannot write the lab journal {}: {e}",
                    path.display()
                );
                return 2;
            }
        }
        if args.format == "json" {
            println!("{}", o.lab.to_json());
        } else {
            print!(
                "{}",
                cdb_secrets::escape_controls(&cdb_drill::report::human(&o.lab))
            );
        }
        let secs = t.elapsed().as_secs_f64();
        if o.differences.is_empty() {
            println!(
                "lab: {id}: every step reached the mock's verdict on PostgreSQL {} and Redis {} ({} server calls, {secs:.1} s)",
                o.pg_version, o.redis_version, o.server_calls
            );
        } else {
            code = 1;
            for d in &o.differences {
                eprintln!(
                    "lab: {id}: step {} (#{}) reached another verdict than in the mock\n--- mock:\n{}\n--- lab:\n{}",
                    d.step,
                    d.index + 1,
                    cdb_secrets::escape_controls(d.mock.trim_end()),
                    cdb_secrets::escape_controls(d.lab.trim_end())
                );
            }
        }
        if !o.lab.verdict.passed {
            code = 1;
            eprintln!(
                "drill {id} --lab failed: {}",
                o.lab.verdict.reasons.join("; ")
            );
        }
    }
    code
}

#[cfg(not(unix))]
fn lab(_: &DrillArgs, _: &std::path::Path) -> u8 {
    eprintln!("error: drill --lab needs Linux (real servers under a supervisor)");
    2
}
