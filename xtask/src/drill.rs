//! `cargo xtask drill`: argument checking here, the drill itself in `cdb-drill`'s own binary.
//!
//! `xtask` does not link the simulator (ARCHITECTURE.md, "Crates"): `cargo xtask verify` and
//! `cargo xtask review` must build on Windows and build fast from a fresh clone, and the drill
//! engine (sandbox, jail, mocks) is Linux-only. So this command checks its arguments with clap
//! (help, usage errors) and then replaces itself with
//! `cargo run -p cdb-drill --bin cdb-mock -- drill ARGS…`, which builds the simulator on first
//! use. That binary is also the drill's mock tools (`cdb-mock __cdb-mock TOOL …`). On Windows it
//! says in one line that drills need Linux or WSL.

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
    /// Run the scenarios twice, in the mock world and with real PostgreSQL and Redis and
    /// stand-in consumers (crates/cdb-lab), and fail when a step's verdict differs.
    #[arg(long)]
    pub lab: bool,
}

/// The one line a drill prints where it cannot run.
pub const NEEDS_LINUX: &str = "error: drills need Linux or WSL (each step runs in Linux namespaces \
     against mock tools); run `cargo xtask drill` there. `cargo xtask verify` and `review` work here.";

pub fn run(args: DrillArgs) -> u8 {
    if !args.all && !args.list && !args.sweep && !args.mutate && args.scenario.is_empty() {
        eprintln!(
            "error: name a scenario, or use --all or --list\n\
             usage: cargo xtask drill <scenario>… | --all | --list | --sweep | --mutate (see --help)"
        );
        return 2;
    }
    if !cfg!(unix) {
        eprintln!("{NEEDS_LINUX}");
        return 2;
    }
    let forwarded = forwarded_args(std::env::args().skip(1), args.root.is_none());
    run_drill_binary(binary(args.lab), &forwarded)
}

/// The package and binary that run the drill: the lab's own tool for `--lab` (it links the real
/// servers' harness, which the simulator does not), else the simulator's.
fn binary(lab: bool) -> (&'static str, &'static str) {
    if lab {
        ("cdb-lab", "cdb-lab-tool")
    } else {
        ("cdb-drill", "cdb-mock")
    }
}

/// The arguments after the `drill` word, as `cdb-drill`'s command line takes them: `--flag=value`
/// split in two (clap takes both forms, that parser only the spaced one), and `--root` set to
/// this workspace when not given (that parser's default is the current directory).
fn forwarded_args(argv: impl Iterator<Item = String>, add_root: bool) -> Vec<String> {
    let mut out = Vec::new();
    for a in argv.skip_while(|a| a != "drill").skip(1) {
        match a.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                out.push(flag.to_owned());
                out.push(value.to_owned());
            }
            _ => out.push(a),
        }
    }
    if add_root {
        out.push("--root".to_owned());
        out.push(crate::workspace_root().display().to_string());
    }
    out
}

/// Runs `cdb-mock WORD ARGS…` (`rotate --world`; `cdb-lab-tool` with `lab`) as `drill` runs
/// `cdb-mock drill …`.
pub fn run_mock_subcommand(lab: bool, word: &str, forwarded: &[String]) -> u8 {
    run_drill_binary_word(binary(lab), word, forwarded)
}

/// The `cargo run` that builds (when needed) and runs the drill binary, in this xtask's profile.
fn cargo_run_word(
    (package, bin): (&str, &str),
    word: &str,
    forwarded: &[String],
) -> std::process::Command {
    // The cargo that runs this xtask (`cargo run` sets CARGO), else the one that built it.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.args(["run", "--quiet", "--manifest-path"])
        .arg(crate::workspace_root().join("Cargo.toml"));
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    cmd.args(["-p", package, "--bin", bin, "--", word])
        .args(forwarded);
    cmd
}

/// Replaces this process with the drill (so signals, the terminal of `--shell` and the exit code
/// are the drill's own); returns only when that cannot start.
fn run_drill_binary(which: (&str, &str), forwarded: &[String]) -> u8 {
    run_drill_binary_word(which, "drill", forwarded)
}

#[cfg(unix)]
fn run_drill_binary_word(which: (&str, &str), word: &str, forwarded: &[String]) -> u8 {
    use std::os::unix::process::CommandExt;
    let e = cargo_run_word(which, word, forwarded).exec();
    eprintln!(
        "error: cannot start `cargo run -p {}` for the drill: {e}",
        which.0
    );
    2
}

#[cfg(not(unix))]
fn run_drill_binary_word(which: (&str, &str), word: &str, forwarded: &[String]) -> u8 {
    // Unreachable (`run` stops first off Unix); kept so both cfgs type-check the command.
    let _ = cargo_run_word(which, word, forwarded);
    eprintln!("{NEEDS_LINUX}");
    2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn only_the_words_after_drill_are_forwarded_with_equals_split() {
        let argv = strings(&["drill", "leak-db", "--seed=7", "--journal", "j.json", "a=b"]);
        assert_eq!(
            forwarded_args(argv.into_iter(), false),
            strings(&["leak-db", "--seed", "7", "--journal", "j.json", "a=b"])
        );
    }

    #[test]
    fn the_workspace_is_the_default_root() {
        let out = forwarded_args(strings(&["drill", "--list"]).into_iter(), true);
        assert_eq!(out[..2], strings(&["--list", "--root"]));
        assert_eq!(out[2], crate::workspace_root().display().to_string());
    }
}
