//! `cargo xtask ci`: runs, one after another, exactly the checks of `.ci/run`, so a red CI reproduces in one command.
//!
//! The list below is the `cargo` lines of `.ci/run` in the same order; an
//! integration test parses `.ci/run` and compares it with `cargo xtask ci --list`,
//! so the two cannot drift apart. Each step's command is printed before it runs,
//! and the first failing step ends the run with that step's exit code.

use clap::Args;
use std::path::Path;
use std::process::Command;
use xshell::Shell;

#[derive(Args)]
pub struct CiArgs {
    /// Print the steps' commands, one per line, and exit without running them.
    #[arg(long)]
    pub list: bool,
}

/// A condition on the workspace root, and why the step is skipped when it does not hold.
type Guard = (fn(&Path) -> bool, &'static str);

/// One check of the gate.
struct Step {
    command: &'static str,
    /// Steps with a condition run only when it holds on the workspace root (as in `.ci/run`).
    only_if: Option<Guard>,
}

/// Whether `drills/` holds at least one scenario, the guard `.ci/run` puts on the drills.
fn has_drills(root: &Path) -> bool {
    std::fs::read_dir(root.join("drills")).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "yaml"))
    })
}

const STEPS: &[Step] = &[
    Step {
        command: "cargo test --workspace --locked",
        only_if: None,
    },
    Step {
        command: "cargo fmt --all --check",
        only_if: None,
    },
    Step {
        command: "cargo clippy --workspace --all-targets --locked -- -D warnings",
        only_if: None,
    },
    Step {
        command: "cargo xtask verify",
        only_if: None,
    },
    Step {
        command: "cargo xtask drill --all",
        only_if: Some((has_drills, "no drills/*.yaml yet")),
    },
];

pub fn run(args: CiArgs) -> u8 {
    if args.list {
        for step in STEPS {
            println!("{}", step.command);
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
        if let Some((holds, why)) = step.only_if
            && !holds(&root)
        {
            println!("\n==> skipped: {} ({why})", step.command);
            continue;
        }
        println!("\n==> {}", step.command);
        let mut words = step.command.split_whitespace();
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
                eprintln!("\nerror: `{}` failed with exit code {code}", step.command);
                return u8::try_from(code).ok().filter(|c| *c != 0).unwrap_or(1);
            }
            Err(e) => {
                eprintln!("\nerror: cannot run `{}`: {e}", step.command);
                return 2;
            }
        }
    }
    println!("\n==> all checks passed");
    0
}
