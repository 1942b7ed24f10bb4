//! The drill engine: runs one scenario's phases against the world and judges the result.
//!
//! Order (docs/step-format.md): contain (leaks), pre-check, rotate, verify; when verify
//! passes, revoke; when a rotate, verify or revoke step fails, rollback (past failures),
//! verify again (and revoke again after a leak's roll-forward), and escalate if still not
//! recovered; then communicate and post-check. Faults are armed after their `after` step.

use crate::effects;
use crate::journal::{Event, Invariant, Journal, Mark, StepEvent, Verdict, clock};
use crate::sandbox::Sandbox;
use crate::world::{World, all_services};
use cdb_docs::{Phase, Step, Trigger};
use cdb_model::scenario::{self, Scenario, ScenarioError};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How to run drills.
#[derive(Clone, Debug)]
pub struct Config {
    pub root: PathBuf,
    pub seed: u64,
    /// Wall-time limit per step.
    pub step_timeout: Duration,
    /// The executable that answers `__cdb-mock TOOL …` (xtask itself, or `cdb-mock`).
    pub mock_exe: PathBuf,
}

/// Why a drill could not run at all (exit 2).
#[derive(Debug)]
pub enum DrillError {
    Scenario(ScenarioError),
    Hub(String),
    Io(io::Error),
}

impl fmt::Display for DrillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DrillError::Scenario(e) => write!(f, "{e}"),
            DrillError::Hub(e) => write!(f, "{e}"),
            DrillError::Io(e) => write!(f, "sandbox: {e}"),
        }
    }
}

impl std::error::Error for DrillError {}

impl From<io::Error> for DrillError {
    fn from(e: io::Error) -> DrillError {
        DrillError::Io(e)
    }
}

impl From<ScenarioError> for DrillError {
    fn from(e: ScenarioError) -> DrillError {
        DrillError::Scenario(e)
    }
}

/// A step with its location.
struct Planned<'h> {
    step: &'h Step,
    line: usize,
}

/// A drill's state right after one step (before any fault armed after it): where the sweep
/// starts the cases injected at that step instead of re-running every step before it.
/// Starting from it gives the same journal as running from scratch, because the engine and the
/// world are deterministic and no fault differs before the injection point.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The steps run so far: plan index, id, whether it passed.
    steps: Vec<(usize, String, bool)>,
    t: u64,
    events: Vec<Event>,
    transcript_leaks: Vec<(String, Vec<String>)>,
    scanner_hits: Vec<String>,
    first_inject: Option<usize>,
    failures: Vec<(usize, String, String)>,
    calls_seen: usize,
    /// How many probes (`World::probes`) the recording run had logged by then.
    probes_seen: usize,
    files: crate::sandbox::SandboxSnapshot,
}

/// What [`run_recording`] keeps besides the journal.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    /// One per requested step that ran, after its first run.
    pub snapshots: Vec<Snapshot>,
    /// Every trip the run's mocks and effects asked for, in order (`World::probes`).
    pub probes: Vec<crate::world::Trip>,
    /// How many steps failed in the run.
    pub failed_steps: usize,
}

impl Snapshot {
    /// The id of the step the snapshot was taken after.
    pub fn after(&self) -> &str {
        self.steps.last().map_or("", |s| s.1.as_str())
    }

    /// How many steps it saves a drill started from it.
    pub fn steps_run(&self) -> usize {
        self.steps.len()
    }

    /// How many of the recording's probes came before it.
    pub fn probes_seen(&self) -> usize {
        self.probes_seen
    }

    /// The ids of the steps run so far, in order.
    pub fn step_ids(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().map(|s| s.1.as_str())
    }

    /// The sandbox's files at this point (the world file among them), for a harness that runs
    /// one step from here itself (cdb-lab's conformance suite).
    pub fn files(&self) -> &crate::sandbox::SandboxSnapshot {
        &self.files
    }

    /// The simulated clock at this point: where the next step starts.
    pub fn clock(&self) -> u64 {
        self.t
    }
}

/// Armed faults injected at an earlier point than the snapshot a drill starts from (see
/// [`run_from_armed`]): where their `Inject` events go.
struct LateInject {
    after: String,
    events: usize,
    t: u64,
}

struct Run<'h> {
    sandbox: Sandbox,
    timeout: Duration,
    plan: Vec<Planned<'h>>,
    faults: Vec<(&'h scenario::Fault, bool)>,
    t: u64,
    events: Vec<Event>,
    /// (step id, secret names) found in a step's raw output.
    transcript_leaks: Vec<(String, Vec<String>)>,
    scanner_hits: Vec<String>,
    first_inject: Option<usize>,
    failures: Vec<(usize, String, String)>,
    calls_seen: usize,
    /// Every step run so far (plan index, id, passed).
    trace: Vec<(usize, String, bool)>,
    /// Take a snapshot after the first run of these steps.
    snap_at: Vec<String>,
    snapshots: Vec<Snapshot>,
    probes_seen: usize,
    /// Replay these steps without running them, then continue from the snapshot.
    replay: Option<&'h Snapshot>,
    /// Armed faults to inject, at the end of the replay, as if at this earlier point.
    late: Option<LateInject>,
}

impl<'h> Run<'h> {
    fn snapshot(&self) -> io::Result<Snapshot> {
        Ok(Snapshot {
            steps: self.trace.clone(),
            t: self.t,
            events: self.events.clone(),
            transcript_leaks: self.transcript_leaks.clone(),
            scanner_hits: self.scanner_hits.clone(),
            first_inject: self.first_inject,
            failures: self.failures.clone(),
            calls_seen: self.calls_seen,
            probes_seen: self.probes_seen,
            files: self.sandbox.snapshot()?,
        })
    }

    /// During a replay: the recorded outcome of step `i`, and at the last replayed step the
    /// whole state restored from the snapshot. `None`: run the step.
    fn replayed(&mut self, i: usize) -> io::Result<Option<bool>> {
        let Some(snap) = self.replay else {
            return Ok(None);
        };
        let seq = self.trace.len();
        let Some((pi, id, passed)) = snap.steps.get(seq) else {
            return Ok(None);
        };
        if *pi != i || *id != self.plan[i].step.id {
            return Err(io::Error::other(format!(
                "snapshot replay diverged at step {seq}: expected `{id}`, the drill runs `{}`",
                self.plan[i].step.id
            )));
        }
        self.trace.push((i, id.clone(), *passed));
        if seq + 1 == snap.steps.len() {
            self.sandbox.restore(&snap.files)?;
            // The recording's probe log is not part of the drill.
            self.world(|w| w.probes = None)?;
            self.t = snap.t;
            self.events = snap.events.clone();
            self.transcript_leaks = snap.transcript_leaks.clone();
            self.scanner_hits = snap.scanner_hits.clone();
            self.first_inject = snap.first_inject;
            self.failures = snap.failures.clone();
            self.calls_seen = snap.calls_seen;
            self.replay = None;
            if let Some(late) = self.late.take() {
                self.arm_late(&late)?;
            }
            self.arm_after(id)?;
        }
        Ok(Some(*passed))
    }

    fn world<T>(&self, f: impl FnOnce(&mut World) -> T) -> io::Result<T> {
        crate::world::with_world(&self.sandbox.world_file(), f)
    }

    /// Runs every step of `phase`; with `stop`, stops at the first failure. Returns whether all passed.
    fn phase(&mut self, phase: Phase, stop: bool, why: &str) -> io::Result<bool> {
        let idx: Vec<usize> = (0..self.plan.len())
            .filter(|&i| self.plan[i].step.phase == phase)
            .collect();
        if idx.is_empty() {
            return Ok(true);
        }
        self.events.push(Event::Phase {
            phase: phase.as_str().into(),
            t: self.t,
            why: why.into(),
        });
        let mut ok = true;
        for i in idx {
            if !self.step(i)? {
                ok = false;
                if stop {
                    break;
                }
            }
        }
        Ok(ok)
    }

    fn step(&mut self, i: usize) -> io::Result<bool> {
        if let Some(passed) = self.replayed(i)? {
            return Ok(passed);
        }
        let step = self.plan[i].step;
        let t_start = self.t;
        let id = step.id.clone();
        self.world(|w| {
            w.current_step = Some(id.clone());
            w.clock = t_start;
        })?;
        let (status, exit, stdout, stderr) = if step.manual {
            let effect = step.effect.clone().unwrap_or_default();
            let body = step.body.clone();
            match self.world(|w| effects::apply(w, &effect, &body))? {
                Ok(msg) => (
                    "passed",
                    Some(0),
                    format!("[manual] {msg}\n"),
                    String::new(),
                ),
                Err(msg) => (
                    "failed",
                    Some(1),
                    String::new(),
                    format!("[manual] {msg}\n"),
                ),
            }
        } else {
            let r = self.sandbox.run(&step.id, &step.body, self.timeout)?;
            let status = if r.timed_out {
                "timed-out"
            } else if r.code == Some(0) {
                "passed"
            } else {
                "failed"
            };
            (status, r.code, r.stdout, r.stderr)
        };
        // The bot trades wherever its order path is open; a leaked trade key must not trade.
        let phase = step.phase.as_str().to_owned();
        self.world(|w| crate::exchange::after_step(w, &phase))?;
        self.t += step.time.secs;
        // Judge and redact with the world as it is after the step (it knows every value made so far).
        let world = World::load(&self.sandbox.world_file())?;
        let found = world.secrets_in(&format!("{stdout}\n{stderr}"));
        if !found.is_empty() {
            self.transcript_leaks.push((id.clone(), found));
        }
        let rules = crate::scan::scan(&format!("{stdout}\n{stderr}"));
        if !rules.is_empty() {
            self.scanner_hits.push(format!(
                "`{id}` printed something the secret scanner flags ({})",
                rules.join(", ")
            ));
        }
        let clean = |s: &str| self.sandbox.sanitize(&world.redact(s));
        let mut step_calls: Vec<&crate::world::Call> = world.calls
            [self.calls_seen.min(world.calls.len())..]
            .iter()
            .collect();
        // The order the step started them in, not the order they took the log's lock (world.rs).
        step_calls.sort_by_key(|c| c.pid);
        let calls: Vec<String> = step_calls
            .iter()
            .map(|c| clean(&format!("{} {}", c.tool, c.argv.join(" "))))
            .collect();
        self.calls_seen = world.calls.len();
        self.probes_seen = world.probes.as_ref().map_or(0, Vec::len);
        let ev = StepEvent {
            id: id.clone(),
            phase: step.phase.as_str().into(),
            doc: format!("{}:{}", step.path, self.plan[i].line),
            manual: step.manual,
            effect: step.effect.clone(),
            command: headline(&step.body),
            status: status.into(),
            exit,
            t_start,
            t_end: self.t,
            stdout: clean(&stdout),
            stderr: clean(&stderr),
            calls,
        };
        let passed = status == "passed";
        if !passed {
            let last = ev
                .stdout
                .lines()
                .chain(ev.stderr.lines())
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("")
                .to_owned();
            let why = if status == "timed-out" {
                format!("timed out after {} s of wall time", self.timeout.as_secs())
            } else {
                format!(
                    "exit {}: {last}",
                    exit.map_or("?".into(), |c| c.to_string())
                )
            };
            self.failures.push((self.events.len(), id.clone(), why));
        }
        self.events.push(Event::Step(ev));
        self.trips(&world);
        self.trace.push((i, id.clone(), passed));
        if self.snap_at.contains(&id) && !self.snapshots.iter().any(|s| s.after() == id) {
            let snap = self.snapshot()?;
            self.snapshots.push(snap);
        }
        self.arm_after(&id)?;
        Ok(passed)
    }

    fn trips(&mut self, world: &World) {
        let seen = self
            .events
            .iter()
            .filter(|e| matches!(e, Event::Trip { .. }))
            .count();
        for t in world.trips.iter().skip(seen) {
            self.events.push(Event::Trip {
                fault: t.kind.clone(),
                target: t.service.clone(),
                step: t.step.clone(),
            });
        }
    }

    /// Injects the armed faults of `late.after` as [`Run::arm_after`] did at that point: their
    /// `Inject` events where the journal then ended, the faults armed in the world now (no step
    /// in between asked for a trip they match, so they would still be armed).
    fn arm_late(&mut self, late: &LateInject) -> io::Result<()> {
        let mut at = late.events;
        for k in 0..self.faults.len() {
            let (f, done) = self.faults[k];
            if done || f.after.value != late.after {
                continue;
            }
            let kind = f.kind.value.clone();
            if cdb_model::faults::FaultKind::parse(&kind).is_some_and(|k| k.is_immediate()) {
                return Err(io::Error::other(format!(
                    "fault `{kind}` acts at once: it cannot be injected before the snapshot"
                )));
            }
            self.faults[k].1 = true;
            let target = f.target.as_ref().map(|t| t.value.clone());
            let times = f.times;
            self.world(|w| crate::inject::inject(w, &kind, target.as_deref(), times))?;
            if self.first_inject.is_none_or(|i| i > at) {
                self.first_inject = Some(at);
            }
            for fl in &mut self.failures {
                if fl.0 >= at {
                    fl.0 += 1;
                }
            }
            self.events.insert(
                at,
                Event::Inject {
                    fault: kind,
                    target,
                    after: late.after.clone(),
                    t: late.t,
                    note: f.note.clone(),
                },
            );
            at += 1;
        }
        Ok(())
    }

    fn arm_after(&mut self, after: &str) -> io::Result<()> {
        for k in 0..self.faults.len() {
            let (f, done) = self.faults[k];
            // Faults injected late are armed at the end of the replay.
            let late = self.late.as_ref().is_some_and(|l| l.after == f.after.value);
            if done || late || f.after.value != after {
                continue;
            }
            self.faults[k].1 = true;
            let kind = f.kind.value.clone();
            let target = f.target.as_ref().map(|t| t.value.clone());
            let times = f.times;
            let w_res = self.world(|w| {
                w.current_step = None;
                crate::inject::inject(w, &kind, target.as_deref(), times);
            });
            w_res?;
            if self.first_inject.is_none() {
                self.first_inject = Some(self.events.len());
            }
            self.events.push(Event::Inject {
                fault: kind,
                target,
                after: after.to_owned(),
                t: self.t,
                note: f.note.clone(),
            });
            let world = World::load(&self.sandbox.world_file())?;
            self.trips(&world);
        }
        Ok(())
    }
}

/// The line of a body an operator recognises: the first that calls a stack tool.
fn headline(body: &str) -> String {
    const TOOLS: &[&str] = &[
        "docker ",
        "curl ",
        "gh ",
        "openssl ",
        "psql ",
        "redis-cli",
        "grafana",
    ];
    // The paste format's subshell, guard and verdict lines (docs/step-format.md) are the same
    // in every step: they are not what the operator recognises it by.
    let own = |l: &&str| {
        !l.is_empty()
            && !l.starts_with("( set -euo pipefail")
            && !l.starts_with(": \"${SECRETS_PATH:?")
            && !l.starts_with(": \"${CDB_TLS_DIR:?")
            && !l.starts_with("); case $? in")
    };
    let mut lines = body.lines().map(str::trim).filter(own);
    body.lines()
        .map(str::trim)
        .filter(own)
        .find(|l| TOOLS.iter().any(|t| l.contains(t)))
        .or_else(|| lines.next())
        .unwrap_or("")
        .to_owned()
}

/// Runs scenario `id` from `cfg.root`.
pub fn run(cfg: &Config, id: &str) -> Result<Journal, DrillError> {
    let hub = cdb_docs::Hub::load(
        &cfg.root,
        cdb_docs::Layout::default(),
        cdb_docs::hub::LoadOptions {
            text_files: false,
            parse_markdown: true,
        },
    )
    .map_err(|e| {
        DrillError::Hub(format!(
            "{}: cannot load the Docs Hub: {e}",
            cfg.root.display()
        ))
    })?;
    let sc = scenario::load(&cfg.root, id)?;
    sc.validate(&hub)?;
    run_loaded(cfg, &hub, &sc)
}

/// The scenario's recovery-time budget in seconds: `expect.budget`, else the class's `rto`.
pub(crate) fn budget_secs(hub: &cdb_docs::Hub, sc: &Scenario) -> Result<u64, DrillError> {
    let class = hub
        .matrix()
        .and_then(|m| m.class(&sc.class.value))
        .ok_or_else(|| {
            DrillError::Hub(format!("class `{}` is not in the matrix", sc.class.value))
        })?;
    Ok(match &sc.expect.budget {
        Some(b) => b
            .value
            .parse::<cdb_docs::Duration>()
            .map(|d| d.secs)
            .unwrap_or(0),
        None => class
            .rto()
            .map(|d| d.secs)
            .map_err(|e| DrillError::Hub(format!("class `{}`: bad rto: {e}", sc.class.value)))?,
    })
}

/// Runs an already loaded and validated scenario (the sweep builds its cases in memory).
pub fn run_scenario(
    cfg: &Config,
    hub: &cdb_docs::Hub,
    sc: &Scenario,
) -> Result<Journal, DrillError> {
    run_loaded(cfg, hub, sc)
}

/// Runs `sc` and keeps a [`Snapshot`] after the first run of each step named in `at` (steps
/// that never ran have none).
pub fn run_recording(
    cfg: &Config,
    hub: &cdb_docs::Hub,
    sc: &Scenario,
    at: &[String],
) -> Result<(Journal, Recording), DrillError> {
    run_with(cfg, hub, sc, Some(at), None, None)
}

/// Runs `sc` from `snap`, taken by [`run_recording`] on a scenario of the same class, trigger,
/// leaked files and seed, on the same hub, whose faults (none, typically) did not act before
/// the snapshot's step. Each fault of `sc` must be injected after that step or later: the
/// journal is then the one a run from scratch gives.
pub fn run_from(
    cfg: &Config,
    hub: &cdb_docs::Hub,
    sc: &Scenario,
    snap: &Snapshot,
) -> Result<Journal, DrillError> {
    let before = &snap.steps[..snap.steps.len().saturating_sub(1)];
    if let Some(f) = sc
        .faults
        .iter()
        .find(|f| f.after.value == "start" || before.iter().any(|s| s.1 == f.after.value))
    {
        return Err(DrillError::Io(io::Error::other(format!(
            "fault `{}` is injected after `{}`, before the snapshot's step `{}`",
            f.kind.value,
            f.after.value,
            snap.after()
        ))));
    }
    run_with(cfg, hub, sc, None, Some(snap), None).map(|(j, _)| j)
}

/// Runs `sc`, whose faults are all armed and injected after `inject`'s step (`None`: at
/// `start`), from the later snapshot `resume` of the same recording: the faults are armed there
/// and their `Inject` events placed where the journal ended at `inject`. The journal is the one
/// a run from scratch gives when no trip the recording asked for between the two snapshots
/// matches them (the caller checks that with [`Recording::probes`]): an armed fault acts only
/// when tripped, so until then the drill is the recording's.
pub fn run_from_armed(
    cfg: &Config,
    hub: &cdb_docs::Hub,
    sc: &Scenario,
    inject: Option<&Snapshot>,
    resume: &Snapshot,
) -> Result<Journal, DrillError> {
    let after = inject.map_or("start", Snapshot::after).to_owned();
    let err = |m: String| Err(DrillError::Io(io::Error::other(m)));
    if let Some(f) = sc.faults.iter().find(|f| f.after.value != after) {
        return err(format!(
            "fault `{}` is injected after `{}`, not `{after}`",
            f.kind.value, f.after.value
        ));
    }
    let (events, t, prefix) = match inject {
        Some(s) => (s.events.len(), s.t, s.steps.as_slice()),
        None => (0, 0, &[][..]),
    };
    if resume.steps.len() <= prefix.len() || resume.steps[..prefix.len()] != *prefix {
        return err(format!(
            "the snapshot after `{}` does not follow the one after `{after}`",
            resume.after()
        ));
    }
    let late = LateInject { after, events, t };
    run_with(cfg, hub, sc, None, Some(resume), Some(late)).map(|(j, _)| j)
}

/// Whether the faults of `sc`, all applied at once and injected after `snap`'s step, change
/// nothing there: applied to the state `snap` holds (as [`Run::arm_after`] applies them), no
/// trip and every file, the world's included, as it was. A run from `snap` is then its
/// recording's from there on, with the faults' `Inject` events added; the sweep decides such
/// cases without running them. The scratch sandboxes this uses are kept for the next call until
/// [`drop_scratch_sandboxes`].
pub fn immediate_noop(cfg: &Config, sc: &Scenario, snap: &Snapshot) -> Result<bool, DrillError> {
    if sc.faults.is_empty()
        || sc.faults.iter().any(|f| {
            f.after.value != snap.after()
                || !cdb_model::faults::FaultKind::parse(&f.kind.value)
                    .is_some_and(|k| k.is_immediate())
        })
    {
        return Ok(false);
    }
    // A scratch sandbox, reused: the restore below replaces all of its state, and the sweep
    // asks this for hundreds of cases (no step runs in it).
    let taken = SCRATCH.lock().ok().and_then(|mut pool| {
        let at = pool.iter().position(|(exe, _)| *exe == cfg.mock_exe)?;
        Some(pool.swap_remove(at))
    });
    let (exe, mut sandbox) = match taken {
        Some(t) => t,
        None => {
            let sandbox = Sandbox::new(&cfg.mock_exe)?;
            sandbox.hold_world();
            (cfg.mock_exe.clone(), sandbox)
        }
    };
    let r = noop_in(&mut sandbox, sc, snap);
    if let Ok(mut pool) = SCRATCH.lock() {
        pool.push((exe, sandbox));
    }
    r
}

/// The scratch sandboxes of [`immediate_noop`], by drill executable.
static SCRATCH: std::sync::Mutex<Vec<(PathBuf, Sandbox)>> = std::sync::Mutex::new(Vec::new());

/// Removes the scratch sandboxes [`immediate_noop`] keeps (the sweep calls this when it ends).
pub fn drop_scratch_sandboxes() {
    let pool = SCRATCH.lock().map(|mut p| std::mem::take(&mut *p));
    drop(pool);
}

fn noop_in(sandbox: &mut Sandbox, sc: &Scenario, snap: &Snapshot) -> Result<bool, DrillError> {
    sandbox.restore(&snap.files)?;
    let path = sandbox.world_file();
    crate::world::with_world(&path, |w| {
        w.probes = None;
        w.current_step = None;
    })?;
    let before = sandbox.snapshot()?;
    let tripped = crate::world::with_world(&path, |w| {
        let mut any = false;
        for f in &sc.faults {
            let target = f.target.as_ref().map(|t| t.value.as_str());
            any |= crate::inject::apply_now(w, &f.kind.value, target);
        }
        any
    })?;
    Ok(!tripped && sandbox.snapshot()?.same_files(&before))
}

/// The sandbox and world a drill of `sc` starts from: the world of the seed with the
/// scenario's start overlays, its leaked values, and whoever holds a leaked value connected
/// with it. The drill and the mock-world rotation (`rotate_world.rs`) both start here.
pub fn start_world(cfg: &Config, sc: &Scenario) -> Result<(Sandbox, World), DrillError> {
    let sandbox = Sandbox::new(&cfg.mock_exe)?;
    let mut world = World::new_with(
        cfg.seed,
        &sandbox.root,
        &sandbox.secrets,
        &sc.start_overlays(),
    )?;
    for name in &sc.leaked {
        // `ci:NAME` is the copy GitHub Actions holds (the matrix's naming), else a secret file.
        let value = match name.value.strip_prefix("ci:") {
            Some(ci) => world.github.secrets.get(ci).cloned(),
            None => world.read_secret_file(&name.value),
        };
        match value {
            Some(v) => {
                world.leaked.insert(v);
            }
            None => {
                let loc = name.referenced;
                return Err(DrillError::Scenario(ScenarioError {
                    path: sc.rel_path(),
                    line: loc.line() as usize,
                    column: loc.column() as usize,
                    message: format!("`{}` is not a secret file of the drill world", name.value),
                }));
            }
        }
    }
    // A leaked Redis password: the leaker holds a live connection with it (redis_conns.rs).
    crate::redis_conns::leaker_connects(&mut world);
    // Whoever has a leaked database password holds a session with it (crate::pg).
    world.open_leaker_sessions();
    world.open_leaker_grafana_session();
    Ok((sandbox, world))
}

fn run_loaded(cfg: &Config, hub: &cdb_docs::Hub, sc: &Scenario) -> Result<Journal, DrillError> {
    run_with(cfg, hub, sc, None, None, None).map(|(j, _)| j)
}

fn run_with<'h>(
    cfg: &Config,
    hub: &'h cdb_docs::Hub,
    sc: &'h Scenario,
    record: Option<&[String]>,
    replay: Option<&'h Snapshot>,
    late: Option<LateInject>,
) -> Result<(Journal, Recording), DrillError> {
    let trigger = if sc.is_leak() {
        Trigger::Leak
    } else {
        Trigger::Routine
    };
    let budget = budget_secs(hub, sc)?;
    let mut plan = Vec::new();
    for doc in &hub.docs {
        for s in &doc.steps {
            if s.class == sc.class.value && s.when.applies_to(trigger) {
                let line = doc.lines.line_col(&doc.text, s.fence_span.start).line;
                plan.push(Planned { step: s, line });
            }
        }
    }
    let (sandbox, mut world) = start_world(cfg, sc)?;
    sandbox.hold_world();
    if record.is_some() {
        world.probes = Some(Vec::new());
    }
    world.save(&sandbox.world_file())?;
    let mut run = Run {
        sandbox,
        timeout: cfg.step_timeout,
        plan,
        faults: sc.faults.iter().map(|f| (f, false)).collect(),
        t: 0,
        events: Vec::new(),
        transcript_leaks: Vec::new(),
        scanner_hits: Vec::new(),
        first_inject: None,
        failures: Vec::new(),
        calls_seen: 0,
        trace: Vec::new(),
        snap_at: record.unwrap_or_default().to_vec(),
        snapshots: Vec::new(),
        probes_seen: 0,
        replay,
        late,
    };
    run.arm_after("start")?;

    // The phase order and the decisions are cdb_model::procedure's, shared with the rotation
    // planner: the engine only runs what it says and keeps the marks.
    let mut procedure = cdb_model::procedure::Procedure::new(sc.is_leak());
    let mut recovered_at: Option<Mark> = None;
    let mut escalated_at: Option<u64> = None;
    let mut rolled_back = false;
    let mut post_ok = true;
    let last_id = |run: &Run| -> String {
        run.events
            .iter()
            .rev()
            .find_map(|e| match e {
                Event::Step(s) => Some(s.id.clone()),
                _ => None,
            })
            .unwrap_or_default()
    };
    while let Some(next) = procedure.next() {
        let passed = run.phase(next.phase, next.stop_at_first_failure, next.why)?;
        if next.phase == Phase::PostCheck {
            post_ok = passed;
        }
        match procedure.record(passed) {
            Some(cdb_model::procedure::Mark::Recovered) => {
                recovered_at = Some(Mark {
                    step: last_id(&run),
                    t: run.t,
                });
            }
            Some(cdb_model::procedure::Mark::Escalated) => escalated_at = Some(run.t),
            Some(cdb_model::procedure::Mark::RolledBack) => rolled_back = true,
            None => {}
        }
    }
    if run.replay.is_some() {
        return Err(DrillError::Io(io::Error::other(
            "the snapshot's steps did not all run: it belongs to another drill",
        )));
    }
    let rec = Recording {
        failed_steps: run.failures.len(),
        snapshots: std::mem::take(&mut run.snapshots),
        probes: if record.is_some() {
            World::load(&run.sandbox.world_file())?
                .probes
                .unwrap_or_default()
        } else {
            Vec::new()
        },
    };
    let j = judge(
        cfg,
        sc,
        run,
        budget,
        recovered_at,
        escalated_at,
        post_ok,
        rolled_back,
    )?;
    Ok((j, rec))
}

#[allow(clippy::too_many_arguments)]
fn judge(
    cfg: &Config,
    sc: &Scenario,
    run: Run,
    budget: u64,
    recovered_at: Option<Mark>,
    escalated_at: Option<u64>,
    post_ok: bool,
    rolled_back: bool,
) -> Result<Journal, DrillError> {
    let world = World::load(&run.sandbox.world_file())?;
    let mut reasons = Vec::new();
    let mut gaps = Vec::new();
    let outcome = if recovered_at.is_some() && post_ok {
        "recovered"
    } else if escalated_at.is_some() {
        "escalated"
    } else {
        "not-recovered"
    };
    let failed_after = |from: usize| run.failures.iter().filter(move |(at, _, _)| *at >= from);
    // Detection.
    let mut detection = None;
    if let Some(from) = run.first_inject {
        detection = failed_after(from).next().map(|(at, id, _)| {
            let t = match &run.events[*at] {
                Event::Step(s) => s.t_end,
                _ => 0,
            };
            Mark {
                step: id.clone(),
                t,
            }
        });
        let faults: Vec<String> = run
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Inject {
                    fault,
                    target,
                    after,
                    ..
                } => Some(format!(
                    "fault `{fault}`{} injected after `{after}`",
                    target
                        .as_ref()
                        .map(|t| format!(" ({t})"))
                        .unwrap_or_default()
                )),
                _ => None,
            })
            .collect();
        match &detection {
            None => reasons.push(format!(
                "{} went undetected: every step after it passed",
                faults.join(", ")
            )),
            Some(d) if !sc.expect.detected_by.is_empty() => {
                let expected: Vec<&str> = sc
                    .expect
                    .detected_by
                    .iter()
                    .map(|s| s.value.as_str())
                    .collect();
                let hit = failed_after(from).any(|(_, id, _)| expected.contains(&id.as_str()));
                if !hit {
                    reasons.push(format!(
                        "{} was detected by `{}`, not by the expected {}",
                        faults.join(", "),
                        d.step,
                        expected
                            .iter()
                            .map(|e| format!("`{e}`"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ));
                }
            }
            Some(_) => {}
        }
    }
    for d in &sc.expect.detected_by {
        if !run.plan.iter().any(|p| p.step.id == d.value) {
            reasons.push(format!(
                "the expected detector `{}` is not a step of the hub any more",
                d.value
            ));
        }
    }
    for (f, done) in &run.faults {
        if !done {
            let exists = run.plan.iter().any(|p| p.step.id == f.after.value);
            reasons.push(format!(
                "fault `{}` was never injected: step `{}` {}",
                f.kind.value,
                f.after.value,
                if exists {
                    "did not run"
                } else {
                    "is not in the hub"
                }
            ));
        } else if !world.trips.iter().any(|t| t.kind == f.kind.value) {
            reasons.push(format!(
                "fault `{}`{} never took effect: no step did what it needs (check the scenario)",
                f.kind.value,
                f.target
                    .as_ref()
                    .map(|t| format!(" ({})", t.value))
                    .unwrap_or_default()
            ));
        }
    }
    if run.first_inject.is_none()
        && let Some((_, id, why)) = run.failures.first()
    {
        gaps.push(format!(
            "step `{id}` failed without any injected fault: {why}"
        ));
    }
    if outcome != sc.expect.outcome.value {
        let last_fail = run
            .failures
            .last()
            .map(|(_, id, why)| format!(": last failing step `{id}` ({why})"))
            .unwrap_or_default();
        let what = match outcome {
            "not-recovered" if rolled_back => "the stack was not recovered after rollback",
            "not-recovered" => "the stack was not recovered",
            "escalated" => "rollback did not recover, the drill escalated",
            _ => "the runbook recovered",
        };
        reasons.push(format!(
            "expected outcome `{}`, got `{outcome}`: {what}{last_fail}",
            sc.expect.outcome.value
        ));
    }
    if escalated_at.is_some() && !run.plan.iter().any(|p| p.step.phase == Phase::Escalate) {
        gaps.push(format!(
            "class `{}` has no executable `escalate` step: paging is prose only",
            sc.class.value
        ));
    }
    let inv = invariants(
        sc,
        &world,
        &run.transcript_leaks,
        run.scanner_hits.clone(),
        recovered_at.as_ref().map(|m| m.t),
        escalated_at,
        budget,
    );
    for i in &inv {
        if !i.passed {
            reasons.push(format!("invariant `{}` broken: {}", i.name, i.detail));
        }
    }
    let _ = cfg;
    let mut j = Journal {
        version: 1,
        scenario: sc.id.clone(),
        title: sc.title.clone(),
        class: sc.class.value.clone(),
        trigger: sc.trigger.value.clone(),
        seed: world.seed,
        isolation: run.sandbox.isolation().summary(),
        briefing: sc.briefing.trim().to_owned(),
        budget_secs: budget,
        events: run.events,
        invariants: inv,
        detection,
        recovery: recovered_at,
        outcome: outcome.into(),
        expected_outcome: sc.expect.outcome.value.clone(),
        gaps,
        verdict: Verdict {
            passed: reasons.is_empty(),
            reasons,
        },
    };
    // The one masking point: every string the journal carries, so every output made from it
    // (stdout, --journal, --report, the sweep) holds no flagged or known value in any form.
    let encoded = crate::scan::mask_journal(&mut j, &crate::scan::known_values(&world));
    if !encoded.is_empty() {
        transcript_encoded(&mut j, &encoded);
    }
    Ok(j)
}

/// Breaks `no-secret-in-transcript` for the steps that printed a secret value encoded (base64,
/// hex, reversed) or in parts, which only the masking point sees.
fn transcript_encoded(j: &mut Journal, steps: &[String]) {
    const NAME: &str = "no-secret-in-transcript";
    let what = steps
        .iter()
        .map(|id| {
            format!("`{id}` printed a secret value encoded (base64, hex, reversed) or in parts")
        })
        .collect::<Vec<_>>()
        .join("; ");
    let Some(inv) = j.invariants.iter_mut().find(|i| i.name == NAME) else {
        return;
    };
    inv.detail = if inv.passed {
        what
    } else {
        format!("{}; {what}", inv.detail)
    };
    inv.passed = false;
    let reason = format!("invariant `{NAME}` broken: {}", inv.detail);
    let prefix = format!("invariant `{NAME}` broken:");
    match j
        .verdict
        .reasons
        .iter_mut()
        .find(|r| r.starts_with(&prefix))
    {
        Some(r) => *r = reason,
        None => j.verdict.reasons.push(reason),
    }
    j.verdict.passed = false;
}

/// The invariants checked at the end of a drill (also by the interactive shell): services
/// healthy, leaked values dead, trading paused when the safe state needs it, no secret in the
/// transcript or on a command line, no forbidden action, recovery within the budget.
/// `recovered_at` / `escalated_at` are simulated seconds.
pub(crate) fn invariants(
    sc: &Scenario,
    world: &World,
    transcript_leaks: &[(String, Vec<String>)],
    scanner_hits: Vec<String>,
    recovered_at: Option<u64>,
    escalated_at: Option<u64>,
    budget: u64,
) -> Vec<Invariant> {
    let mut inv = Vec::new();
    let mut degraded: Vec<String> = sc
        .expect
        .safe_state
        .degraded
        .iter()
        .map(|d| d.value.clone())
        .collect();
    if sc.expect.safe_state.trading_paused && !degraded.iter().any(|d| d == "cdb_execution") {
        degraded.push("cdb_execution".into());
    }
    let sick: Vec<String> = all_services()
        .filter(|s| !degraded.iter().any(|d| d == s))
        .filter_map(|s| {
            let p = world.problems(s);
            (!p.is_empty()).then(|| format!("{s}: {}", p.join(", ")))
        })
        .collect();
    inv.push(Invariant {
        name: "services-healthy".into(),
        passed: sick.is_empty(),
        detail: if sick.is_empty() {
            format!(
                "every service healthy{}",
                if degraded.is_empty() {
                    String::new()
                } else {
                    format!(" (allowed degraded: {})", degraded.join(", "))
                }
            )
        } else {
            format!("left unrecovered: {}", sick.join("; "))
        },
    });
    let latent = world.latent_problems(&degraded);
    inv.push(Invariant {
        name: "secret-files-valid".into(),
        passed: latent.is_empty(),
        detail: if latent.is_empty() {
            "the secret files hold what the stack accepts: a recreation of anything comes back healthy"
                .into()
        } else {
            latent.join("; ")
        },
    });
    if sc.is_leak() {
        let mut alive = Vec::new();
        for v in &world.leaked {
            let at = world.accepted_by(v);
            if !at.is_empty() {
                let name = world
                    .values
                    .get(v)
                    .cloned()
                    .unwrap_or_else(|| "a leaked value".into());
                alive.push(format!("{name} still accepted by {}", at.join(", ")));
            }
        }
        inv.push(Invariant {
            name: "leaked-values-dead".into(),
            passed: alive.is_empty(),
            detail: if alive.is_empty() {
                "no server accepts a leaked value".into()
            } else {
                alive.join("; ")
            },
        });
    }
    if sc.expect.safe_state.trading_paused {
        inv.push(Invariant {
            name: "trading-paused".into(),
            passed: world.trading_paused,
            detail: if world.trading_paused {
                format!(
                    "the order path was stopped and the kill switch stays engaged (cdb_execution {})",
                    if world.running("cdb_execution") {
                        "runs again, without trading"
                    } else {
                        "is stopped"
                    }
                )
            } else {
                "trading was never paused".into()
            },
        });
    }
    inv.push(Invariant {
        name: "no-secret-in-transcript".into(),
        passed: transcript_leaks.is_empty() && scanner_hits.is_empty(),
        detail: if transcript_leaks.is_empty() && scanner_hits.is_empty() {
            "no step printed a secret value".into()
        } else {
            transcript_leaks
                .iter()
                .map(|(id, names)| format!("`{id}` printed the value of {}", names.join(", ")))
                .chain(scanner_hits)
                .collect::<Vec<_>>()
                .join("; ")
        },
    });
    let argv: Vec<String> = world
        .violations
        .iter()
        .filter(|v| v.kind == "secret-in-argv")
        .map(|v| format!("`{}`: {}", v.step.clone().unwrap_or_default(), v.detail))
        .collect();
    inv.push(Invariant {
        name: "no-secret-in-argv".into(),
        passed: argv.is_empty(),
        detail: if argv.is_empty() {
            "no secret value reached a command line".into()
        } else {
            argv.join("; ")
        },
    });
    let forbidden: Vec<String> = world
        .violations
        .iter()
        .filter(|v| v.kind != "secret-in-argv")
        .map(|v| format!("`{}`: {}", v.step.clone().unwrap_or_default(), v.detail))
        .collect();
    inv.push(Invariant {
        name: "no-forbidden-action".into(),
        passed: forbidden.is_empty(),
        detail: if forbidden.is_empty() {
            "no destroyed volume, no key deleted under a running order path, auth never disabled"
                .into()
        } else {
            forbidden.join("; ")
        },
    });
    let done_at = recovered_at.or(escalated_at);
    let rto_ok = done_at.is_some_and(|t| t <= budget);
    inv.push(Invariant {
        name: "recovery-time".into(),
        passed: rto_ok,
        detail: match done_at {
            Some(t) => format!(
                "{} {} budget {} ({})",
                clock(t),
                if rto_ok { "within" } else { "exceeds" },
                clock(budget),
                if recovered_at.is_some() {
                    "recovered"
                } else {
                    "safe state reached"
                }
            ),
            None => format!("never recovered (budget {})", clock(budget)),
        },
    });
    inv
}

/// The default root: the workspace that holds `drills/` (the current directory).
pub fn default_root() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| Path::new(".").to_path_buf())
}
