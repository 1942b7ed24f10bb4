//! `cargo xtask ci`: runs, one after another, exactly the checks of `.ci/run`, so a red CI reproduces in one command.
//!
//! The list below is the `cargo` lines of `.ci/run` in the same order; an
//! integration test parses `.ci/run` and compares it with `cargo xtask ci --list`,
//! so the two cannot drift apart. Each step's command is printed before it runs,
//! and the first failing step ends the run with that step's exit code. A step may end
//! in `> FILE` (its standard output goes to FILE, as in the shell); the SARIF sample it
//! writes is then checked with the validator `.ci/run` installs, as `.ci/run` does.

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
    "cargo test --workspace --locked -- --include-ignored",
    "cargo fmt --all --check",
    "cargo clippy --workspace --all-targets --locked -- -D warnings",
    "cargo check --target x86_64-pc-windows-gnu --locked -p xtask -p cdb-verify -p cdb-review -p cdb-model -p cdb-rotate --all-targets",
    "cargo xtask verify",
    "cargo xtask drill --all",
    "cargo xtask drill leak-db leak-cache lab-failed-rotation-db lab-failed-rotation-cache --lab",
    "cargo xtask rotate database --world baseline --yes --lab",
    "cargo xtask rotate cache --world baseline --yes --lab",
    "cargo xtask verify --format sarif --root tests/fixtures/hub > target/verify-sample.sarif",
];

/// Where `.ci/run` installs Microsoft's SARIF Multitool (`npm install --prefix`).
const SARIF_VALIDATOR: &str = "target/sarif-multitool/node_modules/.bin/sarif-multitool";

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
        if step.contains(WINDOWS_TARGET)
            && let Err(e) = ensure_target(WINDOWS_TARGET)
        {
            eprintln!("\nerror: {e}");
            return 2;
        }
        println!("\n==> {step}");
        let (command, stdout_to) = match step.split_once(" > ") {
            Some((c, f)) => (c, Some(root.join(f.trim()))),
            None => (*step, None),
        };
        let mut words = command.split_whitespace();
        let Some(program) = words.next() else {
            continue;
        };
        // xshell builds the command (working directory, arguments); the status is read
        // from std so that the step's own exit code, not a generic error, ends the run.
        let mut cmd: Command = sh.cmd(program).args(words).into();
        if let Some(f) = &stdout_to {
            match std::fs::File::create(f) {
                Ok(file) => {
                    cmd.stdout(file);
                }
                Err(e) => {
                    eprintln!("\nerror: cannot write {}: {e}", f.display());
                    return 2;
                }
            }
        }
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
        if let Some(f) = stdout_to.filter(|f| f.extension().is_some_and(|x| x == "sarif")) {
            println!("\n==> validate {} (0 errors, 0 warnings)", f.display());
            if let Err(e) = validate_sarif(&root, &f) {
                eprintln!("\nerror: {e}");
                return 1;
            }
        }
    }
    println!("\n==> all checks passed");
    0
}

/// The Windows target the gate checks `verify`'s crates for (`.ci/run` adds it the same way).
const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";

/// Adds a rustup target when it is not installed, as `.ci/run` does before its Windows check.
fn ensure_target(target: &str) -> Result<(), String> {
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| {
            format!("cannot run `rustup target list` (the Windows check needs rustup): {e}")
        })?;
    if String::from_utf8_lossy(&listed.stdout)
        .lines()
        .any(|l| l.trim() == target)
    {
        return Ok(());
    }
    println!("\n==> rustup target add {target}");
    let status = Command::new("rustup")
        .args(["target", "add", target])
        .status()
        .map_err(|e| format!("cannot run `rustup target add {target}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`rustup target add {target}` failed ({status})"))
    }
}

/// Runs the SARIF Multitool on `file` as `.ci/run` does: it must exit 0 and report no error
/// and no warning (it exits 0 on warnings, so its `FILE(L,C): warning …` lines are counted).
fn validate_sarif(root: &std::path::Path, file: &std::path::Path) -> Result<(), String> {
    let tool = root.join(SARIF_VALIDATOR);
    if !tool.is_file() {
        return Err(format!(
            "the SARIF validator is not installed at {}: run `npm install --prefix target/sarif-multitool @microsoft/sarif-multitool@5.7.0` (as .ci/run does)",
            tool.display()
        ));
    }
    let out = Command::new(&tool)
        .arg("validate")
        .arg(file)
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", tool.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    print!("{text}");
    let problems = text
        .lines()
        .filter(|l| l.contains("): error ") || l.contains("): warning "))
        .count();
    if !out.status.success() || problems > 0 {
        return Err(format!(
            "the SARIF validator reports {problems} error(s) or warning(s) on {}",
            file.display()
        ));
    }
    Ok(())
}
