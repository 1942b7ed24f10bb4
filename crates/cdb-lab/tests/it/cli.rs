//! `cdb-lab-tool drill`: the drill's one struct of flags (`cdb_cli::DrillArgs`), read the lab's way.

use std::process::Command;

fn lab_tool(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cdb-lab-tool"))
        .arg("drill")
        .args(args)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap()
}

/// A flag of the struct that a lab run cannot honour is refused by name, exit 2, before any
/// server starts; a flag no program knows is clap's one clear line.
#[test]
fn flags_that_do_not_apply_to_the_lab_are_refused_by_name() {
    for (args, want) in [
        (
            &["leak-db", "--lab", "--report", "r.md"][..],
            "error: --report does not apply to --lab",
        ),
        (
            &["--all", "--lab"][..],
            "error: --all does not apply to --lab",
        ),
        (
            &["leak-db", "--sweep"][..],
            "error: --sweep does not apply to --lab",
        ),
        (
            &["leak-db", "--class", "cache"][..],
            "error: --class does not apply to --lab",
        ),
        (
            &["leak-db", "--bogus"][..],
            "error: unexpected argument '--bogus' found",
        ),
        (
            &["leak-db", "--seed", "x"][..],
            "error: invalid value 'x' for '--seed <SEED>': invalid digit found in string",
        ),
    ] {
        let out = lab_tool(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end(), want, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = lab_tool(&["--lab"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--lab needs scenario ids"));
}
