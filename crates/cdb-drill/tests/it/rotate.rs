//! `cdb-mock rotate … --world SCENARIO`: the guided rotation against a drill scenario's mock
//! world, answered on a pseudo-terminal as an operator would, takes the drill's path (the same
//! steps, the same verdicts, the same outcome); an interrupted one resumes and finishes the
//! same; no value of the world reaches the terminal or the journal.

use std::path::{Path, PathBuf};

fn python() -> bool {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok()
}

/// Answers every prompt as an operator would: `y` to a step, `done` to a manual one, `y` to
/// setting `last_rotated`. Reads until the rotation exits; prints what the terminal showed.
const PTY_OPERATOR: &str = r#"
import os, pty, select, sys, time
args = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(args[0], args)
buf = b""
answered = 0
end = time.time() + 240
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.5)
    if not r:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    buf += chunk
    tail = buf[-80:]
    if tail.endswith(b"[y / n / skip REASON / quit] "):
        os.write(fd, b"y\n"); answered += 1
    elif tail.endswith(b"[done / failed / quit] "):
        os.write(fd, b"done\n"); answered += 1
    elif tail.endswith(b"[y / n] "):
        os.write(fd, b"y\n"); answered += 1
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode("utf-8", "replace"))
sys.stderr.write("answered %d prompts\n" % answered)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

fn journal_of(home: &Path) -> PathBuf {
    let mut v: Vec<PathBuf> = std::fs::read_dir(home)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    assert_eq!(v.len(), 1, "{v:?}");
    v.remove(0)
}

/// (step id, passed) of a rotation journal, and its end record's outcome and verdict.
fn rotation(path: &Path) -> (Vec<(String, bool)>, String, bool) {
    let recs = cdb_rotate::journal::read(path).unwrap();
    let mut steps = Vec::new();
    let mut end = (String::new(), false);
    for r in recs {
        match r {
            cdb_rotate::journal::Record::Step(s) => steps.push((s.id, s.passed)),
            cdb_rotate::journal::Record::End {
                outcome, passed, ..
            } => end = (outcome, passed),
            _ => {}
        }
    }
    (steps, end.0, end.1)
}

/// (step id, passed) of `drill SCENARIO`, its outcome and verdict.
fn drill(root: &Path, id: &str) -> (Vec<(String, bool)>, String, bool) {
    let cfg = cdb_drill::Config {
        root: root.to_path_buf(),
        seed: 1,
        step_timeout: std::time::Duration::from_secs(10),
        mock_exe: crate::mock_exe(),
    };
    let j = cdb_drill::run(&cfg, id).unwrap();
    let steps = j
        .events
        .iter()
        .filter_map(|e| match e {
            cdb_drill::journal::Event::Step(s) => Some((s.id.clone(), s.status.passed())),
            _ => None,
        })
        .collect();
    (steps, j.outcome.as_str().to_owned(), j.verdict.passed)
}

/// The values the drill world starts with (seed 1): what the leak scenario planted.
fn planted() -> Vec<String> {
    let w = tempfile::tempdir().unwrap();
    let world = cdb_drill::world::World::new(1, w.path(), &w.path().join("s")).unwrap();
    [
        "POSTGRES_PASSWORD",
        "POSTGRES_PASSWORD_DSN",
        "REDIS_PASSWORD",
    ]
    .iter()
    .filter_map(|n| world.read_secret_file(n))
    .map(|v| v.trim().to_owned())
    .collect()
}

#[test]
fn rotate_database_leak_on_a_pty_takes_the_path_and_verdict_of_drill_leak_db() {
    if !python() {
        eprintln!("skipped: python3 is not installed (it drives the pseudo-terminal)");
        return;
    }
    let fx = crate::fixture();
    let home = tempfile::tempdir().unwrap();
    let d = tempfile::tempdir().unwrap();
    let driver = d.path().join("pty_operator.py");
    std::fs::write(&driver, PTY_OPERATOR).unwrap();
    let out = std::process::Command::new("python3")
        .arg(&driver)
        .arg(crate::mock_exe())
        .args([
            "rotate", "database", "--leak", "--world", "leak-db", "--root",
        ])
        .arg(fx.path())
        .env("CDB_ROTATE_HOME", home.path())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{shown}\n{err}");
    // Asked for every step that changes something: containment, rotate, revoke, rollback.
    assert!(
        shown.contains("run it? [y / n / skip REASON / quit] y"),
        "{shown}"
    );
    assert!(shown.contains("ROTATION PASSED: recovered"), "{shown}");
    let path = journal_of(home.path());
    let (steps, outcome, passed) = rotation(&path);
    let (want, want_outcome, want_passed) = drill(fx.path(), "leak-db");
    assert_eq!(steps, want);
    assert_eq!(
        (outcome.as_str(), passed),
        (want_outcome.as_str(), want_passed)
    );
    assert!(
        steps.contains(&("database-revoke-check-stragglers".into(), false)),
        "the scenario's fault was detected: {steps:?}"
    );
    let journal = std::fs::read_to_string(&path).unwrap();
    for v in planted() {
        assert!(!shown.contains(&v), "a planted value reached the terminal");
        assert!(!journal.contains(&v), "a planted value reached the journal");
    }
    // A rehearsal rotates nothing real: the matrix is not offered, the fixture's is unchanged.
    assert!(shown.contains("last_rotated is not offered"), "{shown}");
    let m = "Claire_de_Binare_Docs/data/secret-rotation-matrix.yaml";
    assert_eq!(
        std::fs::read_to_string(crate::workspace().join(m)).unwrap(),
        std::fs::read_to_string(fx.path().join(m)).unwrap()
    );
}

#[test]
fn an_interrupted_mock_rotation_resumes_at_the_first_step_not_done_and_finishes() {
    let fx = crate::fixture();
    let home = tempfile::tempdir().unwrap();
    let run = |extra: &[&str], input: &str| {
        let mut cmd = assert_cmd::Command::new(crate::mock_exe());
        cmd.args([
            "rotate",
            "database",
            "--world",
            "routine-db-straggler",
            "--root",
        ])
        .arg(fx.path())
        .args(extra)
        .env("CDB_ROTATE_HOME", home.path())
        .write_stdin(input);
        cmd.output().unwrap()
    };
    // y to keep-previous and stage-next, then quit before alter-role.
    let first = run(&[], "y\ny\nquit\n");
    let so = String::from_utf8_lossy(&first.stdout).into_owned();
    assert_eq!(first.status.code(), Some(3), "{so}");
    assert!(
        so.contains("stopped before `database-rotate-alter-role`"),
        "{so}"
    );
    // A closed terminal (end of input) is a quit too; then resume with the answers.
    let second = run(&["--resume"], &"y\n".repeat(60));
    let so = String::from_utf8_lossy(&second.stdout).into_owned();
    let se = String::from_utf8_lossy(&second.stderr).into_owned();
    assert_eq!(second.status.code(), Some(0), "{so}\n{se}");
    assert!(so.contains("resumed: 4 step(s) done before"), "{so}");
    let (steps, outcome, passed) = rotation(&journal_of(home.path()));
    let (want, want_outcome, want_passed) = drill(fx.path(), "routine-db-straggler");
    assert_eq!(steps, want);
    assert_eq!((outcome, passed), (want_outcome, want_passed));
}

#[test]
fn a_scenario_of_another_class_or_trigger_is_refused_with_exit_2() {
    let fx = crate::fixture();
    let home = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::new(crate::mock_exe())
        .args(["rotate", "cache", "--world", "leak-db", "--root"])
        .arg(fx.path())
        .env("CDB_ROTATE_HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "scenario `leak-db` is a leak rotation of `database`, not a routine rotation of `cache`"
        ),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
}

/// Scenarios of other classes and outcomes, rotated in their own world with an operator
/// answering `y` to each step and `done` to each manual one: the rotation runs the drill's
/// steps, in the drill's order, to the drill's verdicts and outcome (the one procedure, the
/// same worlds). Manual steps and their effects (the exchange), an escalation, a leak without
/// the incident marker (TLS: no trading pause, so no kill-switch refusal), the cache. (All 15
/// scenarios of `drills/` matched when this was written; the test keeps a sample, each case
/// costs a rotation and a drill.)
#[test]
#[ignore = "slow tier: six rotations and six drills (README, Two commands)"]
fn drill_scenarios_rotated_as_an_operator_would_take_the_drills_path() {
    rotated_as_an_operator(&[
        "leak-exchange-key",
        "exchange-console-refuses",
        "leak-tls",
        "leak-cache-live-connection",
        // Routine exchange and alerting-mail rotations without a fault delete or revoke the
        // old value before Verify, each after its `proven-by=` check passed (refused before
        // that gate existed).
        "clean-exchange",
        "clean-alerting-mail",
    ]);
}

/// The fast form of `drill_scenarios_rotated_as_an_operator_would_take_the_drills_path`: manual
/// steps and an escalation, and a deletion before Verify behind its `proven-by=` check.
#[test]
fn an_escalation_and_a_proven_deletion_take_the_drills_path() {
    rotated_as_an_operator(&["exchange-console-refuses", "clean-alerting-mail"]);
}

/// Rotates each scenario's world as an operator answering every prompt `y` / `done` would,
/// and compares the journal's steps, outcome and exit code with the drill's.
fn rotated_as_an_operator(ids: &[&str]) {
    let fx = crate::fixture();
    for &id in ids {
        if let Some(class) = id.strip_prefix("clean-") {
            std::fs::write(
                fx.path().join("drills").join(format!("{id}.yaml")),
                format!("title: a clean routine rotation\nclass: {class}\ntrigger: routine\nbriefing: no fault\nexpect:\n  outcome: recovered\n"),
            )
            .unwrap();
        }
        let sc = cdb_model::scenario::load(fx.path(), id)
            .unwrap()
            .typed()
            .unwrap();
        let home = tempfile::tempdir().unwrap();
        let mut cmd = assert_cmd::Command::new(crate::mock_exe());
        cmd.args(["rotate", &sc.class.value, "--world", id, "--root"])
            .arg(fx.path())
            .env("CDB_ROTATE_HOME", home.path())
            .write_stdin("y\ndone\n".repeat(300));
        if sc.is_leak() {
            cmd.arg("--leak");
        }
        let out = cmd.output().unwrap();
        let so = String::from_utf8_lossy(&out.stdout).into_owned();
        let (steps, outcome, _) = rotation(&journal_of(home.path()));
        let (want, want_outcome, _) = drill(fx.path(), id);
        assert_eq!(steps, want, "{id}:\n{so}");
        assert_eq!(outcome, want_outcome, "{id}");
        // A rotation passes only when it recovered (an escalation is a failed rotation, even
        // where the drill expected it).
        let code = if outcome == "recovered" { 0 } else { 1 };
        assert_eq!(out.status.code(), Some(code), "{id}:\n{so}");
    }
}

/// A closed terminal (SIGHUP) while the rotation waits at a prompt: the process ends, its
/// sandbox is removed (interrupt.rs), the journal holds every step done; `--resume` finishes.
#[test]
fn a_rotation_whose_terminal_closed_resumes_and_finishes() {
    use std::io::{Read, Write};
    let fx = crate::fixture();
    let home = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(crate::mock_exe())
        .args([
            "rotate",
            "database",
            "--world",
            "routine-db-straggler",
            "--root",
        ])
        .arg(fx.path())
        .env("CDB_ROTATE_HOME", home.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // keep-previous, stage-next, alter-role; then it waits at test-next.
    stdin.write_all(b"y\ny\ny\n").unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let t = std::time::Instant::now();
    while !String::from_utf8_lossy(&seen).contains("[rotate] database-rotate-test-next") {
        assert!(
            t.elapsed().as_secs() < 60,
            "{}",
            String::from_utf8_lossy(&seen)
        );
        let mut b = [0u8; 4096];
        let n = stdout.read(&mut b).unwrap();
        assert!(n > 0, "ended early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&b[..n]);
    }
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let status = child.wait().unwrap();
    assert!(!status.success());
    drop(stdin);
    let journal = journal_of(home.path());
    let (steps, _, _) = rotation(&journal);
    assert_eq!(
        steps.last().map(|s| s.0.as_str()),
        Some("database-rotate-alter-role")
    );
    let out = assert_cmd::Command::new(crate::mock_exe())
        .args([
            "rotate",
            "database",
            "--world",
            "routine-db-straggler",
            "--resume",
            "--root",
        ])
        .arg(fx.path())
        .env("CDB_ROTATE_HOME", home.path())
        .write_stdin("y\n".repeat(60))
        .output()
        .unwrap();
    let so = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{so}");
    let (steps, outcome, passed) = rotation(&journal);
    let (want, want_outcome, want_passed) = drill(fx.path(), "routine-db-straggler");
    assert_eq!(steps, want);
    assert_eq!((outcome, passed), (want_outcome, want_passed));
}
