//! The sandbox a drill runs in: a temp dir with its own HOME, SECRETS_PATH, Compose folder,
//! world file and a `bin/` that holds only the mock shims and an allow-list of harmless tools.
//!
//! Steps run as `bash --noprofile --norc FILE` (as pasted: each step sets `-euo pipefail` in its
//! own subshell, docs/step-format.md) with a cleared environment, in the jail of `jail.rs`
//! (own namespaces, host read-only, no network): one jail host per sandbox runs them and ends
//! whatever a step left running, and kills a step that exceeds its time limit. Unconfined
//! (`isolation: none`), each step runs in its own process group, killed as a group. The sandbox is private from the
//! start (directories 0700, steps under umask 077) and removed on SIGINT/SIGTERM (interrupt.rs).

use crate::jail::{self, Isolation};
use crate::mock::server::{self, SOCKET_VAR};
use crate::mock::{SHIMS, STATE_VAR};
use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Another way to run steps, set for a whole process: cdb-lab's lab mode runs them against real
/// servers, outside the jail (its network namespace has no route to them). `prepare` sees each
/// new sandbox once its tools are linked; `run` replaces the jailed run of a step's script.
pub trait StepRunner: Send + Sync {
    fn prepare(&self, sb: &Sandbox) -> io::Result<()>;
    fn run(&self, sb: &Sandbox, script: &Path, limit: Duration) -> io::Result<StepRun>;
}

type Runner = std::sync::Arc<dyn StepRunner>;
static RUNNER: std::sync::Mutex<Option<Runner>> = std::sync::Mutex::new(None);

/// Sets (or with `None` clears) the process's step runner (see [`StepRunner`]).
pub fn set_runner(r: Option<Runner>) {
    *runner_slot() = r;
}

fn runner() -> Option<Runner> {
    runner_slot().clone()
}

/// The runner's slot. Setting it cannot panic half-way, so a poisoned lock still holds a whole
/// value: ignoring it would run steps in the sandbox instead of the runner that was set.
fn runner_slot() -> std::sync::MutexGuard<'static, Option<Runner>> {
    RUNNER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Host tools linked into the sandbox: they only touch files the step names.
pub const ALLOWED_TOOLS: &[&str] = &[
    "cat",
    "cp",
    "mv",
    "rm",
    "mkdir",
    "chmod",
    "ls",
    "grep",
    "sed",
    "awk",
    "tr",
    "cut",
    "head",
    "tail",
    "wc",
    "sort",
    "uniq",
    "test",
    "env",
    "diff",
    "cmp",
    "base64",
    "sha256sum",
    "printf",
    "true",
    "false",
    "seq",
    "tee",
    "touch",
    "basename",
    "dirname",
];

/// Entries of a sandbox root that are no state of the drill: the tools, the jail's mount point,
/// the mock client with the world server's socket, and `steps/` (each step's script and
/// outputs, which the engine writes and reads back at once; a restored counter reuses the
/// names). A snapshot leaves them out and a restore keeps them.
const FIXED: &[&str] = &["bin", jail::JAIL_DIR, MOCK_DIR, STEPS_DIR];

/// Where each step's script and outputs go (`NNN-id.sh`, `NNN.out`, `NNN.err`).
const STEPS_DIR: &str = "steps";

/// `process` here makes the mock tools run as the drill binary, one process per call (the
/// reference for the world server's answers).
pub const MOCKS_VAR: &str = "CDB_DRILL_MOCKS";

/// Whether the mock tools run as a process of the drill binary each (see [`MOCKS_VAR`]).
fn by_process() -> bool {
    std::env::var_os(MOCKS_VAR).is_some_and(|v| v == "process")
}

/// The folder of the mock client (`client`, which every mock tool's link points to) and the
/// world server's socket (`socket`).
const MOCK_DIR: &str = "mock";

/// The files of a sandbox at one point (see [`Sandbox::snapshot`]).
#[derive(Clone, Debug)]
pub struct SandboxSnapshot {
    root: String,
    counter: usize,
    /// Paths relative to the root, parents before children.
    entries: Vec<(PathBuf, Entry)>,
    /// Each regular file's inode then (the world's mounts hold inodes, world.rs `Mounted`).
    inodes: Vec<(PathBuf, u64)>,
}

impl SandboxSnapshot {
    /// Whether both hold the same files (paths, contents, modes, links).
    pub fn same_files(&self, other: &SandboxSnapshot) -> bool {
        self.entries == other.entries
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    Dir(u32),
    File(Vec<u8>, u32),
    Link(PathBuf),
}

fn walk(
    root: &Path,
    p: &Path,
    out: &mut Vec<(PathBuf, Entry)>,
    inodes: &mut Vec<(PathBuf, u64)>,
) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let md = fs::symlink_metadata(p)?;
    let rel = p
        .strip_prefix(root)
        .map_err(io::Error::other)?
        .to_path_buf();
    let mode = md.permissions().mode() & 0o7777;
    if md.file_type().is_symlink() {
        out.push((rel, Entry::Link(fs::read_link(p)?)));
    } else if md.is_dir() {
        out.push((rel, Entry::Dir(mode)));
        for e in fs::read_dir(p)? {
            walk(root, &e?.path(), out, inodes)?;
        }
    } else if md.is_file() {
        inodes.push((rel.clone(), md.ino()));
        out.push((rel, Entry::File(fs::read(p)?, mode)));
    }
    Ok(())
}

fn set_mode(p: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
}

/// `hay` with every `from` replaced by `to`.
fn replace_bytes(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() || from == to {
        return hay.to_vec();
    }
    let finder = memchr::memmem::Finder::new(from);
    let mut out = Vec::with_capacity(hay.len());
    let mut last = 0;
    for at in finder.find_iter(hay) {
        out.extend_from_slice(&hay[last..at]);
        out.extend_from_slice(to);
        last = at + from.len();
    }
    out.extend_from_slice(&hay[last..]);
    out
}

/// Waits for a step's process without polling (a thread blocks in `wait`, this one waits on it
/// with the time limit): the sweep runs thousands of steps, and a 1 ms poll left a core idle
/// for half a millisecond after each. Past the limit, kills the step's whole process group
/// (background jobs die with it; in the jail, its PID namespace dies with its first process).
/// Returns the exit status (`None`: timed out).
fn wait_or_kill_group(
    mut child: std::process::Child,
    limit: Duration,
) -> io::Result<(Option<std::process::ExitStatus>, bool)> {
    let pid = child.id();
    if !crate::interrupt::track_group(pid) {
        crate::interrupt::kill_group(pid);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let st = child.wait();
        // The receiver is gone only when the step was given up after SIGKILL: nobody waits.
        let _ = tx.send(());
        st
    });
    let timed_out = rx.recv_timeout(limit).is_err();
    if timed_out {
        crate::interrupt::kill_group(pid);
        // SIGKILL ends a process unless it is stuck in the kernel (a hung mount, a device):
        // then waiting for it would hang the drill, so the step is given up (its thread left).
        if rx.recv_timeout(HOST_GRACE).is_err() {
            crate::interrupt::forget_group(pid);
            return Err(io::Error::other(format!(
                "the step's process {pid} did not end after SIGKILL"
            )));
        }
    }
    let st = waiter.join();
    crate::interrupt::forget_group(pid);
    crate::interrupt::halt_if_stopping();
    let st = st.map_err(|_| io::Error::other("the step's waiter thread panicked"))??;
    Ok(((!timed_out).then_some(st), timed_out))
}

/// What one step did.
#[derive(Debug)]
pub struct StepRun {
    pub code: Option<i32>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug)]
pub struct Sandbox {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub bin: PathBuf,
    pub home: PathBuf,
    pub secrets: PathBuf,
    pub stack: PathBuf,
    pub state: PathBuf,
    pub tmp: PathBuf,
    bash: PathBuf,
    /// The drill's own executable (the mocks and the jail helper).
    exe: PathBuf,
    isolation: &'static Isolation,
    counter: usize,
    /// The jail host of this sandbox's steps (jail.rs), started by the first jailed step.
    host: Option<Host>,
    /// The server the mock tools call (mock/server.rs).
    server: Option<server::Server>,
}

/// A running jail host: its requests go to `stdin`, its reply lines come through `replies`
/// (a thread reads them, so a wait can have a time limit).
#[derive(Debug)]
struct Host {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    replies: std::sync::mpsc::Receiver<io::Result<String>>,
}

/// How long past a step's own limit the engine waits for the host's reply before it ends the
/// host and its namespace (the host kills a step at the limit itself).
const HOST_GRACE: Duration = Duration::from_secs(15);

impl Host {
    /// Ends the host and every process of its namespace: the end of its input lets it exit
    /// (and `unshare` with it, so the CPU time of its steps is accounted to the drill, as
    /// `time` shows); one that has not exited within a second is killed with its group
    /// (`unshare --kill-child` takes the namespace with it).
    fn end(self) -> io::Result<()> {
        let Host {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        let pid = child.id();
        let mut waited = Duration::ZERO;
        let step = Duration::from_millis(1);
        while child.try_wait()?.is_none() {
            if waited >= Duration::from_secs(1) {
                crate::interrupt::kill_group(pid);
                child.wait()?;
                break;
            }
            std::thread::sleep(step);
            waited += step;
        }
        crate::interrupt::forget_group(pid);
        Ok(())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(h) = self.host.take() {
            // Nothing is left to report to: the host is gone either way.
            h.end().ok();
        }
        drop(self.server.take());
        crate::world::forget(&self.world_file());
        crate::interrupt::forget_dir(&self.root);
        crate::interrupt::forget_dir(self._dir.path());
    }
}

/// Host tools come from the caller's PATH, but only by these names: never docker, psql, curl, …
/// Looked up once per process (the sweep makes thousands of sandboxes; PATH does not change).
fn host_tools() -> &'static [(&'static str, PathBuf)] {
    static TOOLS: std::sync::OnceLock<Vec<(&'static str, PathBuf)>> = std::sync::OnceLock::new();
    TOOLS.get_or_init(|| {
        let host_path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
        ALLOWED_TOOLS
            .iter()
            .filter_map(|tool| {
                find_on(&host_path, tool)
                    .or_else(|| find_on("/usr/bin:/bin", tool))
                    .map(|p| (*tool, p))
            })
            .collect()
    })
}

fn find_on(path: &str, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Where sandboxes live: `CDB_DRILL_TMPDIR` when set, else `/dev/shm` when it is a writable
/// tmpfs, else the system temp dir. A drill creates and replaces small files by the thousand
/// (the world file on every mock call, a script and two outputs per step); on ext4 the inode
/// churn alone cost the sweep more system time than everything else together.
pub fn base_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("CDB_DRILL_TMPDIR") {
        return Some(PathBuf::from(d));
    }
    let shm = Path::new("/dev/shm");
    shm.is_dir().then(|| shm.to_path_buf())
}

/// A new `cdb-drill-*` directory in [`base_dir`], mode 0700 from its creation, registered for
/// removal on SIGINT/SIGTERM until dropped with its [`Sandbox`].
pub fn private_tempdir() -> io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    crate::interrupt::install();
    let mut b = tempfile::Builder::new();
    b.prefix("cdb-drill-")
        .permissions(fs::Permissions::from_mode(0o700));
    crate::interrupt::create_tracked(|| match base_dir() {
        Some(d) => b.tempdir_in(&d).or_else(|_| b.tempdir()),
        None => b.tempdir(),
    })
}

/// Creates `p` (and missing parents) with mode 0700.
fn private_dir(p: &Path) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(p)
}

impl Sandbox {
    /// Creates the sandbox; `mock_exe` is the executable that answers `__cdb-mock TOOL …`.
    pub fn new(mock_exe: &Path) -> io::Result<Sandbox> {
        let exe = fs::canonicalize(mock_exe)?;
        let isolation = jail::probe(&exe);
        let dir = private_tempdir()?;
        let root = fs::canonicalize(dir.path())?;
        if root != dir.path() {
            crate::interrupt::track_dir(&root);
        }
        let sub = |n: &str| root.join(n);
        let sb = Sandbox {
            bin: sub("bin"),
            home: sub("home"),
            secrets: sub("secrets"),
            stack: sub("stack"),
            state: sub("state"),
            tmp: sub("tmp"),
            root: root.clone(),
            _dir: dir,
            bash: ["/bin/bash", "/usr/bin/bash"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        "bash not found in /bin or /usr/bin",
                    )
                })?,
            exe: exe.clone(),
            isolation,
            counter: 0,
            host: None,
            server: None,
        };
        for d in [
            &sb.bin,
            &sb.home,
            &sb.secrets,
            &sb.stack,
            &sb.state,
            &sb.tmp,
            &sb.root.join(STEPS_DIR),
            &sb.root.join(jail::JAIL_DIR),
            &sb.root.join(MOCK_DIR),
        ] {
            private_dir(d)?;
        }
        // The mocks read the parsed stack description from here (stack.rs).
        crate::stack::write_cache(&sb.world_file())?;
        // A symlink per tool to the mock client (it sends its call, named by the link, to this
        // sandbox's world server): one small exec per call, which the sweep makes thousands of.
        let client = sb.root.join(MOCK_DIR).join("client");
        {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o700)
                .open(&client)?;
            std::io::Write::write_all(&mut f, server::CLIENT)?;
        }
        // The reference path (`CDB_DRILL_MOCKS=process`): each call starts the drill binary
        // itself, which runs it in its own process against the world file, as before the
        // server. A test keeps both paths' journals byte-identical (tests/it/outputs.rs).
        let by_process = by_process();
        for tool in SHIMS {
            let target = if by_process { &exe } else { &client };
            std::os::unix::fs::symlink(target, sb.bin.join(tool))?;
        }
        let mut sb = sb;
        sb.server = Some(server::Server::start(&sb.socket(), &sb.world_file())?);
        for (tool, found) in host_tools() {
            std::os::unix::fs::symlink(found, sb.bin.join(tool))?;
        }
        for p in &crate::stack::kit().projects {
            let (file, services) = (&p.file, &p.services);
            let mut y = String::from(
                "# drill sandbox: the services of this project (the mocks answer for them)\nservices:\n",
            );
            for s in services {
                y.push_str(&format!("  {s}:\n    container_name: {s}\n"));
            }
            fs::write(sb.stack.join(file), y)?;
        }
        // The overlays beside them (overlays.rs): an extra `-f` file each.
        for file in crate::overlays::OVERLAY_FILES {
            fs::write(
                sb.stack.join(file),
                "# drill sandbox: an overlay (TLS for the servers and their clients)\nservices: {}\n",
            )?;
        }
        if let Some(r) = runner() {
            r.prepare(&sb)?;
        }
        Ok(sb)
    }

    /// Everything a step could have changed (every file under the root but `bin/` and `jail/`), to start
    /// other drills from this point (the sweep shares the fault-free prefix of its cases).
    pub fn snapshot(&self) -> io::Result<SandboxSnapshot> {
        crate::world::flush(&self.world_file())?;
        let mut entries = Vec::new();
        let mut inodes = Vec::new();
        for e in fs::read_dir(&self.root)? {
            let e = e?;
            if !FIXED.iter().any(|f| e.file_name() == *f) {
                walk(&self.root, &e.path(), &mut entries, &mut inodes)?;
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(SandboxSnapshot {
            root: self.root.display().to_string(),
            counter: self.counter,
            entries,
            inodes,
        })
    }

    /// Makes this sandbox what `snap` was: every file but `bin/` replaced, the snapshot's root
    /// path rewritten to this one wherever a file holds it (the world file does), the step
    /// counter restored, and the world's mounts moved to the new files' inodes: a container
    /// whose mount held a file's inode then holds the restored file's now (an edit in place is
    /// seen, as in the recording), and one whose file had been replaced by rename still holds
    /// an inode no file has.
    pub fn restore(&mut self, snap: &SandboxSnapshot) -> io::Result<()> {
        for e in fs::read_dir(&self.root)? {
            let e = e?;
            if FIXED.iter().any(|f| e.file_name() == *f) {
                continue;
            }
            if e.file_type()?.is_dir() {
                fs::remove_dir_all(e.path())?;
            } else {
                fs::remove_file(e.path())?;
            }
        }
        let new_root = self.root.display().to_string();
        let rewrite =
            |b: &[u8]| -> Vec<u8> { replace_bytes(b, snap.root.as_bytes(), new_root.as_bytes()) };
        let mut dirs = Vec::new();
        for (rel, entry) in &snap.entries {
            let p = self.root.join(rel);
            match entry {
                Entry::Dir(mode) => {
                    fs::create_dir(&p)?;
                    dirs.push((p, *mode));
                }
                Entry::File(bytes, mode) => {
                    fs::write(&p, rewrite(bytes))?;
                    set_mode(&p, *mode)?;
                }
                Entry::Link(target) => {
                    let t = rewrite(target.as_os_str().as_encoded_bytes());
                    std::os::unix::fs::symlink(String::from_utf8_lossy(&t).as_ref(), &p)?;
                }
            }
        }
        // Directory modes last (a read-only directory takes no files), deepest first.
        for (p, mode) in dirs.iter().rev() {
            set_mode(p, *mode)?;
        }
        self.counter = snap.counter;
        let mut moved = std::collections::BTreeMap::new();
        for (rel, old) in &snap.inodes {
            use std::os::unix::fs::MetadataExt;
            moved.insert(*old, fs::symlink_metadata(self.root.join(rel))?.ino());
        }
        let world = self.world_file();
        crate::world::reload(&world);
        if world.exists() {
            crate::world::with_world(&world, |w| w.move_mounts(&moved))?;
        }
        Ok(())
    }

    /// What confines this sandbox's steps.
    pub fn isolation(&self) -> &'static Isolation {
        self.isolation
    }

    /// The command that runs `program` in this sandbox's jail (the interactive shell's bash).
    pub fn jailed(&self, program: &Path) -> std::process::Command {
        jail::command(self.isolation, &self.exe, &self.root, program)
    }

    pub fn world_file(&self) -> PathBuf {
        self.state.join("world.json")
    }

    /// Keeps this sandbox's world in memory while it lives (world.rs `hold`): for drills, where
    /// everything else that uses the world runs in this process. Not under a step runner
    /// (cdb-lab's docker adapter is a process that uses the file), nor in `--shell` (its hooks).
    pub fn hold_world(&self) {
        if runner().is_none() && !by_process() {
            crate::world::hold(&self.world_file());
        }
    }

    /// The world server's socket, which the mock tools find through `CDB_DRILL_SOCKET`.
    pub fn socket(&self) -> PathBuf {
        self.root.join(MOCK_DIR).join("socket")
    }

    /// Replaces the sandbox path with `$SANDBOX`, so transcripts are the same on every run.
    pub fn sanitize(&self, text: &str) -> String {
        text.replace(&self.root.display().to_string(), "$SANDBOX")
    }

    /// `bash --noprofile --norc SCRIPT` with the environment and working directory every step
    /// gets, outside the jail: for a [`StepRunner`] whose steps must reach real servers
    /// (cdb-lab's lab and conformance suite).
    pub fn step_command(&self, bash: &Path, script: &Path) -> std::process::Command {
        let mut cmd = std::process::Command::new(bash);
        cmd.args(["--noprofile", "--norc"]).arg(script);
        self.step_env(&mut cmd);
        cmd
    }

    /// The environment every step gets (and the jail host, which passes it on).
    fn step_env(&self, cmd: &mut std::process::Command) {
        cmd.env_clear()
            .env("PATH", &self.bin)
            .env("HOME", &self.home)
            .env("SECRETS_PATH", &self.secrets)
            // The operator's TLS folder (runbook Prerequisites; tls.rs `DIR`).
            .env("CDB_TLS_DIR", self.root.join(crate::tls::DIR))
            .env("TMPDIR", &self.tmp)
            .env("LANG", "C")
            .env("TERM", "dumb")
            .env(SOCKET_VAR, self.socket())
            .current_dir(&self.stack);
        // A world held in memory has no file to name: the mock tools reach it by the socket.
        if !crate::world::is_held(&self.world_file()) {
            cmd.env(STATE_VAR, self.world_file());
        }
    }

    /// Starts this sandbox's jail host and waits for its `READY`.
    fn start_host(&self, unshare: &Path) -> io::Result<Host> {
        let mut cmd = std::process::Command::new(unshare);
        cmd.args(jail::UNSHARE_ARGS)
            .arg(&self.exe)
            .arg(jail::HOST_MARKER)
            .arg(&self.root)
            .arg(&self.bash);
        self.step_env(&mut cmd);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0);
        let mut child = cmd.spawn()?;
        let pid = child.id();
        if !crate::interrupt::track_group(pid) {
            crate::interrupt::kill_group(pid);
        }
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(io::Error::other("the jail host has no pipes"));
        };
        let replies = jail::line_reader(stdout, "the jail host ended");
        let host = Host {
            child,
            stdin,
            replies,
        };
        match host.replies.recv_timeout(HOST_GRACE) {
            Ok(Ok(l)) if l == "READY" => Ok(host),
            r => {
                let why = match r {
                    Ok(Ok(l)) => l.strip_prefix("ERROR ").unwrap_or(&l).to_owned(),
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "no answer".into(),
                };
                host.end()?;
                Err(io::Error::other(format!(
                    "the drill jail could not start: {why}"
                )))
            }
        }
    }

    /// Sends one request to the jail host (started when there is none) and waits for its reply:
    /// the exit code (`None` after a signal) and whether the step ran out of time. A host that
    /// does not answer in time, or answers with an error, is ended: the next step gets a new one.
    fn run_in_host(
        &mut self,
        unshare: &Path,
        request: &str,
        limit: Duration,
    ) -> io::Result<(Option<i32>, bool)> {
        use std::io::Write;
        if self.host.is_none() {
            self.host = Some(self.start_host(unshare)?);
        }
        let Some(host) = self.host.as_mut() else {
            return Err(io::Error::other("no jail host"));
        };
        let sent = writeln!(host.stdin, "{request}").and_then(|()| host.stdin.flush());
        let reply = match sent {
            Ok(()) => host.replies.recv_timeout(limit + HOST_GRACE),
            Err(e) => Ok(Err(e)),
        };
        crate::interrupt::halt_if_stopping();
        let parsed = match &reply {
            Ok(Ok(l)) => match l.split_once(' ').unwrap_or((l.as_str(), "")) {
                ("EXIT", n) => n.parse().ok().map(|c| (Some(c), false)),
                ("SIGNAL", _) => Some((None, false)),
                ("TIMEOUT", _) => Some((None, true)),
                _ => None,
            },
            _ => None,
        };
        if let Some(r) = parsed {
            return Ok(r);
        }
        if let Some(h) = self.host.take() {
            h.end()?;
        }
        match reply {
            // The host outlived the step's limit and the grace: the step counts as timed out.
            Err(_) => Ok((None, true)),
            Ok(Ok(l)) => Err(io::Error::other(format!(
                "the drill jail: {}",
                l.strip_prefix("ERROR ").unwrap_or(&l)
            ))),
            Ok(Err(e)) => Err(io::Error::other(format!("the drill jail: {e}"))),
        }
    }

    /// Runs one step body with the sandbox environment.
    pub fn run(&mut self, id: &str, body: &str, limit: Duration) -> io::Result<StepRun> {
        self.counter += 1;
        let steps = self.root.join(STEPS_DIR);
        let script = steps.join(format!("{:03}-{id}.sh", self.counter));
        fs::write(&script, body)?;
        if let Some(r) = runner() {
            return r.run(self, &script, limit);
        }
        let out_p = steps.join(format!("{:03}.out", self.counter));
        let err_p = steps.join(format!("{:03}.err", self.counter));
        let out_f = fs::File::create(&out_p)?;
        let err_f = fs::File::create(&err_p)?;
        // A step's output that cannot be read is the sandbox's failure, not an empty output
        // (which would pass for a silent step).
        let read = |p: &Path| fs::read(p).map(|b| String::from_utf8_lossy(&b).into_owned());
        if let Isolation::Namespaces(unshare) = self.isolation {
            let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
            let (Some(s), Some(o), Some(e)) = (name(&script), name(&out_p), name(&err_p)) else {
                return Err(io::Error::other("a step file has no name"));
            };
            let (code, timed_out) = self.run_in_host(
                unshare,
                &format!("RUN {} {s} {o} {e}", limit.as_millis()),
                limit,
            )?;
            return Ok(StepRun {
                code,
                timed_out,
                stdout: read(&out_p)?,
                stderr: read(&err_p)?,
            });
        }
        let mut cmd = jail::command(self.isolation, &self.exe, &self.root, &self.bash);
        // No `-e` here: a step is pasted into shells without it, and sets it in its own subshell
        // (rule `step-verdict`); the drill runs it as the operator's terminal would.
        cmd.args(["--noprofile", "--norc"]).arg(&script);
        self.step_env(&mut cmd);
        cmd.stdin(Stdio::null())
            .stdout(out_f)
            .stderr(err_f)
            .process_group(0);
        let child = cmd.spawn()?;
        let (status, timed_out) = wait_or_kill_group(child, limit)?;
        Ok(StepRun {
            code: status.and_then(|s| s.code()),
            timed_out,
            stdout: read(&out_p)?,
            stderr: read(&err_p)?,
        })
    }
}
