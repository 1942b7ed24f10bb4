//! `cargo xtask ci`: runs, one after another, exactly the checks of `.ci/run`, so a red CI reproduces in one command.
//!
//! The list below is the `cargo` lines of `.ci/run` in the same order; an
//! integration test parses `.ci/run` and compares it with `cargo xtask ci --list`,
//! so the two cannot drift apart. Each step's command is printed before it runs,
//! and the first failing step ends the run with that step's exit code.

use clap::Args;
use std::process::Command;
use xshell::Shell;

#[derive(Args)]
pub struct CiArgs {
    /// Print the steps' commands, one per line, and exit without running them.
    #[arg(long)]
    pub list: bool,
}

/// The checks of the gate, in the order of `.ci/run`.
const STEPS: &[&str] = &[
    "cargo test --workspace --locked",
    "cargo fmt --all --check",
    "cargo clippy --workspace --all-targets --locked -- -D warnings",
    "cargo xtask verify",
    "cargo xtask drill --all",
];

pub fn run(args: CiArgs) -> u8 {
    if args.list {
        for step in STEPS {
            println!("{step}");
        }
        return 0;
    }
    let root = crate::workspace_root();
    let sh = match Shell::new() {
        Ok(sh) => sh,
        Err(e) => {
            eprintln!("error: cannot start a shell: {e}");
            return 2;
        }
    };
    sh.change_dir(&root);
    for step in STEPS {
        println!("\n==> {step}");
        let mut words = step.split_whitespace();
        let Some(program) = words.next() else {
            continue;
        };
        // xshell builds the command (working directory, arguments); the status is read
        // from std so that the step's own exit code, not a generic error, ends the run.
        let mut cmd: Command = sh.cmd(program).args(words).into();
        match cmd.status() {
            Ok(status) if status.success() => {}
            Ok(status) => {
                let code = status.code().unwrap_or(1);
                eprintln!("\nerror: `{step}` failed with exit code {code}");
                return u8::try_from(code).ok().filter(|c| *c != 0).unwrap_or(1);
            }
            Err(e) => {
                eprintln!("\nerror: cannot run `{step}`: {e}");
                return 2;
            }
        }
    }
    println!("\n==> all checks passed");
    0
}
