//! `PgServer`: a PostgreSQL instance with the official image's trust rules, and `psql` clients.
//!
//! The instance mirrors what the runbook meets in `cdb_postgres`: `initdb -U claire_user` makes
//! `claire_user` the bootstrap superuser (as `POSTGRES_USER` does), the database is
//! `claire_de_binare`, and `pg_hba.conf` trusts the local socket and 127.0.0.1 but asks for
//! scram-sha-256 from anywhere else. 127.0.0.2 (through `Relay`) stands for `-h cdb_postgres`
//! from another container. Clients are `psql` from the same package; passwords go through
//! `PGPASSWORD`, SQL through standard input, never the command line.

use crate::error::LabError;
use crate::instance::{self, Instance, Options, RunAs};
use crate::relay::Relay;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SERVER: &str = "PostgreSQL";
/// The role and database of the real stack.
pub const USER: &str = "claire_user";
pub const DATABASE: &str = "claire_de_binare";

/// How long one `psql` call (or one query in a session) may take.
const PSQL_TIMEOUT: Duration = Duration::from_secs(30);

/// `pg_hba.conf` as the official image writes it (`host all all all scram-sha-256` last).
const PG_HBA: &str = "\
# Written by cdb-lab: the official postgres image's rules.
local all all trust
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
host all all all scram-sha-256
";

/// How a client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// The Unix socket (`docker exec cdb_postgres psql`): trusted.
    Socket,
    /// `-h 127.0.0.1`: trusted, as loopback inside the container.
    Loopback,
    /// `-h 127.0.0.2` through the relay: not trusted, as `-h cdb_postgres` from another container.
    Remote,
}

/// A running PostgreSQL instance; dropping it stops the server and removes its dir.
pub struct PgServer {
    // Field order is drop order: the relay goes before the server it forwards to.
    relay: Relay,
    instance: Instance,
    bin_dir: PathBuf,
    port: u16,
    password: String,
}

impl std::fmt::Debug for PgServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password is left out on purpose: a Debug print must not show it.
        f.debug_struct("PgServer")
            .field("dir", &self.instance.dir())
            .field("port", &self.port)
            .field("remote_port", &self.relay.port())
            .finish_non_exhaustive()
    }
}

/// What one `psql` call produced.
#[derive(Debug, Clone)]
pub struct PsqlOutput {
    /// The exit code (`None` when killed after the timeout).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl PsqlOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs `initdb` for the kit's cluster into `data` (in `cwd`), as `prefix` says.
fn initdb_into(
    data: &Path,
    cwd: &Path,
    bin_dir: &Path,
    prefix: &[OsString],
) -> Result<(), LabError> {
    let mut initdb = Command::new(&prefix[0]);
    initdb
        .args(&prefix[1..])
        .arg(bin_dir.join("initdb"))
        .args([
            "--auth=trust",
            "--username",
            USER,
            "--no-sync",
            "--encoding=UTF8",
        ])
        .args(["--locale=C", "--pgdata"])
        .arg(data)
        .current_dir(cwd);
    let ran = instance::run_bounded(initdb, "", instance::READY_TIMEOUT).map_err(|e| {
        LabError::Start {
            server: SERVER,
            cause: format!("cannot run initdb: {e}"),
        }
    })?;
    if ran.code != Some(0) {
        return Err(LabError::Start {
            server: SERVER,
            cause: format!(
                "initdb failed for the data dir {}:\n{}",
                data.display(),
                instance::tail(&format!("{}\n{}", ran.stdout, ran.stderr), 6)
            ),
        });
    }
    Ok(())
}

/// One `initdb` per process: the first server of a `bin_dir` and user initialises a template
/// cluster, and every server copies it (`cp -a`, about 0.1 s) instead of running `initdb`
/// again (about 1.3 s of bootstrap per server; the tests start dozens). A stopped cluster's
/// data dir copied whole is a cluster of its own: PostgreSQL keeps no state outside it. The
/// template holds no secret (trust rules only; the role's password is set on the started
/// copy), and it lives in a supervised dir of its own, so it is removed when this process
/// ends, killed or not, as every server dir is (instance.rs).
mod template {
    use super::{Instance, OsString, Path, PathBuf, RunAs, initdb_into, instance};
    use std::collections::HashMap;
    use std::process::Command;
    use std::sync::Mutex;

    /// The programs' dir, the user the servers run as, and the dir the caller asked for.
    type Key = (PathBuf, Option<u32>, Option<PathBuf>);

    /// A made template: its holder (which removes the dir when this process ends) and its
    /// data dir.
    type Made = (Instance, PathBuf);

    /// The templates made so far; `None` where making one failed (not tried again).
    static TEMPLATES: Mutex<Option<HashMap<Key, Option<Made>>>> = Mutex::new(None);

    /// Copies the template of `bin_dir`, `run_as` and `parent` to `data`; false when there is
    /// none or the copy failed (a partial copy is removed).
    pub(super) fn copy_into(
        bin_dir: &Path,
        prefix: &[OsString],
        run_as: Option<RunAs>,
        parent: Option<&Path>,
        cwd: &Path,
        data: &Path,
    ) -> bool {
        let Some(source) = template(bin_dir, prefix, run_as, parent) else {
            return false;
        };
        let copied = Command::new(&prefix[0])
            .args(&prefix[1..])
            .args(["cp", "-a", "--"])
            .arg(&source)
            .arg(data)
            .current_dir(cwd)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !copied && data.exists() {
            // Left for `initdb`, which wants the dir empty or absent.
            let _ = std::fs::remove_dir_all(data);
        }
        copied
    }

    /// The template's data dir, made on first use.
    fn template(
        bin_dir: &Path,
        prefix: &[OsString],
        run_as: Option<RunAs>,
        parent: Option<&Path>,
    ) -> Option<PathBuf> {
        let key = (
            bin_dir.to_path_buf(),
            run_as.map(|u| u.uid),
            parent.map(Path::to_path_buf),
        );
        // A poisoned lock only means another thread panicked while making a template; the
        // map is still whole (entries are inserted complete), so it is used as it is.
        let mut guard = TEMPLATES.lock().unwrap_or_else(|e| e.into_inner());
        let map = guard.get_or_insert_with(HashMap::new);
        let made = map
            .entry(key)
            .or_insert_with(|| make(bin_dir, prefix, run_as, parent));
        made.as_ref().map(|(_, data)| data.clone())
    }

    fn make(
        bin_dir: &Path,
        prefix: &[OsString],
        run_as: Option<RunAs>,
        parent: Option<&Path>,
    ) -> Option<Made> {
        // Beside the servers (in the dir the caller asked for), never elsewhere.
        let dir = instance::make_dir("cdb-lab-pg-template-", parent, run_as).ok()?;
        // The holder's "server" only waits; its supervisor removes the dir at the end. It runs
        // under the servers' prefix (`setpriv --pdeathsig=KILL`), so a supervisor killed from
        // outside takes it along, as it takes a real server (instance.rs).
        let mut argv = prefix.to_vec();
        argv.push("sleep".into());
        argv.push("2147483647".into());
        let Ok(holder) = Instance::spawn(super::SERVER, &dir, "TERM", &argv) else {
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        };
        let data = dir.join("data");
        initdb_into(&data, &dir, bin_dir, prefix).ok()?;
        Some((holder, data))
    }
}

impl PgServer {
    /// Starts an instance with default options.
    pub fn start() -> Result<Self, LabError> {
        Self::start_with(&Options::default())
    }

    /// Starts an instance: `initdb`, `pg_hba.conf`, `postgres`, then the role's password and
    /// the database.
    pub fn start_with(opts: &Options) -> Result<Self, LabError> {
        let bin_dir = match &opts.bin_dir {
            Some(dir) => dir.clone(),
            None => find_bin_dir()?,
        };
        for program in ["initdb", "postgres", "psql", "pg_isready"] {
            instance::find_program(program, &[&bin_dir.to_string_lossy()])?;
        }
        let run_as = instance::run_as_for_root()?;
        let prefix = instance::setpriv_prefix(run_as)?;
        let port = instance::pick_port(SERVER, opts.port)?;
        let dir = instance::make_dir("cdb-lab-pg-", opts.parent.as_deref(), run_as)?;
        // From here on a failure must remove the dir; the supervisor owns it once started.
        let started = Self::start_in(
            &dir,
            &bin_dir,
            &prefix,
            run_as,
            port,
            opts.parent.as_deref(),
        );
        if started.is_err() && dir.exists() {
            // The start's error is the one to report; a dir left in the temp folder is harmless.
            let _ = std::fs::remove_dir_all(&dir);
        }
        started
    }

    fn start_in(
        dir: &Path,
        bin_dir: &Path,
        prefix: &[OsString],
        run_as: Option<RunAs>,
        port: u16,
        parent: Option<&Path>,
    ) -> Result<Self, LabError> {
        let data = dir.join("data");
        // A copy of this process's template cluster when there is one; `initdb` itself when
        // the copy cannot be made (the errors of an unusable dir are then `initdb`'s own).
        if !template::copy_into(bin_dir, prefix, run_as, parent, dir, &data) {
            initdb_into(&data, dir, bin_dir, prefix)?;
        }
        let hba = data.join("pg_hba.conf");
        std::fs::write(&hba, PG_HBA).map_err(|e| LabError::Dir {
            path: hba.clone(),
            cause: e.to_string(),
        })?;
        if let Some(u) = run_as {
            std::os::unix::fs::chown(&hba, Some(u.uid), Some(u.gid)).map_err(|e| {
                LabError::Dir {
                    path: hba.clone(),
                    cause: e.to_string(),
                }
            })?;
        }
        let mut argv: Vec<OsString> = prefix.to_vec();
        argv.push(bin_dir.join("postgres").into());
        argv.push("-D".into());
        argv.push(data.clone().into());
        argv.push("-k".into());
        argv.push(dir.into());
        argv.push("-p".into());
        argv.push(port.to_string().into());
        for setting in [
            "listen_addresses=127.0.0.1",
            "fsync=off",
            "logging_collector=off",
            "max_connections=40",
            "shared_buffers=16MB",
            // The lab adapter's `docker logs --since` reads these stamps (adapter.rs).
            "log_timezone=UTC",
            "log_line_prefix=%m [%p] ",
        ] {
            argv.push("-c".into());
            argv.push(setting.into());
        }
        // SIGQUIT is PostgreSQL's immediate shutdown: quick, and the postmaster still waits
        // for its backends before it exits.
        let instance = Instance::spawn(SERVER, dir, "QUIT", &argv)?;
        let isready = bin_dir.join("pg_isready");
        instance.wait_ready(|| {
            Command::new(&isready)
                .arg("-q")
                .arg("-h")
                .arg(dir)
                .args(["-p", &port.to_string(), "-U", USER, "-d", "postgres"])
                .status()
                .is_ok_and(|s| s.success())
        })?;
        let relay = Relay::start(port).map_err(|e| LabError::Start {
            server: SERVER,
            cause: format!("cannot listen on 127.0.0.2 for the remote-client relay: {e}"),
        })?;
        let server = PgServer {
            relay,
            instance,
            bin_dir: bin_dir.to_path_buf(),
            port,
            password: instance::generate_password(),
        };
        let setup = format!(
            "ALTER ROLE {USER} PASSWORD '{}';\nCREATE DATABASE {DATABASE};\n",
            server.password
        );
        let out = server.psql_db(Host::Socket, None, "postgres", &setup);
        if !out.success() {
            return Err(LabError::Start {
                server: SERVER,
                cause: format!(
                    "setting up {USER} and {DATABASE} failed: {}",
                    out.stderr.trim()
                ),
            });
        }
        Ok(server)
    }

    /// The password `claire_user` was given at start (generated for this run).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The instance dir (data, socket, log); removed when the server is dropped.
    pub fn dir(&self) -> &Path {
        self.instance.dir()
    }

    /// The relay's port on 127.0.0.2: the untrusted "other container" address.
    pub fn remote_port(&self) -> u16 {
        self.relay.port()
    }

    /// The dir of `psql`, `postgres` and `initdb` this server runs from.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The server's log (its standard error): what `docker logs cdb_postgres` shows.
    pub fn log_path(&self) -> PathBuf {
        self.instance.dir().join("server.log")
    }

    /// Serves TLS with these PEM texts (certificate, key, CA), as the kit's tls.yml has
    /// `cdb_postgres` do (ssl on, the files mounted beside the data directory): written to
    /// `<dir>/tls/` (key 0600, owned by the server's user), `ssl` and the file settings by
    /// `ALTER SYSTEM`, applied by a reload (they are `sighup` settings).
    pub fn enable_ssl(&self, cert: &str, key: &str, ca: &str) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        let dir = self.ssl_dir();
        let run_as = instance::run_as_for_root().map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (name, text, mode) in [
            ("server.crt", cert, 0o644),
            ("server.key", key, 0o600),
            ("root.crt", ca, 0o644),
        ] {
            let p = dir.join(name);
            std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
            // PostgreSQL refuses a key that others can read, and the server's user must own
            // what it reads: a mode or owner not set would fail later, less clearly.
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
                .map_err(|e| format!("{}: {e}", p.display()))?;
            if let Some(u) = run_as {
                std::os::unix::fs::chown(&p, Some(u.uid), Some(u.gid))
                    .map_err(|e| format!("{}: {e}", p.display()))?;
            }
        }
        if let Some(u) = run_as {
            std::os::unix::fs::chown(&dir, Some(u.uid), Some(u.gid))
                .map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let d = dir.display();
        self.reload_with(
            &format!(
                "ALTER SYSTEM SET ssl_cert_file = '{d}/server.crt';\n\
             ALTER SYSTEM SET ssl_key_file = '{d}/server.key';\n\
             ALTER SYSTEM SET ssl_ca_file = '{d}/root.crt';\n\
             ALTER SYSTEM SET ssl = on;\n"
            ),
            "on",
        )
    }

    /// Back to PostgreSQL's defaults (`ssl` off).
    pub fn disable_ssl(&self) -> Result<(), String> {
        self.reload_with(
            "ALTER SYSTEM RESET ssl;\nALTER SYSTEM RESET ssl_cert_file;\n\
             ALTER SYSTEM RESET ssl_key_file;\nALTER SYSTEM RESET ssl_ca_file;\n",
            "off",
        )
    }

    /// Where `enable_ssl` writes the files (`<dir>/tls`).
    pub fn ssl_dir(&self) -> PathBuf {
        self.instance.dir().join("tls")
    }

    fn reload_with(&self, sql: &str, want_ssl: &str) -> Result<(), String> {
        let out = self.psql(
            Host::Socket,
            None,
            &format!("{sql}SELECT pg_reload_conf();\n"),
        );
        if !out.success() {
            return Err(format!("ALTER SYSTEM: {}", out.stderr.trim()));
        }
        // A reload is a signal: wait until the server shows the new setting.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let now = self.psql(Host::Socket, None, "SHOW ssl;");
            if now.stdout.trim() == want_ssl {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(format!(
                    "ssl is still {:?} after the reload; the log ends:\n{}",
                    now.stdout.trim(),
                    self.instance.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the server process is alive.
    pub fn running(&self) -> bool {
        self.instance.running()
    }

    /// Stops the server (immediate shutdown: every session ends) and starts it again on the
    /// same data dir and port, as a container restart does.
    pub fn restart(&mut self) -> Result<(), LabError> {
        self.instance.restart()?;
        let isready = self.bin_dir.join("pg_isready");
        let (dir, port) = (self.instance.dir().to_path_buf(), self.port);
        self.instance.wait_ready(|| {
            Command::new(&isready)
                .arg("-q")
                .arg("-h")
                .arg(&dir)
                .args(["-p", &port.to_string(), "-U", USER, "-d", "postgres"])
                .status()
                .is_ok_and(|s| s.success())
        })
    }

    /// The postmaster's pid.
    pub fn pid(&self) -> u32 {
        self.instance.pid()
    }

    /// The server's version, as `SHOW server_version` reports it.
    pub fn version(&self) -> String {
        self.psql(Host::Socket, None, "SHOW server_version;")
            .stdout
            .trim()
            .to_owned()
    }

    /// Sets the role `claire_user`'s password over the trusted local socket (the world's
    /// password loaded into the server; live sessions stay, as with any `ALTER ROLE`).
    pub fn set_role_password(&self, pw: &str) -> Result<(), String> {
        let out = self.psql(
            Host::Socket,
            None,
            &format!(
                "ALTER ROLE claire_user PASSWORD '{}';",
                pw.replace('\'', "''")
            ),
        );
        if out.success() {
            Ok(())
        } else {
            Err(format!("ALTER ROLE failed: {}", out.stderr.trim()))
        }
    }

    /// Runs `sql` in one `psql` call as `claire_user` on `claire_de_binare`.
    pub fn psql(&self, host: Host, password: Option<&str>, sql: &str) -> PsqlOutput {
        self.psql_db(host, password, DATABASE, sql)
    }

    fn psql_db(&self, host: Host, password: Option<&str>, db: &str, sql: &str) -> PsqlOutput {
        let mut cmd = self.psql_command(host, password, db);
        cmd.args(["-v", "ON_ERROR_STOP=1"]);
        match instance::run_bounded(cmd, sql, PSQL_TIMEOUT) {
            Ok(r) => PsqlOutput {
                code: r.code,
                stdout: r.stdout,
                stderr: r.stderr,
            },
            Err(e) => PsqlOutput {
                code: None,
                stdout: String::new(),
                stderr: format!("cannot run psql: {e}"),
            },
        }
    }

    fn psql_command(&self, host: Host, password: Option<&str>, db: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join("psql"));
        let (h, p): (OsString, u16) = match host {
            Host::Socket => (self.dir().into(), self.port),
            Host::Loopback => ("127.0.0.1".into(), self.port),
            Host::Remote => ("127.0.0.2".into(), self.relay.port()),
        };
        cmd.args(["-X", "-q", "-A", "-t", "-h"])
            .arg(h)
            .args(["-p", &p.to_string(), "-U", USER, "-d", db])
            .env("PGCONNECT_TIMEOUT", "10")
            // A path that does not exist: no ~/.pgpass may supply a password the test did not.
            .env("PGPASSFILE", self.dir().join("no-pgpass"))
            .env_remove("PGSERVICE")
            .env_remove("PGOPTIONS");
        match password {
            Some(pw) => cmd.env("PGPASSWORD", pw),
            None => cmd.env_remove("PGPASSWORD"),
        };
        cmd
    }

    /// Opens a long-lived session (one `psql` process) as `claire_user`.
    pub fn session(&self, host: Host, password: Option<&str>) -> Result<PgSession, String> {
        let mut child = self
            .psql_command(host, password, DATABASE)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        let stdin = child.stdin.take();
        let (tx, lines) = std::sync::mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut stderr_reader = None;
        if let Some(err) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            stderr_reader = Some(std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if let Ok(mut s) = sink.lock() {
                        s.push_str(&line);
                        s.push('\n');
                    }
                }
            }));
        }
        let mut session = PgSession {
            child,
            stdin,
            lines,
            stderr,
            stderr_reader,
            backend_pid: 0,
        };
        let pid = session.query("SELECT pg_backend_pid();")?;
        session.backend_pid = pid
            .first()
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| format!("no backend pid in {pid:?}"))?;
        Ok(session)
    }
}

/// One open `psql` session: a connection that lives until it is closed or terminated.
pub struct PgSession {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// The thread collecting stderr: joined once psql exited, so its last words are read.
    stderr_reader: Option<std::thread::JoinHandle<()>>,
    stderr: Arc<Mutex<String>>,
    backend_pid: u32,
}

impl std::fmt::Debug for PgSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSession")
            .field("backend_pid", &self.backend_pid)
            .finish_non_exhaustive()
    }
}

/// The line that ends each query's output; `:ERROR` says whether the query failed.
const END: &str = "__cdb_lab_end__";

impl PgSession {
    /// The server process serving this session.
    pub fn backend_pid(&self) -> u32 {
        self.backend_pid
    }

    /// Runs `sql` on this session and returns its output lines, or what `psql` said on
    /// stderr when the query failed or the session is gone.
    pub fn query(&mut self, sql: &str) -> Result<Vec<String>, String> {
        let sent = self.stdin.as_mut().map(|s| {
            writeln!(s, "{sql}")
                .and_then(|()| writeln!(s, "\\echo {END} :ERROR"))
                .and_then(|()| s.flush())
        });
        if !matches!(sent, Some(Ok(()))) {
            return Err(self.ended());
        }
        let mut out = Vec::new();
        loop {
            match self.lines.recv_timeout(PSQL_TIMEOUT) {
                Ok(line) => match line.strip_prefix(END) {
                    Some(flag) if flag.trim() == "false" => return Ok(out),
                    Some(_) => {
                        // The error went to stderr just before the marker reached stdout; its
                        // reader may not have it yet.
                        let until = std::time::Instant::now() + Duration::from_secs(1);
                        while self.stderr_text().trim().is_empty()
                            && std::time::Instant::now() < until
                        {
                            std::thread::sleep(Duration::from_millis(10));
                        }
                        return Err(self.stderr_text());
                    }
                    None => out.push(line),
                },
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("no answer within {} s", PSQL_TIMEOUT.as_secs()));
                }
                Err(RecvTimeoutError::Disconnected) => return Err(self.ended()),
            }
        }
    }

    fn stderr_text(&self) -> String {
        // A reader that panicked poisoned the lock; what it had read is still there.
        self.stderr
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn ended(&mut self) -> String {
        let code = self.child.wait().ok().and_then(|s| s.code());
        // psql has exited, so its stderr is closed and the reader ends: what psql said last
        // (the server's FATAL) is in before it is read here.
        if let Some(t) = self.stderr_reader.take() {
            // A reader that panicked read less; what it read is in `stderr` all the same.
            let _ = t.join();
        }
        format!(
            "the session ended (psql exit {code:?}): {}",
            self.stderr_text().trim()
        )
    }
}

impl Drop for PgSession {
    fn drop(&mut self) {
        drop(self.stdin.take());
        // Clean-up in drop: psql may have ended already, and there is no one to tell.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The newest `/usr/lib/postgresql/<major>/bin` holding `initdb` and `postgres`, or the dir
/// named by `CDB_LAB_PG_BINDIR` (for example a PostgreSQL 18 build).
fn find_bin_dir() -> Result<PathBuf, LabError> {
    if let Some(dir) = std::env::var_os("CDB_LAB_PG_BINDIR") {
        return Ok(PathBuf::from(dir));
    }
    let root = Path::new("/usr/lib/postgresql");
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file()).then_some((major, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| LabError::Missing {
            program: "PostgreSQL (`initdb`, `postgres`)".into(),
            looked_in: "/usr/lib/postgresql/*/bin".into(),
        })
}
