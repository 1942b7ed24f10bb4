//! `drill <scenario> --shell`: a flight simulator for the person who will be paged — an
//! interactive bash in the drill's hermetic sandbox, the mock stack running, the scenario's
//! situation on screen; the person works through the runbook by hand.
//!
//! How a command is matched to a runbook step (the rule the injects, the clock and the report
//! use), in this order:
//! 1. `drill-manual ID` does manual step ID (web consoles, people).
//! 2. *Pasted*: the command, whitespace collapsed, contains a step's body: it did that step
//!    (several pasted bodies: several steps, in text order).
//! 3. *Same calls*: the command made every mock call (tool and arguments, values and the
//!    sandbox path masked) that the step made in a fault-free rehearsal run at start-up.
//! 4. *Same files*: for a step that calls no mock, the command changed exactly the secret
//!    files the step changed in the rehearsal.
//!
//! Steps that look alike (the same body or calls, e.g. the credential test of pre-check,
//! rotate and verify) resolve to the first one not done yet, in runbook order.
//! A fault `after: X` is injected right after the first command that did step X, as the
//! automated drill injects it after step X (`start`: before the first command). Each command
//! advances the simulated clock by its steps' `time=`, else 30 s; `drill-status` costs 10 s.

mod aar;
pub mod hook;
pub mod state;

use crate::engine::{self, DrillError};
use crate::sandbox::Sandbox;
use crate::world::World;
use cdb_docs::Trigger;
use cdb_model::scenario::{self, Scenario};
use state::{FaultInfo, State, StepInfo};
use std::collections::BTreeSet;
use std::io::{self, IsTerminal, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// argv[1] of a shell hook (`drill-status`, `drill-manual`, the prompt hook).
pub const MARKER: &str = "__cdb-shell";

/// How to open the shell.
#[derive(Clone, Debug)]
pub struct Options {
    pub root: PathBuf,
    pub scenario: String,
    pub seed: u64,
    pub mock_exe: PathBuf,
    /// Commands to run instead of standard input.
    pub script: Option<PathBuf>,
    /// Where the after-action report goes (default: [`reports_dir`], never overwriting one).
    pub report: Option<PathBuf>,
    pub step_timeout: Duration,
}

/// Why the shell could not run (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    #[error(transparent)]
    Drill(#[from] DrillError),
    #[error("shell: {0}")]
    Io(#[from] io::Error),
    #[error("cannot read the script {}: {}", .0.display(), .1)]
    Script(PathBuf, #[source] io::Error),
    #[error("cannot write the report {}: {}", .0.display(), .1)]
    Report(PathBuf, #[source] io::Error),
}

/// What a finished session produced.
#[derive(Debug)]
pub struct Finished {
    pub passed: bool,
    pub report: PathBuf,
    pub reasons: Vec<String>,
}

/// The class's steps of the hub, with their `path:line`, in runbook order.
fn catalogue(hub: &cdb_docs::Hub, sc: &Scenario) -> Vec<StepInfo> {
    let trigger = if sc.is_leak() {
        Trigger::Leak
    } else {
        Trigger::Routine
    };
    let mut out = Vec::new();
    for doc in &hub.docs {
        for s in &doc.steps {
            if s.class != sc.class.value {
                continue;
            }
            let line = doc.lines.line_col(&doc.text, s.fence_span.start).line;
            out.push(StepInfo {
                id: s.id.clone(),
                phase: s.phase,
                when: s.when,
                applies: s.when.applies_to(trigger),
                secs: s.time.secs,
                manual: s.manual,
                effect: s.effect.clone(),
                body: s.body.clone(),
                doc: format!("{}:{line}", s.path),
                norm: if s.manual {
                    String::new()
                } else {
                    state::normalize(&s.body)
                },
                calls: BTreeSet::new(),
                files: BTreeSet::new(),
            });
        }
    }
    // Stable: within a phase, the hub's order.
    out.sort_by_key(|s| state::phase_rank(s.phase));
    out
}

/// Runs every step once, fault-free, in a scratch sandbox, recording the mock calls it makes
/// and the secret files it changes: what "doing step X" looks like in the shell.
fn rehearse(
    steps: &mut [StepInfo],
    mock_exe: &Path,
    seed: u64,
    limit: Duration,
    overlays: &[String],
) -> io::Result<()> {
    let mut sb = Sandbox::new(mock_exe)?;
    // The stack as the drill starts it (overlays.rs).
    let world = World::new_with(seed, &sb.root, &sb.secrets, overlays)?;
    world.save(&sb.world_file())?;
    let root = sb.root.display().to_string();
    // This trigger's steps first, in the order the automated drill takes them.
    let mut order: Vec<usize> = (0..steps.len()).filter(|&i| steps[i].applies).collect();
    order.extend((0..steps.len()).filter(|&i| !steps[i].applies));
    let mut seen = 0;
    for i in order {
        let before = state::file_hashes(&sb.secrets);
        if steps[i].manual {
            let effect = steps[i].effect.clone().unwrap_or_default();
            let body = steps[i].body.clone();
            // A rehearsal records what doing the step looks like (its calls and files); an
            // effect refused here (a step out of its drill's order) changes nothing to learn.
            let _refused = crate::world::with_world(&sb.world_file(), |w| {
                crate::effects::apply(w, &effect, &body)
            })?;
        } else {
            sb.run(&steps[i].id, &steps[i].body, limit)?;
        }
        let w = World::load(&sb.world_file())?;
        steps[i].calls = w.calls[seen.min(w.calls.len())..]
            .iter()
            .map(|c| state::call_key(&w, &root, &c.tool, &c.argv))
            .collect();
        seen = w.calls.len();
        steps[i].files = state::changed(&before, &state::file_hashes(&sb.secrets));
    }
    Ok(())
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn write_exec(p: &Path, text: &str) -> io::Result<()> {
    std::fs::write(p, text)?;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
}

fn banner(sc: &Scenario, budget: u64, sandbox: &Path, isolated: bool) -> String {
    let situation = sc.situation.clone().unwrap_or_else(|| {
        if sc.is_leak() {
            format!(
                "09:00 UTC — {} leaked. You are on call: contain the leak and rotate `{}` with the runbook.",
                sc.leaked
                    .iter()
                    .map(|l| l.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                sc.class.value
            )
        } else {
            format!(
                "09:00 UTC — `{}` is due for its scheduled rotation. Rotate it with the runbook.",
                sc.class.value
            )
        }
    });
    let mut o = String::new();
    o.push_str(&format!(
        "══ DRILL {} · class {} · trigger {} ══\n\nSITUATION\n",
        sc.id,
        sc.class.value,
        sc.trigger.value.as_str()
    ));
    for l in situation.trim().lines() {
        o.push_str(&format!("  {l}\n"));
    }
    o.push_str(&format!(
        "\nSUCCESS MEANS\n  every service healthy again{}, no secret value on a command line or on\n  screen, within {} on the drill clock (the budget). If the runbook cannot recover the\n  stack, escalate and leave it safe.\n",
        if sc.is_leak() {
            ", the leaked values accepted nowhere"
        } else {
            ""
        },
        crate::journal::clock(budget)
    ));
    o.push_str(&format!(
        "\nTHE RUNBOOK\n  Claire_de_Binare_Docs/docs/content/security/secret-rotation-runbook.md, section of `{}`\n  (containment: incident-response-secrets.md). Paste its steps or type your own.\n",
        sc.class.value
    ));
    o.push_str(&format!(
        "\nTHIS SHELL IS A SANDBOX ({})\n  The real stack is unreachable: docker, psql, redis-cli, curl, gh, openssl, grafana, date\n  are mocks of it; PATH holds only the sandbox's bin/; HOME, SECRETS_PATH, history,\n  the working directory and CDB_TLS_DIR are inside the sandbox. {}\n  `cd` out of it works, but nothing out there is the stack: don't write outside.\n  Each command advances the drill clock by the runbook step it does (its time=), else 30 s.\n",
        sandbox.display(),
        if isolated {
            "No network, the host read-only: bash runs in its own\n  user, mount, PID and network namespaces; only the sandbox is writable."
        } else {
            "This machine refuses namespaces: nothing confines\n  this shell (bash's /dev/tcp and writes outside the sandbox are not blocked: don't)."
        }
    ));
    o.push_str(
        "\nCOMMANDS\n  drill-status        the monitoring dashboard: drill clock, services not healthy\n  drill-manual [ID]   do a manual runbook step (web console, people); no ID: list them\n  drill-help          this text\n  drill-done          end the drill (or exit, Ctrl-D) and write the after-action report\n\n",
    );
    o
}

fn rc_file(hook: &Path, sandbox: &Path) -> String {
    let hook = sh_quote(&hook.display().to_string());
    let banner = sh_quote(&sandbox.join("shell/banner.txt").display().to_string());
    format!(
        r#"# drill --shell: recorded by the prompt hook after every command line.
# History expansion off: runbook steps hold `[!…]` patterns, and the automated drill's bash has it off too.
set +H
shopt -s cmdhist lithist
HISTFILE="$HOME/.bash_history"; HISTSIZE=100000; HISTFILESIZE=100000; HISTCONTROL=; HISTTIMEFORMAT=
__cdb_clock="T+00:00:00"
__cdb_hook() {{
  local rc=$? n
  n=$(history 1 | {{ read -r n _; printf '%s' "$n"; }})
  [ -n "$n" ] && __cdb_clock=$(fc -ln -1 | {hook} "$rc" "$n")
  PS1="[drill $__cdb_clock] \W\$ "
}}
PROMPT_COMMAND=__cdb_hook
PS1="[drill $__cdb_clock] \W\$ "
# Without a terminal (a script, a pipe) prompts are noise.
[ -t 0 ] || {{ PROMPT_COMMAND='__cdb_hook; PS1=; PS2='; PS1=; PS2=; }}
drill-help() {{ cat {banner}; }}
drill-done() {{ builtin exit 0; }}
"#
    )
}

/// Opens the shell for `o.scenario`, waits until the person is done, writes the report.
pub fn run(o: &Options, out: &mut dyn Write, err: &mut dyn Write) -> Result<Finished, ShellError> {
    let hub = cdb_docs::Hub::load(
        &o.root,
        cdb_docs::Layout::default(),
        cdb_docs::hub::LoadOptions {
            text_files: false,
            parse_markdown: true,
        },
    )
    .map_err(|e| {
        DrillError::Hub(format!(
            "{}: cannot load the Docs Hub: {e}",
            o.root.display()
        ))
    })?;
    let mut sc = scenario::load(&o.root, &o.scenario)
        .and_then(|d| d.validate(&hub))
        .map_err(DrillError::from)?;
    sc.id = o.scenario.clone();
    let budget = engine::budget_secs(&hub, &sc)?;
    let script = match &o.script {
        Some(p) => Some(std::fs::File::open(p).map_err(|e| ShellError::Script(p.clone(), e))?),
        None => None,
    };
    let mut steps = catalogue(&hub, &sc);
    rehearse(
        &mut steps,
        &o.mock_exe,
        o.seed,
        o.step_timeout,
        &sc.start_overlays(),
    )?;

    // The drill's own start (engine::start_world): the same world, leaked values and leakers'
    // sessions and connections as `drill` itself. (The shell once built it again and left out
    // the leaker's Redis connection.)
    let cfg = engine::Config {
        root: o.root.clone(),
        seed: o.seed,
        step_timeout: o.step_timeout,
        mock_exe: o.mock_exe.clone(),
    };
    let (sandbox, mut world) = engine::start_world(&cfg, &sc)?;
    let degraded = engine::tolerated_degraded(&sc);
    let mut st = State {
        scenario: sc.id.clone(),
        class: sc.class.value.clone(),
        // Validated above: `leak` or `routine`.
        trigger: if sc.is_leak() {
            Trigger::Leak
        } else {
            Trigger::Routine
        },
        leak: sc.is_leak(),
        budget,
        degraded,
        steps,
        faults: sc
            .faults
            .iter()
            .map(|f| FaultInfo {
                kind: f.kind.value,
                target: f.target.as_ref().map(|t| t.value.clone()),
                after: f.after.value.clone(),
                times: f.times,
                note: f.note.clone(),
                fired: None,
                t: None,
            })
            .collect(),
        commands: Vec::new(),
        looks: Vec::new(),
        detection: None,
        t: 0,
        files: state::file_hashes(&sandbox.secrets),
        calls_seen: 0,
        last_hist: String::new(),
        pending_steps: Vec::new(),
        pending_secs: None,
    };
    for k in 0..st.faults.len() {
        if st.faults[k].after == "start" {
            hook::arm(&mut world, &st.faults[k]);
            st.faults[k].fired = Some(0);
            st.faults[k].t = Some(0);
        }
    }
    st.files = state::file_hashes(&sandbox.secrets);
    world.current_step = Some("command 1".into());
    world.save(&sandbox.world_file())?;
    st.save(&State::path(&sandbox.world_file()))?;

    // The hooks: the same executable as the mocks, behind their own marker.
    let exe = std::fs::canonicalize(&o.mock_exe)?;
    let shim = |what: &str| {
        format!(
            "#!/bin/sh\nexec {} {MARKER} {what} \"$@\"\n",
            sh_quote(&exe.display().to_string())
        )
    };
    let dir = sandbox.root.join("shell");
    std::fs::create_dir_all(&dir)?;
    write_exec(&sandbox.bin.join("drill-status"), &shim("status"))?;
    write_exec(&sandbox.bin.join("drill-manual"), &shim("manual"))?;
    let hook_path = dir.join("hook");
    write_exec(&hook_path, &shim("record"))?;
    let text = banner(&sc, budget, &sandbox.root, sandbox.isolation().confined());
    // Scenario ids, titles and situations are user input: no control sequence reaches the terminal.
    let text = cdb_secrets::escape_controls(&text).into_owned();
    std::fs::write(dir.join("banner.txt"), &text)?;
    let rc_path = dir.join("rc");
    std::fs::write(&rc_path, rc_file(&hook_path, &sandbox.root))?;
    // The banner goes to the person's terminal; a closed one ends the session anyway.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();

    let tty = script.is_none() && io::stdin().is_terminal();
    let bash = ["/bin/bash", "/usr/bin/bash"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "bash not found"))?;
    let mut cmd = sandbox.jailed(&bash);
    cmd.arg("--noprofile");
    if !tty {
        // No line editing without a terminal: commands are echoed as they come.
        cmd.arg("--noediting");
    }
    cmd.arg("--rcfile")
        .arg(&rc_path)
        .arg("-i")
        .env_clear()
        .env("PATH", &sandbox.bin)
        .env("HOME", &sandbox.home)
        .env("SECRETS_PATH", &sandbox.secrets)
        .env("CDB_TLS_DIR", sandbox.root.join(crate::tls::DIR))
        .env("TMPDIR", &sandbox.tmp)
        .env("LANG", "C")
        .env(
            "TERM",
            if tty {
                std::env::var("TERM").unwrap_or_else(|_| "dumb".into())
            } else {
                "dumb".into()
            },
        )
        .env("HISTFILE", sandbox.home.join(".bash_history"))
        .env(crate::mock::STATE_VAR, sandbox.world_file())
        .env(crate::mock::server::SOCKET_VAR, sandbox.socket())
        .current_dir(&sandbox.stack)
        .stdout(Stdio::piped())
        .stderr(if tty {
            Stdio::inherit()
        } else {
            Stdio::piped()
        });
    match script {
        Some(f) => {
            cmd.stdin(Stdio::from(f));
        }
        None => {
            cmd.stdin(Stdio::inherit());
        }
    }
    let mut child = cmd.spawn()?;
    // SIGINT/SIGTERM to the drill ends the session too (interrupt.rs).
    let shell_pid = child.id();
    if !crate::interrupt::track_group(shell_pid) {
        crate::interrupt::kill_group(shell_pid);
    }
    // Standard output is copied to ours and kept: the transcript the secret checks read.
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let mut pumps = Vec::new();
    let world_file = sandbox.world_file();
    if let Some(mut so) = child.stdout.take() {
        let tx = tx.clone();
        let world_file = world_file.clone();
        pumps.push(std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut stdout = io::stdout();
            // Whole lines are masked (a value cut between two reads would slip through);
            // a line longer than the buffer is masked in pieces.
            let mut pending = Vec::new();
            loop {
                let k = so.read(&mut buf).unwrap_or(0);
                pending.extend_from_slice(&buf[..k]);
                let cut = if k == 0 || pending.len() > buf.len() {
                    pending.len()
                } else {
                    pending
                        .iter()
                        .rposition(|b| *b == b'\n')
                        .map_or(0, |i| i + 1)
                };
                if cut > 0 {
                    let text = String::from_utf8_lossy(&pending[..cut]).into_owned();
                    // A closed terminal: the transcript below still gets every byte.
                    let _ = stdout.write_all(masked(&text, &world_file).as_bytes());
                    let _ = stdout.flush();
                    pending.drain(..cut);
                }
                if k == 0 {
                    break;
                }
                // The receiver stops listening only after the shell ended and its grace
                // period passed: output of a background job after that is not judged.
                let _ = tx.send(buf[..k].to_vec());
            }
        }));
    }
    if let Some(se) = child.stderr.take() {
        // Without a terminal bash warns that it has no job control: noise, not the drill.
        pumps.push(std::thread::spawn(move || {
            let mut stderr = io::stderr();
            let mut r = io::BufReader::new(se);
            let mut line = Vec::new();
            while let Ok(k) = io::BufRead::read_until(&mut r, b'\n', &mut line) {
                if k == 0 {
                    break;
                }
                let s = String::from_utf8_lossy(&line);
                if !s.starts_with("bash: cannot set terminal process group")
                    && !s.starts_with("bash: no job control in this shell")
                {
                    // A closed terminal: nothing else to tell it.
                    let _ = stderr.write_all(masked(&s, &world_file).as_bytes());
                }
                line.clear();
            }
        }));
    }
    drop(tx);
    let waited = child.wait();
    crate::interrupt::forget_group(shell_pid);
    crate::interrupt::halt_if_stopping();
    waited?;
    // A background job may hold the pipe open: wait a little, then judge what arrived.
    let mut transcript = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => transcript.extend_from_slice(&chunk),
            Err(_) => break,
        }
    }
    let transcript = String::from_utf8_lossy(&transcript).into_owned();

    let world = World::load(&sandbox.world_file())?;
    let st = State::load(&State::path(&sandbox.world_file()))?;
    let (md, passed, reasons) = aar::evaluate(&sc, &st, &world, &sandbox, &transcript);
    let known = crate::scan::known_values(&world);
    let md = crate::scan::mask_output(&md, &known).into_owned();
    let reasons: Vec<String> = reasons
        .iter()
        .map(|r| crate::scan::mask_output(r, &known).into_owned())
        .collect();
    let inside = sandbox.root.join("report.md");
    std::fs::write(&inside, &md)?;
    // An explicit --report path is the person's choice; the default goes to a private folder
    // of the temp dir (never the current directory, which may be a repository), and never
    // overwrites an earlier rehearsal's report, so nothing is lost.
    let dest = match &o.report {
        Some(p) => p.clone(),
        None => free_report_path(&sc.id).map_err(|e| ShellError::Report(reports_dir(), e))?,
    };
    std::fs::copy(&inside, &dest).map_err(|e| ShellError::Report(dest.clone(), e))?;
    // The verdict on stderr is a courtesy: the report is written and `Finished` carries it.
    let _ = writeln!(
        err,
        "\ndrill {}: {} — after-action report: {}",
        cdb_secrets::escape_controls(&sc.id),
        if passed { "PASS" } else { "FAIL" },
        cdb_secrets::escape_controls(&dest.display().to_string())
    );
    for r in &reasons {
        let _ = writeln!(err, "  - {}", cdb_secrets::escape_controls(r));
    }
    Ok(Finished {
        passed,
        report: dest,
        reasons,
    })
}

/// `text` as the person may see it: what the scanner flags and the world's values (in any
/// encoding [`crate::scan::mask_output`] knows) masked, with the values the world holds now.
fn masked(text: &str, world_file: &Path) -> String {
    match World::load(world_file) {
        Ok(w) => crate::scan::mask_output(text, &crate::scan::known_values(&w)).into_owned(),
        // Without the world's values a secret could reach the terminal unmasked: withhold it.
        Err(e) => format!("[drill: output withheld, the drill world cannot be read: {e}]\n"),
    }
}

/// Where `--shell` reports go without `--report`: `cdb-drill-reports/` (mode 0700) beside the
/// sandboxes (`CDB_DRILL_TMPDIR`, `/dev/shm`, else the system temp dir).
pub fn reports_dir() -> PathBuf {
    crate::sandbox::base_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("cdb-drill-reports")
}

/// `drill-<id>-report.md` in [`reports_dir`], or `drill-<id>-report-2.md`, … when taken.
fn free_report_path(id: &str) -> io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = reports_dir();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)?;
    // The id names a file: keep it to one plain path component.
    let id: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let first = dir.join(format!("drill-{id}-report.md"));
    if !first.exists() {
        return Ok(first);
    }
    Ok((2..)
        .map(|n| dir.join(format!("drill-{id}-report-{n}.md")))
        .find(|p| !p.exists())
        .unwrap_or(first))
}

#[cfg(test)]
mod tests {
    /// The shell's terminal shows step output masked with the world's values; when the world
    /// cannot be read there are no values to mask with, so the output is withheld (it was
    /// shown unmasked before).
    #[test]
    fn output_is_withheld_when_the_world_cannot_be_read() {
        let d = tempfile::tempdir().expect("a temp dir");
        let text = "the new password is Zq7-not-flagged-by-any-rule\n";
        let shown = super::masked(text, &d.path().join("no-world.json"));
        assert!(!shown.contains("Zq7"), "{shown}");
        assert!(
            shown.starts_with("[drill: output withheld, the drill world cannot be read: "),
            "{shown}"
        );
    }
}
