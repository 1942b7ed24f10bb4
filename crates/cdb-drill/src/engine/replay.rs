//! The sweep's replay machinery: snapshots of a drill after each step, recordings of a
//! fault-free run, runs started from a snapshot (with armed faults placed where they were
//! injected), and the check that an immediate fault changes nothing at a snapshot, in scratch
//! sandboxes kept between calls.

use super::run::{Run, run_with};
use super::{Config, DrillError};
use crate::journal::{Event, Journal};
use crate::sandbox::Sandbox;
use cdb_model::scenario::Scenario;
use std::io;
use std::path::PathBuf;

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
pub(super) struct LateInject {
    pub(super) after: String,
    pub(super) events: usize,
    pub(super) t: u64,
}

impl<'h> Run<'h> {
    pub(super) fn snapshot(&self) -> io::Result<Snapshot> {
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
    pub(super) fn replayed(&mut self, i: usize) -> io::Result<Option<bool>> {
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
            let kind = f.kind.value;
            if kind.is_immediate() {
                return Err(io::Error::other(format!(
                    "fault `{kind}` acts at once: it cannot be injected before the snapshot"
                )));
            }
            self.faults[k].1 = true;
            let target = f.target.as_ref().map(|t| t.value.clone());
            let times = f.times;
            self.world(|w| crate::inject::inject(w, kind, target.as_deref(), times))?;
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
        || sc
            .faults
            .iter()
            .any(|f| f.after.value != snap.after() || !f.kind.value.is_immediate())
    {
        return Ok(false);
    }
    // A scratch sandbox, reused: the restore below replaces all of its state, and the sweep
    // asks this for hundreds of cases (no step runs in it).
    let taken = {
        let mut pool = scratch();
        let at = pool.iter().position(|(exe, _)| *exe == cfg.mock_exe);
        at.map(|at| pool.swap_remove(at))
    };
    let (exe, mut sandbox) = match taken {
        Some(t) => t,
        None => {
            let sandbox = Sandbox::new(&cfg.mock_exe)?;
            sandbox.hold_world();
            (cfg.mock_exe.clone(), sandbox)
        }
    };
    let r = noop_in(&mut sandbox, sc, snap);
    scratch().push((exe, sandbox));
    r
}

/// The scratch sandboxes of [`immediate_noop`], by drill executable.
static SCRATCH: std::sync::Mutex<Vec<(PathBuf, Sandbox)>> = std::sync::Mutex::new(Vec::new());

/// The pool of scratch sandboxes. A job that panicked while holding the lock left the list
/// whole (pushes and removals cannot panic half-way), so a poisoned lock is used as it is:
/// skipping it would leave its sandboxes on disk, a static is never dropped.
fn scratch() -> std::sync::MutexGuard<'static, Vec<(PathBuf, Sandbox)>> {
    SCRATCH
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes the scratch sandboxes [`immediate_noop`] keeps (the sweep calls this when it ends).
pub fn drop_scratch_sandboxes() {
    let pool = std::mem::take(&mut *scratch());
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
            any |= crate::inject::apply_now(w, f.kind.value, target);
        }
        any
    })?;
    Ok(!tripped && sandbox.snapshot()?.same_files(&before))
}
