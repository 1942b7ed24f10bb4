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
//! - lab mode (stand-in consumers, lab.rs), where every call is also shadowed into the mock so
//!   the world moves as in the mock drill:
//!   - `docker compose up [--force-recreate]`, `restart`, `stop`, `start`, `kill`, `rm`: the mock
//!     moves the world, then the harness makes the processes follow (`sync`): a recreated or
//!     restarted consumer's stand-in starts again and reads its files again, a stopped one
//!     ends, a recreate of `cdb_redis` or `cdb_postgres` restarts the real server;
//!   - `docker inspect`, `docker ps`, `docker compose ps`: answered by the mock from the world as
//!     the lab's processes show it (`view`, lab.rs): a consumer runs while its stand-in does,
//!     the servers while the real ones do, `cdb_redis`' login health check is the real
//!     server's answer; addresses on `cdb_network` are the stand-ins' loopback ones;
//!   - `docker port`: the world's published ports, each host side the address the real server
//!     or the stand-in listens on (read from `/proc/net/tcp`);
//!   - `curl http://127.0.0.1:PORT/…` (the sandbox's `curl` is this tool too): a port a stand-in
//!     serves (`/health`, the exporters' `/metrics`, standin.rs) goes to the real `curl` against
//!     that stand-in; Grafana's and Prometheus' endpoints stay the mock's (no stand-in: the lab
//!     has no Grafana);
//!   - `docker exec` into a consumer (`cat /run/secrets/…`, `env`) stays the mock's: a stand-in
//!     is a process, not a container with a file system, and what its mounts show is the
//!     world's bind-mount model of the sandbox's files.
//! - with no stand-ins (the conformance suite) every other verb goes to the drill's mock
//!   `docker`, answered from the same world snapshot.
//!
//! A `docker exec` into `cdb_postgres` or `cdb_redis` while the world has the container stopped
//! is the mock's too (Docker's "is not running" error), never the real server.

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
    /// The lab Redis' TLS port (0: none), listening while the world runs `cdb_redis` under the
    /// TLS overlay (conformance.rs `Lab::tls`).
    pub redis_tls_port: u16,
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
            "pg_bin={}\npg_socket={}\npg_port={}\npg_remote_port={}\npg_log={}\nredis_cli={}\nredis_port={}\nredis_tls_port={}\nredis_dir={}\nmock_exe={}\n",
            self.pg_bin.display(),
            self.pg_socket.display(),
            self.pg_port,
            self.pg_remote_port,
            self.pg_log.display(),
            self.redis_cli.display(),
            self.redis_port,
            self.redis_tls_port,
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
                "redis_tls_port" => c.redis_tls_port = port(v)?,
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
    if name != "docker" && name != "sleep" && name != "curl" {
        return None;
    }
    let conf = std::env::var_os(ADAPTER_VAR)?;
    if name == "curl" {
        let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
        let code = match AdapterConf::read(Path::new(&conf)) {
            Ok(c) => curl(&c, &args),
            Err(e) => {
                eprintln!("curl (cdb-lab adapter): {e}");
                2
            }
        };
        return Some(ExitCode::from(
            u8::try_from(code.clamp(0, 255)).unwrap_or(1),
        ));
    }
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
            ) && world_running(e.container)
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
        if let Err(e) = std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf) {
            eprintln!("docker (cdb-lab adapter): cannot read standard input: {e}");
            return 125;
        }
        Some(buf)
    } else {
        None
    };
    if to_server {
        // The mock must see the call (its exit code is the real server's business): a mock
        // that did not run leaves the world behind the servers, and every later verdict wrong.
        if shadow(c, args, input.as_deref(), false).is_none() {
            eprintln!(
                "docker (cdb-lab adapter): the mock did not follow the call (it could not start, or a signal ended it)"
            );
            return 125;
        }
        // The harness counts what reached the real servers (lab.rs `LabOutcome::server_calls`).
        let what = parse_exec(&args[1..])
            .and_then(|e| e.cmd.first().cloned())
            .unwrap_or_else(|| "logs".into());
        count(c, SERVER_CALLS, &what);
        return match verb {
            Some("exec") => exec(c, &args[1..], input).unwrap_or(125),
            _ => pg_logs(c, &args[1..]),
        };
    }
    let compose_ps = verb == Some("compose") && args.iter().skip(1).any(|a| a == "ps");
    match verb {
        Some("inspect" | "ps") => answer_from_view(c, args),
        Some("compose") if compose_ps => answer_from_view(c, args),
        Some("port") => port(c, args),
        Some("compose" | "restart" | "stop" | "start" | "kill" | "rm" | "up") => {
            let code = shadow(c, args, input.as_deref(), true).unwrap_or(125);
            if let Err(e) = sync(c) {
                eprintln!("docker (cdb-lab adapter): the lab did not follow: {e}");
                return 125;
            }
            code
        }
        _ => forward_to_mock(c, args),
    }
}

/// The run's logs of calls the lab answered from real processes (lab.rs `LabOutcome`).
pub const SERVER_CALLS: &str = "server-calls.log";
pub const PROCESS_CALLS: &str = "process-calls.log";

/// Appends `what` to the run's log `file` (lab mode only).
fn count(c: &AdapterConf, file: &str, what: &str) {
    if let Some(control) = &c.control
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(control.with_file_name(file))
    {
        // A tally for the lab's closing line, not a verdict: a lost line only undercounts it.
        let _ = writeln!(f, "{what}");
    }
}

/// The world the step's environment names (None: unset or unreadable).
fn world() -> Option<cdb_drill::world::World> {
    std::env::var_os(cdb_drill::mock::STATE_VAR)
        .and_then(|p| cdb_drill::world::World::load(Path::new(&p)).ok())
}

/// Whether the world the step's environment names has `container` running (a missing or
/// unreadable world: yes, and the call fails at the server as it would).
fn world_running(container: &str) -> bool {
    std::env::var_os(cdb_drill::mock::STATE_VAR)
        .and_then(|p| cdb_drill::world::World::load(Path::new(&p)).ok())
        .is_none_or(|w| w.running(container))
}

/// `docker inspect`, `docker ps`, `docker compose ps` in lab mode: shadowed into the world, then
/// answered by the mock from the world as the lab's processes show it (`view`, lab.rs).
fn answer_from_view(c: &AdapterConf, args: &[String]) -> i32 {
    // The world must see the call first (as `to_server` above); its answer is the view's.
    if shadow(c, args, None, false).is_none() {
        eprintln!(
            "docker (cdb-lab adapter): the mock did not follow the call (it could not start, or a signal ended it)"
        );
        return 125;
    }
    let view = match ask(c, "view") {
        Ok(reply) => PathBuf::from(reply),
        Err(e) => {
            eprintln!("docker (cdb-lab adapter): the lab cannot show its processes: {e}");
            return 125;
        }
    };
    let out = Command::new(&c.mock_exe)
        .arg(cdb_drill::mock::MARKER)
        .arg("docker")
        .args(args)
        .env(cdb_drill::mock::STATE_VAR, &view)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    // The view is a temp file of this call; one left behind is removed with the sandbox.
    let _ = std::fs::remove_file(&view);
    count(
        c,
        PROCESS_CALLS,
        args.first().map_or("docker", String::as_str),
    );
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

/// The stand-ins' endpoint ports (`SERVICE PORT` lines, lab.rs `PORTS_FILE`).
fn standin_ports(c: &AdapterConf) -> BTreeMap<String, u16> {
    let Some(control) = &c.control else {
        return BTreeMap::new();
    };
    // No file: no stand-in has started yet. Any other failure is said, and the call then goes
    // to the mock as if none ran.
    let text = match std::fs::read_to_string(control.with_file_name(crate::lab::PORTS_FILE)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            eprintln!("cdb-lab adapter: cannot read the stand-ins' ports: {e}");
            String::new()
        }
    };
    text.lines()
        .filter_map(|l| {
            let (s, p) = l.split_once(' ')?;
            Some((s.to_owned(), p.trim().parse().ok()?))
        })
        .collect()
}

/// The IPv4 address a TCP socket listens on at `port`, from `/proc/net/tcp` (`0.0.0.0` when it
/// listens on every address).
pub fn listen_addr(port: u16) -> Option<std::net::Ipv4Addr> {
    let text = std::fs::read_to_string("/proc/net/tcp").ok()?;
    text.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (addr, p) = f.get(1)?.split_once(':')?;
        // State 0A is LISTEN.
        if f.get(3) != Some(&"0A") || u16::from_str_radix(p, 16).ok()? != port {
            return None;
        }
        // The address is the kernel's u32 in host (little-endian) byte order, as hex.
        let n = u32::from_str_radix(addr, 16).ok()?;
        Some(std::net::Ipv4Addr::from(n.swap_bytes()))
    })
}

/// The host side of `container`'s published `port` in the lab: where the real server or the
/// stand-in listens (`None`: nothing of the lab stands for it).
fn lab_port(
    c: &AdapterConf,
    ports: &BTreeMap<String, u16>,
    container: &str,
    port: u16,
) -> Option<(std::net::Ipv4Addr, u16)> {
    let real = match (container, port) {
        ("cdb_postgres", 5432) => c.pg_port,
        ("cdb_redis", 6379) => c.redis_port,
        _ => {
            let p = *ports.get(container)?;
            cdb_drill::world::ENDPOINTS
                .iter()
                .any(|(ep, _, s)| *ep == port && *s == container)
                .then_some(p)?
        }
    };
    Some((listen_addr(real)?, real))
}

/// `docker port CONTAINER [PORT]` in lab mode: the world's published ports (the mock's answer),
/// each host side the address the lab's real server or stand-in listens on.
fn port(c: &AdapterConf, args: &[String]) -> i32 {
    let out = Command::new(&c.mock_exe)
        .arg(cdb_drill::mock::MARKER)
        .arg("docker")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    let o = match out {
        Ok(o) => o,
        Err(e) => {
            eprintln!("docker (cdb-lab adapter): cannot run the mock: {e}");
            return 125;
        }
    };
    let container = args.get(1).map_or("", String::as_str);
    let ports = standin_ports(c);
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        // `5432/tcp -> 127.0.0.1:5432`, or `127.0.0.1:5432` when one port was asked for.
        let (left, host) = match line.split_once(" -> ") {
            Some((l, h)) => (Some(l), h),
            None => (None, line),
        };
        let published = left
            .and_then(|l| l.split('/').next())
            .or_else(|| args.get(2).map(|p| p.trim_end_matches("/tcp")))
            .and_then(|p| p.parse::<u16>().ok());
        let real = published.and_then(|p| lab_port(c, &ports, container, p));
        if real.is_some() {
            count(c, PROCESS_CALLS, "port");
        }
        let host = real.map_or_else(|| host.to_owned(), |(a, p)| format!("{a}:{p}"));
        match left {
            Some(l) => println!("{l} -> {host}"),
            None => println!("{host}"),
        }
    }
    o.status.code().unwrap_or(1)
}

/// `curl` in lab mode (module doc): a URL on a port a stand-in serves goes to the real `curl`
/// against that stand-in, after the call is shadowed into the mock (the world records what
/// the mock's curl does, e.g. the exporter's pool reconnecting); every other call is the mock's.
fn curl(c: &AdapterConf, args: &[String]) -> i32 {
    let ports = standin_ports(c);
    let mut target: Option<(usize, String)> = None;
    for (i, a) in args.iter().enumerate() {
        let rest = a
            .strip_prefix("http://127.0.0.1:")
            .or_else(|| a.strip_prefix("http://localhost:"));
        let Some(rest) = rest else { continue };
        let (port, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        let Some(&(_, _, service)) = cdb_drill::world::ENDPOINTS
            .iter()
            .find(|(p, _, _)| *p == port)
        else {
            continue;
        };
        if let Some(real) = ports.get(service) {
            target = Some((i, format!("http://127.0.0.1:{real}{path}")));
        }
    }
    let mock = || {
        let mut m = Command::new(&c.mock_exe);
        m.arg(cdb_drill::mock::MARKER).arg("curl").args(args);
        m
    };
    let Some((i, url)) = target else {
        let err = mock().exec();
        eprintln!("curl (cdb-lab adapter): cannot run the mock: {err}");
        return 2;
    };
    // The mock sees the call so the world moves as in the mock drill; the real curl answers.
    if let Err(e) = mock()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        eprintln!("curl (cdb-lab adapter): cannot run the mock to follow the call: {e}");
        return 2;
    }
    count(c, PROCESS_CALLS, "curl");
    let mut real: Vec<String> = args.to_vec();
    real[i] = url;
    // `-q` first: no ~/.curlrc; an empty environment: no proxy.
    let err = Command::new("/usr/bin/curl")
        .arg("-q")
        .args(&real)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .exec();
    eprintln!("curl (cdb-lab adapter): cannot run /usr/bin/curl: {err}");
    2
}

/// Runs the mock `docker` with `args` (and `input`), showing its output only when `visible`;
/// its exit code, or `None` when it could not start or a signal ended it.
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
        // A mock that exits without reading all its input says so in its exit code.
        let _ = s.write_all(i);
    }
    child.wait().ok()?.code()
}

/// Asks the lab harness to make the stand-ins follow the world, and waits for it.
fn sync(c: &AdapterConf) -> Result<(), String> {
    if c.control.is_none() {
        return Ok(());
    }
    ask(c, "sync").map(drop)
}

/// Sends `WHAT WORLD` to the lab harness and returns what follows its `ok`.
fn ask(c: &AdapterConf, what: &str) -> Result<String, String> {
    let Some(control) = &c.control else {
        return Err("no lab harness".into());
    };
    let world = std::env::var(cdb_drill::mock::STATE_VAR).map_err(|e| e.to_string())?;
    let mut s = std::os::unix::net::UnixStream::connect(control).map_err(|e| e.to_string())?;
    writeln!(s, "{what} {world}").map_err(|e| e.to_string())?;
    let mut reply = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(&s), &mut reply)
        .map_err(|e| e.to_string())?;
    let reply = reply.trim();
    match reply.strip_prefix("ok") {
        Some(rest) => Ok(rest.trim().to_owned()),
        None => Err(reply.to_owned()),
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
    // `output()` below would default to no input: `-i` passes this process's standard input.
    cmd.stdin(if e.interactive {
        Stdio::inherit()
    } else {
        Stdio::null()
    });
    if let Some(input) = input {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let Ok(mut child) = cmd.spawn() else {
            eprintln!("docker (cdb-lab adapter): cannot run {program}");
            return Some(126);
        };
        if let Some(mut s) = child.stdin.take() {
            // A program that exits without reading all its input says so in its exit code.
            let _ = s.write_all(&input);
        }
        let out = child.wait_with_output();
        return Some(match out {
            Ok(o) => {
                let text = String::from_utf8_lossy(&o.stdout);
                let dir = c.redis_dir.to_string_lossy();
                let text = crate::normalise::container_view(&text, &dir);
                let pg = c.pg_socket.to_string_lossy();
                print!("{}", crate::normalise::pg_container_view(&text, &pg));
                o.status.code().unwrap_or(1)
            }
            Err(_) => 126,
        });
    }
    let config_get = program == "redis-cli"
        && rest
            .windows(2)
            .any(|w| w[0].eq_ignore_ascii_case("config") && w[1].eq_ignore_ascii_case("get"));
    if program == "psql" {
        // The server's TLS file paths as the container shows them (normalise::pg_container_view).
        return Some(match cmd.stderr(Stdio::inherit()).output() {
            Ok(o) => {
                let text = String::from_utf8_lossy(&o.stdout);
                print!(
                    "{}",
                    crate::normalise::pg_container_view(&text, &c.pg_socket.to_string_lossy())
                );
                o.status.code().unwrap_or(1)
            }
            Err(err) => {
                eprintln!("docker (cdb-lab adapter): cannot run {program}: {err}");
                126
            }
        });
    }
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

/// `redis-cli` inside `cdb_redis`. Under the TLS overlay the stack's Redis is TLS-only
/// (`--port 0 --tls-port 6379`, stack facts): every call goes to the lab's TLS port, so a plain
/// one fails as it does there, and `--cacert|--cert|--key /tls/F` name the files of the TLS
/// folder, which `cdb_redis` mounts whole at `/tls` (tls.rs), here `$CDB_TLS_DIR/F`.
fn redis_cli(c: &AdapterConf, args: &[String]) -> Result<Command, String> {
    let tls_on = world().is_some_and(|w| w.tls_on("cdb_redis"));
    let port = if tls_on {
        if c.redis_tls_port == 0 {
            return Err("redis-cli (cdb-lab): the world runs cdb_redis under the TLS overlay and the lab's Redis has no TLS port".into());
        }
        c.redis_tls_port
    } else {
        c.redis_port
    };
    let folder = std::env::var_os("CDB_TLS_DIR").map(PathBuf::from);
    let args: Vec<String> = args
        .iter()
        .map(|a| match (a.strip_prefix("/tls/"), &folder) {
            (Some(f), Some(d)) => d.join(f).to_string_lossy().into_owned(),
            _ => a.clone(),
        })
        .collect();
    let mut cmd = Command::new(&c.redis_cli);
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()])
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
    // No log yet is an empty one; a log that cannot be read is an error, not silence.
    let log = match std::fs::read_to_string(&c.pg_log) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            eprintln!("docker (cdb-lab adapter): cannot read PostgreSQL's log: {e}");
            return 1;
        }
    };
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
        // Standard error closed by the step: nothing is left to tell.
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
