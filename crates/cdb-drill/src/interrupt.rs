//! What an interrupted drill cleans up: on SIGINT, SIGTERM or SIGHUP (Ctrl-C, a cancelled CI
//! job, a closed terminal) every live step's process group is killed and every live sandbox
//! removed before the process exits, so nothing is left in `/dev/shm` or the temp dir.
//!
//! The handler is `signal-hook`'s iterator (a self-pipe read by one thread): the workspace
//! forbids `unsafe`, and a signal handler cannot be installed without it. The thread does the
//! cleanup outside the signal context, where removing directories and killing groups is safe.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};

/// Sandboxes that exist now, and the process groups of steps that run now.
#[derive(Default)]
struct Live {
    dirs: Vec<PathBuf>,
    groups: Vec<u32>,
    /// Set once a signal arrived: no new step starts, no new sandbox is left behind.
    stopping: bool,
}

fn live() -> MutexGuard<'static, Live> {
    static LIVE: Mutex<Live> = Mutex::new(Live {
        dirs: Vec::new(),
        groups: Vec::new(),
        stopping: false,
    });
    // A thread that panicked while holding the lock left a consistent list (push / retain).
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Installs the handler once per process (the first sandbox does).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            // Without a handler the drill still runs; an interrupt then leaves its sandbox.
            return;
        };
        // A handler thread that cannot start is the same as no handler (above).
        let _ = std::thread::Builder::new()
            .name("cdb-drill-signals".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    clean_up();
                    // The shell's convention: 128 + the signal number.
                    std::process::exit(128 + sig);
                }
            });
    });
}

/// Kills every live step group and removes every live sandbox.
fn clean_up() {
    let (groups, dirs) = {
        let mut l = live();
        l.stopping = true;
        (std::mem::take(&mut l.groups), std::mem::take(&mut l.dirs))
    };
    for g in groups {
        kill_group(g);
    }
    // Other threads run on until they reach `halt_if_stopping`, and one may still be writing
    // into a sandbox: a removal that meets a file created meanwhile fails ("directory not
    // empty"), so it is tried again, for at most a second per directory.
    for d in dirs {
        for _ in 0..100 {
            if std::fs::remove_dir_all(&d).is_ok() || !d.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// Sends SIGKILL to the process group `pgid` (a step started with `process_group(0)`), and to
/// the process itself when it leads no group (the `--shell` bash, which keeps the terminal's).
/// In the jail the process is `unshare`, whose death kills the namespace's first process, and
/// with it every process of the namespace.
pub fn kill_group(pgid: u32) {
    if let Some(pid) = i32::try_from(pgid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        // Either may find nothing (ESRCH: no such group, or the process already gone), which
        // is what a kill wants; a process SIGKILL cannot end is the caller's to detect
        // (`sandbox::wait_or_kill_group` gives its step up after a grace period).
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
}

/// Called by a thread whose step just ended: once a signal arrived it waits here for the
/// handler to end the process, instead of going on in a sandbox being removed (and exiting
/// first with an error of its own).
pub fn halt_if_stopping() {
    if live().stopping {
        loop {
            std::thread::park();
        }
    }
}

/// Registers a sandbox directory (removed on a signal) until [`forget_dir`].
pub fn track_dir(p: &Path) {
    live().dirs.push(p.to_path_buf());
}

/// Creates a directory with `create` and registers it, both under the lock the signal handler
/// takes: a signal either finds it in the list (and removes it) or arrives first, and then
/// nothing is created (the thread waits here for the handler to end the process). Creating
/// first and registering after left a directory behind when the handler ran in between.
pub fn create_tracked(
    create: impl FnOnce() -> std::io::Result<tempfile::TempDir>,
) -> std::io::Result<tempfile::TempDir> {
    let mut l = live();
    if l.stopping {
        drop(l);
        halt_if_stopping();
        return Err(std::io::Error::other("interrupted"));
    }
    let d = create()?;
    l.dirs.push(d.path().to_path_buf());
    Ok(d)
}

pub fn forget_dir(p: &Path) {
    live().dirs.retain(|d| d != p);
}

/// Registers a running step's process group. `false`: a signal already arrived, kill it now.
pub fn track_group(pgid: u32) -> bool {
    let mut l = live();
    if l.stopping {
        return false;
    }
    l.groups.push(pgid);
    true
}

pub fn forget_group(pgid: u32) {
    live().groups.retain(|g| *g != pgid);
}
