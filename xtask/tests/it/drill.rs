//! `cargo xtask drill` end to end through the real binary: listing, a passing drill, journals, usage errors.

use assert_cmd::Command;
use std::path::PathBuf;

/// The xtask binary, without the CI job's summary file (a test drill must not write to it).
fn xtask() -> Command {
    let mut c = Command::cargo_bin("xtask").unwrap();
    c.env_remove("GITHUB_STEP_SUMMARY");
    c
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn list_names_every_scenario_file() {
    let out = xtask()
        .args(["drill", "--list", "--root"])
        .arg(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let listed = String::from_utf8(out.stdout).unwrap();
    for entry in std::fs::read_dir(root().join("drills")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(id) = name.strip_suffix(".yaml") {
            assert!(
                listed.lines().any(|l| l.starts_with(&format!("{id}\t"))),
                "{id} not listed"
            );
        }
    }
}

#[test]
fn leak_db_passes_through_cargo_xtask_drill() {
    // One run: that the same seed gives the same journal is cdb-drill's test
    // (outputs::same_seed_gives_a_byte_identical_journal); here, that xtask hands the drill its
    // flags and the drill's exit code and files come back.
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("a.json");
    let out = xtask()
        .args(["drill", "leak-db", "--seed", "7", "--root"])
        .arg(root())
        .arg("--journal")
        .arg(&journal)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("VERDICT: PASS"), "{stdout}");
    let journal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(journal).unwrap()).unwrap();
    assert_eq!(journal["scenario"], "leak-db");
    assert_eq!(journal["seed"], 7);
}

#[test]
fn unknown_scenario_and_missing_arguments_are_usage_errors() {
    let out = xtask()
        .args(["drill", "no-such-drill", "--root"])
        .arg(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("drills/no-such-drill.yaml"));
    let out = xtask().args(["drill"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `cargo run -p PACKAGE --bin BIN -- WORDS…` in this workspace: the drill binaries xtask hands
/// its flags to (built on first use, as `cargo xtask drill` builds them).
fn cargo_run(package: &str, bin: &str, words: &[&str]) -> std::process::Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    std::process::Command::new(cargo)
        .args(["run", "--quiet", "--manifest-path"])
        .arg(root().join("Cargo.toml"))
        .args(["-p", package, "--bin", bin, "--"])
        .args(words)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap()
}

/// The options part of a help text (from `Options:` on): the same in every program that parses
/// the drill's one struct of flags, whatever its name and usage line, except `--root`'s default
/// (the drill binaries run by hand take the current directory; xtask passes its workspace).
fn options_section(help: &[u8]) -> String {
    let help = String::from_utf8_lossy(help);
    let at = help.find("Options:").unwrap_or(help.len());
    help[at..].replace(
        "(default: the current directory)",
        "(default: this workspace)",
    )
}

/// The drill's flags are one struct (`cdb_cli::DrillArgs`) parsed by `cargo xtask drill`,
/// `cdb-mock drill` and `cdb-lab-tool drill`: the same argv, every flag set, is taken by all three
/// (`--help` after the flags shows each got past them), their help lists the same options, and a
/// bad flag is exit 2 with the same first line.
#[test]
fn xtask_and_both_drill_binaries_take_the_same_flags() {
    let every: Vec<String> = cdb_cli::every_flag_set()
        .into_iter()
        .flat_map(|(_, words)| words)
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let mut argv: Vec<&str> = vec!["drill"];
    argv.extend(every.iter().map(String::as_str));
    argv.push("--help");
    let mine = xtask().args(&argv).output().unwrap();
    assert_eq!(mine.status.code(), Some(0), "{mine:?}");
    let helps = [
        ("cdb-mock", cargo_run("cdb-drill", "cdb-mock", &argv)),
        ("cdb-lab-tool", cargo_run("cdb-lab", "cdb-lab-tool", &argv)),
    ];
    for (bin, out) in &helps {
        assert_eq!(out.status.code(), Some(0), "{bin}: {out:?}");
        assert_eq!(
            options_section(&out.stdout),
            options_section(&mine.stdout),
            "{bin}"
        );
    }
    assert!(options_section(&mine.stdout).contains("--class <C>"));

    let bad = ["drill", "leak-db", "--bogus"];
    let first_line = |out: &std::process::Output| {
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let want = "error: unexpected argument '--bogus' found";
    assert_eq!(first_line(&xtask().args(bad).output().unwrap()), want);
    assert_eq!(first_line(&cargo_run("cdb-drill", "cdb-mock", &bad)), want);
    assert_eq!(
        first_line(&cargo_run("cdb-lab", "cdb-lab-tool", &bad)),
        want
    );
}
