//! `cargo xtask`: the command line of the secret-rotation kit. Parsing and wiring only; the work lives in `crates/`.
//!
//! Exit codes follow ripgrep: 0 clean, 1 findings (or a failed drill), 2 usage,
//! I/O or configuration errors.

mod ci;
mod drill;
mod output;
mod review;
mod rotate;
mod verify;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Secret-rotation and incident-response kit of Claire de Binare"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the Docs Hub: structure, links, matrix, freshness, steps and secrets.
    Verify(verify::VerifyArgs),
    /// Run a scripted tabletop drill against the mock stack (Linux or WSL; built on first use).
    Drill(drill::DrillArgs),
    /// List the rotations due or overdue per class, with owners, and the hub's next review.
    Review(review::ReviewArgs),
    /// Run locally, step by step, exactly what CI runs (`.ci/run`); stops at the first failure.
    Ci(ci::CiArgs),
    /// Rotate one class: the runbook step by step, guarded and journaled (`--dry-run`: the plan).
    Rotate(rotate::RotateArgs),
}

/// The workspace root: the parent of this crate's manifest directory, so that
/// `cargo xtask` works from any subdirectory.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // A closed stdout or stderr: the exit code still says it.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Verify(args) => verify::run(args),
        Command::Drill(args) => drill::run(args),
        Command::Review(args) => review::run(args),
        Command::Ci(args) => ci::run(args),
        Command::Rotate(args) => rotate::run(args),
    };
    ExitCode::from(code)
}
