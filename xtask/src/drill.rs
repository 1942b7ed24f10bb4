//! `cargo xtask drill`: argument checking here, the drill itself in `cdb-drill`'s own binary.
//!
//! `xtask` does not link the simulator (ARCHITECTURE.md, "Crates"): `cargo xtask verify` and
//! `cargo xtask review` must build on Windows and build fast from a fresh clone, and the drill
//! engine (sandbox, jail, mocks) is Linux-only. So this command checks its arguments with clap
//! (help, usage errors) and then replaces itself with
//! `cargo run -p cdb-drill --bin cdb-mock -- drill ARGS…`, which builds the simulator on first
//! use. Both parse the one struct `cdb_cli::DrillArgs`, and ARGS are the words of the struct
//! xtask parsed (`DrillArgs::to_argv`), so the drill sees exactly the flags checked here. That binary is also the drill's mock tools (`cdb-mock __cdb-mock TOOL …`). On Windows it
//! says in one line that drills need Linux or WSL.

use std::ffi::{OsStr, OsString};

/// The flags, one struct for `cargo xtask drill`, `cdb-mock drill` and `cdb-lab-tool drill`.
pub use cdb_cli::DrillArgs;

/// The one line a drill prints where it cannot run.
pub const NEEDS_LINUX: &str = "error: drills need Linux or WSL (each step runs in Linux namespaces \
     against mock tools); run `cargo xtask drill` there. `cargo xtask verify` and `review` work here.";

pub fn run(args: DrillArgs) -> u8 {
    if let Err(e) = args.check_something_to_do() {
        eprintln!(
            "error: {e}\n\
             usage: cargo xtask drill <scenario>… | --all | --list | --sweep | --mutate (see --help)"
        );
        return 2;
    }
    if !cfg!(unix) {
        eprintln!("{NEEDS_LINUX}");
        return 2;
    }
    run_drill_binary(binary(args.lab), &forwarded(args))
}

/// The words the drill binary gets: the flags xtask parsed, with `--root` set to this workspace
/// when not given (the drill binary's own default is its current directory; from xtask it is
/// this workspace, wherever `cargo xtask` was started).
fn forwarded(mut args: DrillArgs) -> Vec<OsString> {
    if args.root.is_none() {
        args.root = Some(crate::workspace_root());
    }
    args.to_argv()
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

/// Runs `cdb-mock WORD ARGS…` (`rotate --world`; `cdb-lab-tool` with `lab`) as `drill` runs
/// `cdb-mock drill …`.
pub fn run_mock_subcommand(lab: bool, word: &str, forwarded: &[impl AsRef<OsStr>]) -> u8 {
    run_drill_binary_word(binary(lab), word, forwarded)
}

/// The `cargo run` that builds (when needed) and runs the drill binary, in this xtask's profile.
fn cargo_run_word(
    (package, bin): (&str, &str),
    word: &str,
    forwarded: &[impl AsRef<OsStr>],
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
fn run_drill_binary(which: (&str, &str), forwarded: &[OsString]) -> u8 {
    run_drill_binary_word(which, "drill", forwarded)
}

#[cfg(unix)]
fn run_drill_binary_word(which: (&str, &str), word: &str, forwarded: &[impl AsRef<OsStr>]) -> u8 {
    use std::os::unix::process::CommandExt;
    let e = cargo_run_word(which, word, forwarded).exec();
    eprintln!(
        "error: cannot start `cargo run -p {}` for the drill: {e}",
        which.0
    );
    2
}

#[cfg(not(unix))]
fn run_drill_binary_word(which: (&str, &str), word: &str, forwarded: &[impl AsRef<OsStr>]) -> u8 {
    // Unreachable (`run` stops first off Unix); kept so both cfgs type-check the command.
    let _ = cargo_run_word(which, word, forwarded);
    eprintln!("{NEEDS_LINUX}");
    2
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// What `cargo xtask drill WORDS` parses to.
    fn xtask_parse(words: &[OsString]) -> Result<DrillArgs, clap::Error> {
        let argv = ["cargo xtask".into(), "drill".into()]
            .into_iter()
            .chain(words.iter().cloned());
        match crate::Cli::try_parse_from(argv)?.command {
            crate::Command::Drill(a) => Ok(a),
            _ => panic!("not the drill subcommand"),
        }
    }

    #[test]
    fn the_workspace_is_the_default_root_and_a_given_root_is_kept() {
        let words = |w: &[&str]| w.iter().map(OsString::from).collect::<Vec<_>>();
        let parsed = xtask_parse(&words(&["leak-db", "--seed=7"])).map_err(|e| e.to_string());
        let Ok(a) = parsed else { panic!("{parsed:?}") };
        let out = forwarded(a);
        let root = crate::workspace_root().into_os_string();
        assert_eq!(out[..2], [OsString::from("--root"), root]);
        assert!(out.ends_with(&words(&["--", "leak-db"])), "{out:?}");
        assert!(
            out.windows(2).any(|w| w == words(&["--seed", "7"])),
            "{out:?}"
        );
        let parsed = xtask_parse(&words(&["--list", "--root", "/elsewhere"]));
        let out = forwarded(
            parsed
                .map_err(|e| e.to_string())
                .unwrap_or_else(|e| panic!("{e}")),
        );
        assert_eq!(out[..2], words(&["--root", "/elsewhere"]));
    }

    #[test]
    fn xtask_and_the_drill_binaries_parse_every_flag_alike() {
        let all = cdb_cli::every_flag_set();
        let mut every = Vec::new();
        for (id, words) in all {
            let mine = xtask_parse(&words).map_err(|e| e.to_string());
            let theirs = DrillArgs::parse_from("cdb-mock drill", &words).map_err(|e| e.to_string());
            assert!(mine.is_ok(), "{id}: {mine:?}");
            assert_eq!(mine, theirs, "{id}");
            every.extend(words);
        }
        let mine = xtask_parse(&every).map_err(|e| e.to_string());
        assert!(mine.is_ok(), "{mine:?}");
        let forwarded = mine.as_ref().map(DrillArgs::to_argv).unwrap_or_default();
        assert_eq!(
            DrillArgs::parse_from("cdb-mock drill", forwarded).map_err(|e| e.to_string()),
            mine
        );
    }
}
