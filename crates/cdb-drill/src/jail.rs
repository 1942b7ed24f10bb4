//! The jail every drill step runs in: its own user, mount, PID and network namespaces, the host
//! read-only, only the sandbox writable, no network, every process of the step gone when it ends.
//!
//! How: the drill runs `unshare --user --map-root-user --mount --pid --net --fork --kill-child
//! --mount-proc EXE __cdb-jail SANDBOX PROGRAM ARGS…` (util-linux creates the namespaces, so this
//! crate needs no `unsafe`); `EXE` is the drill's own executable, and [`entry`] then, as PID 1 of
//! the new PID namespace:
//! 1. binds the whole host tree recursively onto `SANDBOX/jail` and remounts every mount of that
//!    copy read-only (one syscall per mount, no process per mount);
//! 2. binds the sandbox, writable, at its own path inside the copy;
//! 3. makes the copy the root with `pivot_root(".", ".")` and detaches the old root, so no
//!    `chroot` escape leads back to a writable host;
//! 4. drops every capability (bounding set included) and sets `no_new_privs`, so the step cannot
//!    remount anything writable, and sets the umask to 077;
//! 5. executes the step's program, which becomes PID 1: when it exits the kernel kills every
//!    process left in the namespace (a `setsid` daemon included).
//!
//! Drill steps do not pay for steps 1 to 4 each time: a sandbox starts one jail host
//! (`__cdb-jail-host`, [`HOST_MARKER`]) the same way, which stays PID 1 of the namespace and
//! runs each step on request as a subshell forked by one idle `bash` (the step zygote); when the
//! step ends (or overruns its limit and is killed) the host kills and reaps every other process
//! of the namespace but the zygote before it answers, so each step still starts with nothing of
//! the last one running. The
//! interactive `--shell` uses [`command`] (one jail for the session).
//!
//! The new network namespace has only a loopback interface, left down: no connection of any kind
//! leaves it. Host files stay readable (the step needs `bash` and the tools); what a step prints
//! is masked before it is written anywhere (engine.rs).
//!
//! Where the kernel refuses (some CI runners restrict unprivileged user namespaces) or
//! `unshare` is missing, [`probe`] says why once per process, and steps run unconfined but for
//! the umask; the drill prints `isolation: none (…)` at the top and records it in the journal.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// argv[1] of the jail helper.
pub const MARKER: &str = "__cdb-jail";

/// Environment variable that turns the jail off (`CDB_DRILL_ISOLATION=none`), for debugging a
/// step on a machine where namespaces misbehave; the drill then says so, as when refused.
pub const ENV_OFF: &str = "CDB_DRILL_ISOLATION";

/// The directory under a sandbox root where the host tree is mounted inside the jail.
pub const JAIL_DIR: &str = "jail";

/// What confines a drill's steps on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// Steps run in their own namespaces; the `unshare` executable used.
    Namespaces(PathBuf),
    /// Steps run unconfined (the reason, one line).
    None(String),
}

impl Isolation {
    /// The one line a drill prints at the top and records in the journal. It is the same for
    /// every run on a given machine, so journals stay byte-identical per seed there.
    pub fn line(&self) -> String {
        format!("isolation: {}", self.summary())
    }

    /// The line without its `isolation: ` label (the journal's `isolation` field).
    pub fn summary(&self) -> String {
        match self {
            Isolation::Namespaces(_) => {
                "namespaces (user, mount, pid, net): host read-only, sandbox writable, no network"
                    .into()
            }
            Isolation::None(why) => format!("none ({why})"),
        }
    }

    pub fn confined(&self) -> bool {
        matches!(self, Isolation::Namespaces(_))
    }
}

fn find_unshare() -> Option<PathBuf> {
    ["/usr/bin/unshare", "/bin/unshare", "/usr/sbin/unshare"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// The arguments of `unshare` that create a step's namespaces.
pub const UNSHARE_ARGS: &[&str] = &[
    "--user",
    "--map-root-user",
    "--mount",
    "--pid",
    "--net",
    "--fork",
    "--kill-child",
    "--mount-proc",
];

/// Whether steps can be jailed here: tried once per process with a real jail (a tiny sandbox,
/// `true` as the step), so a kernel that allows `unshare` but refuses a mount is caught too.
pub fn probe(exe: &Path) -> &'static Isolation {
    static ISO: OnceLock<Isolation> = OnceLock::new();
    ISO.get_or_init(|| probe_now(exe))
}

fn probe_now(exe: &Path) -> Isolation {
    if std::env::var_os(ENV_OFF).is_some_and(|v| v == "none") {
        return Isolation::None(format!("turned off by {ENV_OFF}=none"));
    }
    let Some(unshare) = find_unshare() else {
        return Isolation::None("namespaces refused: no unshare executable (util-linux)".into());
    };
    let dir = match crate::sandbox::private_tempdir() {
        Ok(d) => d,
        Err(e) => return Isolation::None(format!("cannot create a probe directory: {e}")),
    };
    let root = dir.path();
    if let Err(e) = std::fs::create_dir(root.join(JAIL_DIR)) {
        return Isolation::None(format!("cannot create a probe directory: {e}"));
    }
    let truth = ["/bin/true", "/usr/bin/true"]
        .iter()
        .find(|p| Path::new(p).is_file())
        .copied()
        .unwrap_or("/bin/true");
    let out = Command::new(&unshare)
        .args(UNSHARE_ARGS)
        .arg(exe)
        .arg(MARKER)
        .arg(root)
        .arg(truth)
        .env_clear()
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match out {
        Ok(o) if o.status.success() => Isolation::Namespaces(unshare),
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stderr);
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            // The probe's own temp path is not the same on every run: keep the line stable.
            let first = first.replace(&root.display().to_string(), "$SANDBOX");
            Isolation::None(format!(
                "namespaces refused: {}",
                if first.is_empty() {
                    format!("unshare exited with {}", o.status)
                } else {
                    first.trim().to_owned()
                }
            ))
        }
        Err(e) => Isolation::None(format!("namespaces refused: cannot run unshare: {e}")),
    }
}

/// The command that runs `program` in the sandbox at `root`, jailed when `iso` allows.
/// Unjailed, the helper only sets the umask and executes the program.
pub fn command(iso: &Isolation, exe: &Path, root: &Path, program: &Path) -> Command {
    match iso {
        Isolation::Namespaces(unshare) => {
            let mut c = Command::new(unshare);
            c.args(UNSHARE_ARGS).arg(exe).arg(MARKER).arg(root);
            c.arg(program);
            c
        }
        Isolation::None(_) => {
            let mut c = Command::new(exe);
            c.arg(MARKER).arg("--unconfined").arg(program);
            c
        }
    }
}

/// When this process is the jail helper, sets the jail up and executes the step (it returns
/// only on failure, with exit code 126 and the reason on stderr); as the jail host
/// ([`HOST_MARKER`]), sets it up once and runs the steps it is sent until its input ends.
pub fn entry() -> Option<u8> {
    let mut args = std::env::args_os().skip(1);
    let first = args.next()?;
    if first == HOST_MARKER {
        let rest: Vec<std::ffi::OsString> = args.collect();
        let r = match rest.as_slice() {
            [root, bash] => host(Path::new(root), Path::new(bash)),
            _ => Err(io::Error::other("usage: __cdb-jail-host SANDBOX BASH")),
        };
        return Some(match r {
            Ok(()) => 0,
            Err(e) => {
                // The engine reads this as the host's last reply.
                println!("ERROR {e}");
                126
            }
        });
    }
    if first != MARKER {
        return None;
    }
    let rest: Vec<std::ffi::OsString> = args.collect();
    let r = match rest.first() {
        Some(a) if a == "--unconfined" => exec_step(&rest[1..]),
        Some(root) => setup(Path::new(root)).and_then(|()| exec_step(&rest[1..])),
        None => Err(io::Error::other("usage: __cdb-jail SANDBOX PROGRAM ARGS…")),
    };
    let e = r.err().unwrap_or_else(|| io::Error::other("exec returned"));
    eprintln!("drill jail: {e}");
    Some(126)
}

fn exec_step(argv: &[std::ffi::OsString]) -> io::Result<()> {
    use std::os::unix::process::CommandExt;
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::other("no program to run"))?;
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    Err(Command::new(program).args(args).exec())
}

/// argv[1] of the jail host: one per sandbox, the jail set up once, steps run on request.
pub const HOST_MARKER: &str = "__cdb-jail-host";

/// The jail host's protocol, one line each way per step. Request: `RUN MILLIS SCRIPT OUT ERR`
/// (file names in the sandbox's `steps/` folder, no `/` and no blank). Reply: `READY` once
/// the jail is set up, then per step `EXIT CODE`, `SIGNAL NUMBER`, `TIMEOUT` or `ERROR TEXT`.
///
/// Why a host: setting up namespaces and mounts, and starting `unshare` and this executable,
/// once per step cost more than most steps' own commands (the sweep runs thousands of steps).
/// What a per-step namespace gave is kept: the host is the first process of the PID namespace,
/// each step is `bash` started by it, and when the step ends every other process of the
/// namespace (a `setsid` daemon included) is killed and reaped before the reply, so the next
/// step starts with nothing of the last one running.
fn host(root: &Path, bash: &Path) -> io::Result<()> {
    use std::io::{BufRead, Write};
    setup(root)?;
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    // Steps run as the same user: without this they could open `/proc/1/fd/…` and write a
    // reply of their own, or read the next request.
    ctx(
        || "not dumpable".into(),
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable),
    )?;
    let steps = root.join("steps");
    let mut out = io::stdout().lock();
    writeln!(out, "READY")?;
    out.flush()?;
    let mut zygote: Option<Zygote> = None;
    for line in io::stdin().lock().lines() {
        let line = line?;
        let reply = match parse_request(&line) {
            Some((limit, script, stdout, stderr)) => {
                host_step(bash, &steps, &mut zygote, limit, script, stdout, stderr)
                    .unwrap_or_else(|e| format!("ERROR {e}"))
            }
            None => "ERROR malformed request".into(),
        };
        writeln!(out, "{reply}")?;
        out.flush()?;
    }
    // The end of its input ends the zygote's loop; waiting for it adds its steps' CPU time to
    // this process's children, as `time` shows it for the drill.
    if let Some(z) = zygote {
        let Zygote {
            mut child, stdin, ..
        } = z;
        drop(stdin);
        child.wait()?;
    }
    Ok(())
}

/// `RUN MILLIS SCRIPT OUT ERR` → its parts, when every name is a plain file name.
fn parse_request(line: &str) -> Option<(std::time::Duration, &str, &str, &str)> {
    let mut f = line.split(' ');
    if f.next()? != "RUN" {
        return None;
    }
    let ms: u64 = f.next()?.parse().ok()?;
    let names = (f.next()?, f.next()?, f.next()?);
    let plain = |n: &str| !n.is_empty() && !n.contains('/') && n != "." && n != "..";
    (f.next().is_none() && plain(names.0) && plain(names.1) && plain(names.2)).then_some((
        std::time::Duration::from_millis(ms),
        names.0,
        names.1,
        names.2,
    ))
}

/// A thread that reads `out`'s lines into a channel (so a wait for the next one can have a
/// time limit); the end of `out` arrives as the error `ended`. A closed receiver only means
/// nobody waits any more.
pub(crate) fn line_reader(
    out: std::process::ChildStdout,
    ended: &'static str,
) -> std::sync::mpsc::Receiver<io::Result<String>> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in io::BufReader::new(out).lines() {
            let end = line.is_err();
            if tx.send(line).is_err() || end {
                return;
            }
        }
        // The receiver is gone when the host was dropped: nobody waits for the reason.
        tx.send(Err(io::Error::other(ended))).ok();
    });
    rx
}

/// The bash that forks each step (see [`host_step`]): its requests go to `stdin` (three lines:
/// script, stdout file, stderr file), its replies (one line: the step's exit status) come
/// through a thread, so a wait can have a time limit.
struct Zygote {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    replies: std::sync::mpsc::Receiver<io::Result<String>>,
}

/// The zygote's loop. Each step is a subshell, in the foreground, with its outputs in the
/// step's files and no stdin, that sources the step's script: a fork of a bash that never ran
/// anything else, so the step starts from the state a new `bash --noprofile --norc SCRIPT` has
/// (the same environment, options, traps and working directory; no positional parameters),
/// and bash reports errors with the script's path and line as it does for a script file. Only
/// the variable naming the script is left over (not exported), and `$0`, `$$` and `$PPID` are
/// the zygote's: no runbook step uses them. `$?` after the subshell is its exit status (128 + N
/// after signal N), as the operator's terminal sees it.
const ZYGOTE: &str = r#"while IFS= read -r __cdb_step && IFS= read -r __cdb_out && IFS= read -r __cdb_err; do
  ( exec </dev/null >"$__cdb_out" 2>"$__cdb_err" && unset __cdb_out __cdb_err && . "$__cdb_step" )
  echo "$?"
done"#;

impl Zygote {
    fn start(bash: &Path) -> io::Result<Zygote> {
        let mut child = Command::new(bash)
            .args(["--noprofile", "--norc", "-c", ZYGOTE])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(io::Error::other("the step zygote has no pipes"));
        };
        let replies = line_reader(stdout, "the step zygote ended");
        Ok(Zygote {
            child,
            stdin,
            replies,
        })
    }

    fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap_or(0)
    }
}

/// Runs one step as a subshell of the zygote (started on the first step, and again after one
/// died) with its outputs in `OUT` and `ERR`, waits at most `limit`, then ends every other
/// process of the namespace but the zygote. Why a zygote: starting `bash` for every step
/// cost a dynamic load and glibc's `cpuid` probes each time (about 1.3 ms of CPU more than a
/// fork on the machines the sweep runs on, thousands of steps per sweep).
fn host_step(
    bash: &Path,
    steps: &Path,
    zygote: &mut Option<Zygote>,
    limit: std::time::Duration,
    script: &str,
    stdout: &str,
    stderr: &str,
) -> io::Result<String> {
    use std::io::Write;
    // The files exist before the step starts, as they did when the host opened them.
    for n in [stdout, stderr] {
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .create(true)
            .open(steps.join(n))?;
    }
    if zygote.is_none() {
        *zygote = Some(Zygote::start(bash)?);
    }
    let Some(z) = zygote.as_mut() else {
        return Err(io::Error::other("no step zygote"));
    };
    let path = |n: &str| steps.join(n).display().to_string();
    let sent = writeln!(
        z.stdin,
        "{}\n{}\n{}",
        path(script),
        path(stdout),
        path(stderr)
    )
    .and_then(|()| z.stdin.flush());
    let reply = match sent {
        Ok(()) => z.replies.recv_timeout(limit),
        Err(e) => Ok(Err(e)),
    };
    let keep = z.pid();
    let result = match reply {
        Ok(Ok(l)) => match l.trim().parse::<i32>() {
            Ok(code) => format!("EXIT {code}"),
            Err(_) => format!("ERROR the step zygote answered {l:?}"),
        },
        // Past the limit: the step (and whatever it started) is killed below; the zygote then
        // reports the killed subshell, which is read and dropped.
        Err(_) => "TIMEOUT".into(),
        // The zygote is gone (a step killed its parent): the step counts as killed.
        Ok(Err(_)) => "SIGNAL 9".into(),
    };
    end_the_rest(keep)?;
    if result == "TIMEOUT" {
        // The killed subshell's status, or the end of a zygote that died with it.
        if !matches!(
            z.replies.recv_timeout(std::time::Duration::from_secs(5)),
            Ok(Ok(_))
        ) {
            drop_zygote(zygote);
        }
    } else if result == "SIGNAL 9" || result.starts_with("ERROR") {
        drop_zygote(zygote);
    }
    Ok(result)
}

/// Ends a zygote that no longer answers (the next step starts a new one).
fn drop_zygote(zygote: &mut Option<Zygote>) {
    if let Some(mut z) = zygote.take() {
        // Clean-up: a zygote that already exited cannot be killed, and its status tells nothing.
        z.child.kill().ok();
        z.child.wait().ok();
    }
}

/// `ESRCH` (the process is already gone) is what a kill of a finished process gets.
fn signal_dead_ok(r: rustix::io::Result<()>) -> io::Result<()> {
    match r {
        Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
        Err(e) => Err(io::Error::other(format!("kill: {e}"))),
    }
}

/// Kills every process of the namespace but this one (its first) and `keep` (the step zygote)
/// and reaps them: orphans are
/// the first process's children. A step that keeps forking is killed round after round; after
/// 200 rounds the host gives up with an error, and the engine then ends the whole namespace.
fn end_the_rest(keep: i32) -> io::Result<()> {
    use rustix::process::{Pid, Signal, WaitOptions};
    for _ in 0..200 {
        let mut others = 0;
        for e in std::fs::read_dir("/proc")? {
            let Some(pid) = e?
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<i32>().ok())
                .and_then(Pid::from_raw)
            else {
                continue;
            };
            if pid.as_raw_nonzero().get() == 1 || pid.as_raw_nonzero().get() == keep {
                continue;
            }
            others += 1;
            signal_dead_ok(rustix::process::kill_process(pid, Signal::KILL))?;
        }
        loop {
            match rustix::process::wait(WaitOptions::NOHANG) {
                Ok(Some(_)) => continue,
                Ok(None) | Err(rustix::io::Errno::CHILD) => break,
                Err(e) => return Err(io::Error::other(format!("wait: {e}"))),
            }
        }
        if others == 0 {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    Err(io::Error::other(
        "processes of the step survived 200 rounds of SIGKILL",
    ))
}

/// Decodes the octal escapes (`\040` for a space) of a path in `/proc/self/mountinfo`.
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount points at or under `top` with the per-mount flags a remount must keep (a user
/// namespace may not clear `nosuid`, `nodev`, `noexec` or the atime mode of a mount it got).
fn mounts_under(top: &str) -> io::Result<Vec<(String, rustix::mount::MountFlags)>> {
    use rustix::mount::MountFlags as F;
    let info = std::fs::read_to_string("/proc/self/mountinfo")?;
    let mut out = Vec::new();
    for line in info.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let (Some(mp), Some(opts)) = (f.get(4), f.get(5)) else {
            continue;
        };
        let mp = unescape(mp);
        if mp != top && !mp.starts_with(&format!("{top}/")) {
            continue;
        }
        let mut flags = F::empty();
        for o in opts.split(',') {
            flags |= match o {
                "nosuid" => F::NOSUID,
                "nodev" => F::NODEV,
                "noexec" => F::NOEXEC,
                "noatime" => F::NOATIME,
                "nodiratime" => F::NODIRATIME,
                "relatime" => F::RELATIME,
                _ => F::empty(),
            };
        }
        out.push((mp, flags));
    }
    Ok(out)
}

fn ctx<T>(what: impl Fn() -> String, r: rustix::io::Result<T>) -> io::Result<T> {
    r.map_err(|e| io::Error::other(format!("{}: {e}", what())))
}

/// Steps 1 to 4 of the module doc, in the new namespaces.
fn setup(root: &Path) -> io::Result<()> {
    use rustix::mount::{self, MountFlags, MountPropagationFlags, UnmountFlags};
    let cwd = std::env::current_dir()?;
    let root = std::fs::canonicalize(root)?;
    let jail = root.join(JAIL_DIR);
    let jail_s = jail.display().to_string();
    // Nothing done here may reach the host's mount table.
    ctx(
        || "make mounts private".into(),
        mount::mount_change(
            "/",
            MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
        ),
    )?;
    ctx(
        || format!("bind / onto {jail_s}"),
        mount::mount_bind_recursive("/", &jail),
    )?;
    for (mp, keep) in mounts_under(&jail_s)? {
        ctx(
            || format!("make {mp} read-only"),
            mount::mount_remount(
                mp.as_str(),
                MountFlags::BIND | MountFlags::RDONLY | keep,
                "",
            ),
        )?;
    }
    let inner = jail.join(root.strip_prefix("/").map_err(io::Error::other)?);
    ctx(
        || "bind the sandbox writable".into(),
        mount::mount_bind(&root, &inner),
    )?;
    ctx(|| format!("enter {jail_s}"), rustix::process::chdir(&jail))?;
    ctx(
        || "pivot_root".into(),
        rustix::process::pivot_root(".", "."),
    )?;
    ctx(
        || "detach the old root".into(),
        mount::unmount(".", UnmountFlags::DETACH),
    )?;
    ctx(
        || format!("enter {}", cwd.display()),
        rustix::process::chdir(&cwd),
    )?;
    drop_privileges()
}

/// No capability left, none to gain: the step cannot remount, mount, `chroot` or trace.
fn drop_privileges() -> io::Result<()> {
    use rustix::thread::{CapabilitySet, CapabilitySets};
    for cap in CapabilitySet::all().iter() {
        // Capabilities this kernel does not know are refused with EINVAL: nothing to drop.
        match rustix::thread::remove_capability_from_bounding_set(cap) {
            Ok(()) | Err(rustix::io::Errno::INVAL) => {}
            Err(e) => return Err(io::Error::other(format!("drop capabilities: {e}"))),
        }
    }
    ctx(
        || "no_new_privs".into(),
        rustix::thread::set_no_new_privs(true),
    )?;
    ctx(
        || "clear capabilities".into(),
        rustix::thread::set_capabilities(
            None,
            CapabilitySets {
                effective: CapabilitySet::empty(),
                permitted: CapabilitySet::empty(),
                inheritable: CapabilitySet::empty(),
            },
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_decode() {
        assert_eq!(unescape(r"/a\040b"), "/a b");
        assert_eq!(unescape(r"/a\134b"), r"/a\b");
        assert_eq!(unescape(r"/plain"), "/plain");
        assert_eq!(unescape(r"/end\04"), r"/end\04");
    }
}
