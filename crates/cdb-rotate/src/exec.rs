//! What runs a step: the [`Executor`] trait, and [`BashExecutor`], which runs the steps on the
//! operator's machine against the real stack (bash, the Compose folder, `SECRETS_PATH`).
//!
//! The mock world's executor lives in cdb-drill (`rotate_world.rs`): the same runner, the
//! steps run by the drill's sandbox.

use cdb_docs::Step;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one step did.
#[derive(Clone, Debug, Default)]
pub struct StepOutput {
    /// `None`: killed (time limit) or ended by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// A check of the world at the end (the mock world's drill invariants).
#[derive(Clone, Debug)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// Runs steps against one stack.
pub trait Executor {
    /// What the steps run against, for the journal and the terminal.
    fn describe(&self) -> String;
    /// The stack's secret files (`SECRETS_PATH`).
    fn secrets_path(&self) -> &Path;
    /// The folder holding the stack's Compose files (where steps run).
    fn compose_dir(&self) -> &Path;
    /// Runs a bash step's body, unchanged, as `bash --noprofile --norc FILE`.
    fn run(&mut self, step: &Step) -> io::Result<StepOutput>;
    /// A manual step the operator answered (`done` true) or reported failed. The real stack
    /// takes the answer as the outcome; the mock world applies the step's effect.
    fn manual(&mut self, step: &Step, done: bool) -> io::Result<StepOutput> {
        let _ = step;
        Ok(StepOutput {
            code: Some(if done { 0 } else { 1 }),
            stdout: String::new(),
            stderr: String::new(),
        })
    }
    /// Whether the kill switch is engaged (`None`: cannot tell).
    fn kill_switch_engaged(&mut self) -> io::Result<Option<bool>>;
    /// Values the executor knows are secret beyond the files in `SECRETS_PATH` (the mock
    /// world's every value): redacted too.
    fn known_values(&mut self) -> Vec<String> {
        Vec::new()
    }
    /// Text as the journal keeps it (the mock world replaces its sandbox path).
    fn sanitize(&self, text: &str) -> String {
        text.to_owned()
    }
    /// A step the resumed journal says was done: the real stack keeps what it did, so nothing
    /// runs (`None`); the mock world, started afresh, runs it again to rebuild its state (it is
    /// deterministic) and returns whether it passed again.
    fn replay(&mut self, step: &Step, decision: &str) -> io::Result<Option<bool>> {
        let _ = (step, decision);
        Ok(None)
    }
    /// Checks of the world at the end (none on the real stack: its Verify steps are the proof).
    fn closing_checks(&mut self) -> io::Result<Vec<Check>> {
        Ok(Vec::new())
    }
}

/// Where bash is: `--bash PATH`, else (Windows) Git for Windows' `bash.exe`, else `bash` on
/// `PATH`. On Windows `System32\bash.exe` is WSL's launcher, which would run the step in
/// another file system with another `SECRETS_PATH`: it is never picked.
pub fn find_bash(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = given {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(format!("--bash {}: no such file", p.display()))
        };
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if cfg!(windows) {
        for var in ["ProgramFiles", "ProgramW6432", "ProgramFiles(x86)"] {
            if let Some(d) = std::env::var_os(var) {
                candidates.push(PathBuf::from(d).join("Git").join("bin").join("bash.exe"));
            }
        }
        if let Some(d) = std::env::var_os("LOCALAPPDATA") {
            candidates.push(
                PathBuf::from(d)
                    .join("Programs")
                    .join("Git")
                    .join("bin")
                    .join("bash.exe"),
            );
        }
        // Git on PATH (`…\Git\cmd\git.exe`): its bash is `…\Git\bin\bash.exe`.
        if let Some(path) = std::env::var_os("PATH") {
            for d in std::env::split_paths(&path) {
                if d.join("git.exe").is_file()
                    && let Some(root) = d.parent()
                {
                    candidates.push(root.join("bin").join("bash.exe"));
                }
            }
        }
    } else {
        if let Some(path) = std::env::var_os("PATH") {
            candidates.extend(std::env::split_paths(&path).map(|d| d.join("bash")));
        }
        candidates.push(PathBuf::from("/bin/bash"));
        candidates.push(PathBuf::from("/usr/bin/bash"));
    }
    candidates
        .into_iter()
        .find(|p| p.is_file() && p.is_absolute())
        .ok_or_else(|| {
            if cfg!(windows) {
                "no bash found: install Git for Windows (its bash.exe runs the steps) or give --bash PATH".into()
            } else {
                "no bash found on PATH, /bin or /usr/bin: give --bash PATH".into()
            }
        })
}

/// Runs steps with the operator's bash, in the Compose folder, with `SECRETS_PATH` set and the
/// rest of the operator's environment (their `docker`, `PATH`, Docker context) as it is.
#[derive(Debug)]
pub struct BashExecutor {
    pub bash: PathBuf,
    pub secrets: PathBuf,
    pub compose: PathBuf,
    /// Private scratch folder for the step scripts (inside the journal folder).
    pub scratch: PathBuf,
    pub counter: usize,
    /// `--incident ID`: given to the steps as `CDB_INCIDENT_ID` (the playbook's incident marker
    /// step writes it).
    pub incident: Option<String>,
}

/// A step runs at most this long past its own `time=` (a hung `docker` call must not hang the
/// rotation; the operator sees the step failed and the procedure decides).
const GRACE: Duration = Duration::from_secs(300);

impl BashExecutor {
    fn bash(&mut self, name: &str, body: &str, limit: Duration) -> io::Result<StepOutput> {
        self.counter += 1;
        std::fs::create_dir_all(&self.scratch)?;
        let script = self.scratch.join(format!("{:03}-{name}.sh", self.counter));
        write_private(&script, body)?;
        let mut cmd = Command::new(&self.bash);
        cmd.args(["--noprofile", "--norc"])
            .arg(&script)
            .env("SECRETS_PATH", &self.secrets)
            .current_dir(&self.compose)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(id) = &self.incident {
            cmd.env("CDB_INCIDENT_ID", id);
        }
        // The step stays in the operator's process group: Ctrl-C in the terminal stops it with
        // the rotation (the journal's `begin` without an outcome: `--resume` runs it again).
        let mut child = cmd.spawn()?;
        let (Some(so), Some(se)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(io::Error::other("the step's pipes are missing"));
        };
        // Readers fill shared buffers, so output read before a stop is kept even when a
        // process the step left behind still holds the pipe (then the readers are abandoned).
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let reader = |mut pipe: Box<dyn Read + Send>| {
            let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let (b, tx) = (buf.clone(), tx.clone());
            std::thread::spawn(move || {
                let mut chunk = [0u8; 8192];
                while let Ok(n) = pipe.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut g) = b.lock() {
                        g.extend_from_slice(&chunk[..n]);
                    }
                }
                // The rotation stopped waiting (the step's pipes outlived it): no one to tell.
                let _ = tx.send(());
            });
            buf
        };
        let out_buf = reader(Box::new(so));
        let err_buf = reader(Box::new(se));
        drop(tx);
        let start = Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait()? {
                break Some(st);
            }
            if start.elapsed() > limit {
                stop(&mut child);
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        for _ in 0..2 {
            if rx.recv_timeout(Duration::from_secs(2)).is_err() {
                break;
            }
        }
        // A reader that panicked poisoned its buffer's lock; what it had read is still there.
        let take = |b: &std::sync::Arc<std::sync::Mutex<Vec<u8>>>| {
            let g = b.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            String::from_utf8_lossy(&g).into_owned()
        };
        let stdout = take(&out_buf);
        let mut stderr = take(&err_buf);
        // The script is the runbook's step body (public), in the private scratch folder: one
        // left behind there is harmless, and the step's own result is what matters here.
        let _ = std::fs::remove_file(&script);
        if status.is_none() {
            stderr.push_str(&format!(
                "[rotate] stopped after {} s: the step's time limit\n",
                limit.as_secs()
            ));
        }
        Ok(StepOutput {
            code: status.and_then(|s| s.code()),
            stdout,
            stderr,
        })
    }
}

/// Stops a step past its limit with everything it started: a `docker compose up` left running
/// after the operator was told the step stopped would go on changing the stack. The step stays
/// in the operator's process group (Ctrl-C reaches it), so its processes are found by ancestry.
fn stop(child: &mut std::process::Child) {
    kill_tree(child.id());
    // Already gone when the tree went: nothing left to report.
    child.kill().ok();
    child.wait().ok();
}

/// Kills the processes descended from `root` (not `root` itself): on Linux from `/proc`'s
/// parent links, with `kill -KILL`; on Windows with `taskkill /T /F`, which takes the whole
/// tree, `root` included.
#[cfg(target_os = "linux")]
fn kill_tree(root: u32) {
    let mut parent: Vec<(u32, u32)> = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        // `/proc/PID/stat`: "PID (COMM) STATE PPID …"; COMM may hold spaces and parentheses.
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parent.push((pid, ppid));
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parent.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    let pids: Vec<String> = tree[1..].iter().map(u32::to_string).collect();
    if !pids.is_empty() {
        // A process that ended meanwhile makes `kill` complain; the others are killed anyway.
        Command::new("kill")
            .arg("-KILL")
            .args(&pids)
            .stderr(Stdio::null())
            .status()
            .ok();
    }
}

#[cfg(windows)]
fn kill_tree(root: u32) {
    // A tree that ended meanwhile makes `taskkill` fail; the step is reported stopped anyway.
    Command::new("taskkill")
        .args(["/T", "/F", "/PID", &root.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok();
}

#[cfg(not(any(target_os = "linux", windows)))]
fn kill_tree(_root: u32) {}

/// Writes `text` to a new file readable by its owner only.
pub fn write_private(p: &Path, text: &str) -> io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(p)?;
    io::Write::write_all(&mut f, text.as_bytes())
}

impl Executor for BashExecutor {
    fn describe(&self) -> String {
        format!(
            "the real stack (Compose folder {}, bash {})",
            self.compose.display(),
            self.bash.display()
        )
    }

    fn secrets_path(&self) -> &Path {
        &self.secrets
    }

    fn compose_dir(&self) -> &Path {
        &self.compose
    }

    fn run(&mut self, step: &Step) -> io::Result<StepOutput> {
        let limit = Duration::from_secs(step.time.secs) + GRACE;
        self.bash(&step.id, &step.body, limit)
    }

    fn kill_switch_engaged(&mut self) -> io::Result<Option<bool>> {
        // The runbook's own test of the switch (the recreate steps' incident guard): the state
        // file `/app/kill_switch/.cdb_kill_switch.state` on the `kill_switch_state` volume of
        // cdb_risk and cdb_execution holds `state=active` while trading is stopped
        // (stack-facts.md, "The kill switch"; upstream core/safety/kill_switch.py).
        let probe = "sf=/app/kill_switch/.cdb_kill_switch.state\n\
             if docker exec cdb_risk grep -qx 'state=active' \"$sf\" 2>/dev/null || docker exec cdb_execution grep -qx 'state=active' \"$sf\" 2>/dev/null; then echo engaged; else echo released; fi\n";
        let out = self.bash("kill-switch-probe", probe, Duration::from_secs(60))?;
        Ok(match out.stdout.trim() {
            "engaged" => Some(true),
            "released" => Some(false),
            _ => None,
        })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn bash_is_found_or_named_and_a_missing_one_is_a_clear_error() {
        let found = find_bash(None).expect("bash on this machine");
        assert!(found.is_absolute() && found.is_file());
        let e = find_bash(Some(Path::new("/no/such/bash"))).expect_err("missing");
        assert_eq!(e, "--bash /no/such/bash: no such file");
        assert_eq!(find_bash(Some(&found)).expect("given"), found);
    }

    #[test]
    fn a_step_runs_in_the_compose_folder_with_secrets_path_and_past_its_limit_is_stopped() {
        let d = tempfile::tempdir().expect("tempdir");
        let mut x = BashExecutor {
            bash: find_bash(None).expect("bash"),
            secrets: d.path().join("s"),
            compose: d.path().to_path_buf(),
            scratch: d.path().join("scratch"),
            counter: 0,
            incident: Some("SEC-20261206-1".into()),
        };
        let o = x
            .bash(
                "where",
                "echo \"$(pwd) $SECRETS_PATH $CDB_INCIDENT_ID\"; exit 3\n",
                Duration::from_secs(20),
            )
            .expect("run");
        assert_eq!(o.code, Some(3));
        let want = format!(
            "{} {} SEC-20261206-1\n",
            d.path().canonicalize().expect("canon").display(),
            d.path().join("s").display()
        );
        assert_eq!(o.stdout, want);
        let t = Instant::now();
        let o = x
            .bash("hang", "sleep 30\n", Duration::from_millis(300))
            .expect("run");
        assert_eq!(o.code, None);
        assert!(o.stderr.contains("stopped after"), "{}", o.stderr);
        assert!(t.elapsed() < Duration::from_secs(10));
        // What a stopped step started is stopped with it (Linux: found by ancestry).
        #[cfg(target_os = "linux")]
        {
            let mark = d.path().join("still-running");
            // The child would touch the mark 0.2 s after the step is stopped; the test waits
            // 0.6 s more (a machine too busy to run the child in time lets the test pass, never
            // fail, so the wait errs short).
            let body = format!("( sleep 0.5; touch '{}' ) &\nsleep 30\n", mark.display());
            let o = x
                .bash("tree", &body, Duration::from_millis(300))
                .expect("run");
            assert_eq!(o.code, None);
            std::thread::sleep(Duration::from_millis(800));
            assert!(!mark.exists(), "a process of the stopped step ran on");
        }
        // The scripts are removed after each step.
        assert_eq!(std::fs::read_dir(&x.scratch).expect("scratch").count(), 0);
    }
}
