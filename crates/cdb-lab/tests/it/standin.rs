//! Stand-in consumers (standin.rs) against real servers: the endpoints they serve as the real
//! services do (`/health`, the exporters' `/metrics`), and the start-up validation that makes
//! a recreated `cdb_risk` on a refused password a crash loop.

use crate::lab;
use cdb_lab::standin::{Http, StandInArgs};
use cdb_lab::{PgServer, RedisServer};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Running {
    child: Child,
    /// The `ready PORT` line's port; `None`: it exited before it was ready.
    port: Option<u16>,
}

impl Drop for Running {
    fn drop(&mut self) {
        // Closing its standard input ends it (standin.rs); kill makes sure.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &StandInArgs) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cdb-lab-tool"))
        .args(args.to_args())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let _ = out.read_line(&mut line);
    let port = line
        .trim()
        .strip_prefix("ready ")
        .map(|p| p.parse().unwrap());
    Running { child, port }
}

fn args(name: &str, http: Http) -> StandInArgs {
    StandInArgs {
        name: name.into(),
        pg_file: None,
        psql: PathBuf::from("/nonexistent/psql"),
        pg_port: 1,
        redis_file: None,
        redis_port: 1,
        src: std::net::Ipv4Addr::new(127, 18, 0, 9),
        validate: false,
        http,
    }
}

/// `GET path` on 127.0.0.1:`port`: the status code and the body.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |x| x.1).to_owned();
    (status, body)
}

fn secret_file(dir: &tempfile::TempDir, name: &str, value: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, value).unwrap();
    p
}

/// Behaviour `health-constant` (services/*/service.py): `/health` is 200 `{"status": "ok"}`
/// while the process runs, whatever its credentials; another path is a 404.
#[test]
fn a_stand_in_answers_health_as_the_python_services_do() {
    let s = start(&args("cdb_signal", Http::Health));
    let port = s.port.unwrap();
    assert_ne!(port, 0);
    assert_eq!(get(port, "/health"), (200, "{\"status\": \"ok\"}\n".into()));
    assert_eq!(get(port, "/metrics").0, 404);
}

/// `auth-at-start` (core/auth.py): a stand-in of `cdb_risk` refused by Redis at start exits
/// (status 1) before it is ready, so the lab shows it not running; one of `cdb_signal`, which
/// does not validate, stays up and keeps answering `/health` 200.
#[test]
fn a_refused_password_at_start_ends_only_a_validating_stand_in() {
    let Some(redis) = lab(RedisServer::start()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wrong = secret_file(&dir, "wrong", "not-the-password");
    let mut risk = args("cdb_risk", Http::Health);
    risk.redis_file = Some(wrong.clone());
    risk.redis_port = redis.port();
    risk.validate = true;
    let mut r = start(&risk);
    assert_eq!(r.port, None, "cdb_risk was ready on a refused password");
    assert_eq!(r.child.wait().unwrap().code(), Some(1));

    let mut signal = args("cdb_signal", Http::Health);
    signal.redis_file = Some(wrong);
    signal.redis_port = redis.port();
    let s = start(&signal);
    let port = s.port.unwrap();
    assert_eq!(get(port, "/health").0, 200);
}

/// The exporters' `/metrics` (stack facts, "the exporters"): `pg_up` is a query on the
/// exporter's pooled session, reconnecting with the password read at start when the session
/// ended; `redis_up` a login with the password read at start.
#[test]
fn the_exporters_metrics_say_whether_their_own_login_works() {
    let Some(pg) = lab(PgServer::start()) else {
        return;
    };
    let Some(redis) = lab(RedisServer::start()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut pe = args("cdb_postgres_exporter", Http::PgMetrics);
    pe.pg_file = Some(secret_file(&dir, "pg", pg.password()));
    pe.psql = pg.bin_dir().join("psql");
    pe.pg_port = pg.remote_port();
    let e = start(&pe);
    let port = e.port.unwrap();
    assert!(get(port, "/metrics").1.contains("\npg_up 1\n"));
    // A password change leaves the pooled session: pg_up stays 1 (sessions survive it).
    pg.set_role_password("lab-another-password-0123").unwrap();
    assert!(get(port, "/metrics").1.contains("\npg_up 1\n"));
    // Its session ended: it reconnects with the old password and is refused.
    let out = pg.psql(
        cdb_lab::Host::Socket,
        None,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid();",
    );
    assert!(out.success(), "{}", out.stderr);
    assert!(get(port, "/metrics").1.contains("\npg_up 0\n"));

    let mut re = args("cdb_redis_exporter", Http::RedisMetrics);
    re.redis_file = Some(secret_file(&dir, "redis", redis.password()));
    re.redis_port = redis.port();
    let x = start(&re);
    let port = x.port.unwrap();
    assert!(get(port, "/metrics").1.contains("\nredis_up 1\n"));
    let mut admin = redis.connect().unwrap();
    assert!(admin.auth(redis.password()).unwrap());
    admin
        .cmd(&["CONFIG", "SET", "requirepass", "lab-another-password-0123"])
        .unwrap();
    admin
        .cmd(&[
            "ACL",
            "SETUSER",
            "default",
            "resetpass",
            ">lab-another-password-0123",
        ])
        .unwrap();
    assert!(get(port, "/metrics").1.contains("\nredis_up 0\n"));
}

/// `docker port`'s host side in the lab is where a socket really listens (`/proc/net/tcp`).
#[test]
fn listen_addresses_are_read_from_the_kernel() {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    assert_eq!(
        cdb_lab::adapter::listen_addr(port),
        Some(std::net::Ipv4Addr::LOCALHOST)
    );
    drop(l);
    assert_eq!(cdb_lab::adapter::listen_addr(port), None);
}
