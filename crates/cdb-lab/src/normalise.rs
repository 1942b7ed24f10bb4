//! The conformance suite's normalisations: every difference between a mock run and a real run
//! that does not matter to the runbook, in this one place, each with why. Nothing else in the
//! suite makes two outputs equal.
//!
//! What is compared (conformance.rs): the exit code, the verdict line (`PASS id` / `FAIL id: …`)
//! and the standard output lines (what the steps test: they read stdout with `grep`, `test`,
//! `[ … = … ]`). Standard error is shown in a difference but not compared: the steps send it to
//! `/dev/null` or into evidence files, and its wording is the tool's (psql names the server's
//! address and port, which are the lab's).

/// Steps that call a server tool but whose verdict rests on the consumers acting (reconnecting,
/// retrying with the password they read): one step run against a bare server cannot show that,
/// so these are compared by the lab drills (`drill … --lab`), where stand-in consumers run.
pub const NEEDS_CONSUMERS: &[(&str, &str)] = &[
    (
        "database-verify-consumers-healthy",
        "counts refused logins of consumers retrying during two minutes, and the consumers' containers",
    ),
    (
        "cache-revoke-end-old-connections",
        "waits for each consumer to reconnect after CLIENT KILL",
    ),
];

/// Steps that only ever run right after another step's second run: the drill engine keeps a
/// snapshot after a step's first run only (`engine::run_recording`), so no starting state of
/// the suite precedes them. A cache rotation escalates only when the verify or revoke steps
/// fail again after the rollback (cdb_model::procedure), and a verify that fails for the first
/// time is followed by the rollback, not the escalation (tried: `service-crash` of `cdb_redis`
/// after `cache-rotate-write-file`, where the routine rollback recovers).
pub const AFTER_A_REPEATED_STEP: &[(&str, &str)] = &[(
    "cache-escalate-collect-state",
    "runs only after a verify or revoke step's second run, and the engine keeps snapshots after a step's first run only \
     (a snapshot at a later run needs engine::run_recording to take one)",
)];

/// Classes whose steps are not in the suite, and why.
pub const CLASSES_LEFT_OUT: &[(&str, &str)] = &[];

/// One side's output made comparable. `root` is that side's sandbox dir.
///
/// 1. The sandbox path becomes `$SANDBOX` (each side runs in its own temp dir).
/// 2. Trailing white space and `\r` go (a pipe through `redis-cli` on a terminal is not the case
///    here, but the mock and the tool may end a line differently).
/// 3. Empty lines go: `redis-cli` prints an empty line for an empty reply where the mock prints
///    none (docs/real-server-facts.md, "an empty array as an empty line"); no step tests for one.
/// 4. A certificate's dates (`notBefore=…`, `notAfter=…` of `openssl x509 -dates`) become
///    `[date]`: the mock's run on the simulated clock (2026-01-01 plus the drill's time), the
///    lab's certificates (certs.rs) start at the real now with the same lifetime rounded up to
///    whole days. The steps act on expiry through `-checkend`, whose exit code is compared.
pub fn lines(text: &str, root: &str) -> Vec<String> {
    text.replace(root, "$SANDBOX")
        .lines()
        .map(|l| l.trim_end().to_owned())
        .filter(|l| !l.is_empty())
        .map(|l| {
            for k in ["notAfter=", "notBefore="] {
                if let Some(i) = l.find(k) {
                    return format!("{}{k}[date]", &l[..i]);
                }
            }
            l
        })
        .collect()
}

/// Secret values never reach a report: what the world names becomes `[secret:NAME]`
/// (`World::redact`), and what a file in the side's secrets dir holds (a value the real
/// `openssl rand` made, which the world does not know) becomes `[secret:file NAME]`. Both sides
/// pass through this before they are compared, so a line holding a file's value compares by
/// the file's name.
pub fn redact(text: &str, world: &cdb_drill::world::World, secrets: &std::path::Path) -> String {
    let mut out = world.redact(text);
    let mut files: Vec<(String, String)> = std::fs::read_dir(secrets)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let v = std::fs::read_to_string(e.path()).ok()?;
            let v = v.trim().to_owned();
            // Short values (a cut-off's digits, `1`) are not secrets and would mangle output.
            (v.len() >= 12).then(|| (v, e.file_name().to_string_lossy().into_owned()))
        })
        .collect();
    files.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
    for (v, name) in files {
        out = out.replace(&v, &format!("[secret:file {name}]"));
    }
    out
}

/// The verdict line: the last `PASS …` or `FAIL …` line of standard output.
pub fn verdict(lines: &[String]) -> Option<String> {
    lines
        .iter()
        .rev()
        .find(|l| l.starts_with("PASS ") || l.starts_with("FAIL "))
        .cloned()
}

/// A mock and a real step start from the same state, but the clocks differ: the mock's server
/// runs on the simulated clock (2026-01-01 plus the drill's time, `cdb_drill::pg`), the real one
/// on this machine's. A cut-off a step recorded in a file (`POSTGRES_PASSWORD.altered-at`, Unix
/// seconds on the server's clock) is moved to the real clock by the harness (conformance.rs,
/// `Lab::load_pg`): the sessions that started before it on the mock start before it on the real
/// server, the others after. These are the files that hold a server time.
pub const SERVER_TIME_FILES: &[&str] = &["POSTGRES_PASSWORD.altered-at"];

/// Values a step makes differ: `openssl rand` in the mock returns a value the world names, the
/// real one a random value. After a step, which passwords log in is compared by the *file* that
/// holds a value (`file REDIS_PASSWORD.next`), each side reading its own file
/// (conformance.rs, `candidates`), never by the value.
pub const COMPARED_BY_FILE: &str = "values a step makes are compared by the file that holds them";

/// What a tool inside the container shows of the server's own paths: the lab's Redis keeps its
/// files in its temp dir, the official image in `/data` (`WORKDIR /data`, default `dir ./`,
/// `dbfilename dump.rdb`). The adapter passes `redis-cli`'s answer through this (adapter.rs),
/// so `CONFIG GET dir` answers `/data` as in `cdb_redis`.
pub fn container_view(text: &str, lab_redis_dir: &str) -> String {
    if lab_redis_dir.is_empty() {
        return text.to_owned();
    }
    text.replace(lab_redis_dir.trim_end_matches('/'), "/data")
}

/// What `psql` inside `cdb_postgres` shows of the server's TLS files: the lab's PostgreSQL
/// serves them from `<its dir>/tls/` (pg.rs `enable_ssl`), the stack's from the files tls.yml
/// mounts beside the data directory, `/var/lib/postgresql/server.crt`, `server.key`,
/// `root.crt` (tls.rs). The adapter passes `psql`'s answer through this (adapter.rs), so
/// `SHOW ssl_cert_file` answers the container's path.
pub fn pg_container_view(text: &str, lab_pg_dir: &str) -> String {
    if lab_pg_dir.is_empty() {
        return text.to_owned();
    }
    text.replace(
        &format!("{}/tls/", lab_pg_dir.trim_end_matches('/')),
        "/var/lib/postgresql/",
    )
}

/// Lab mode: a container's address on `cdb_network` (`172.18.0.N` in the world) is the loopback
/// address `127.18.0.N`, from which its stand-in connects (standin.rs), so a step that matches
/// `docker inspect`'s address against `CLIENT LIST` finds it. The adapter rewrites `inspect`'s
/// answers through this.
pub fn lab_address(text: &str) -> String {
    text.replace("172.18.0.", "127.18.0.")
}

/// Lab mode: `sleep N` waits N/100 seconds. The steps wait for consumers that reconnect within
/// milliseconds here (stand-ins), and a lab drill must stay within seconds; the mock's `sleep`
/// returns at once and advances only the simulated clock.
pub const SLEEP_DIVISOR: f64 = 100.0;

/// Lab mode: a wait of a minute or more (`sleep 120` before reading `docker logs --since T`)
/// lasts at least this long, so consumers that reconnect every 200 ms have refused a few times
/// before the log is read. (The steps' log cut-offs were once whole seconds rounded up, which
/// hid a refusal in the same second; they are the server's `clock_timestamp()` now.)
pub const LONG_SLEEP_MIN_SECS: f64 = 1.6;

/// How long `sleep N` lasts in lab mode.
pub fn lab_sleep_secs(n: f64) -> f64 {
    let scaled = n / SLEEP_DIVISOR;
    if n >= 60.0 {
        scaled.max(LONG_SLEEP_MIN_SECS)
    } else {
        scaled
    }
}
