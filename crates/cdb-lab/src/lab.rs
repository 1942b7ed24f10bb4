//! Lab mode: `drill <scenario> --lab` runs a scenario twice, in the mock world and with real
//! PostgreSQL and Redis and stand-in consumers, and fails when a step's verdict differs.
//!
//! The lab run is the drill engine itself (same phases, faults, journal), its steps run by
//! [`LabRunner`] (`cdb_drill::sandbox::StepRunner`): outside the jail, with the real `psql`,
//! `redis-cli` and `curl` behind the `docker` adapter (adapter.rs). The world stays the model of
//! what is neither a server nor a consumer's process (containers' files and mounts, Compose, the
//! exchange, Grafana): every `docker` and `curl` call is still shadowed into the mock, so the
//! world moves as in the mock drill; what the step sees of the servers and the consumers comes
//! from the real ones (`docker inspect`/`ps` through `State::view`, `docker port` from the
//! sockets, the stand-ins' endpoints). Before each step, and after each Compose verb the adapter
//! sees, the runner makes the stand-ins follow the world's containers (a recreate or restart
//! starts the stand-in again, so it reads its files again; a stopped container has none) and the
//! real servers follow a recreate or restart of `cdb_redis` (it re-reads its password file,
//! runtime changes lost) or `cdb_postgres` (every session ends).
//!
//! The steps run outside the drill's jail (its network namespace cannot reach the servers on
//! loopback), as the operator's shell would, with the sandbox's `PATH` only. `CDB_LAB_SHOW=1`
//! prints, at the end of a run, the servers' refused logins and terminations and each
//! stand-in's log, and the Redis clients at each sync (for debugging a difference).

use crate::adapter::{ADAPTER_VAR, AdapterConf};
use crate::conformance::{SuiteError, load_redis_auth, redis_ok};
use crate::standin::StandInArgs;
use crate::{Host, PgServer, PgSession, RedisConn, RedisServer};
use cdb_drill::journal::{Event, Journal};
use cdb_drill::sandbox::{Sandbox, StepRun, StepRunner};
use cdb_drill::world::World;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::Ipv4Addr;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The scenarios lab mode supports: their faults act on Docker (the world), on the secret files
/// (real files in the lab too), or add the leaker's ACL user at the start, which the runner
/// loads into the real Redis. The two `lab-failed-rotation-*` are the lab's own
/// (scenarios.rs): a failed rotation of each of database and cache that Verify catches and the
/// routine rollback recovers.
pub const SCENARIOS: &[&str] = &[
    "leak-db",
    "routine-db-straggler",
    "leak-cache",
    "leak-cache-live-connection",
    "lab-failed-rotation-db",
    "lab-failed-rotation-cache",
];

/// The file in the run's dir naming the stand-ins' endpoint ports (adapter.rs reads it).
pub const PORTS_FILE: &str = "ports";

/// How long a stand-in may take to read its files and try its connections.
const STANDIN_READY: Duration = Duration::from_secs(10);

/// Held for a whole lab run, and for a conformance run (whose mock side must run without the
/// lab's step runner): the runner a lab run sets is process-wide.
pub(crate) static LAB_RUN: Mutex<()> = Mutex::new(());

/// Runs `f` while no lab run is under way in this process: a lab run sets the process's step
/// runner (`sandbox::set_runner`), so a mock drill run beside it would run its steps in the lab
/// (and move the lab's stand-ins to its own world). Tests that run mock drills next to lab
/// drills in one process go through this.
pub fn without_lab<T>(f: impl FnOnce() -> T) -> T {
    let _one = LAB_RUN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    f()
}

/// A step whose verdict differs between the mock and the lab run.
#[derive(Debug, Clone)]
pub struct StepDifference {
    /// Its place among the steps run (0-based).
    pub index: usize,
    pub step: String,
    pub mock: String,
    pub lab: String,
}

#[derive(Debug)]
pub struct LabOutcome {
    pub mock: Journal,
    pub lab: Journal,
    pub differences: Vec<StepDifference>,
    pub pg_version: String,
    pub redis_version: String,
    /// How many `docker exec … psql|redis-cli` and `docker logs cdb_postgres` calls of the lab
    /// run reached the real servers.
    pub server_calls: usize,
    /// How many `curl`, `docker inspect|ps|port` calls of the lab run were answered from the
    /// stand-ins and the real servers' processes (adapter.rs), by what: `curl 40`, `inspect 12`.
    pub process_calls: BTreeMap<String, usize>,
}

/// Runs `scenario` in the mock and in the lab and compares the steps' verdicts.
pub fn run(cfg: &cdb_drill::Config, scenario: &str) -> Result<LabOutcome, SuiteError> {
    if !SCENARIOS.contains(&scenario) {
        return Err(SuiteError::Drill(format!(
            "lab mode runs {SCENARIOS:?}; `{scenario}` has faults the lab does not load into real servers"
        )));
    }
    // The step runner is the process's (sandbox::set_runner): one lab run at a time.
    let _one = LAB_RUN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let hub = crate::scenarios::hub(&cfg.root).map_err(SuiteError::Drill)?;
    let sc = crate::scenarios::load(&cfg.root, &hub, scenario).map_err(SuiteError::Drill)?;
    let mock = cdb_drill::engine::run_scenario(cfg, &hub, &sc)
        .map_err(|e| SuiteError::Drill(e.to_string()))?;
    let runner = Arc::new(LabRunner::start(&cfg.mock_exe)?);
    // A poisoned lock (a panicked sync) still holds the servers, whose versions are as they were.
    let pg_version = runner
        .state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .pg
        .version();
    let redis_version = runner
        .state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .redis
        .version()
        .to_owned();
    cdb_drill::sandbox::set_runner(Some(runner.clone()));
    let lab = cdb_drill::engine::run_scenario(cfg, &hub, &sc);
    cdb_drill::sandbox::set_runner(None);
    runner.stop();
    // A log that is not there counts no call: the adapter writes one only when a call came.
    let read_log =
        |f: &str| std::fs::read_to_string(runner.control.with_file_name(f)).unwrap_or_default();
    let server_calls = read_log(crate::adapter::SERVER_CALLS).lines().count();
    let mut process_calls: BTreeMap<String, usize> = BTreeMap::new();
    for l in read_log(crate::adapter::PROCESS_CALLS).lines() {
        *process_calls.entry(l.to_owned()).or_default() += 1;
    }
    let mut lab = lab.map_err(|e| SuiteError::Drill(e.to_string()))?;
    // The journal says what confined the steps: in the lab, nothing but the sandbox's PATH.
    lab.isolation =
        "none (lab mode: steps run outside the jail to reach the real servers on loopback)".into();
    let differences = compare(&mock, &lab);
    Ok(LabOutcome {
        mock,
        lab,
        differences,
        pg_version,
        redis_version,
        server_calls,
        process_calls,
    })
}

fn steps(j: &Journal) -> Vec<&cdb_drill::journal::StepEvent> {
    j.events
        .iter()
        .filter_map(|e| match e {
            Event::Step(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn verdict_line(s: &cdb_drill::journal::StepEvent) -> String {
    s.stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("PASS ") || l.starts_with("FAIL "))
        .map_or_else(|| format!("({}, no verdict line)", s.status), str::to_owned)
}

/// The steps whose status or verdict line differ, in order; a run that took another path is
/// one difference at the first step where the paths part.
pub fn compare(mock: &Journal, lab: &Journal) -> Vec<StepDifference> {
    let (m, l) = (steps(mock), steps(lab));
    let mut out = Vec::new();
    for i in 0..m.len().max(l.len()) {
        match (m.get(i), l.get(i)) {
            (Some(a), Some(b)) if a.id == b.id => {
                if a.status != b.status || verdict_line(a) != verdict_line(b) {
                    out.push(StepDifference {
                        index: i,
                        step: a.id.clone(),
                        mock: format!("{}\n{}", a.stdout, a.stderr),
                        lab: format!("{}\n{}", b.stdout, b.stderr),
                    });
                }
            }
            (a, b) => {
                out.push(StepDifference {
                    index: i,
                    step: a.or(b).map(|s| s.id.clone()).unwrap_or_default(),
                    mock: a.map_or("(the mock run ended here)".into(), |s| {
                        format!("ran {}: {}", s.id, verdict_line(s))
                    }),
                    lab: b.map_or("(the lab run ended here)".into(), |s| {
                        format!("ran {}: {}", s.id, verdict_line(s))
                    }),
                });
                break;
            }
        }
    }
    out
}

/// Runs a drill's steps against the real servers (see the module doc).
pub struct LabRunner {
    state: Mutex<State>,
    conf: PathBuf,
    control: PathBuf,
}

impl std::fmt::Debug for LabRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabRunner").finish_non_exhaustive()
    }
}

struct StandIn {
    child: Child,
    generation: u32,
    /// Its HTTP endpoint's port on 127.0.0.1 (0: none, or it exited before it was ready).
    port: u16,
}

struct State {
    pg: PgServer,
    redis: RedisServer,
    tool: PathBuf,
    dir: PathBuf,
    /// Whether the world's server state was loaded (at the drill's first step).
    loaded: bool,
    standins: BTreeMap<String, StandIn>,
    redis_generation: Option<u32>,
    pg_generation: Option<u32>,
    /// Sessions and connections of holders that are not services (the leaker).
    others_pg: Vec<PgSession>,
    others_redis: Vec<RedisConn>,
    /// The default user's passwords as last loaded (to log in after a step changed them).
    known: Vec<String>,
}

impl LabRunner {
    pub fn start(tool: &Path) -> Result<LabRunner, SuiteError> {
        let pg = PgServer::start().map_err(SuiteError::Lab)?;
        let redis = RedisServer::start().map_err(SuiteError::Lab)?;
        // The adapter's config, the control socket and the stand-ins' files live in the Redis
        // instance's dir: its supervisor removes it, also when this process is killed.
        let dir = redis.dir().to_path_buf();
        let conf = dir.join("adapter.conf");
        let control = dir.join("control.sock");
        let redis_cli = crate::instance::find_program("redis-cli", &["/usr/bin", "/usr/local/bin"])
            .map_err(SuiteError::Lab)?;
        AdapterConf {
            pg_bin: pg.bin_dir().to_path_buf(),
            pg_socket: pg.dir().to_path_buf(),
            pg_port: pg.port(),
            pg_remote_port: pg.remote_port(),
            pg_log: pg.log_path(),
            redis_cli,
            redis_port: redis.port(),
            // Lab drills run no TLS scenario (SCENARIOS): no TLS port.
            redis_tls_port: 0,
            redis_dir: redis.dir().to_path_buf(),
            mock_exe: tool.to_path_buf(),
            control: Some(control.clone()),
        }
        .write(&conf)
        .map_err(|e| SuiteError::Drill(e.to_string()))?;
        let runner = LabRunner {
            state: Mutex::new(State {
                pg,
                redis,
                tool: tool.to_path_buf(),
                dir,
                loaded: false,
                standins: BTreeMap::new(),
                redis_generation: None,
                pg_generation: None,
                others_pg: Vec::new(),
                others_redis: Vec::new(),
                known: Vec::new(),
            }),
            conf,
            control,
        };
        Ok(runner)
    }

    /// Stops every stand-in and the harness's connections (the servers stop when dropped).
    pub fn stop(&self) {
        // A poisoned lock (a panicked sync) still holds stand-ins that must stop.
        {
            let mut s = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // `CDB_LAB_SHOW`: a debugging aid; a log it cannot read shows nothing.
            if std::env::var_os("CDB_LAB_SHOW").is_some() {
                let log = std::fs::read_to_string(s.pg.log_path()).unwrap_or_default();
                for l in log
                    .lines()
                    .filter(|l| l.contains("authentication failed") || l.contains("terminating"))
                {
                    eprintln!("pg log: {l}");
                }
                for e in std::fs::read_dir(&s.dir).into_iter().flatten().flatten() {
                    if e.path().extension().is_some_and(|x| x == "log") {
                        let t = std::fs::read_to_string(e.path()).unwrap_or_default();
                        let lines: Vec<&str> = t.lines().collect();
                        eprintln!(
                            "{}: {} lines, last: {:?}",
                            e.path().display(),
                            lines.len(),
                            lines.last()
                        );
                    }
                }
            }
            s.stop_standins();
            s.others_pg.clear();
            s.others_redis.clear();
        }
    }
}

impl StepRunner for LabRunner {
    fn prepare(&self, sb: &Sandbox) -> std::io::Result<()> {
        let s = self
            .state
            .lock()
            .map_err(|_| std::io::Error::other("lab state poisoned"))?;
        for (name, target) in [
            ("docker", s.tool.clone()),
            ("sleep", s.tool.clone()),
            // The stand-ins' endpoints (adapter.rs `curl`); every other URL stays the mock's.
            ("curl", s.tool.clone()),
            ("psql", s.pg.bin_dir().join("psql")),
            (
                "redis-cli",
                crate::instance::find_program("redis-cli", &["/usr/bin", "/usr/local/bin"])
                    .map_err(|e| std::io::Error::other(e.to_string()))?,
            ),
        ] {
            let link = sb.bin.join(name);
            // Usually there is none; any other failure to remove it shows in `symlink` below.
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(target, link)?;
        }
        Ok(())
    }

    fn run(&self, sb: &Sandbox, script: &Path, limit: Duration) -> std::io::Result<StepRun> {
        let world = World::load(&sb.world_file())?;
        {
            let mut s = self
                .state
                .lock()
                .map_err(|_| std::io::Error::other("lab state poisoned"))?;
            if !s.loaded {
                s.load(&world).map_err(std::io::Error::other)?;
                s.loaded = true;
            }
            s.sync(&world).map_err(std::io::Error::other)?;
        }
        // The previous step's socket, if any; one that cannot be removed makes `bind` fail.
        let _ = std::fs::remove_file(&self.control);
        let listener = UnixListener::bind(&self.control)?;
        let mut cmd = sb.step_command(Path::new("/bin/bash"), script);
        cmd.env(ADAPTER_VAR, &self.conf).stdin(Stdio::null());
        // The sync server lives exactly as long as the step: the flag ends it before we return.
        listener.set_nonblocking(true)?;
        let done = std::sync::atomic::AtomicBool::new(false);
        let ran = std::thread::scope(|scope| {
            let server = scope.spawn(|| serve(&self.state, &listener, &done));
            let ran = crate::instance::run_bounded(cmd, "", limit);
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            // A sync server that panicked left the stand-ins behind the world: the step's
            // result would compare wrongly, so it is an error.
            match server.join() {
                Ok(()) => ran,
                Err(_) => Err(std::io::Error::other(
                    "the lab's sync server panicked during the step",
                )),
            }
        })?;
        let timed_out = ran.code.is_none();
        Ok(StepRun {
            code: ran.code,
            timed_out,
            stdout: ran.stdout,
            stderr: ran.stderr,
        })
    }
}

/// Answers the adapter's `sync WORLD` requests (after a Compose verb) until `done`.
fn serve(state: &Mutex<State>, listener: &UnixListener, done: &std::sync::atomic::AtomicBool) {
    while !done.load(std::sync::atomic::Ordering::SeqCst) {
        let conn = match listener.accept() {
            Ok((c, _)) => c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            Err(_) => break,
        };
        // A connection that cannot be set up or read is dropped: the adapter that opened it
        // then reads no answer and fails its call, naming the lab harness.
        if conn.set_nonblocking(false).is_err()
            || conn
                .set_read_timeout(Some(Duration::from_secs(10)))
                .is_err()
        {
            continue;
        }
        let mut line = String::new();
        let mut r = BufReader::new(&conn);
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            continue;
        }
        let line = line.trim();
        if let Some(world) = line.strip_prefix("sync ") {
            let res = World::load(Path::new(world))
                .map_err(|e| e.to_string())
                .and_then(|w| {
                    state
                        .lock()
                        .map_err(|e| e.to_string())
                        .and_then(|mut s| s.sync(&w))
                });
            let reply = match res {
                Ok(()) => "ok\n".to_owned(),
                Err(e) => format!("error {e}\n"),
            };
            // The adapter that asked went away (its step was stopped): no one to answer.
            let _ = (&conn).write_all(reply.as_bytes());
        } else if let Some(world) = line.strip_prefix("view ") {
            let res = state
                .lock()
                .map_err(|e| e.to_string())
                .and_then(|mut s| s.view(Path::new(world)));
            let reply = match res {
                Ok(p) => format!("ok {}\n", p.display()),
                Err(e) => format!("error {e}\n"),
            };
            // The adapter that asked went away (its step was stopped): no one to answer.
            let _ = (&conn).write_all(reply.as_bytes());
        }
    }
}

/// The loopback address standing for a container's address on `cdb_network`
/// (normalise::lab_address): 172.18.0.N becomes 127.18.0.N.
fn lab_ip(service: &str) -> Ipv4Addr {
    crate::normalise::lab_address(&cdb_drill::redis_conns::ip_of(service))
        .parse()
        .unwrap_or(Ipv4Addr::new(127, 0, 0, 1))
}

impl State {
    fn admin(&self) -> Option<RedisConn> {
        std::iter::once(self.redis.password().to_owned())
            .chain(self.known.iter().cloned())
            .find_map(|pw| {
                let mut c = self.redis.connect().ok()?;
                c.auth(&pw).ok()?.then_some(c)
            })
    }

    fn alter_role(&self, pw: &str) -> Result<(), String> {
        self.pg.set_role_password(pw)
    }

    /// The world's server state at the drill's start: the role's password, the leaker's
    /// session; Redis' passwords, its ACL users and the leaker's connections. The services'
    /// own connections are the stand-ins' (`sync`).
    fn load(&mut self, w: &World) -> Result<(), String> {
        if w.running("cdb_postgres") {
            for s in w.postgres.sessions.iter().filter(|s| {
                s.backend_type == "client backend" && s.application == cdb_drill::pg::LEAKER
            }) {
                self.alter_role(&s.password)?;
                let session = self
                    .pg
                    .session(Host::Remote, Some(&s.password))
                    .map_err(|e| format!("the leaker's session: {e}"))?;
                self.others_pg.push(session);
            }
            if let Some(pw) = w.postgres.roles.get("claire_user") {
                self.alter_role(pw)?;
            }
        }
        if w.running("cdb_redis") {
            self.load_redis(w, true)?;
            self.redis_generation = w.containers.get("cdb_redis").map(|c| c.generation);
        }
        Ok(())
    }

    fn load_redis(&mut self, w: &World, with_others: bool) -> Result<(), String> {
        let mut admin = self.admin().ok_or("cannot log in to the lab's Redis")?;
        let ok = redis_ok;
        for (name, u) in &w.redis.conns.users {
            let mut args: Vec<String> =
                vec!["ACL".into(), "SETUSER".into(), name.clone(), "reset".into()];
            args.push(if u.on { "on" } else { "off" }.into());
            args.extend(u.passwords.iter().map(|p| format!(">{p}")));
            args.extend(["~*".into(), "&*".into(), "+@all".into()]);
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            ok(&mut admin, &refs)?;
        }
        if with_others {
            for c in w
                .redis
                .conns
                .list
                .iter()
                .filter(|c| c.owner == cdb_drill::redis_conns::LEAKER)
            {
                if c.user == "default" {
                    ok(
                        &mut admin,
                        &["ACL", "SETUSER", "default", &format!(">{}", c.password)],
                    )?;
                }
                let mut conn = self.redis.connect().map_err(|e| e.to_string())?;
                match conn.cmd(&["AUTH", &c.user, &c.password]) {
                    Ok(r) if !r.is_error() => self.others_redis.push(conn),
                    other => {
                        return Err(format!("the leaker's connection did not log in: {other:?}"));
                    }
                }
            }
        }
        load_redis_auth(&mut admin, w)?;
        self.known = w.redis.passwords.iter().cloned().collect();
        ok(&mut admin, &["ACL", "LOG", "RESET"])?;
        Ok(())
    }

    /// Makes the stand-ins and the real Redis follow the world's containers.
    fn sync(&mut self, w: &World) -> Result<(), String> {
        self.known.extend(w.redis.passwords.iter().cloned());
        let gen_redis = w.containers.get("cdb_redis").map(|c| c.generation);
        if w.running("cdb_redis") && gen_redis != self.redis_generation {
            // A recreate or restart: the server starts again from its password file (the
            // world's `startup`), runtime changes and connections gone (real-server facts).
            self.others_redis.clear();
            self.redis.restart().map_err(|e| e.to_string())?;
            self.known.clear();
            self.load_redis(w, false)?;
            self.redis_generation = gen_redis;
        }
        let gen_pg = w.containers.get("cdb_postgres").map(|c| c.generation);
        if w.running("cdb_postgres") && gen_pg != self.pg_generation {
            if self.pg_generation.is_some() {
                // A recreate or restart of cdb_postgres ends every session (the leaker's too);
                // the role's password is in the data volume and stays (stack facts).
                self.others_pg.clear();
                self.pg.restart().map_err(|e| e.to_string())?;
            }
            self.pg_generation = gen_pg;
        }
        let services: Vec<&'static str> = cdb_drill::world::all_services().collect();
        let mut starting: Vec<(String, std::sync::mpsc::Receiver<u16>)> = Vec::new();
        for s in services {
            let pg_consumer = cdb_drill::pg::is_consumer(s) && s != "cdb_grafana";
            // The Python services hold a Redis connection (redis_conns::HOLDERS); the Redis
            // exporter logs in per scrape (standin.rs).
            let redis_holder = cdb_drill::redis_conns::HOLDERS.contains(&s);
            let redis_reader = redis_holder || s == "cdb_redis_exporter";
            if !pg_consumer && !redis_reader {
                continue;
            }
            let Some(c) = w.containers.get(s) else {
                continue;
            };
            if !w.running(s) {
                if let Some(mut old) = self.standins.remove(s) {
                    drop(old.child.stdin.take());
                    // It may have ended already (its stdin closed); nothing to report then.
                    let _ = old.child.kill();
                    let _ = old.child.wait();
                }
                continue;
            }
            if self
                .standins
                .get(s)
                .is_some_and(|x| x.generation == c.generation)
            {
                continue;
            }
            if let Some(mut old) = self.standins.remove(s) {
                drop(old.child.stdin.take());
                // It may have ended already (its stdin closed); nothing to report then.
                let _ = old.child.kill();
                let _ = old.child.wait();
            }
            // Its mounts as the world says the container read them at this start.
            let write = |name: &str, v: Option<String>| -> Result<Option<PathBuf>, String> {
                let Some(v) = v else { return Ok(None) };
                let p = self.dir.join(format!("{s}.{name}"));
                std::fs::write(&p, v).map_err(|e| format!("{}: {e}", p.display()))?;
                Ok(Some(p))
            };
            let pg_file = if pg_consumer && w.running("cdb_postgres") {
                write("pg", w.pg_password_of(s))?
            } else {
                None
            };
            let redis_file = if redis_reader && w.running("cdb_redis") {
                write("redis", c.read.get("REDIS_PASSWORD").cloned())?
            } else {
                None
            };
            let http = crate::standin::Http::of(s);
            if pg_file.is_none() && redis_file.is_none() && http == crate::standin::Http::None {
                continue;
            }
            let args = StandInArgs {
                name: s.to_owned(),
                pg_file,
                psql: self.pg.bin_dir().join("psql"),
                pg_port: self.pg.remote_port(),
                redis_file,
                redis_port: self.redis.port(),
                src: lab_ip(s),
                validate: cdb_drill::behaviour::applies("auth-at-start", s),
                http,
            };
            // Its log: what it could not do (kept in the run's temp dir, for debugging a run).
            let log = std::fs::File::create(self.dir.join(format!("{s}.log")))
                .map_err(|e| format!("stand-in log of {s}: {e}"))?;
            let mut child = Command::new(&self.tool)
                .args(args.to_args())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(log)
                .spawn()
                .map_err(|e| format!("cannot start the stand-in of {s}: {e}"))?;
            // Its `ready PORT` line, read on a thread that then drains the pipe (standin.rs).
            let (tx, rx) = std::sync::mpsc::channel();
            if let Some(out) = child.stdout.take() {
                std::thread::spawn(move || {
                    let mut r = BufReader::new(out);
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) > 0
                        && let Some(p) = line.trim().strip_prefix("ready ")
                    {
                        // The harness stopped waiting (its time-out): the stand-in is stopped.
                        let _ = tx.send(p.parse().unwrap_or(0));
                    }
                    drop(tx);
                    while r.read_line(&mut line).unwrap_or(0) > 0 {
                        line.clear();
                    }
                });
            }
            starting.push((s.to_owned(), rx));
            self.standins.insert(
                s.to_owned(),
                StandIn {
                    child,
                    generation: c.generation,
                    port: 0,
                },
            );
        }
        // A container counts as started once its stand-in has read its files and tried its
        // connections (and exited, where it validates at start and was refused).
        let deadline = std::time::Instant::now() + STANDIN_READY;
        for (s, rx) in starting {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(port) => {
                    if let Some(x) = self.standins.get_mut(&s) {
                        x.port = port;
                    }
                }
                // It exited before it was ready: the service refused at start (auth-at-start).
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "the stand-in of {s} was not ready within {} s",
                        STANDIN_READY.as_secs()
                    ));
                }
            }
        }
        self.write_view_files()?;
        if std::env::var_os("CDB_LAB_SHOW").is_some()
            && let Some(mut a) = self.admin()
        {
            // A debugging aid: a list that cannot be had shows as none.
            let list = a
                .cmd(&["CLIENT", "LIST"])
                .map(|r| r.text())
                .unwrap_or_default();
            eprintln!(
                "sync: {} stand-ins, {} redis clients; {:?}",
                self.standins.len(),
                list.lines().count(),
                list.lines().next()
            );
        }
        Ok(())
    }

    /// `ports` in the run's dir: `SERVICE PORT` of every stand-in serving an endpoint now, read
    /// by the adapter's `curl` and `docker port` (adapter.rs).
    fn write_view_files(&mut self) -> Result<(), String> {
        let mut text = String::new();
        for (s, x) in &mut self.standins {
            if x.port != 0 && matches!(x.child.try_wait(), Ok(None)) {
                text.push_str(&format!("{s} {}\n", x.port));
            }
        }
        let p = self.dir.join(PORTS_FILE);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
    }

    /// The world at `path` as the lab's processes show it, for `docker inspect` and `ps`
    /// (adapter.rs), written beside it: a service with a stand-in runs while its process does
    /// (a refusal at start ends it, auth-at-start); `cdb_postgres` and `cdb_redis` while the real
    /// servers do; and `cdb_redis`' health check, a login with its password file's value
    /// (stack facts), is the real server's answer to that value. The world file itself is not
    /// touched: the mock drill's world moves as before.
    fn view(&mut self, path: &Path) -> Result<PathBuf, String> {
        let mut w = World::load(path).map_err(|e| format!("{}: {e}", path.display()))?;
        self.sync(&w)?;
        for (s, x) in &mut self.standins {
            let alive = matches!(x.child.try_wait(), Ok(None));
            if let Some(c) = w.containers.get_mut(s.as_str()) {
                c.running = c.running && alive;
            }
        }
        if let Some(c) = w.containers.get_mut("cdb_postgres") {
            c.running = c.running && self.pg.running();
        }
        let redis_up = self.redis.running();
        if let Some(c) = w.containers.get_mut("cdb_redis") {
            c.running = c.running && redis_up;
        }
        if redis_up && let Some(file) = w.read_secret_file("REDIS_PASSWORD") {
            // A Redis that cannot be asked is an error, not a refused password: the view would
            // show the world's password as no longer accepted.
            let mut c = self
                .redis
                .connect()
                .map_err(|e| format!("cannot ask the lab's Redis: {e}"))?;
            let accepted = c
                .auth(file.trim())
                .map_err(|e| format!("cannot ask the lab's Redis: {e}"))?;
            if accepted {
                w.redis.passwords.insert(file.trim().to_owned());
            } else {
                w.redis.passwords.remove(file.trim());
            }
        }
        let out = path.with_extension("lab-view");
        w.save(&out)
            .map_err(|e| format!("{}: {e}", out.display()))?;
        Ok(out)
    }

    fn stop_standins(&mut self) {
        for (_, mut s) in std::mem::take(&mut self.standins) {
            drop(s.child.stdin.take());
            // Clean-up: it may have ended already (its stdin closed); nothing to report then.
            let _ = s.child.kill();
            let _ = s.child.wait();
        }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        self.stop_standins();
    }
}
