//! The exchange side of the world: the kill switch (a state file on the `kill_switch_state`
//! volume), the bot's order path and its open orders at MEXC, and the programs that run
//! inside the Python service containers (`docker exec SVC python|cmp|grep|cat …`), which the
//! exchange and alerting-mail steps use to prove a MEXC key or an SMTP app password from where
//! the service runs.
//!
//! Sources: the kill switch is `core/safety/kill_switch.py` upstream (file format, atomic
//! write, fail-closed reading, `KillSwitch()` without a path writes to the working directory);
//! the volume and `CDB_KILL_SWITCH_STATE_FILE` are in `compose.blue.yml` (cdb_risk,
//! cdb_execution); the MEXC calls are `services/execution/mexc_client.py` (spot v3 API at
//! `https://api.mexc.com`, HMAC-SHA256 signature, header `X-MEXC-APIKEY`); the SMTP settings
//! are Grafana's in `compose.red.yml` (`smtp.gmail.com:587`, mandatory STARTTLS).

use crate::mock::Ctx;
use crate::world::{KeyKind, World, reads};
use cdb_docs::Phase;
use cdb_model::faults::FaultKind;
use serde::{Deserialize, Serialize};

/// The host file of a secret: the exchange keys' files end in `.txt` (compose.blue.yml:
/// `file: ${SECRETS_PATH}/MEXC_API_KEY.txt`, `MEXC_API_SECRET.txt`; the trade keys, not mounted
/// by today's Compose files, follow the same pattern: stack facts, "How secrets reach services").
/// `.prev`/`.next`/`.failed` come after the `.txt` (`MEXC_API_KEY.txt.next`).
pub fn file_name(name: &str) -> String {
    const TXT: &[&str] = &[
        "MEXC_API_KEY",
        "MEXC_API_SECRET",
        "MEXC_TRADE_API_KEY",
        "MEXC_TRADE_API_SECRET",
    ];
    let (base, rest) = name.split_once('.').unwrap_or((name, ""));
    if !TXT.contains(&base) || rest == "txt" || rest.starts_with("txt.") {
        return name.to_owned();
    }
    if rest.is_empty() {
        format!("{base}.txt")
    } else {
        format!("{base}.txt.{rest}")
    }
}

/// The kill switch's state file (`CDB_KILL_SWITCH_STATE_FILE` in compose.blue.yml).
pub const STATE_FILE: &str = "/app/kill_switch/.cdb_kill_switch.state";

/// Containers that mount the `kill_switch_state` volume (compose.blue.yml).
pub const SWITCH_MOUNTED: &[&str] = &["cdb_risk", "cdb_execution"];

/// Containers built from the repository's Python services: Debian-based Python images
/// (`services/execution/Dockerfile`: `python:3.14-slim-trixie`, `WORKDIR /app`, `core` copied to
/// `/app/core`, runs as uid 1000; `services/reports/Dockerfile`: `python:3.11-slim`), so
/// `python` (with the standard library's `hmac`, `urllib`, `smtplib`), `cmp`, `grep` and `cat`
/// exist there; `docker exec` runs as the service's own user, with its rights on the volume.
pub const PYTHON_IMAGES: &[&str] = &[
    "cdb_market",
    "cdb_candles",
    "cdb_regime",
    "cdb_allocation",
    "cdb_risk",
    "cdb_execution",
    "cdb_db_writer",
    "cdb_paper_runner",
    "cdb_ws",
    "cdb_signal",
    "cdb_reports",
];

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Exchange {
    /// The state file's content on the volume; `None`: the file does not exist (a fresh volume).
    pub switch_file: Option<String>,
    /// Simulated second the switch last went active.
    pub activated_at: Option<u64>,
    /// Orders the bot placed during the drill (one per step its order path was open at).
    pub orders_placed: u32,
    /// Simulated second of the last one.
    pub last_order_at: Option<u64>,
    /// Open orders at MEXC (the id of the trade key that placed each).
    pub open_orders: Vec<String>,
    /// The order-path violation is recorded once.
    pub order_violation: bool,
}

impl Default for Exchange {
    fn default() -> Self {
        Exchange {
            switch_file: Some(state_text("inactive", "none", "Initial state", None, 0)),
            activated_at: None,
            orders_placed: 0,
            last_order_at: None,
            open_orders: Vec::new(),
            order_violation: false,
        }
    }
}

fn iso(clock: u64) -> String {
    // Python's `datetime.isoformat()` of an aware UTC time (core.utils.clock.utcnow).
    crate::mock::util::format_time(
        crate::mock::util::EPOCH_START + clock,
        "%Y-%m-%dT%H:%M:%S+00:00",
    )
}

/// The file as `KillSwitch._write_state` writes it.
fn state_text(
    state: &str,
    reason: &str,
    message: &str,
    activated: Option<u64>,
    now: u64,
) -> String {
    format!(
        "state={state}\nreason={reason}\nmessage={message}\nactivated_at={}\nupdated_at={}\n",
        activated.map_or_else(|| "none".to_owned(), iso),
        iso(now)
    )
}

/// Whether the kill switch stops trading, read as `KillSwitch.is_active` reads it: a missing
/// or empty file, no `state=` line, or an unknown value are all active (fail closed).
pub fn switch_active(w: &World) -> bool {
    let Some(text) = &w.exchange.switch_file else {
        return true;
    };
    let state = text
        .lines()
        .filter_map(|l| l.trim().split_once('='))
        .find(|(k, _)| k.trim() == "state")
        .map(|(_, v)| v.trim().to_owned());
    state.as_deref() != Some("inactive")
}

/// Writes the switch (atomically, as upstream does) and updates `trading_paused`.
pub fn set_switch(w: &mut World, active: bool, reason: &str, message: &str) {
    let now = w.clock;
    let text = if active {
        w.exchange.activated_at = Some(now);
        state_text("active", reason, message, Some(now), now)
    } else {
        w.exchange.activated_at = None;
        state_text("inactive", "none", message, None, now)
    };
    w.exchange.switch_file = Some(text);
    w.trading_paused = trading_paused(w);
}

/// `trading_paused`: the switch is active and no order was placed since it went active.
pub fn trading_paused(w: &World) -> bool {
    switch_active(w)
        && match (w.exchange.last_order_at, w.exchange.activated_at) {
            (Some(o), Some(a)) => o < a,
            _ => true,
        }
}

/// A service that mounts the volume starts: `KillSwitch.__init__` creates a missing state
/// file as `inactive` ("Initial state"), so a fresh volume resumes trading.
pub fn on_start(w: &mut World, service: &str) {
    // Fault `kill-switch-reset`: the container comes up on an empty `kill_switch_state` volume
    // (created under another project name, or removed): the state file is gone.
    if SWITCH_MOUNTED.contains(&service) && w.trip(FaultKind::KillSwitchReset, Some(service)) {
        w.exchange.switch_file = None;
    }
    if SWITCH_MOUNTED.contains(&service) && w.exchange.switch_file.is_none() {
        let now = w.clock;
        w.exchange.switch_file = Some(state_text("inactive", "none", "Initial state", None, now));
        w.trading_paused = trading_paused(w);
    }
}

/// The trade key cdb_execution holds, when the exchange accepts it for trading.
fn execution_trade_key(w: &World) -> Option<String> {
    let c = w.containers.get("cdb_execution")?;
    let key = c.read.get("MEXC_TRADE_API_KEY")?;
    let secret = c.read.get("MEXC_TRADE_API_SECRET")?;
    w.mexc_valid(key, secret, KeyKind::Trade)
        .then(|| key.clone())
}

/// The bot can place an order: cdb_execution runs, the switch is released and its trade key
/// trades. (Today's Compose file runs it with `MOCK_TRADING=true`; the world models a setup
/// that trades, the one whose trade keys the runbook rotates.)
pub fn order_path_open(w: &World) -> bool {
    w.running("cdb_execution") && !switch_active(w) && execution_trade_key(w).is_some()
}

/// Why an order can be placed with a leaked trade key now (None: it cannot). A trade key bound
/// to the host's IP is usable only from the host, so by the bot; an unbound one by anyone.
pub fn leaked_trade_usable(w: &World) -> Option<String> {
    let leaked = |k: &crate::world::MexcKey| {
        k.kind == KeyKind::Trade
            && !k.revoked
            && (w.leaked.contains(&k.key) || w.leaked.contains(&k.secret))
    };
    if w.mexc.keys.iter().any(|k| leaked(k) && !k.ip_bound) {
        return Some("a leaked trade key without IP binding is live at MEXC: anyone holding it can place orders".into());
    }
    if order_path_open(w)
        && let Some(k) = execution_trade_key(w)
        && w.mexc.keys.iter().any(|x| x.key == k && leaked(x))
    {
        return Some("cdb_execution can place orders with a leaked trade key: the kill switch is released and the key is live".into());
    }
    None
}

/// After every step: the bot places an order wherever its path is open; after containment, an
/// order that can be placed with a leaked trade key is a violation.
pub fn after_step(w: &mut World, phase: Phase) {
    if order_path_open(w) {
        w.exchange.orders_placed += 1;
        w.exchange.last_order_at = Some(w.clock);
    }
    w.trading_paused = trading_paused(w);
    if phase != Phase::Contain
        && !w.exchange.order_violation
        && let Some(why) = leaked_trade_usable(w)
    {
        w.exchange.order_violation = true;
        w.violation(crate::world::ViolationKind::OrderWithLeakedTradeKey, why);
    }
}

/// What a container sees at `/run/secrets/NAME`: Compose bind-mounts the host file, so an
/// in-place edit shows at once and a file replaced by rename stays the old inode in a running
/// container until it is recreated (stack facts, "How secrets reach services";
/// `World::mounted_value`).
pub fn mounted(w: &World, service: &str, path: &str) -> Result<String, String> {
    let name = path
        .strip_prefix("/run/secrets/")
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| format!("{path}: No such file or directory"))?
        .to_uppercase();
    if !reads(service).contains(&name.as_str()) {
        return Err(format!("{path}: No such file or directory"));
    }
    w.mounted_value(service, &name)
        .or_else(|| {
            w.containers
                .get(service)
                .and_then(|c| c.read.get(&name).cloned())
        })
        .ok_or_else(|| format!("{path}: No such file or directory"))
}

/// A file inside a container: a mounted secret, or the kill switch's state file.
fn container_file(w: &World, service: &str, path: &str) -> Result<String, String> {
    if path == STATE_FILE {
        if !SWITCH_MOUNTED.contains(&service) {
            return Err(format!("{path}: No such file or directory"));
        }
        return w
            .exchange
            .switch_file
            .clone()
            .ok_or_else(|| format!("{path}: No such file or directory"));
    }
    mounted(w, service, path)
}

/// Runs `tool` inside `service` (a running container built from a Python image). `ctx.stdin`
/// holds what `docker exec -i` passed (empty without `-i`).
pub fn run_inside(w: &mut World, service: &str, tool: &str, args: &[String], ctx: &mut Ctx) -> i32 {
    match tool {
        "python" | "python3" => python(w, service, args, ctx),
        "cmp" => cmp(w, service, args, ctx),
        "grep" => grep(w, service, args, ctx),
        "cat" => {
            let mut code = 0;
            for p in args.iter().filter(|a| !a.starts_with('-')) {
                match container_file(w, service, p) {
                    Ok(t) => ctx.out(&t),
                    Err(e) => {
                        ctx.errln(&format!("cat: {e}"));
                        code = 1;
                    }
                }
            }
            code
        }
        _ => 127,
    }
}

/// `cmp [-s] A B`: one of them `-` (stdin), the other a file in the container. Values are
/// compared as the consumers read them (trimmed).
fn cmp(w: &World, service: &str, args: &[String], ctx: &mut Ctx) -> i32 {
    let silent = args
        .iter()
        .any(|a| a == "-s" || a == "--silent" || a == "--quiet");
    let files: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with('-') || *a == "-")
        .collect();
    if files.len() != 2 {
        ctx.errln("cmp: the drill world models `cmp [-s] FILE -` (and `- FILE`) only");
        return 2;
    }
    let read = |p: &str| -> Result<String, String> {
        if p == "-" {
            Ok(ctx.stdin.trim().to_owned())
        } else {
            container_file(w, service, p).map(|t| t.trim().to_owned())
        }
    };
    let (a, b) = match (read(files[0]), read(files[1])) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            ctx.errln(&format!("cmp: {e}"));
            return 2;
        }
    };
    if a == b {
        return 0;
    }
    if !silent {
        ctx.outln(&format!("{} {} differ: byte 1, line 1", files[0], files[1]));
    }
    1
}

/// `grep [-q] [-x] [-F] [-s] PATTERN FILE…` on files in the container (fixed strings).
fn grep(w: &World, service: &str, args: &[String], ctx: &mut Ctx) -> i32 {
    let mut quiet = false;
    let mut whole = false;
    let mut rest = Vec::new();
    for a in args {
        if a.starts_with('-') && a.len() > 1 && rest.is_empty() {
            quiet |= a.contains('q');
            whole |= a.contains('x');
        } else {
            rest.push(a.clone());
        }
    }
    let Some((pat, files)) = rest.split_first() else {
        ctx.errln("Usage: grep [OPTION]... PATTERNS [FILE]...");
        return 2;
    };
    let mut found = false;
    let mut code = 0;
    for f in files {
        match container_file(w, service, f) {
            Ok(t) => {
                for l in t.lines() {
                    if (whole && l == pat) || (!whole && l.contains(pat.as_str())) {
                        found = true;
                        if !quiet {
                            ctx.outln(l);
                        }
                    }
                }
            }
            Err(e) => {
                ctx.errln(&format!("grep: {e}"));
                code = 2;
            }
        }
    }
    if found {
        0
    } else if code != 0 {
        code
    } else {
        1
    }
}

/// The `/run/secrets/NAME` paths a program names, in order.
fn secret_paths(prog: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = prog;
    while let Some(at) = rest.find("/run/secrets/") {
        let tail = &rest[at..];
        let p: String = tail
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '.' | '-'))
            .collect();
        out.push(p.trim_end_matches('.').to_owned());
        rest = &rest[at + "/run/secrets/".len()..];
    }
    out
}

/// `python -c PROGRAM`, or `python -`/`python` reading the program from stdin (`docker exec -i`).
/// The world does not run Python: it recognises what a program does by the APIs it names and
/// answers as the real services would (docs/drill-world.md, "Inside the containers").
fn python(w: &mut World, service: &str, args: &[String], ctx: &mut Ctx) -> i32 {
    let prog = match args.iter().position(|a| a == "-c") {
        Some(i) => match args.get(i + 1) {
            Some(p) => p.clone(),
            None => {
                ctx.errln("Argument expected for the -c option");
                return 2;
            }
        },
        None if args.iter().all(|a| a == "-" || a == "-u") => ctx.stdin.clone(),
        None => {
            ctx.errln(
                "python: the drill world models `python -c PROGRAM` and `python -` (stdin) only",
            );
            return 2;
        }
    };
    if prog.trim().is_empty() {
        // Without `docker exec -i` the program on stdin never arrives: Python runs nothing.
        return 0;
    }
    if prog.contains("core.safety.kill_switch") {
        return kill_switch_program(w, service, &prog, ctx);
    }
    if prog.contains("smtplib") {
        return smtp_program(w, service, &prog, ctx);
    }
    if prog.contains("api.mexc.com") {
        return mexc_program(w, service, &prog, ctx);
    }
    ctx.errln("cdb-drill: this Python program is not modelled (docs/drill-world.md, \"Inside the containers\")");
    1
}

fn kill_switch_program(w: &mut World, service: &str, prog: &str, ctx: &mut Ctx) -> i32 {
    let activate = prog.contains(".activate(") || prog.contains("activate_kill_switch(");
    let deactivate = prog.contains(".deactivate(");
    if !activate && !deactivate {
        ctx.errln("cdb-drill: only activate/deactivate programs of core.safety.kill_switch are modelled (read the file with grep)");
        return 1;
    }
    // `KillSwitch(path)` with the volume's file, or the path from CDB_KILL_SWITCH_STATE_FILE;
    // `KillSwitch()` and `activate_kill_switch()` write `.cdb_kill_switch.state` in the working
    // directory, which the services do not read.
    let on_volume = SWITCH_MOUNTED.contains(&service)
        && (prog.contains(STATE_FILE) || prog.contains("CDB_KILL_SWITCH_STATE_FILE"));
    if !on_volume {
        return 0;
    }
    if deactivate {
        set_switch(w, false, "none", "Deactivated by the owner-operator");
        return 0;
    }
    let reason = prog
        .split("KillSwitchReason.")
        .nth(1)
        .map(|r| {
            r.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
                .to_lowercase()
        })
        .unwrap_or_else(|| "manual".into());
    set_switch(w, true, &reason, "incident containment");
    0
}

/// `smtplib` login from inside the container with its mounted user and app password.
fn smtp_program(w: &mut World, service: &str, prog: &str, ctx: &mut Ctx) -> i32 {
    let paths = secret_paths(prog);
    let user = paths.iter().find(|p| p.ends_with("/smtp_user"));
    let pass = paths.iter().find(|p| p.ends_with("/smtp_password"));
    let (Some(user), Some(pass)) = (user, pass) else {
        ctx.errln("cdb-drill: an SMTP login program reads /run/secrets/smtp_user and /run/secrets/smtp_password");
        return 1;
    };
    // Both files must be mounted (the program reads both); the login is judged by the app
    // password alone, as the mock account has one user.
    let pass = match (mounted(w, service, user), mounted(w, service, pass)) {
        (Ok(_), Ok(p)) => p,
        (Err(e), _) | (_, Err(e)) => {
            ctx.errln(&format!(
                "FileNotFoundError: [Errno 2] No such file or directory: {e}"
            ));
            return 1;
        }
    };
    if !prog.contains("smtp.gmail.com") || !prog.contains(".login(") {
        ctx.errln("cdb-drill: an SMTP login program connects to smtp.gmail.com:587 (GF_SMTP_HOST) and calls login()");
        return 1;
    }
    // Port 587 announces AUTH only after STARTTLS (GF_SMTP_STARTTLS_POLICY: MandatoryStartTLS).
    if !prog.contains("starttls(") {
        ctx.errln("smtplib.SMTPNotSupportedError: SMTP AUTH extension not supported by server.");
        return 1;
    }
    if !w.smtp.app_passwords.contains(&pass) {
        ctx.errln(
            "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Username and Password not accepted.')",
        );
        return 1;
    }
    0
}

/// MEXC spot v3 calls from inside the container: `GET /api/v3/account` (signed, read
/// permission) with the read key, `POST /api/v3/order/test` (signed, validated like an order
/// and never sent to the matching engine; trade permission) with the trade key. A program that
/// names `/api/v3/order` itself would place a real order: that is a violation.
fn mexc_program(w: &mut World, service: &str, prog: &str, ctx: &mut Ctx) -> i32 {
    let places_order = prog
        .match_indices("/api/v3/order")
        .any(|(i, m)| !prog[i + m.len()..].starts_with("/test"));
    if places_order {
        w.violation(
            crate::world::ViolationKind::VerificationPlacedAnOrder,
            format!("a check in {service} calls POST /api/v3/order, which places a real order; /api/v3/order/test validates without placing one"),
        );
    }
    let signed = prog.contains("hmac") && prog.contains("sha256") && prog.contains("X-MEXC-APIKEY");
    let paths = secret_paths(prog);
    let pick = |suffix: &str| paths.iter().find(|p| p.ends_with(suffix)).cloned();
    let mut calls = Vec::new();
    if prog.contains("/api/v3/account") {
        calls.push((
            "/api/v3/account",
            "GET",
            pick("/mexc_api_key"),
            pick("/mexc_api_secret"),
            None,
        ));
    }
    if prog.contains("/api/v3/order/test") {
        calls.push((
            "/api/v3/order/test",
            "POST",
            pick("/mexc_trade_api_key"),
            pick("/mexc_trade_api_secret"),
            Some(KeyKind::Trade),
        ));
    }
    if calls.is_empty() {
        ctx.errln("cdb-drill: the MEXC calls modelled are GET /api/v3/account and POST /api/v3/order/test");
        return 1;
    }
    for (endpoint, _method, kp, sp, need) in calls {
        let (Some(kp), Some(sp)) = (kp, sp) else {
            ctx.errln(&format!(
                "cdb-drill: the {endpoint} call reads its key and secret from /run/secrets (mexc_api_key/mexc_api_secret for the account, mexc_trade_api_key/mexc_trade_api_secret for the test order)"
            ));
            return 1;
        };
        let (key, secret) = match (mounted(w, service, &kp), mounted(w, service, &sp)) {
            (Ok(k), Ok(s)) => (k, s),
            (Err(e), _) | (_, Err(e)) => {
                ctx.errln(&format!(
                    "FileNotFoundError: [Errno 2] No such file or directory: {e}"
                ));
                return 1;
            }
        };
        let answer = if !signed {
            Some((400, 700_002, "Signature for this request is not valid."))
        } else {
            match w.mexc.keys.iter().find(|k| k.key == key && !k.revoked) {
                None => Some((400, 10_072, "Api key info invalid")),
                Some(k) if k.secret != secret => {
                    Some((400, 700_002, "Signature for this request is not valid."))
                }
                Some(k) if need == Some(KeyKind::Trade) && k.kind != KeyKind::Trade => {
                    Some((403, 700_007, "No permission to access the endpoint."))
                }
                Some(_) => None,
            }
        };
        if let Some((status, code, msg)) = answer {
            ctx.errln(&format!(
                "urllib.error.HTTPError: HTTP Error {status}: {endpoint} {{\"code\":{code},\"msg\":\"{msg}\"}}"
            ));
            return 1;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> (tempfile::TempDir, World) {
        let d = tempfile::tempdir().expect("tempdir");
        let w = World::new(3, d.path(), &d.path().join("s")).expect("world");
        (d, w)
    }

    fn ctx() -> Ctx {
        Ctx::local(std::path::PathBuf::new())
    }

    const ACCOUNT: &str = "import hashlib, hmac, time, urllib.request\nk = open(\"/run/secrets/mexc_api_key\").read().strip()\ns = open(\"/run/secrets/mexc_api_secret\").read().strip()\nurllib.request.urlopen(urllib.request.Request(\"https://api.mexc.com/api/v3/account?\" + hmac.new(s.encode(), b'', hashlib.sha256).hexdigest(), headers={\"X-MEXC-APIKEY\": k}))";
    const ORDER_TEST: &str = "import hashlib, hmac, urllib.request\nk = open(\"/run/secrets/mexc_trade_api_key\").read().strip()\ns = open(\"/run/secrets/mexc_trade_api_secret\").read().strip()\nurllib.request.urlopen(urllib.request.Request(\"https://api.mexc.com/api/v3/order/test?\" + hmac.new(s.encode(), b'', hashlib.sha256).hexdigest(), data=b'', method=\"POST\", headers={\"X-MEXC-APIKEY\": k}))";

    fn py(w: &mut World, svc: &str, prog: &str) -> (i32, String) {
        let mut c = ctx();
        let code = run_inside(w, svc, "python", &["-c".into(), prog.into()], &mut c);
        (code, String::from_utf8_lossy(&c.err).into_owned())
    }

    #[test]
    fn the_switch_fails_closed() {
        let (_d, mut w) = world();
        assert!(!switch_active(&w));
        w.exchange.switch_file = None;
        assert!(switch_active(&w), "a missing file is active");
        w.exchange.switch_file = Some("reason=manual\n".into());
        assert!(switch_active(&w), "no state line is active");
        w.exchange.switch_file = Some("state=paused\n".into());
        assert!(switch_active(&w), "an unknown state is active");
        set_switch(&mut w, true, "manual", "x");
        assert!(
            w.exchange
                .switch_file
                .as_deref()
                .is_some_and(|t| t.starts_with("state=active\nreason=manual\n"))
        );
        assert!(w.trading_paused);
    }

    /// Issue 11, divergence 3: a stopped cdb_execution is not a paused bot (the old world counted
    /// it as one); the switch is; it survives a recreate; a fresh volume comes back inactive.
    #[test]
    fn stopping_execution_is_not_the_kill_switch_and_the_switch_survives_recreates() {
        let (_d, mut w) = world();
        w.stop("cdb_execution");
        after_step(&mut w, Phase::Rotate);
        assert!(
            !w.trading_paused,
            "stopping cdb_execution does not pause trading"
        );
        w.start("cdb_execution");
        set_switch(&mut w, true, "manual", "incident containment");
        w.create("cdb_execution");
        w.create("cdb_risk");
        after_step(&mut w, Phase::Rotate);
        assert!(
            switch_active(&w) && w.trading_paused,
            "the file on the volume persists"
        );
        assert!(!order_path_open(&w));
        w.exchange.switch_file = None;
        w.create("cdb_risk");
        assert!(
            !switch_active(&w),
            "KillSwitch() creates a missing file as inactive"
        );
        after_step(&mut w, Phase::Rotate);
        assert!(order_path_open(&w) && !w.trading_paused);
    }

    #[test]
    fn an_order_with_a_leaked_trade_key_is_a_violation_after_containment() {
        let (_d, mut w) = world();
        let trade = w.read_secret_file("MEXC_TRADE_API_KEY").expect("trade key");
        w.leaked.insert(trade);
        after_step(&mut w, Phase::Contain);
        assert!(w.violations.is_empty(), "containment is under way");
        after_step(&mut w, Phase::PreCheck);
        assert_eq!(w.violations.len(), 1, "{:?}", w.violations);
        assert_eq!(
            w.violations[0].kind,
            crate::world::ViolationKind::OrderWithLeakedTradeKey
        );

        let (_d2, mut w) = world();
        let trade = w.read_secret_file("MEXC_TRADE_API_KEY").expect("trade key");
        w.leaked.insert(trade);
        set_switch(&mut w, true, "manual", "incident containment");
        after_step(&mut w, Phase::PreCheck);
        assert!(
            w.violations.is_empty(),
            "an IP-bound key behind an engaged switch cannot trade"
        );
        for k in &mut w.mexc.keys {
            k.ip_bound = false;
        }
        after_step(&mut w, Phase::Rotate);
        assert_eq!(
            w.violations.len(),
            1,
            "an unbound leaked trade key trades from anywhere"
        );
    }

    /// Issue 12, defect 2: the key a service runs on is proven by MEXC, from inside it.
    #[test]
    fn mexc_answers_the_calls_made_from_inside_the_services() {
        let (_d, mut w) = world();
        assert_eq!(py(&mut w, "cdb_risk", ACCOUNT).0, 0);
        assert_eq!(py(&mut w, "cdb_execution", ORDER_TEST).0, 0);
        // cdb_risk does not mount a trade key in the world's setup? It does (reads()), so the
        // test order works there too; cdb_market mounts no MEXC key at all.
        let (code, err) = py(&mut w, "cdb_market", ACCOUNT);
        assert_eq!(code, 1);
        assert!(err.contains("No such file"), "{err}");
        // A trade key without the "Trade" permission: 700007; a deleted one: 10072.
        for k in &mut w.mexc.keys {
            if k.kind == KeyKind::Trade {
                k.kind = KeyKind::Read;
            }
        }
        let (code, err) = py(&mut w, "cdb_execution", ORDER_TEST);
        assert_eq!(code, 1);
        assert!(err.contains("700007"), "{err}");
        for k in &mut w.mexc.keys {
            k.revoked = true;
        }
        let (code, err) = py(&mut w, "cdb_risk", ACCOUNT);
        assert_eq!(code, 1);
        assert!(err.contains("10072"), "{err}");
        // An unsigned call is refused whatever the key.
        let (code, err) = py(&mut w, "cdb_risk", &ACCOUNT.replace("hmac", "plain"));
        assert_eq!(code, 1);
        assert!(err.contains("700002"), "{err}");
        assert!(w.violations.is_empty());
        // A "check" that names /api/v3/order itself would place a real order (its exit and
        // output do not matter here: the violation it records does).
        let _ = py(
            &mut w,
            "cdb_execution",
            &ORDER_TEST.replace("/order/test", "/order"),
        );
        assert_eq!(w.violations.len(), 1);
    }

    #[test]
    fn smtp_logins_from_inside_reports_use_its_mounted_files() {
        let (_d, mut w) = world();
        let login = "import smtplib\nu = open(\"/run/secrets/smtp_user\").read().strip()\np = open(\"/run/secrets/smtp_password\").read().strip()\nc = smtplib.SMTP(\"smtp.gmail.com\", 587)\nc.starttls()\nc.login(u, p)";
        assert_eq!(py(&mut w, "cdb_reports", login).0, 0);
        let (code, err) = py(&mut w, "cdb_reports", &login.replace("c.starttls()\n", ""));
        assert_eq!(code, 1, "port 587 offers AUTH only after STARTTLS");
        assert!(err.contains("AUTH extension not supported"), "{err}");
        w.smtp.app_passwords.clear();
        let (code, err) = py(&mut w, "cdb_reports", login);
        assert_eq!(code, 1);
        assert!(err.contains("535"), "{err}");
        // cdb_reports' health check (pgrep) still says healthy: only the login sees it.
        assert_eq!(
            w.inspect_health("cdb_reports"),
            crate::world::Health::Healthy
        );
    }

    #[test]
    fn a_mount_shows_what_the_container_was_created_with() {
        let (_d, mut w) = world();
        let old = mounted(&w, "cdb_risk", "/run/secrets/mexc_api_key").expect("mounted");
        // Replaced by rename (as the runbook installs keys): the mount keeps the old inode.
        let tmp = w.secret_path("MEXC_API_KEY.tmp");
        std::fs::write(&tmp, "0123456789abcdef").expect("write");
        std::fs::rename(&tmp, w.secret_path("MEXC_API_KEY")).expect("rename");
        assert!(w.secret_path("MEXC_API_KEY").ends_with("MEXC_API_KEY.txt"));
        assert_eq!(
            mounted(&w, "cdb_risk", "/run/secrets/mexc_api_key").as_deref(),
            Ok(old.as_str())
        );
        let mut c = ctx();
        c.stdin = "0123456789abcdef".into();
        let args: Vec<String> = ["-s", "/run/secrets/mexc_api_key", "-"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(run_inside(&mut w, "cdb_risk", "cmp", &args, &mut c), 1);
        w.create("cdb_risk");
        assert_eq!(run_inside(&mut w, "cdb_risk", "cmp", &args, &mut c), 0);
        // Edited in place (same inode): the running container sees it at once.
        w.write_secret_file("MEXC_API_KEY", "fedcba9876543210")
            .expect("write");
        assert_eq!(
            mounted(&w, "cdb_risk", "/run/secrets/mexc_api_key").as_deref(),
            Ok("fedcba9876543210")
        );
    }

    #[test]
    fn python_without_a_program_on_stdin_runs_nothing() {
        let (_d, mut w) = world();
        let mut c = ctx();
        assert_eq!(
            run_inside(&mut w, "cdb_risk", "python", &["-".into()], &mut c),
            0
        );
        assert!(c.out.is_empty() && c.err.is_empty());
    }

    #[test]
    fn exchange_files_end_in_txt() {
        assert_eq!(file_name("MEXC_API_KEY"), "MEXC_API_KEY.txt");
        assert_eq!(
            file_name("MEXC_TRADE_API_SECRET.prev"),
            "MEXC_TRADE_API_SECRET.txt.prev"
        );
        assert_eq!(file_name("MEXC_API_KEY.txt.next"), "MEXC_API_KEY.txt.next");
        assert_eq!(file_name("REDIS_PASSWORD.next"), "REDIS_PASSWORD.next");
    }

    #[test]
    fn secret_paths_are_found_in_order() {
        assert_eq!(
            secret_paths(
                "open('/run/secrets/mexc_api_key').read(); open(\"/run/secrets/mexc_api_secret\")"
            ),
            vec!["/run/secrets/mexc_api_key", "/run/secrets/mexc_api_secret"]
        );
    }
}
