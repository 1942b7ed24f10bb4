//! PostgreSQL in the drill world: live sessions (`pg_stat_activity`), the server's clock and
//! its log, as a real server shows them. Each behaviour cites where it was measured or read:
//!
//! - A session opened before `ALTER ROLE … PASSWORD` survives it and keeps working; a new login
//!   with the old password fails (`docs/real-server-facts.md`, `crates/cdb-lab/tests/it/pg.rs`
//!   `session_survives_alter_role_password`).
//! - `pg_terminate_backend` ends exactly the rows its `WHERE` selects; `usename = 'claire_user'`
//!   alone also matches the logical replication launcher, which runs as the bootstrap superuser
//!   (the official image's `POSTGRES_USER`); only `backend_type = 'client backend'` keeps it out
//!   (`terminate_backend_honours_where_clause`).
//! - The services hold pooled connections (stack facts, "Live connections survive a password
//!   change"): each running consumer holds one session, opened with the password it read at
//!   its start, and reconnects with that same value only when the session ends (terminated,
//!   the server restarted, the container recreated). A refused reconnect is logged by the
//!   server as `FATAL:  password authentication failed for user "claire_user"` (PostgreSQL
//!   reports failed authentication at `FATAL`, above the default `log_min_messages = warning`;
//!   the official image logs to stderr, which `docker logs` shows).
//! - The leaker: when a scenario leaks the database password, someone holds a session opened
//!   with it from the start of the drill, through the published port `127.0.0.1:5432`
//!   (`stack/compose/compose.blue.yml`), so from the bridge gateway. Once terminated it does
//!   not come back: every later attempt with the leaked value is refused (and logged).
//! - The server's clock is the Docker VM's, which drifts from the host's (issue 12 defect 4):
//!   here it runs [`VM_CLOCK_AHEAD`] seconds ahead. `now()`, `backend_start` and `docker logs`
//!   timestamps use it; the host's `date` does not.

use crate::world::{Session, World, reads};
use serde::{Deserialize, Serialize};

/// Seconds the Docker VM's clock (the server's `now()`, `docker logs`) runs ahead of the host's
/// (behaviour `server-clock-ahead`).
pub const VM_CLOCK_AHEAD: u64 = 300;

/// The holder of the leaker's session.
pub const LEAKER: &str = "(leaker)";
/// The holder of the logical replication launcher.
pub const LAUNCHER: &str = "(launcher)";

/// The server's log line for a failed password login.
pub const AUTH_FAILED: &str = "FATAL:  password authentication failed for user \"claire_user\"";

/// One line of the server's log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogLine {
    /// World clock (host seconds since the drill began).
    pub at: u64,
    pub pid: u32,
    pub text: String,
}

/// `cdb_network`'s subnet (Docker's first user-defined bridge), as a prefix of its host addresses.
const SUBNET: &str = "172.18.0";

/// The bridge gateway (`.1`): host connections through a published port arrive from it.
pub fn gateway() -> String {
    format!("{SUBNET}.1")
}

/// The address a container has on `cdb_network` (Docker hands out a user-defined bridge's
/// addresses in order; the services' order in the Compose files is the drill's).
pub fn container_addr(service: &str) -> String {
    let i = crate::world::all_services()
        .position(|s| s == service)
        .unwrap_or(0);
    format!("{SUBNET}.{}", i + 2)
}

/// Unix seconds on the server's clock at world clock `at`.
pub fn server_epoch(at: u64) -> u64 {
    crate::mock::util::EPOCH_START + at + VM_CLOCK_AHEAD
}

/// `2026-01-01 09:05:00.000000+00`, as `timestamptz` prints in UTC.
pub fn server_timestamp(at: u64) -> String {
    crate::mock::util::format_time(server_epoch(at), "%Y-%m-%d %H:%M:%S.000000+00")
}

/// Whether `service` holds a pooled PostgreSQL connection.
pub fn is_consumer(service: &str) -> bool {
    service != "cdb_postgres" && reads(service).contains(&"POSTGRES_PASSWORD")
}

impl World {
    fn pg_new_pid(&mut self) -> u32 {
        let pid = self.postgres.next_pid;
        self.postgres.next_pid += 1;
        pid
    }

    /// Logs a refused login, as the server does (`FATAL` and its `DETAIL`).
    pub fn pg_log_auth_failure(&mut self) {
        let pid = self.pg_new_pid();
        let at = self.clock;
        self.postgres.log.push(LogLine {
            at,
            pid,
            text: AUTH_FAILED.to_owned(),
        });
        self.postgres.log.push(LogLine {
            at,
            pid,
            text: "DETAIL:  Connection matched file \"/var/lib/postgresql/18/docker/pg_hba.conf\" line 128: \"host all all all scram-sha-256\"".to_owned(),
        });
    }

    /// Opens a client session for `holder` with `password` from `addr`; `None` (and a log
    /// line) when the server refuses the password.
    pub fn pg_open(&mut self, holder: &str, password: &str, addr: Option<String>) -> Option<u32> {
        if !self.pg_accepts(password) {
            self.pg_log_auth_failure();
            return None;
        }
        let pid = self.pg_new_pid();
        self.postgres.sessions.push(Session {
            pid,
            application: holder.to_owned(),
            password: password.to_owned(),
            usename: "claire_user".into(),
            backend_type: "client backend".into(),
            client_addr: addr,
            backend_start: self.clock,
        });
        Some(pid)
    }

    /// The server (re)started: its background workers run again, among them the logical
    /// replication launcher, as the bootstrap superuser `claire_user`.
    pub fn pg_server_started(&mut self) {
        if self
            .postgres
            .sessions
            .iter()
            .any(|s| s.application == LAUNCHER)
        {
            return;
        }
        let pid = self.pg_new_pid();
        self.postgres.sessions.push(Session {
            pid,
            application: LAUNCHER.into(),
            password: String::new(),
            usename: "claire_user".into(),
            backend_type: "logical replication launcher".into(),
            client_addr: None,
            backend_start: self.clock,
        });
    }

    /// The leaker's session: opened at the start with the leaked database password.
    pub fn open_leaker_sessions(&mut self) {
        let role = self.postgres.roles.get("claire_user").cloned();
        let leaked = self.leaked.iter().any(|v| {
            Some(v) == role.as_ref() || crate::world::dsn_password(v).as_ref() == role.as_ref()
        });
        if leaked
            && let Some(pw) = role
            && !self
                .postgres
                .sessions
                .iter()
                .any(|s| s.application == LEAKER)
        {
            self.pg_open(LEAKER, &pw, Some(gateway()));
        }
    }

    /// Pools without a session connect with the value their container read at its start; a
    /// refusal is logged, again at each later try once the clock has moved. Grafana opens its
    /// datasource connection on the first query only (its SQL datasources pool lazily): see
    /// [`World::pg_demand`].
    pub fn pg_reconnect(&mut self) {
        if !self.running("cdb_postgres") {
            return;
        }
        if !self
            .postgres
            .sessions
            .iter()
            .any(|s| s.application == LAUNCHER)
        {
            self.pg_server_started();
        }
        let names: Vec<String> = self.containers.keys().cloned().collect();
        for name in names {
            if name != "cdb_grafana" {
                self.pg_try_connect(&name);
            }
        }
    }

    /// A query needs `service`'s pool: it connects now when it holds no session.
    pub fn pg_demand(&mut self, service: &str) {
        if self.running("cdb_postgres") {
            self.pg_try_connect(service);
        }
    }

    fn pg_try_connect(&mut self, name: &str) {
        if !is_consumer(name) || !self.running(name) {
            return;
        }
        if self.postgres.sessions.iter().any(|s| s.application == name) {
            return;
        }
        let Some(pw) = self.pg_password_of(name) else {
            return;
        };
        // Over TLS, a link that fails never reaches authentication (tls.rs).
        if self.tls_link(name, "cdb_postgres").is_err() {
            return;
        }
        if self.pg_accepts(&pw) {
            self.postgres.refused.remove(name);
            self.pg_open(name, &pw, Some(container_addr(name)));
        } else if self.postgres.refused.get(name) != Some(&self.clock) {
            self.postgres.refused.insert(name.to_owned(), self.clock);
            self.pg_log_auth_failure();
        }
    }

    /// The uid Grafana generated for the provisioned datasource `PostgreSQL` (the provisioning
    /// file sets none: stack/grafana/provisioning/datasources/postgres.yml), per seed.
    pub fn grafana_ds_uid(&self) -> String {
        let h = (self.seed ^ 0x0067_7261_6661_6e61).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        format!("de{:012x}", h >> 16)
    }

    /// Whether `service` holds a live session (a pool's `Ping` succeeds on it: the exporter's
    /// `pg_up`, Grafana's datasource health).
    pub fn pg_has_session(&self, service: &str) -> bool {
        self.running("cdb_postgres")
            && self
                .postgres
                .sessions
                .iter()
                .any(|s| s.application == service)
    }

    /// Ends the sessions with these pids: pools reconnect at once with what they read; the
    /// leaker does not come back; a terminated launcher is a violation (the postmaster
    /// restarts it, but a step that ends it did not keep to client sessions).
    pub fn pg_terminate(&mut self, pids: &[u32]) {
        let launcher = self
            .postgres
            .sessions
            .iter()
            .any(|s| pids.contains(&s.pid) && s.application == LAUNCHER);
        if launcher {
            self.violation(
                crate::world::ViolationKind::NonClientBackendTerminated,
                "pg_terminate_backend ended the logical replication launcher: the WHERE clause \
                 did not keep to `backend_type = 'client backend'`"
                    .into(),
            );
        }
        self.postgres.sessions.retain(|s| !pids.contains(&s.pid));
        self.pg_reconnect();
    }
}

/// `docker logs [--since T] [-t] [--tail N] cdb_postgres`: the server's log on stderr.
/// `--since` takes Unix seconds, an RFC 3339 time (`2026-01-01T09:05:00Z`) or a duration
/// (`10m`, `24h`) counted back from the host's clock, as the docker CLI does.
pub fn docker_logs(w: &mut World, args: &[String], ctx: &mut crate::mock::Ctx) -> i32 {
    let mut since: Option<u64> = None;
    let mut stamps = false;
    let mut tail: Option<usize> = None;
    let mut names = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if a.starts_with("--") => (f, Some(v.to_owned())),
            _ => (a.as_str(), None),
        };
        let mut value = || {
            inline.clone().or_else(|| {
                i += 1;
                args.get(i).cloned()
            })
        };
        match flag {
            "--since" => {
                let v = value().unwrap_or_default();
                match parse_since(&v, w.clock) {
                    Some(s) => since = Some(s),
                    None => {
                        ctx.errln(&format!(
                            "invalid value for \"since\": failed to parse value as time or duration: \"{v}\""
                        ));
                        return 1;
                    }
                }
            }
            "-t" | "--timestamps" => stamps = true,
            "-n" | "--tail" => tail = value().and_then(|v| v.parse().ok()),
            "-f" | "--follow" => {
                ctx.errln("docker logs -f follows forever: the drill reports it as a hang");
                return 124;
            }
            "--details" => {}
            _ if a.starts_with('-') => {
                ctx.errln(&format!("unknown flag: {a}"));
                return 125;
            }
            _ => names.push(a.clone()),
        }
        i += 1;
    }
    let [name] = names.as_slice() else {
        ctx.errln("\"docker logs\" requires exactly 1 argument.");
        return 1;
    };
    if !w.containers.contains_key(name.as_str()) {
        ctx.errln(&format!(
            "Error response from daemon: No such container: {name}"
        ));
        return 1;
    }
    if name != "cdb_postgres" {
        // Other containers' logs are not modelled: they print nothing.
        return 0;
    }
    // Pools keep retrying: whatever a refused consumer would have logged by now is there.
    w.pg_reconnect();
    let lines: Vec<&LogLine> = w
        .postgres
        .log
        .iter()
        .filter(|l| since.is_none_or(|s| server_epoch(l.at) >= s))
        .collect();
    let skip = tail.map_or(0, |n| lines.len().saturating_sub(n));
    for l in &lines[skip..] {
        let ts = crate::mock::util::format_time(server_epoch(l.at), "%Y-%m-%d %H:%M:%S.000 UTC");
        let line = format!("{ts} [{}] {}", l.pid, l.text);
        if stamps {
            let d =
                crate::mock::util::format_time(server_epoch(l.at), "%Y-%m-%dT%H:%M:%S.000000000Z");
            ctx.errln(&format!("{d} {line}"));
        } else {
            ctx.errln(&line);
        }
    }
    0
}

/// Server-clock Unix seconds for a `--since` value; durations count back from the host's clock.
fn parse_since(v: &str, host_clock: u64) -> Option<u64> {
    let host_now = crate::mock::util::EPOCH_START + host_clock;
    if let Some((n, unit)) = v
        .find(|c: char| !c.is_ascii_digit())
        .filter(|&p| p > 0)
        .map(|p| v.split_at(p))
        .filter(|(_, u)| matches!(*u, "s" | "m" | "h"))
    {
        let n: u64 = n.parse().ok()?;
        let mult = match unit {
            "s" => 1,
            "m" => 60,
            _ => 3600,
        };
        return Some(host_now.saturating_sub(n * mult));
    }
    let int = v.split('.').next().unwrap_or(v);
    if !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) {
        return int.parse().ok();
    }
    // RFC 3339 in UTC: 2026-01-01T09:05:00Z (fractions ignored).
    let t = v.strip_suffix('Z')?;
    let (date, time) = t.split_once('T')?;
    let d: Vec<u64> = date.split('-').filter_map(|x| x.parse().ok()).collect();
    let tm: Vec<u64> = time
        .split('.')
        .next()?
        .split(':')
        .filter_map(|x| x.parse().ok())
        .collect();
    if d.len() != 3 || tm.len() != 3 {
        return None;
    }
    let days = days_from_civil(d[0] as i64, d[1], d[2]);
    Some(u64::try_from(days).ok()? * 86_400 + tm[0] * 3600 + tm[1] * 60 + tm[2])
}

fn days_from_civil(y: i64, m: u64, d: u64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_forms() {
        let base = crate::mock::util::EPOCH_START;
        assert_eq!(parse_since("1767258300", 0), Some(1_767_258_300));
        assert_eq!(parse_since("2026-01-01T09:05:00Z", 0), Some(base + 300));
        assert_eq!(parse_since("10m", 600), Some(base));
        assert_eq!(parse_since("yesterday", 0), None);
    }
}
