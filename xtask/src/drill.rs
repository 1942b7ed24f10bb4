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
}

/// When the process was started as one of the drill's mock tools, runs it and returns its exit code.
pub fn mock_entry() -> Option<u8> {
    cdb_drill::mock::entry()
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
