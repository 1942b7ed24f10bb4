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

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

/// argv[1] of a stand-in.
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
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    // Read at start, once: a pool reconnects with these values for the process's life.
    let read = |p: &Option<PathBuf>| {
        p.as_ref()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
    };
    let pg_pw = read(&a.pg_file);
    let redis_pw = read(&a.redis_file);
    let mut pg: Option<std::process::Child> = None;
    let mut redis: Option<TcpStream> = None;
    let mut first = true;
    loop {
        if let Some(pw) = &pg_pw
            && !pg.as_mut().is_some_and(pg_alive)
        {
            pg = pg_connect(&a, pw);
            if pg.is_none() {
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
        first = false;
        let all_up = pg_pw.is_none() == pg.is_none() && redis_pw.is_none() == redis.is_none();
        std::thread::sleep(if all_up { USE_EVERY } else { RETRY_EVERY });
    }
}

/// One `psql` session from "another container" (through the relay), logged in with `pw`.
fn pg_connect(a: &StandInArgs, pw: &str) -> Option<std::process::Child> {
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
    let mut out = BufReader::new(child.stdout.take()?);
    let ok = child
        .stdin
        .as_mut()
        .is_some_and(|s| s.write_all(b"SELECT 1;\n").and_then(|()| s.flush()).is_ok());
    let mut line = String::new();
    if !ok || out.read_line(&mut line).unwrap_or(0) == 0 || line.trim() != "1" {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    }
    // Keep draining its output so the pipe never fills.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while out.read_line(&mut sink).unwrap_or(0) > 0 {
            sink.clear();
        }
    });
    Some(child)
}

/// Uses the session (a pool's next query); `false` once it has ended.
fn pg_alive(child: &mut std::process::Child) -> bool {
    if !matches!(child.try_wait(), Ok(None)) {
        return false;
    }
    let used = child
        .stdin
        .as_mut()
        .is_some_and(|s| s.write_all(b"SELECT 1;\n").and_then(|()| s.flush()).is_ok());
    if !used {
        let _ = child.kill();
        let _ = child.wait();
    }
    used
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
