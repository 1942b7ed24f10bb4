//! The kill switch, the exchange keys and the alerting mail as the steps see them through
//! `docker exec` (issue 11, divergence 3; issue 12, defects 1 and 2). Each assertion was a bash
//! step that the old world failed (it had no kill-switch file, ran no program inside the
//! Python services, and named the exchange files without `.txt`); they call the mocks in
//! process now (`crate::dispatch`), step by step as the drill ran them.

use crate::dispatch::{Out, Stack, non_empty};

const SF: &str = "/app/kill_switch/.cdb_kill_switch.state";

/// `docker exec SERVICE grep -qx LINE FILE`.
fn grep(s: &mut Stack, service: &str, line: &str, file: &str) -> i32 {
    s.call("docker", &["exec", service, "grep", "-qx", line, file])
        .code
}

/// `docker exec [-i] SERVICE python -c PROGRAM` (or `python -` with the program on stdin).
fn python(s: &mut Stack, service: &str, program: &str) -> Out {
    s.call("docker", &["exec", service, "python", "-c", program])
}

/// The final invariants a drill would judge: every service healthy, every secret file what
/// the stack accepts, nothing forbidden done.
fn all_well(s: &Stack) {
    assert!(s.sick().is_empty(), "{:?}", s.sick());
    assert!(
        s.w.latent_problems(&[]).is_empty(),
        "{:?}",
        s.w.latent_problems(&[])
    );
    assert!(s.w.violations.is_empty(), "{:?}", s.w.violations);
}

#[test]
fn the_kill_switch_is_a_file_on_the_volume_and_survives_a_recreate() {
    let engage = r#"import os; from core.safety.kill_switch import KillSwitch, KillSwitchReason; KillSwitch(os.environ["CDB_KILL_SWITCH_STATE_FILE"]).activate(KillSwitchReason.MANUAL, "drill")"#;
    let mut s = Stack::new(60);
    assert_eq!(grep(&mut s, "cdb_execution", "state=inactive", SF), 0);
    s.step();
    // Stopping the order path is not the kill switch.
    s.docker("stop cdb_execution").ok();
    s.docker("start cdb_execution").ok();
    assert_eq!(grep(&mut s, "cdb_risk", "state=inactive", SF), 0);
    s.step();
    // KillSwitch() without a path writes in the working directory: the services never see it.
    python(&mut s, "cdb_risk", "from core.safety.kill_switch import KillSwitch, KillSwitchReason; KillSwitch().activate(KillSwitchReason.MANUAL, \"x\")").ok();
    assert_eq!(grep(&mut s, "cdb_risk", "state=inactive", SF), 0);
    s.step();
    // Through the service's own code, on the volume both containers mount.
    python(&mut s, "cdb_risk", engage).ok();
    assert_eq!(grep(&mut s, "cdb_execution", "state=active", SF), 0);
    assert_eq!(grep(&mut s, "cdb_execution", "reason=manual", SF), 0);
    s.step();
    s.docker("compose -f compose.blue.yml up -d --no-deps --force-recreate cdb_execution cdb_risk")
        .ok();
    assert_eq!(grep(&mut s, "cdb_execution", "state=active", SF), 0);
    s.step();
    // Only cdb_risk and cdb_execution mount the volume.
    assert_eq!(grep(&mut s, "cdb_market", "state=active", SF), 2);
    all_well(&s);
}

#[test]
fn exchange_keys_and_the_app_password_are_proven_from_inside_the_services() {
    let account = r#"import hashlib, hmac, time, urllib.request
k = open("/run/secrets/mexc_api_key").read().strip()
s = open("/run/secrets/mexc_api_secret").read().strip()
q = "recvWindow=5000&timestamp=%d" % int(time.time() * 1000)
q += "&signature=" + hmac.new(s.encode(), q.encode(), hashlib.sha256).hexdigest()
urllib.request.urlopen(urllib.request.Request("https://api.mexc.com/api/v3/account?" + q, headers={"X-MEXC-APIKEY": k}), timeout=15).read()"#;
    let login = r#"import smtplib
u = open("/run/secrets/smtp_user").read().strip()
p = open("/run/secrets/smtp_password").read().strip()
c = smtplib.SMTP("smtp.gmail.com", 587, timeout=20)
c.starttls()
c.login(u, p)"#;
    let mut s = Stack::new(60);
    // The Compose file's names: MEXC_API_KEY.txt, MEXC_API_SECRET.txt (trade keys alike).
    assert!(non_empty(&s.secrets().join("MEXC_API_KEY.txt")));
    assert!(non_empty(&s.secrets().join("MEXC_TRADE_API_SECRET.txt")));
    assert!(!s.secrets().join("MEXC_API_KEY").exists());
    s.step();
    python(&mut s, "cdb_risk", account).ok();
    s.step();
    // A program on stdin needs `docker exec -i`; without it Python runs nothing and says nothing.
    let o = s.call_with("docker", &["exec", "cdb_risk", "python", "-"], account, &[]);
    assert_eq!((o.code, o.both().as_str()), (0, ""), "{o:?}");
    s.call_with(
        "docker",
        &["exec", "-i", "cdb_risk", "python", "-"],
        account,
        &[],
    )
    .ok();
    s.step();
    // A key replaced by rename: the running container still mounts (and runs on) the old one,
    // MEXC refuses the new random text, and /health says 200 throughout.
    let f = s.secrets().join("MEXC_API_KEY.txt");
    let new = s.call("openssl", &["rand", "-hex", "16"]).ok().to_owned();
    std::fs::write(f.with_extension("tmp"), &new).unwrap();
    std::fs::rename(f.with_extension("tmp"), &f).unwrap();
    let cmp = [
        "exec",
        "-i",
        "cdb_risk",
        "cmp",
        "-s",
        "/run/secrets/mexc_api_key",
        "-",
    ];
    assert_ne!(s.call_with("docker", &cmp, &new, &[]).code, 0);
    python(&mut s, "cdb_risk", account).ok();
    s.docker("compose -f compose.blue.yml up -d --no-deps --force-recreate cdb_risk")
        .ok();
    s.call_with("docker", &cmp, &new, &[]).ok();
    assert_ne!(python(&mut s, "cdb_risk", account).code, 0);
    s.call(
        "curl",
        &["-fsS", "-o", "/dev/null", "http://127.0.0.1:8002/health"],
    )
    .ok();
    s.step();
    python(&mut s, "cdb_reports", login).ok();
    s.step();
    let smtp = s.call("openssl", &["rand", "-hex", "8"]).ok().to_owned();
    s.write_secret("SMTP_PASSWORD", &smtp);
    s.docker("compose -f compose.red.yml up -d --no-deps --force-recreate cdb_reports")
        .ok();
    assert_ne!(python(&mut s, "cdb_reports", login).code, 0);
    assert_eq!(
        s.inspect("{{.State.Health.Status}}", "cdb_reports"),
        "healthy"
    );
}
