//! A stand-in consumer: one process per service of the stack that holds pooled connections, as
//! the real services do (drill-world behaviours `pooled-connections`, `auth-at-start`).
//!
//! At start it reads its secret files (the harness writes what the service's mounts show then,
//! `lab.rs`), opens one PostgreSQL session and/or one Redis connection with those values and
//! holds them. It uses a connection every 200 ms (a pool notices an ended connection on its next
//! use), and when one ends it reconnects with the values read at start, never re-reading the
//! files; a refused reconnect is retried every 200 ms, each refusal logged by the real server.
//! Where the real service validates its credentials at start (`auth-at-start`: `cdb_risk`,
//! `cdb_execution`), a refusal at start ends the process (exit 1), as `validate_all_auth` does.
//! It ends when its standard input closes: the harness dropped it, or the harness died.
//!
//! Where the service publishes an HTTP endpoint (stack facts, "Health endpoints"), the stand-in
//! serves it on a free 127.0.0.1 port, which the lab's `curl` and `docker port` reach
//! (adapter.rs): the Python services' `/health` is a constant 200 `{"status": "ok"}` while the
//! process runs (behaviour `health-constant`, services/*/service.py); the PostgreSQL exporter's
//! `/metrics` says `pg_up 1` when a query on its pooled session works, reconnecting with the
//! password read at start when the session ended (stack facts, "the exporters": `pg_up` shows
//! whether its own login works); the Redis exporter's says `redis_up 1` when a login with the
//! password read at start works (it holds no connection between scrapes, and the world lists
//! none for it, redis_conns.rs). Once its first connections are tried (and, where it validates,
//! accepted) it prints `ready PORT` (0: no endpoint) on standard output: the harness waits for
//! that line, so a container "started" in the world is a stand-in that has read its files and
//! validated, or has exited as the real service would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The first argument of a stand-in (`argv[1]`).
pub const MARKER: &str = "__cdb-lab-stand-in";

const USE_EVERY: Duration = Duration::from_millis(200);
const RETRY_EVERY: Duration = Duration::from_millis(200);

/// What one stand-in connects to and with.
#[derive(Debug, Clone)]
pub struct StandInArgs {
    pub name: String,
    /// The PostgreSQL password file (None: not a PostgreSQL consumer).
    pub pg_file: Option<PathBuf>,
    pub psql: PathBuf,
    /// The relay port on 127.0.0.2 (another container's view of `cdb_postgres:5432`).
    pub pg_port: u16,
    pub redis_file: Option<PathBuf>,
    pub redis_port: u16,
    /// The loopback address standing for the container's network address.
    pub src: Ipv4Addr,
    pub validate: bool,
    /// The HTTP endpoint it serves (`Http::None`: none).
    pub http: Http,
}

/// Which HTTP endpoint a stand-in serves (stack facts, "Health endpoints").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Http {
    None,
    /// `GET /health`: a constant 200 (behaviour `health-constant`).
    Health,
    /// The PostgreSQL exporter's `GET /metrics` with `pg_up`.
    PgMetrics,
    /// The Redis exporter's `GET /metrics` with `redis_up`.
    RedisMetrics,
}

impl Http {
    /// The endpoint of `service`, from the world's endpoint table (`cdb_drill::world::ENDPOINTS`).
    pub fn of(service: &str) -> Http {
        match service {
            "cdb_postgres_exporter" => Http::PgMetrics,
            "cdb_redis_exporter" => Http::RedisMetrics,
            s if cdb_drill::behaviour::applies("health-constant", s) => Http::Health,
            _ => Http::None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Http::None => "-",
            Http::Health => "health",
            Http::PgMetrics => "pg-metrics",
            Http::RedisMetrics => "redis-metrics",
        }
    }

    fn parse(w: &str) -> Option<Http> {
        Some(match w {
            "-" => Http::None,
            "health" => Http::Health,
            "pg-metrics" => Http::PgMetrics,
            "redis-metrics" => Http::RedisMetrics,
            _ => return None,
        })
    }
}

impl StandInArgs {
    pub fn to_args(&self) -> Vec<String> {
        let mut a = vec![
            MARKER.to_owned(),
            self.name.clone(),
            self.psql.display().to_string(),
            self.pg_port.to_string(),
            self.redis_port.to_string(),
            self.src.to_string(),
            if self.validate {
                "validate"
            } else {
                "no-validate"
            }
            .to_owned(),
        ];
        a.push(
            self.pg_file
                .as_ref()
                .map_or("-".into(), |p| p.display().to_string()),
        );
        a.push(
            self.redis_file
                .as_ref()
                .map_or("-".into(), |p| p.display().to_string()),
        );
        a.push(self.http.word().to_owned());
        a
    }

    fn parse(a: &[String]) -> Option<StandInArgs> {
        let [
            name,
            psql,
            pg_port,
            redis_port,
            src,
            validate,
            pg_file,
            redis_file,
            http,
        ] = a
        else {
            return None;
        };
        let file = |f: &String| (f != "-").then(|| PathBuf::from(f));
        Some(StandInArgs {
            name: name.clone(),
            psql: psql.into(),
            pg_port: pg_port.parse().ok()?,
            redis_port: redis_port.parse().ok()?,
            src: src.parse().ok()?,
            validate: validate == "validate",
            pg_file: file(pg_file),
            redis_file: file(redis_file),
            http: Http::parse(http)?,
        })
    }
}

/// When this process is a stand-in, runs it.
pub fn entry() -> Option<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some(MARKER) {
        return None;
    }
    let Some(a) = StandInArgs::parse(&args[1..]) else {
        eprintln!("stand-in: bad arguments");
        return Some(ExitCode::from(2));
    };
    // The harness ends a stand-in by closing its standard input; the kernel closes it too when
    // the harness dies in any way. (Not PR_SET_PDEATHSIG: it fires when the *thread* that
    // started the process ends, and the harness starts stand-ins from short-lived threads.)
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        // End of input or an error: either way the harness is gone.
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    // Read at start, once: a pool reconnects with these values for the process's life.
    // A missing or unreadable file is an empty password, as a consumer whose secret is gone logs
    // in with none; an unreadable one is said in the stand-in's log.
    let read = |p: &Option<PathBuf>| {
        p.as_ref().map(|p| match std::fs::read_to_string(p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                eprintln!("{}: cannot read {}: {e}", a.name, p.display());
                String::new()
            }
        })
    };
    let pg_pw = read(&a.pg_file);
    // The Redis exporter logs in per scrape and holds no connection (module doc).
    let redis_pw = if a.http == Http::RedisMetrics {
        None
    } else {
        read(&a.redis_file)
    };
    let scrape_pw = read(&a.redis_file);
    let pg: Arc<Mutex<Option<PgSession>>> = Arc::new(Mutex::new(None));
    let mut redis: Option<TcpStream> = None;
    let mut first = true;
    loop {
        if let Some(pw) = &pg_pw {
            let up = pg_use(&a, pw, &pg);
            if !up {
                eprintln!("{}: PostgreSQL refused the password read at start", a.name);
                if first && a.validate {
                    return Some(ExitCode::from(1));
                }
            }
        }
        if let Some(pw) = &redis_pw
            && !redis.as_mut().is_some_and(redis_alive)
        {
            redis = match redis_connect(&a, pw) {
                Ok(s) => Some(s),
                Err(e) => {
                    eprintln!("{}: Redis: {e}", a.name);
                    None
                }
            };
            if redis.is_none() {
                eprintln!("{}: Redis refused the password read at start", a.name);
                if first && a.validate {
                    return Some(ExitCode::from(1));
                }
            }
        }
        if first {
            // Started: serve the endpoint and tell the harness where (module doc).
            let port = match serve_http(&a, pg_pw.clone(), scrape_pw.clone(), Arc::clone(&pg)) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{}: cannot serve its endpoint: {e}", a.name);
                    return Some(ExitCode::from(2));
                }
            };
            let mut out = std::io::stdout().lock();
            // A harness that cannot read this stops waiting at its time-out and says so.
            let _ = writeln!(out, "ready {port}");
            let _ = out.flush();
        }
        first = false;
        let pg_up = pg.lock().map(|g| g.is_some()).unwrap_or(false);
        let all_up = pg_pw.is_none() != pg_up && redis_pw.is_none() == redis.is_none();
        std::thread::sleep(if all_up { USE_EVERY } else { RETRY_EVERY });
    }
}

/// Uses the pooled session, reconnecting with `pw` when it ended; whether it works now.
fn pg_use(a: &StandInArgs, pw: &str, pg: &Mutex<Option<PgSession>>) -> bool {
    let Ok(mut g) = pg.lock() else {
        return false;
    };
    if g.as_mut().is_some_and(pg_alive) {
        return true;
    }
    *g = pg_connect(a, pw);
    g.is_some()
}

/// Serves the stand-in's endpoint on a free 127.0.0.1 port (0: none), on a thread.
fn serve_http(
    a: &StandInArgs,
    pg_pw: Option<String>,
    redis_pw: Option<String>,
    pg: Arc<Mutex<Option<PgSession>>>,
) -> std::io::Result<u16> {
    if a.http == Http::None {
        return Ok(0);
    }
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let port = listener.local_addr()?.port();
    let a = a.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            // Without a time-out a silent client would hold this one-at-a-time server.
            if conn.set_read_timeout(Some(Duration::from_secs(5))).is_err() {
                continue;
            }
            let mut r = BufReader::new(match conn.try_clone() {
                Ok(c) => c,
                Err(_) => continue,
            });
            let mut request = String::new();
            if r.read_line(&mut request).unwrap_or(0) == 0 {
                continue;
            }
            // The headers, up to the empty line (no body: every endpoint is a GET).
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let path = path.split('?').next().unwrap_or(path);
            let (status, body) = match (a.http, path) {
                (Http::Health, "/health") => (200, "{\"status\": \"ok\"}\n".to_owned()),
                (Http::PgMetrics, "/metrics") => {
                    let up = pg_pw.as_deref().is_some_and(|pw| pg_use(&a, pw, &pg));
                    (
                        200,
                        format!(
                            "# TYPE pg_up gauge\npg_up {}\npg_exporter_last_scrape_error {}\n",
                            u8::from(up),
                            u8::from(!up)
                        ),
                    )
                }
                (Http::RedisMetrics, "/metrics") => {
                    let up = redis_pw
                        .as_deref()
                        .is_some_and(|pw| redis_connect(&a, pw).is_ok());
                    (
                        200,
                        format!("# TYPE redis_up gauge\nredis_up {}\n", u8::from(up)),
                    )
                }
                _ => (404, "404 page not found\n".to_owned()),
            };
            let reason = if status == 200 { "OK" } else { "Not Found" };
            // The client went away: no one to answer.
            let _ = write!(
                conn,
                "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Ok(port)
}

/// One `psql` session and its output, read line by line.
struct PgSession {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Drop for PgSession {
    fn drop(&mut self) {
        // Clean-up in drop: psql may have ended already; no one to tell.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `psql` session from "another container" (through the relay), logged in with `pw`.
fn pg_connect(a: &StandInArgs, pw: &str) -> Option<PgSession> {
    let mut child = Command::new(&a.psql)
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-h",
            "127.0.0.2",
            "-p",
            &a.pg_port.to_string(),
        ])
        .args(["-U", "claire_user", "-d", "claire_de_binare"])
        .env_clear()
        .env("PGPASSWORD", pw)
        .env("PGPASSFILE", "/nonexistent/pgpass")
        .env("PGCONNECT_TIMEOUT", "5")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let out = BufReader::new(child.stdout.take()?);
    let mut s = PgSession { child, out };
    pg_alive(&mut s).then_some(s)
}

/// Uses the session (a pool's next query, a round trip); `false` once it has ended: psql
/// leaves when the server ends its connection (non-interactive), so the answer never comes.
fn pg_alive(s: &mut PgSession) -> bool {
    let sent = s
        .child
        .stdin
        .as_mut()
        .is_some_and(|i| i.write_all(b"SELECT 1;\n").and_then(|()| i.flush()).is_ok());
    let mut line = String::new();
    sent && s.out.read_line(&mut line).unwrap_or(0) > 0 && line.trim() == "1"
}

fn redis_connect(a: &StandInArgs, pw: &str) -> Result<TcpStream, String> {
    use rustix::net::{AddressFamily, SocketType};
    let e = |what: &str, err: std::io::Error| format!("{what}: {err}");
    let fd = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None)
        .map_err(|x| e("socket", x.into()))?;
    rustix::net::bind(&fd, &SocketAddrV4::new(a.src, 0)).map_err(|x| e("bind", x.into()))?;
    rustix::net::connect(&fd, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, a.redis_port))
        .map_err(|x| e("connect", x.into()))?;
    let mut s = TcpStream::from(fd);
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|x| e("timeout", x))?;
    let reply = command(&mut s, &["AUTH", pw]).ok_or("no reply to AUTH")?;
    if reply.starts_with('+') {
        Ok(s)
    } else {
        Err(format!("AUTH: {}", reply.trim()))
    }
}

fn redis_alive(s: &mut TcpStream) -> bool {
    command(s, &["PING"]).is_some_and(|r| r.starts_with('+'))
}

/// Sends one command and reads a one-line reply.
fn command(s: &mut TcpStream, args: &[&str]) -> Option<String> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    s.write_all(&out).ok()?;
    let mut r = BufReader::new(s.try_clone().ok()?);
    let mut line = String::new();
    (r.read_line(&mut line).ok()? > 0).then_some(line)
}
