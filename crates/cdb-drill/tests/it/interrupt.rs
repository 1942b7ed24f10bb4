//! An interrupted drill (Ctrl-C, a cancelled CI job) leaves no sandbox and no process behind.

use std::time::{Duration, Instant};

fn interrupt_mid_step(sig: rustix::process::Signal, code: i32) {
    let d = crate::fixture();
    let tmp = tempfile::tempdir().unwrap();
    let marker = format!("cdb-interrupt-{}-{}", std::process::id(), code);
    crate::add_step(
        d.path(),
        "database-pre-check-slow",
        &format!("/bin/sh -c '/usr/bin/sleep 60' {marker}"),
    );
    let mut child = std::process::Command::new(crate::mock_exe())
        .args(["drill", "leak-db", "--timeout", "120", "--root"])
        .arg(d.path())
        .env("CDB_DRILL_TMPDIR", tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while crate::processes_with(&marker).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the slow step never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let live: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(!live.is_empty(), "no sandbox while a step runs");
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, sig).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(code), "{status:?}");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "sandboxes left behind: {left:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !crate::processes_with(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        crate::processes_with(&marker),
        Vec::<String>::new(),
        "a step survived"
    );
}

#[test]
fn sigint_removes_the_sandbox_and_kills_the_step() {
    interrupt_mid_step(rustix::process::Signal::INT, 130);
}

#[test]
fn sigterm_removes_the_sandbox_and_kills_the_step() {
    interrupt_mid_step(rustix::process::Signal::TERM, 143);
}
