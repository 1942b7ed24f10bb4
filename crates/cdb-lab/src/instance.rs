//! One supervised server process in its own temp dir: start, restart, readiness, stop.
//!
//! The server's parent is a small `sh` supervisor reading commands on its standard input, a
//! pipe whose only writer is this process. `restart` stops the server and starts it again with
//! the same command; end of input (the handle dropped, or this process killed) stops the server,
//! waits for it, and removes the instance dir. The server itself also gets `PR_SET_PDEATHSIG`
//! (`setpriv --pdeathsig=KILL`), so it dies even if the supervisor is killed.

use crate::error::LabError;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to become ready before `start` gives up.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Where and how to start an instance; `Options::default()` picks a free port and the system
/// temp dir.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The loopback port to listen on; a free one when `None`.
    pub port: Option<u16>,
    /// The dir in which the instance's own temp dir is created; the system temp dir when `None`.
    pub parent: Option<PathBuf>,
    /// Where the server's programs are (PostgreSQL's `bin` dir, or the dir of `redis-server`);
    /// found on the system when `None`.
    pub bin_dir: Option<PathBuf>,
}

/// The supervisor. `$1` is the instance dir, `$2` the signal that stops the server, the rest
/// the server's command. It prints `pid N` for every start so the caller knows the server.
const SUPERVISOR: &str = r#"
dir=$1; sig=$2; shift 2
exec 3<&0 </dev/null
start() { "$@" 3<&- >>"$dir/server.log" 2>&1 & pid=$!; echo "pid $pid"; }
start "$@"
while IFS= read -r cmd <&3; do
  if [ "$cmd" = restart ]; then kill -"$sig" "$pid" 2>/dev/null; wait "$pid"; start "$@"; fi
done
kill -"$sig" "$pid" 2>/dev/null
wait "$pid"
rm -rf "$dir"
"#;

/// The user a server runs as: `nobody` when this process is root (PostgreSQL refuses root),
/// else this process's own user (`None`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

pub(crate) fn run_as_for_root() -> Result<Option<RunAs>, LabError> {
    if !rustix::process::getuid().is_root() {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| LabError::Missing {
        program: format!("the user `nobody` (PostgreSQL refuses to run as root; {e})"),
        looked_in: "/etc/passwd".into(),
    })?;
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 3 && f[0] == "nobody")
        .and_then(|f| {
            Some(RunAs {
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
            })
        })
        .map(Some)
        .ok_or_else(|| LabError::Missing {
            program: "the user `nobody` (PostgreSQL refuses to run as root)".into(),
            looked_in: "/etc/passwd".into(),
        })
}

/// The `setpriv` prefix: drop to `run_as` if given, and die with the parent (the supervisor).
pub(crate) fn setpriv_prefix(run_as: Option<RunAs>) -> Result<Vec<OsString>, LabError> {
    let setpriv = find_program("setpriv", &["/usr/bin", "/bin", "/usr/sbin", "/sbin"])?;
    let mut argv: Vec<OsString> = vec![setpriv.into()];
    if let Some(u) = run_as {
        argv.push(format!("--reuid={}", u.uid).into());
        argv.push(format!("--regid={}", u.gid).into());
        argv.push("--clear-groups".into());
    }
    // setpriv sets the signal after dropping the user, so the kernel does not clear it.
    argv.push("--pdeathsig=KILL".into());
    argv.push("--".into());
    Ok(argv)
}

/// The first `dirs` entry holding `name`, or `LabError::Missing`.
pub(crate) fn find_program(name: &str, dirs: &[&str]) -> Result<PathBuf, LabError> {
    dirs.iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| LabError::Missing {
            program: format!("`{name}`"),
            looked_in: dirs.join(", "),
        })
}

/// A port to listen on: the one asked for if nobody holds it, else a free one from the kernel.
pub(crate) fn pick_port(server: &'static str, asked: Option<u16>) -> Result<u16, LabError> {
    match asked {
        Some(port) => match TcpListener::bind(("127.0.0.1", port)) {
            Ok(_) => Ok(port),
            Err(_) => Err(LabError::PortTaken { server, port }),
        },
        None => TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| LabError::Start {
                server,
                cause: format!("no free loopback port: {e}"),
            }),
    }
}

/// Creates the instance dir (mode 0700) under `parent`, owned by `run_as` when given.
pub(crate) fn make_dir(
    prefix: &str,
    parent: Option<&Path>,
    run_as: Option<RunAs>,
) -> Result<PathBuf, LabError> {
    let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&parent)
        .map_err(|e| LabError::Dir {
            path: parent.clone(),
            cause: format!("cannot create a dir in it: {e}"),
        })?
        .keep();
    if let Some(u) = run_as {
        std::os::unix::fs::chown(&dir, Some(u.uid), Some(u.gid)).map_err(|e| LabError::Dir {
            path: dir.clone(),
            cause: format!("cannot give it to uid {}: {e}", u.uid),
        })?;
    }
    Ok(dir)
}

/// A fresh password for one run: random, obviously a lab value, never printed.
pub(crate) fn generate_password() -> String {
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // Without /dev/urandom the clock still makes the value differ between runs.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes.copy_from_slice(&nanos.to_le_bytes());
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("lab-{hex}")
}

/// What a bounded run of a program produced.
#[derive(Debug, Clone)]
pub(crate) struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` with `input` on its stdin, killing it after `timeout`.
pub(crate) fn run_bounded(
    mut cmd: Command,
    input: &str,
    timeout: Duration,
) -> std::io::Result<Ran> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take();
    let input = input.to_owned();
    // Writing on a thread keeps a large input from blocking against a full stdout pipe.
    let writer = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            // A program that exits without reading all its input says so in its exit code.
            let _ = s.write_all(input.as_bytes());
        }
    });
    let out = read_on_thread(child.stdout.take());
    let err = read_on_thread(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            // It may have ended just now; the time-out is reported below either way.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // The writer only writes (its failure shows in the exit code); the readers return what
    // they read, and a reader that panicked read nothing more to return.
    let _ = writer.join();
    let stdout = out.join().unwrap_or_default();
    let mut stderr = err.join().unwrap_or_default();
    if status.is_none() {
        stderr.push_str(&format!("\n(killed after {} s)", timeout.as_secs()));
    }
    Ok(Ran {
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
    })
}

fn read_on_thread<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        // As bytes, then lossily as text: `read_to_string` drops everything it read when one
        // byte is not UTF-8, so a step that printed one would show no output at all. A read
        // error ends the output where it happened; the exit code tells the rest.
        let mut bytes = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The last `n` lines of `text`, for error messages.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A running, supervised server.
#[derive(Debug)]
pub(crate) struct Instance {
    server: &'static str,
    dir: PathBuf,
    supervisor: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    pid: u32,
}

impl Instance {
    /// Starts `argv` under the supervisor in `dir`, stopping it with `stop_signal`.
    pub fn spawn(
        server: &'static str,
        dir: &Path,
        stop_signal: &str,
        argv: &[OsString],
    ) -> Result<Self, LabError> {
        let start_error = |cause: String| LabError::Start { server, cause };
        let mut supervisor = Command::new("/bin/sh")
            .arg("-c")
            .arg(SUPERVISOR)
            .arg("cdb-lab-supervisor")
            .arg(dir)
            .arg(stop_signal)
            .args(argv)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| start_error(format!("cannot start /bin/sh: {e}")))?;
        let stdin = supervisor.stdin.take();
        let stdout = supervisor.stdout.take().map(BufReader::new);
        let Some(stdout) = stdout else {
            return Err(start_error("the supervisor has no stdout".into()));
        };
        let mut instance = Instance {
            server,
            dir: dir.to_path_buf(),
            supervisor,
            stdin,
            stdout,
            pid: 0,
        };
        instance.pid = instance.read_pid()?;
        Ok(instance)
    }

    fn read_pid(&mut self) -> Result<u32, LabError> {
        let mut line = String::new();
        if let Err(e) = self.stdout.read_line(&mut line) {
            return Err(LabError::Start {
                server: self.server,
                cause: format!("cannot read the supervisor's report of the server's pid: {e}"),
            });
        }
        line.trim()
            .strip_prefix("pid ")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| LabError::Start {
                server: self.server,
                cause: "the supervisor did not report the server's pid".into(),
            })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the server process is alive (not gone, not a zombie).
    pub fn running(&self) -> bool {
        // No `/proc` entry: the process is gone.
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            })
            .unwrap_or(false)
    }

    /// The last lines the server logged.
    pub fn log_tail(&self) -> String {
        // For an error message: a log that cannot be read adds nothing to it.
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        tail(&log, 8)
    }

    /// Polls `ready` until it holds; fails when the server exits or `READY_TIMEOUT` passes.
    pub fn wait_ready(&self, mut ready: impl FnMut() -> bool) -> Result<(), LabError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if ready() {
                return Ok(());
            }
            if !self.running() {
                return Err(LabError::Start {
                    server: self.server,
                    cause: format!("the server exited; its log ends:\n{}", self.log_tail()),
                });
            }
            if Instant::now() >= deadline {
                return Err(LabError::Start {
                    server: self.server,
                    cause: format!(
                        "not ready after {} s; its log ends:\n{}",
                        READY_TIMEOUT.as_secs(),
                        self.log_tail()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server and starts it again with the same command and dir.
    pub fn restart(&mut self) -> Result<(), LabError> {
        let sent = self
            .stdin
            .as_mut()
            .map(|s| s.write_all(b"restart\n").and_then(|()| s.flush()));
        if !matches!(sent, Some(Ok(()))) {
            return Err(LabError::Start {
                server: self.server,
                cause: "the supervisor is gone".into(),
            });
        }
        self.pid = self.read_pid()?;
        Ok(())
    }

    /// Closes the supervisor's input and waits (bounded) for it to stop the server and remove
    /// the dir; if the supervisor is gone or stuck, kills what still uses the dir and removes it.
    pub fn stop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.supervisor.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Clean-up in drop: the supervisor has usually ended already; no one to tell.
        let _ = self.supervisor.kill();
        let _ = self.supervisor.wait();
        // Normally nothing is left; a supervisor killed from outside leaves its dir, and its
        // server too where PR_SET_PDEATHSIG was not available.
        for pid in processes_using(&self.dir) {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                // It may have ended meanwhile.
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        if self.dir.exists() {
            // Clean-up in drop: a dir left in the temp folder is harmless, and no one to tell.
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The pids of processes that still use `dir`: their working dir is in it, or their command
/// line names it. The no-leftovers check; empty once an instance is stopped.
pub fn processes_using(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = std::process::id();
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            let cwd = std::fs::read_link(format!("/proc/{pid}/cwd"))
                .map(|p| p.to_string_lossy().starts_with(&needle))
                .unwrap_or(false);
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&needle))
                .unwrap_or(false);
            cwd || cmdline
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step whose output holds a byte that is not UTF-8 keeps the rest of its output (the
    /// conformance suite compares it with the mock's); `read_to_string` returned none of it.
    #[test]
    fn output_with_a_non_utf8_byte_is_kept() {
        let mut cmd = Command::new("/bin/sh");
        cmd.args([
            "-c",
            r"printf 'before \377 after\n'; printf 'err \376\n' >&2",
        ]);
        let ran = run_bounded(cmd, "", Duration::from_secs(10));
        let Ok(ran) = ran else { panic!("{ran:?}") };
        assert_eq!(ran.code, Some(0));
        assert_eq!(ran.stdout, "before \u{fffd} after\n");
        assert_eq!(ran.stderr, "err \u{fffd}\n");
    }
}
