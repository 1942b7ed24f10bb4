//! `drill --shell`: the runbook by hand. Commands come from `--script`, from a pipe on standard
//! input, and from a pseudo-terminal (python3's `pty`), and the after-action report's verdicts
//! are checked for a correct run, a run that skips verification and one that rolls a leaked
//! value back.

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::Path;

/// Step id → body, from the real hub.
fn bodies() -> BTreeMap<String, String> {
    let hub = cdb_docs::Hub::load(
        &crate::workspace(),
        cdb_docs::Layout::default(),
        cdb_docs::hub::LoadOptions {
            text_files: false,
            parse_markdown: true,
        },
    )
    .unwrap();
    hub.docs
        .iter()
        .flat_map(|d| d.steps.iter())
        .map(|s| (s.id.clone(), s.body.clone()))
        .collect()
}

fn script(ids: &[&str], extra: &str) -> String {
    let b = bodies();
    let mut s = String::new();
    for id in ids {
        s.push_str(b.get(*id).unwrap_or_else(|| panic!("no step {id}")));
    }
    s.push_str(extra);
    s
}

const CONTAIN_TO_ROTATE: &[&str] = &[
    "database-contain-open-incident",
    "database-contain-engage-kill-switch",
    "database-contain-collect-evidence",
    "database-contain-check-exposure",
    "database-pre-check-stack-healthy",
    "database-pre-check-current-credential",
    "database-rotate-keep-previous",
    "database-rotate-stage-next",
    "database-rotate-alter-role",
    "database-rotate-test-next",
    "database-rotate-write-files",
    "database-rotate-recreate-consumers",
];
const VERIFY: &[&str] = &[
    "database-verify-consumers-healthy",
    "database-verify-new-credential",
    "database-verify-grafana-datasource",
];
const LEAK_ROLLBACK: &[&str] = &[
    "database-rollback-fresh-next",
    "database-rollback-alter-role-fresh",
    "database-rollback-write-fresh-files",
    "database-rollback-recreate-consumers",
];
/// Ending the old sessions, then the straggler check (where a consumer left on the leaked value
/// shows: its pooled session survived ALTER ROLE until now).
const REVOKE_SESSIONS: &[&str] = &[
    "database-revoke-old-sessions",
    "database-revoke-check-stragglers",
];
const REVOKE: &[&str] = &[
    "database-revoke-old-sessions",
    "database-revoke-check-stragglers",
    "database-revoke-retire-staging",
];

/// Runs `leak-db --shell --script` with `text`: (exit code, stdout, stderr, report).
pub fn run_script(text: &str) -> (Option<i32>, String, String, String) {
    let d = tempfile::tempdir().unwrap();
    let sc = d.path().join("commands.sh");
    std::fs::write(&sc, text).unwrap();
    let report = d.path().join("report.md");
    let out = Command::new(crate::mock_exe())
        .args(["drill", "leak-db", "--root"])
        .arg(crate::workspace())
        .arg("--script")
        .arg(&sc)
        .arg("--report")
        .arg(&report)
        .current_dir(d.path())
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let md = std::fs::read_to_string(&report).unwrap_or_default();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        md,
    )
}

fn assert_clean(md: &str) {
    assert!(!crate::has_long_hex(md), "a value in the report:\n{md}");
    assert!(!md.contains("/tmp/cdb-drill-"), "a sandbox path:\n{md}");
}

#[test]
fn following_the_runbook_detects_the_fault_and_recovers_within_budget() {
    let mut ids: Vec<&str> = CONTAIN_TO_ROTATE.to_vec();
    ids.extend(VERIFY);
    ids.extend(REVOKE_SESSIONS);
    ids.extend(LEAK_ROLLBACK);
    ids.extend(VERIFY);
    ids.extend(REVOKE);
    let (code, out, err, md) = run_script(&script(&ids, "drill-status\n"));
    assert_eq!(code, Some(0), "{err}\n{md}");
    assert!(md.contains("| verdict | **pass** |"), "{md}");
    assert!(
        md.contains("`database-revoke-check-stragglers`) |")
            || md.contains("(`database-revoke-check-stragglers`)"),
        "{md}"
    );
    assert!(md.contains("◀ detected"), "{md}");
    assert!(md.contains("| budget (RTO) | T+00:30:00: met |"), "{md}");
    // The gantt: the phases the person went through, back to back, against the 30 min budget.
    let phases = crate::pictures::check_gantt(&md, 30 * 60);
    let want = [
        "contain",
        "pre-check",
        "rotate",
        "verify",
        "revoke",
        "rollback",
        "verify",
        "revoke",
    ];
    assert_eq!(phases, want, "{md}");
    assert!(
        md.contains("`database-rotate-write-files` (pasted) ⚡ inject `recreate-ignored`"),
        "the inject fires right after the step it follows:\n{md}"
    );
    // The second round of verify is recognised as verify, not as the pre-check with that body.
    assert!(!md.contains("| **skipped** |"), "{md}");
    assert!(out.contains("all 18 services UP"), "{out}");
    assert!(err.contains("after-action report:"), "{err}");
    assert_clean(&md);
    assert!(!crate::has_long_hex(&out), "{out}");
}

#[test]
fn skipping_verification_names_the_skipped_steps_and_the_undetected_fault() {
    // Verify skipped, and Revoke without ending the old sessions: the straggler stays hidden.
    let mut ids: Vec<&str> = CONTAIN_TO_ROTATE.to_vec();
    ids.push("database-revoke-retire-staging");
    let (code, _, err, md) = run_script(&script(&ids, ""));
    assert_eq!(code, Some(1), "{err}\n{md}");
    assert!(md.contains("| verdict | **fail** |"), "{md}");
    assert!(md.contains("| fault detected | not detected |"), "{md}");
    assert!(
        md.contains("verify steps skipped: `database-verify-consumers-healthy`, `database-verify-new-credential`, `database-verify-grafana-datasource`"),
        "{md}"
    );
    assert!(
        md.contains("fault `recreate-ignored` (cdb_db_writer) injected after `database-rotate-write-files` went undetected"),
        "{md}"
    );
    assert!(err.contains("went undetected"), "{err}");
    assert_clean(&md);
}

#[test]
fn rolling_back_to_the_leaked_value_fails() {
    let mut ids: Vec<&str> = CONTAIN_TO_ROTATE.to_vec();
    ids.extend(VERIFY);
    ids.extend([
        "database-rollback-restore-role",
        "database-rollback-restore-files",
        "database-rollback-recreate-consumers",
    ]);
    ids.extend(VERIFY);
    let (code, _, err, md) = run_script(&script(&ids, ""));
    assert_eq!(code, Some(1), "{err}\n{md}");
    assert!(md.contains("| verdict | **fail** |"), "{md}");
    assert!(
        md.contains("a leaked credential is valid again"),
        "the verdict says the leaked value came back:\n{md}"
    );
    assert!(md.contains("- [ ] leaked-values-dead"), "{md}");
    assert!(
        md.contains("ran `database-rollback-restore-role` (routine rollback) on a leak"),
        "{md}"
    );
    assert_clean(&md);
}

#[test]
fn commands_typed_in_own_words_are_recognised_by_their_calls_and_files() {
    // Not the runbook's text: the same mock calls and the same files changed.
    let text = "\
cp \"$SECRETS_PATH/POSTGRES_PASSWORD\" \"$SECRETS_PATH/POSTGRES_PASSWORD.prev\"; cp \"$SECRETS_PATH/POSTGRES_PASSWORD_DSN\" \"$SECRETS_PATH/POSTGRES_PASSWORD_DSN.prev\"
PGPASSWORD=\"$(cat $SECRETS_PATH/POSTGRES_PASSWORD)\"  docker exec -e PGPASSWORD cdb_postgres psql -h cdb_postgres -U claire_user -d claire_de_binare -tAc 'SELECT 1'
drill-status
echo hello
";
    let (_, out, err, md) = run_script(text);
    assert!(
        md.contains("`database-rotate-keep-previous` (files)"),
        "{md}\n{err}"
    );
    assert!(
        md.contains("`database-pre-check-current-credential` (calls)"),
        "{md}"
    );
    // Default time for a command that does no step; drill-status costs 10 s.
    assert!(
        md.contains("| 4 | T+00:00:25 | 30 s | 0 | `echo hello` | — |"),
        "{md}"
    );
    assert!(out.contains("drill clock T+00:00:15"), "{out}");
}

#[test]
fn piped_stdin_without_a_terminal_does_not_hang_and_the_dashboard_shows_the_outage() {
    let b = bodies();
    let d = tempfile::tempdir().unwrap();
    let report = d.path().join("r.md");
    let stdin = format!(
        "{}{}drill-status\ndrill-manual\n",
        b["database-rotate-stage-next"], b["database-rotate-alter-role"]
    );
    let out = Command::new(crate::mock_exe())
        .args(["drill", "leak-db", "--shell", "--root"])
        .arg(crate::workspace())
        .arg("--report")
        .arg(&report)
        .current_dir(d.path())
        .write_stdin(stdin)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let so = String::from_utf8_lossy(&out.stdout);
    let se = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{so}\n{se}");
    // The banner: the situation, never the fault.
    assert!(so.contains("SITUATION"), "{so}");
    assert!(so.contains("The real stack is unreachable"), "{so}");
    assert!(
        !so.contains("recreate-ignored") && !so.contains("cdb_db_writer is not"),
        "{so}"
    );
    assert!(
        so.contains("cdb_db_writer           DOWN      postgres: password authentication failed for user \"claire_user\""),
        "{so}"
    );
    assert!(!crate::has_long_hex(&so), "{so}");
    assert!(report.is_file());
    assert!(!se.contains("no job control"), "{se}");
}

#[test]
fn the_default_report_lands_in_a_private_temp_folder_not_the_current_directory() {
    let d = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let run = |stdin: &str| {
        let out = Command::new(crate::mock_exe())
            .args(["drill", "leak-db", "--shell", "--root"])
            .arg(crate::workspace())
            .current_dir(d.path())
            .env("CDB_DRILL_TMPDIR", tmp.path())
            .write_stdin(stdin.to_owned())
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let se = run("drill-done\necho never\n");
    let dir = tmp.path().join("cdb-drill-reports");
    let p = dir.join("drill-leak-db-report.md");
    assert!(p.is_file(), "{se}");
    assert_eq!(
        std::fs::read_dir(d.path()).unwrap().count(),
        0,
        "the current directory was written to"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert!(
        se.contains(&format!("after-action report: {}", p.display())),
        "{se}"
    );
    let md = std::fs::read_to_string(&p).unwrap();
    assert!(
        !md.contains("echo never"),
        "drill-done ends the session:\n{md}"
    );
    // A second rehearsal keeps the first report.
    std::fs::write(&p, "earlier rehearsal\n").unwrap();
    let se = run("drill-done\n");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "earlier rehearsal\n");
    assert!(dir.join("drill-leak-db-report-2.md").is_file(), "{se}");
}

#[test]
fn shell_errors_are_usage_errors() {
    let (code, _, err) = crate::drill(&["--shell", "leak-db", "leak-cache"]);
    assert_eq!(code, 2);
    assert!(err.contains("exactly one scenario"), "{err}");
    let args: Vec<String> = ["leak-db", "--script", "/no/such/file"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let o = cdb_drill::cli::parse_args(&args).unwrap();
    assert!(o.shell);
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut o = o;
    o.root = crate::workspace();
    let code = cdb_drill::cli::run(&o, &crate::mock_exe(), &mut out, &mut err);
    assert_eq!(code, 2);
    assert!(String::from_utf8_lossy(&err).contains("cannot read the script"));
}

/// The interactive path: a real terminal (python3's `pty`), readline, the prompt with the clock.
#[test]
fn the_interactive_shell_runs_under_a_pseudo_terminal() {
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: python3 is not installed (it drives the pseudo-terminal)");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let report = d.path().join("r.md");
    let driver = d.path().join("pty_driver.py");
    std::fs::write(&driver, PTY_DRIVER).unwrap();
    let out = std::process::Command::new("python3")
        .arg(&driver)
        .arg(crate::mock_exe())
        .arg(crate::workspace())
        .arg(&report)
        .current_dir(d.path())
        .output()
        .unwrap();
    let so = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{so}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(so.contains("[drill T+00:00:00] stack$"), "{so}");
    assert!(
        so.contains("[drill T+00:00:30] stack$"),
        "the clock moved:\n{so}"
    );
    assert!(so.contains("all 18 services UP"), "{so}");
    let md = std::fs::read_to_string(Path::new(&report)).unwrap();
    assert!(
        md.contains("| 1 | T+00:00:00 | 30 s | 0 | `echo typed-by-hand` | — |"),
        "{md}"
    );
}

const PTY_DRIVER: &str = r#"
import os, pty, select, sys, time
exe, root, report = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.execv(exe, [exe, "drill", "leak-db", "--shell", "--root", root, "--report", report])
buf = b""
def read_until(marker, limit=60):
    global buf
    end = time.time() + limit
    while marker not in buf:
        if time.time() > end:
            sys.stdout.write(buf.decode("utf-8", "replace")); sys.exit("timed out waiting for %r" % marker)
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
read_until(b"stack$ ")
os.write(fd, b"echo typed-by-hand\n")
read_until(b"[drill T+00:00:30] stack$ ")
os.write(fd, b"drill-status\n")
read_until(b"services UP")
read_until(b"[drill T+00:00:40] stack$ ")
os.write(fd, b"drill-done\n")
end = time.time() + 60
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode("utf-8", "replace"))
code = os.waitstatus_to_exitcode(status)
# The drill itself fails (nothing was rotated): exit 1 is the expected verdict here.
sys.exit(0 if code == 1 else 10 + code)
"#;

#[test]
fn values_printed_in_the_shell_reach_neither_its_output_nor_its_report() {
    // Commands a tired person might type: the password raw, as base64, and a token the scanner
    // flags (an AWS key id shape, assembled at run time so no file of the repository holds it).
    let text = r#"cat "$SECRETS_PATH/POSTGRES_PASSWORD"
base64 < "$SECRETS_PATH/POSTGRES_PASSWORD"
printf 'key AKIA%s\n' "$(printf '%s' Q 7 R 2 M 9 X 4 T 6 W 3 Z 8 K 5)"
"#;
    let (code, out, err, md) = run_script(text);
    assert!(code.is_some(), "{err}");
    assert!(!md.is_empty(), "no report:\n{out}\n{err}");
    let w = tempfile::tempdir().unwrap();
    let world = cdb_drill::world::World::new(1, w.path(), &w.path().join("s")).unwrap();
    let pw = world.read_secret_file("POSTGRES_PASSWORD").unwrap();
    let pw = pw.trim_end().to_owned();
    let token = ["AKIA", "Q7R2M9X4", "T6W3Z8K5"].concat();
    for (name, t) in [("stdout", &out), ("stderr", &err), ("report", &md)] {
        for (what, v) in [
            ("value", pw.clone()),
            ("base64", crate::outputs::b64(format!("{pw}\n").as_bytes())),
            ("token", token.clone()),
        ] {
            assert!(!t.contains(&v), "the {what} is in the shell's {name}:\n{t}");
        }
    }
}

/// Issue 12's paste rule, end to end: a step pasted into an interactive bash (a real terminal,
/// so no `-e` and history expansion on) prints the same verdict line as the same step in the
/// automated drill, a failing one does not close the terminal, and the shell goes on.
#[test]
fn a_step_pasted_into_an_interactive_bash_behaves_as_in_the_drill() {
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: python3 is not installed (it drives the pseudo-terminal)");
        return;
    }
    let b = bodies();
    let pass_id = "database-pre-check-current-credential";
    let fail_id = "database-rotate-test-next";
    let d = tempfile::tempdir().unwrap();
    let driver = d.path().join("pty_paste.py");
    std::fs::write(&driver, PTY_PASTE).unwrap();
    std::fs::write(d.path().join("pass.sh"), &b[pass_id]).unwrap();
    // Before anything is staged, testing the staged password fails: its file does not exist.
    std::fs::write(d.path().join("fail.sh"), &b[fail_id]).unwrap();
    let out = std::process::Command::new("python3")
        .arg(&driver)
        .arg(crate::mock_exe())
        .arg(crate::workspace())
        .arg(d.path().join("r.md"))
        .current_dir(d.path())
        .output()
        .unwrap();
    let so = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{so}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(so.contains(&format!("\nPASS {pass_id}")), "{so}");
    assert!(so.contains(&format!("\nFAIL {fail_id}: ")), "{so}");
    assert!(!so.contains(&format!("\nPASS {fail_id}")), "{so}");
    assert!(
        so.contains("still-42-open"),
        "the failing step closed the terminal:\n{so}"
    );

    // The automated drill prints the same verdict for the same step.
    let cfg = cdb_drill::engine::Config {
        root: crate::workspace(),
        seed: 1,
        step_timeout: std::time::Duration::from_secs(10),
        mock_exe: crate::mock_exe(),
    };
    let journal = cdb_drill::engine::run(&cfg, "leak-db").unwrap().to_json();
    assert!(
        journal.contains(&format!("PASS {pass_id}\\n")),
        "the drill's journal has no PASS line for {pass_id}"
    );
}

const PTY_PASTE: &str = r#"
import os, pty, select, sys, time
exe, root, report = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.execv(exe, [exe, "drill", "leak-db", "--shell", "--root", root, "--report", report])
buf = b""
def pump(marker, limit=60):
    global buf
    end = time.time() + limit
    while marker not in buf:
        if time.time() > end:
            sys.stdout.write(buf.decode("utf-8", "replace")); sys.exit("timed out waiting for %r" % marker)
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
pump(b"stack$ ")
for name, marker in (("pass.sh", b"PASS "), ("fail.sh", b"FAIL ")):
    body = open(name, "rb").read()
    os.write(fd, body if body.endswith(b"\n") else body + b"\n")
    pump(b"\r\n" + marker)
    pump(b"stack$ ")
os.write(fd, b"echo still-$((40+2))-open\n")
pump(b"still-42-open")
pump(b"stack$ ")
os.write(fd, b"drill-done\n")
end = time.time() + 60
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
os.waitpid(pid, 0)
sys.stdout.write(buf.decode("utf-8", "replace").replace("\r\n", "\n"))
"#;

/// A fault that acts at once (here `malformed-dsn`: `FaultKind::is_immediate`) fires in the
/// shell as in the drill: the shell injects through the engine's `inject::inject`. Before, the
/// shell armed every kind as a trip point, and an immediate one never took effect there.
#[test]
fn a_fault_that_acts_at_once_fires_in_the_shell_as_in_the_drill() {
    let d = crate::fixture();
    std::fs::write(
        d.path().join("drills/shell-immediate.yaml"),
        "title: Database rotation; the DSN file is overwritten with garbage after it is written
class: database
trigger: leak
briefing: |
  A test scenario: a fault that acts at once, injected after the files are written.
situation: |
  A test scenario.
leaked: [POSTGRES_PASSWORD, POSTGRES_PASSWORD_DSN]
faults:
  - kind: malformed-dsn
    target: POSTGRES_PASSWORD_DSN
    after: database-rotate-write-files
expect:
  outcome: recovered
  detected_by: [database-verify-new-credential]
",
    )
    .unwrap();
    let mut ids: Vec<&str> = CONTAIN_TO_ROTATE.to_vec();
    ids.extend(VERIFY);
    let text = script(&ids, "");
    let sc = d.path().join("commands.sh");
    std::fs::write(&sc, text).unwrap();
    let report = d.path().join("report.md");
    let out = Command::new(crate::mock_exe())
        .args(["drill", "shell-immediate", "--root"])
        .arg(d.path())
        .arg("--script")
        .arg(&sc)
        .arg("--report")
        .arg(&report)
        .current_dir(d.path())
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let md = std::fs::read_to_string(&report).unwrap_or_default();
    assert!(
        md.contains("`malformed-dsn`")
            && md.contains("injected after `database-rotate-write-files`"),
        "the fault is not reported as injected:\n{md}"
    );
    assert!(
        stdout.contains("FAIL database-verify-new-credential"),
        "the malformed DSN did not reach the verify step, so the fault never acted:\n{stdout}"
    );
    assert_clean(&md);
}

/// The shell starts from the drill's own world (engine::start_world): after a Redis leak the
/// leaker holds a live connection, from the network's gateway, as in `drill leak-cache` (the
/// `CLIENT LIST` itself comes from there too, and is left out of the count). (The
/// shell once built its world again and left that connection out, so a rehearsal of the cache
/// leak met a weaker leaker than the drill.)
#[test]
fn the_shell_starts_from_the_drills_world_with_the_leakers_connection() {
    let d = tempfile::tempdir().unwrap();
    let sc = d.path().join("commands.sh");
    std::fs::write(
        &sc,
        "REDISCLI_AUTH=\"$(<\"$SECRETS_PATH/REDIS_PASSWORD\")\" docker exec -e REDISCLI_AUTH cdb_redis redis-cli CLIENT LIST | grep 'addr=[0-9.]*\\.1:' | grep -vc 'cmd=client' | sed 's/^/gateway connections: /'\n",
    )
    .unwrap();
    let out = Command::new(crate::mock_exe())
        .args(["drill", "leak-cache", "--root"])
        .arg(crate::workspace())
        .arg("--script")
        .arg(&sc)
        .arg("--report")
        .arg(d.path().join("report.md"))
        .current_dir(d.path())
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("gateway connections: 1"),
        "no leaker connection in the shell's world:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
