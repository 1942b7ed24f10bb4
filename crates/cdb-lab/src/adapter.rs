//! The one adapter from Docker's verbs to the lab: what `docker …` means when the servers are real.
//!
//! A step runs unchanged; its `docker` is this adapter (a link named `docker` to the lab's tool,
//! with `CDB_LAB_ADAPTER` naming the lab's config file). It maps:
//! - `docker exec [-i] [-e NAME[=V]]… cdb_postgres psql ARGS` onto the real `psql`: no `-h` is
//!   the server's Unix socket (trusted, as `docker exec` inside the official image is),
//!   `-h cdb_postgres` is the relay on 127.0.0.2 (not trusted: what another container sees,
//!   relay.rs), `-h 127.0.0.1`/`localhost` the trusted loopback port. Only the `-e` variables
//!   reach the inner program, as with `docker exec`.
//! - `docker exec … cdb_redis redis-cli ARGS` onto the real `redis-cli -p PORT` (no TLS in the lab).
//! - `docker logs [--since T] [--timestamps] cdb_postgres` onto the real server's log (stderr,
//!   where the official image logs and where `docker logs` shows a container's stderr).
//! - `docker exec|compose|inspect|ps|port|restart|stop|start` for a service that has a stand-in
//!   (lab mode, `crate::consumers`) onto that process; with no stand-ins (the conformance suite)
//!   every other verb goes to the drill's mock `docker`, answered from the same world snapshot.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// The environment variable naming the lab's config file (`key=value` lines).
pub const ADAPTER_VAR: &str = "CDB_LAB_ADAPTER";

/// Where the real servers are, for the adapter (written by the harness, read per call).
#[derive(Debug, Clone, Default)]
pub struct AdapterConf {
    pub pg_bin: PathBuf,
    pub pg_socket: PathBuf,
    pub pg_port: u16,
    pub pg_remote_port: u16,
    pub pg_log: PathBuf,
    pub redis_cli: PathBuf,
    pub redis_port: u16,
    /// The lab Redis' dir (shown as `/data`, normalise::container_view).
    pub redis_dir: PathBuf,
    /// The executable that answers `__cdb-mock docker …` (the drill's mocks).
    pub mock_exe: PathBuf,
    /// Lab mode: the harness's socket for `sync` after a Compose verb; every call is then
    /// also shadowed into the mock so the world moves as in the mock drill (lab.rs).
    pub control: Option<PathBuf>,
}

impl AdapterConf {
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let text = format!(
            "pg_bin={}\npg_socket={}\npg_port={}\npg_remote_port={}\npg_log={}\nredis_cli={}\nredis_port={}\nredis_dir={}\nmock_exe={}\n",
            self.pg_bin.display(),
            self.pg_socket.display(),
            self.pg_port,
            self.pg_remote_port,
            self.pg_log.display(),
            self.redis_cli.display(),
            self.redis_port,
            self.redis_dir.display(),
            self.mock_exe.display()
        );
        let text = match &self.control {
            Some(c) => format!("{text}control={}\n", c.display()),
            None => text,
        };
        std::fs::write(path, text)
    }

    pub fn read(path: &Path) -> Result<AdapterConf, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut c = AdapterConf::default();
        for (n, line) in text.lines().enumerate() {
            let Some((k, v)) = line.split_once('=') else {
                return Err(format!("{}:{}: not key=value", path.display(), n + 1));
            };
            let port = |v: &str| {
                v.parse::<u16>()
                    .map_err(|_| format!("{}:{}: bad port {v:?}", path.display(), n + 1))
            };
            match k {
                "pg_bin" => c.pg_bin = v.into(),
                "pg_socket" => c.pg_socket = v.into(),
                "pg_port" => c.pg_port = port(v)?,
                "pg_remote_port" => c.pg_remote_port = port(v)?,
                "pg_log" => c.pg_log = v.into(),
                "redis_cli" => c.redis_cli = v.into(),
                "redis_port" => c.redis_port = port(v)?,
                "redis_dir" => c.redis_dir = v.into(),
                "mock_exe" => c.mock_exe = v.into(),
                "control" => c.control = Some(v.into()),
                _ => return Err(format!("{}:{}: unknown key {k:?}", path.display(), n + 1)),
            }
        }
        Ok(c)
    }
}

/// When this process is the adapter (called as `docker` with `CDB_LAB_ADAPTER` set), runs it.
pub fn entry() -> Option<ExitCode> {
    let mut args = std::env::args_os();
    let a0 = args.next()?;
    let name = Path::new(&a0).file_name()?.to_string_lossy().into_owned();
    if name != "docker" && name != "sleep" {
        return None;
    }
    let conf = std::env::var_os(ADAPTER_VAR)?;
    if name == "sleep" {
        // Lab mode's clock (normalise::SLEEP_DIVISOR).
        let secs: f64 = args
            .next()
            .and_then(|a| a.to_str()?.trim_end_matches('s').parse().ok())
            .unwrap_or(0.0);
        let d = crate::normalise::lab_sleep_secs(secs).clamp(0.0, 5.0);
        std::thread::sleep(std::time::Duration::from_secs_f64(d));
        return Some(ExitCode::SUCCESS);
    }
    let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    let code = match AdapterConf::read(Path::new(&conf)) {
        Ok(c) => docker(&c, &args),
        Err(e) => {
            eprintln!("docker (cdb-lab adapter): {e}");
            125
        }
    };
    Some(ExitCode::from(
        u8::try_from(code.clamp(0, 255)).unwrap_or(1),
    ))
}

/// `docker ARGS` in the lab. Returns the exit code (or does not return: `exec`).
pub fn docker(c: &AdapterConf, args: &[String]) -> i32 {
    let verb = args.first().map(String::as_str);
    let to_server = match verb {
        Some("exec") => parse_exec(&args[1..]).is_some_and(|e| {
            matches!(
                (e.container, e.cmd.first().map(String::as_str)),
                ("cdb_postgres", Some("psql")) | ("cdb_redis", Some("redis-cli"))
            )
        }),
        Some("logs") => args.last().is_some_and(|a| a == "cdb_postgres"),
        _ => false,
    };
    if c.control.is_none() {
        // The conformance suite: servers real, the rest answered by the mock.
        return match (to_server, verb) {
            (true, Some("exec")) => exec(c, &args[1..], None).unwrap_or(125),
            (true, _) => pg_logs(c, &args[1..]),
            _ => forward_to_mock(c, args),
        };
    }
    // Lab mode: the mock sees every call, so the world moves as in the mock drill.
    let interactive = verb == Some("exec") && parse_exec(&args[1..]).is_some_and(|e| e.interactive);
    let input = if interactive {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf);
        Some(buf)
    } else {
        None
    };
    if to_server {
        let _ = shadow(c, args, input.as_deref(), false);
        // The harness counts what reached the real servers (lab.rs `LabOutcome::server_calls`).
        if let Some(control) = &c.control {
            let log = control.with_file_name("server-calls.log");
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
            {
                let what = parse_exec(&args[1..])
                    .and_then(|e| e.cmd.first().cloned())
                    .unwrap_or_else(|| "logs".into());
                let _ = writeln!(f, "{what}");
            }
        }
        return match verb {
            Some("exec") => exec(c, &args[1..], input).unwrap_or(125),
            _ => pg_logs(c, &args[1..]),
        };
    }
    match verb {
        Some("compose" | "restart" | "stop" | "start" | "kill" | "rm" | "up") => {
            let code = shadow(c, args, input.as_deref(), true).unwrap_or(125);
            if let Err(e) = sync(c) {
                eprintln!("docker (cdb-lab adapter): the lab did not follow: {e}");
                return 125;
            }
            code
        }
        Some("inspect") => {
            let out = Command::new(&c.mock_exe)
                .arg(cdb_drill::mock::MARKER)
                .arg("docker")
                .args(args)
                .stderr(Stdio::inherit())
                .output();
            match out {
                Ok(o) => {
                    print!(
                        "{}",
                        crate::normalise::lab_address(&String::from_utf8_lossy(&o.stdout))
                    );
                    o.status.code().unwrap_or(1)
                }
                Err(e) => {
                    eprintln!("docker (cdb-lab adapter): cannot run the mock: {e}");
                    125
                }
            }
        }
        _ => forward_to_mock(c, args),
    }
}

/// Runs the mock `docker` with `args` (and `input`), showing its output only when `visible`.
fn shadow(c: &AdapterConf, args: &[String], input: Option<&[u8]>, visible: bool) -> Option<i32> {
    let out = if visible { Stdio::inherit } else { Stdio::null };
    let mut child = Command::new(&c.mock_exe)
        .arg(cdb_drill::mock::MARKER)
        .arg("docker")
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(out())
        .stderr(out())
        .spawn()
        .ok()?;
    if let (Some(mut s), Some(i)) = (child.stdin.take(), input) {
        let _ = s.write_all(i);
    }
    child.wait().ok()?.code()
}

/// Asks the lab harness to make the stand-ins follow the world, and waits for it.
fn sync(c: &AdapterConf) -> Result<(), String> {
    let Some(control) = &c.control else {
        return Ok(());
    };
    let world = std::env::var(cdb_drill::mock::STATE_VAR).map_err(|e| e.to_string())?;
    let mut s = std::os::unix::net::UnixStream::connect(control).map_err(|e| e.to_string())?;
    writeln!(s, "sync {world}").map_err(|e| e.to_string())?;
    let mut reply = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(&s), &mut reply)
        .map_err(|e| e.to_string())?;
    match reply.trim() {
        "ok" => Ok(()),
        other => Err(other.to_owned()),
    }
}

/// The drill's mock `docker`, answered from the world file the step's environment names.
fn forward_to_mock(c: &AdapterConf, args: &[String]) -> i32 {
    let err = Command::new(&c.mock_exe)
        .arg(cdb_drill::mock::MARKER)
        .arg("docker")
        .args(args)
        .exec();
    eprintln!("docker (cdb-lab adapter): cannot run the mock: {err}");
    125
}

/// `docker exec`'s options, the container and the inner command.
struct Exec<'a> {
    interactive: bool,
    env: BTreeMap<String, String>,
    container: &'a str,
    cmd: &'a [String],
}

fn parse_exec(args: &[String]) -> Option<Exec<'_>> {
    let mut interactive = false;
    let mut env = BTreeMap::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-i" | "--interactive" | "-it" | "-ti" => interactive = true,
            "-t" | "--tty" | "-d" | "--detach" | "--privileged" => {}
            "-e" | "--env" => {
                i += 1;
                let v = args.get(i)?;
                match v.split_once('=') {
                    Some((k, val)) => env.insert(k.to_owned(), val.to_owned()),
                    // `-e NAME` passes the caller's value, or nothing when it is unset.
                    None => match std::env::var(v) {
                        Ok(val) => env.insert(v.clone(), val),
                        Err(_) => None,
                    },
                };
            }
            "-u" | "--user" | "-w" | "--workdir" => i += 1,
            _ if a.starts_with("--env=") => {
                if let Some((k, val)) = a["--env=".len()..].split_once('=') {
                    env.insert(k.to_owned(), val.to_owned());
                }
            }
            _ if a.starts_with('-') => {}
            _ => {
                return Some(Exec {
                    interactive,
                    env,
                    container: a,
                    cmd: &args[i + 1..],
                });
            }
        }
        i += 1;
    }
    None
}

/// `Some(code)` when the exec went to a real server; `None`: not ours, the mock answers.
/// `input`: the standard input already read (lab mode shares it with the mock).
fn exec(c: &AdapterConf, args: &[String], input: Option<Vec<u8>>) -> Option<i32> {
    let e = parse_exec(args)?;
    let (program, rest) = e.cmd.split_first()?;
    let mut cmd = match (e.container, program.as_str()) {
        ("cdb_postgres", "psql") => psql(c, rest),
        ("cdb_redis", "redis-cli") => match redis_cli(c, rest) {
            Ok(cmd) => cmd,
            Err(msg) => {
                eprintln!("{msg}");
                return Some(1);
            }
        },
        _ => return None,
    };
    // Inside a container the program sees only what `-e` passed (and the image's defaults).
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LANG", "C")
        .envs(&e.env);
    if !e.interactive {
        cmd.stdin(Stdio::null());
    }
    if let Some(input) = input {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let Ok(mut child) = cmd.spawn() else {
            eprintln!("docker (cdb-lab adapter): cannot run {program}");
            return Some(126);
        };
        if let Some(mut s) = child.stdin.take() {
            let _ = s.write_all(&input);
        }
        let out = child.wait_with_output();
        return Some(match out {
            Ok(o) => {
                let text = String::from_utf8_lossy(&o.stdout);
                let dir = c.redis_dir.to_string_lossy();
                print!("{}", crate::normalise::container_view(&text, &dir));
                o.status.code().unwrap_or(1)
            }
            Err(_) => 126,
        });
    }
    let config_get = program == "redis-cli"
        && rest
            .windows(2)
            .any(|w| w[0].eq_ignore_ascii_case("config") && w[1].eq_ignore_ascii_case("get"));
    if config_get {
        // The server's paths as the container shows them (normalise::container_view).
        return Some(match cmd.stderr(Stdio::inherit()).output() {
            Ok(o) => {
                let text = String::from_utf8_lossy(&o.stdout);
                let dir = c.redis_dir.to_string_lossy();
                print!("{}", crate::normalise::container_view(&text, &dir));
                o.status.code().unwrap_or(1)
            }
            Err(err) => {
                eprintln!("docker (cdb-lab adapter): cannot run {program}: {err}");
                126
            }
        });
    }
    let err = cmd.exec();
    eprintln!("docker (cdb-lab adapter): cannot run {program}: {err}");
    Some(126)
}

fn psql(c: &AdapterConf, args: &[String]) -> Command {
    let mut out: Vec<OsString> = Vec::new();
    let mut host: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "-h" || a == "--host" {
            host = args.get(i + 1).cloned();
            i += 2;
            continue;
        }
        if let Some(h) = a.strip_prefix("--host=") {
            host = Some(h.to_owned());
        } else {
            out.push(a.into());
        }
        i += 1;
    }
    let (h, p): (OsString, u16) = match host.as_deref() {
        None => (c.pg_socket.clone().into(), c.pg_port),
        // The container's own name from inside: a TCP connection from the container's
        // network address, which the official image's pg_hba.conf does not trust.
        Some("cdb_postgres") => ("127.0.0.2".into(), c.pg_remote_port),
        Some("127.0.0.1" | "localhost") => ("127.0.0.1".into(), c.pg_port),
        Some(other) => (other.into(), c.pg_port),
    };
    let mut cmd = Command::new(c.pg_bin.join("psql"));
    cmd.arg("-h").arg(h).arg("-p").arg(p.to_string()).args(out);
    // No ~/.pgpass in the container: a login has only what the step passed.
    cmd.env("PGPASSFILE", "/nonexistent/pgpass");
    cmd
}

fn redis_cli(c: &AdapterConf, args: &[String]) -> Result<Command, String> {
    if args.iter().any(|a| a == "--tls") {
        return Err("redis-cli (cdb-lab): the lab's Redis has no TLS listener; the TLS overlay is not in the lab".into());
    }
    let mut cmd = Command::new(&c.redis_cli);
    cmd.args(["-h", "127.0.0.1", "-p", &c.redis_port.to_string()])
        .args(args);
    Ok(cmd)
}

/// `docker logs [--since T] [-t] cdb_postgres`: the real server's log lines (PostgreSQL's
/// `log_line_prefix = '%m [%p] '`, UTC), those at or after `T` (Unix seconds or RFC 3339).
fn pg_logs(c: &AdapterConf, args: &[String]) -> i32 {
    // Milliseconds: Docker takes `seconds[.nanoseconds]` and the log has milliseconds (`%m`).
    let mut since: Option<i64> = None;
    let mut stamps = false;
    let mut i = 0;
    while i + 1 < args.len() {
        let a = &args[i];
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if a.starts_with("--") => (f, Some(v.to_owned())),
            _ => (a.as_str(), None),
        };
        match flag {
            "--since" => {
                let v = match inline {
                    Some(v) => v,
                    None => {
                        i += 1;
                        args.get(i).cloned().unwrap_or_default()
                    }
                };
                match unix_millis(&v).or_else(|| parse_stamp(&v).map(|t| t * 1000)) {
                    Some(s) => since = Some(s),
                    None => {
                        eprintln!(
                            "invalid value for \"since\": failed to parse value as time or duration: \"{v}\""
                        );
                        return 1;
                    }
                }
            }
            "-t" | "--timestamps" => stamps = true,
            _ => {}
        }
        i += 1;
    }
    let log = std::fs::read_to_string(&c.pg_log).unwrap_or_default();
    let mut err = std::io::stderr().lock();
    for line in log.lines() {
        let at = parse_stamp(line).map(|t| t * 1000 + stamp_millis(line));
        if let (Some(s), Some(t)) = (since, at)
            && t < s
        {
            continue;
        }
        if since.is_some() && at.is_none() {
            continue;
        }
        if stamps {
            let prefix = line.get(..23).map(|s| s.replacen(' ', "T", 1));
            let _ = write!(err, "{}Z ", prefix.unwrap_or_default());
        }
        let _ = writeln!(err, "{line}");
    }
    0
}

/// `seconds[.fraction]` (Docker's Unix form of `--since`) as Unix milliseconds, the fraction
/// cut to milliseconds (the log's precision).
fn unix_millis(v: &str) -> Option<i64> {
    let (secs, frac) = v.split_once('.').unwrap_or((v, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms: String = frac.chars().chain("000".chars()).take(3).collect();
    Some(secs.parse::<i64>().ok()? * 1000 + ms.parse::<i64>().ok()?)
}

/// The milliseconds of a log line's `%m` stamp (`… 03:10:00.123 UTC …`), 0 without them.
fn stamp_millis(line: &str) -> i64 {
    match (line.get(19..20), line.get(20..23)) {
        (Some("."), Some(ms)) => ms.parse().unwrap_or(0),
        _ => 0,
    }
}

/// `YYYY-MM-DD HH:MM:SS…` (or with `T`) at the start of `s` as Unix seconds (UTC).
pub fn parse_stamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b' ' || b[10] == b'T') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    Some(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_parse_as_utc_seconds() {
        assert_eq!(parse_stamp("1970-01-01 00:00:00.000 UTC"), Some(0));
        assert_eq!(
            parse_stamp("2026-12-06 03:10:00.123 UTC [12] LOG:  x"),
            Some(1_796_526_600)
        );
        assert_eq!(parse_stamp("DETAIL: no stamp"), None);
        assert_eq!(unix_millis("1765000000"), Some(1_765_000_000_000));
        assert_eq!(unix_millis("1765000000.123456"), Some(1_765_000_000_123));
        assert_eq!(unix_millis("1765000000.5"), Some(1_765_000_000_500));
        assert_eq!(unix_millis("2026-12-06T03:10:00Z"), None);
        assert_eq!(
            stamp_millis("2026-12-06 03:10:00.123 UTC [12] LOG:  x"),
            123
        );
    }

    #[test]
    fn exec_options_are_parsed_as_docker_does() {
        let a: Vec<String> = ["-i", "-e", "A=1", "cdb_postgres", "psql", "-U", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let e = parse_exec(&a).unwrap_or_else(|| panic!("no container"));
        assert!(e.interactive);
        assert_eq!(e.container, "cdb_postgres");
        assert_eq!(e.env.get("A").map(String::as_str), Some("1"));
        assert_eq!(e.cmd.len(), 3);
    }
}
