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
/// only on failure, with exit code 126 and the reason on stderr).
pub fn entry() -> Option<u8> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != MARKER {
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
