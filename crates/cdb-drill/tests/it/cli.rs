//! The small silent cases of the command line: unwritable standard output, output paths checked
//! before the run and named, replaced files said, a missing root, control characters escaped.

use assert_cmd::Command;

#[test]
fn output_that_cannot_be_written_is_an_error() {
    let full = std::fs::File::create("/dev/full").unwrap();
    let out = std::process::Command::new(crate::mock_exe())
        .args(["drill", "--list", "--root"])
        .arg(crate::workspace())
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot write to standard output"), "{err}");
}

#[test]
fn an_unwritable_journal_or_report_path_is_named_before_the_run() {
    let d = tempfile::tempdir().unwrap();
    for flag in ["--journal", "--report"] {
        let bad = d.path().join("no-such-dir").join("out.file");
        let (code, out, err) = crate::drill(&[
            "leak-db",
            "--root",
            crate::workspace().to_str().unwrap(),
            flag,
            bad.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(&bad.display().to_string()), "{err}");
        assert!(!out.contains("VERDICT"), "the drill ran first:\n{out}");
    }
    // A directory where a file is expected.
    let (code, _, err) = crate::drill(&[
        "leak-db",
        "--root",
        crate::workspace().to_str().unwrap(),
        "--journal",
        d.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn an_existing_journal_is_replaced_with_a_note() {
    let d = tempfile::tempdir().unwrap();
    let j = d.path().join("j.json");
    std::fs::write(&j, "an earlier journal\n").unwrap();
    let (code, _, err) = crate::drill(&[
        "leak-db",
        "--root",
        crate::workspace().to_str().unwrap(),
        "--journal",
        j.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "note: replaced the existing journal {}",
            j.display()
        )),
        "{err}"
    );
    let text = std::fs::read_to_string(&j).unwrap();
    assert!(text.starts_with('{') && text.contains("\"scenario\": \"leak-db\""));
}

#[test]
fn a_missing_root_is_an_error_naming_it() {
    for args in [&["--list"][..], &["--all"][..]] {
        let mut a = args.to_vec();
        a.extend(["--root", "/nonexistent-cdb-root"]);
        let (code, out, err) = crate::drill(&a);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains("/nonexistent-cdb-root"), "{err}");
    }
}

#[test]
fn control_characters_in_scenarios_reach_no_terminal() {
    let d = crate::fixture();
    let drills = d.path().join("drills");
    let text = std::fs::read_to_string(drills.join("leak-db.yaml")).unwrap();
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("title: ") {
                "title: \"\\e[2J\\e[1;1Hverify: 0 errors\\rfake\"\n".to_owned()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(drills.join("evil\u{1b}[31m.yaml"), &text).unwrap();
    std::fs::write(drills.join("evil.yaml"), &text).unwrap();
    let out = Command::new(crate::mock_exe())
        .args(["drill", "--list", "--root"])
        .arg(d.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("evil\\u{1b}[31m"), "{stdout}");
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\r'),
        "{stdout:?}"
    );
    let out = Command::new(crate::mock_exe())
        .args(["drill", "evil", "evil\u{1b}[31m", "--root"])
        .arg(d.path())
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains("\\u{1b}[1;1Hverify: 0 errors\\u{d}fake"),
        "{all}"
    );
    assert!(all.contains("evil\\u{1b}[31m"), "{all}");
    assert!(!all.contains('\u{1b}') && !all.contains('\r'), "{all:?}");
}

/// The drill's flags are one struct with `cargo xtask drill` and `cdb-lab-tool drill`
/// (`cdb_cli::DrillArgs`): every flag it has is taken by this binary. `--help` after the flags
/// shows that parsing got past each of them (a flag it did not know would be an error first).
#[test]
fn every_flag_of_the_shared_struct_is_taken() {
    let flags = cdb_cli::every_flag_set();
    assert!(flags.iter().any(|(id, _)| id == "class"), "{flags:?}");
    for (id, words) in &flags {
        let out = std::process::Command::new(crate::mock_exe())
            .arg("drill")
            .args(words)
            .arg("--help")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{id}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("Usage: cdb-mock drill [OPTIONS]"),
            "{stdout}"
        );
    }
    let out = std::process::Command::new(crate::mock_exe())
        .args(["drill", "--bogus", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A bad flag or value: exit 2, nothing on stdout, one line saying what is wrong, then the usage.
#[test]
fn a_bad_flag_is_one_clear_line_and_exit_2() {
    for (args, want) in [
        (
            &["--bogus", "leak-db"][..],
            "error: unexpected argument '--bogus' found",
        ),
        (
            &["leak-db", "--sed", "3"][..],
            "error: unexpected argument '--sed' found (a similar flag: --seed)",
        ),
        (
            &["leak-db", "--timeout", "soon"][..],
            "error: invalid value 'soon' for '--timeout <TIMEOUT>': invalid digit found in string",
        ),
        (&[][..], "error: name a scenario, or use --all or --list"),
        (
            &["leak-db", "--lab"][..],
            "error: --lab runs in cdb-lab-tool: use `cargo xtask drill <scenario>… --lab`",
        ),
    ] {
        let out = std::process::Command::new(crate::mock_exe())
            .arg("drill")
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines, [want, cdb_drill::cli::USAGE], "{args:?}");
    }
}

/// Values may follow `=`, and flags come in any order: the drill runs the same.
#[test]
fn equals_values_and_any_order_parse_alike() {
    let a =
        cdb_drill::cli::parse_args(&["--seed=7".into(), "leak-db".into(), "--timeout=0".into()]);
    let b = cdb_drill::cli::parse_args(&[
        "leak-db".into(),
        "--timeout".into(),
        "0".into(),
        "--seed".into(),
        "7".into(),
    ]);
    let (Ok(a), Ok(b)) = (a, b) else {
        panic!("not parsed")
    };
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert_eq!(
        (a.seed, a.step_timeout.as_secs()),
        (7, 1),
        "a zero limit is a second"
    );
    let s = cdb_drill::cli::parse_args(&["leak-db".into(), "--script".into(), "f".into()]);
    assert!(s.is_ok_and(|o| o.shell), "--script implies --shell");
}
