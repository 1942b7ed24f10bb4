//! `cdb-mock rotate <class> … --world SCENARIO`: the guided rotation (`cdb-rotate`) against the
//! mock world of a drill scenario, its steps run by the drill's sandbox ([`Sandbox::run`]).
//!
//! The sandbox and the world are built as the drill engine builds them (`engine::run_with`: the
//! world of the seed, the scenario's leaked values, the leaker's sessions and connections, the
//! faults armed after their step), and every step does to the world what it does in a drill
//! (the clock and the current step set before it, `exchange::after_step` after it, the faults
//! armed after it, a manual step's effect applied when the operator answers `done`). So a
//! rotation answered as an operator would takes the drill's path: the same steps, the same
//! verdicts (the pty test in tests/it/rotate.rs compares the two journals). At the end the
//! drill's invariants are the rotation's closing checks.

use crate::engine::{Config, DrillError};
use crate::sandbox::Sandbox;
use crate::world::World;
use cdb_docs::{Hub, Step};
use cdb_model::scenario::{self, Scenario};
use cdb_rotate::{Check, Executor, StepOutput};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Runs a rotation's steps in a drill sandbox.
pub struct WorldExecutor {
    sandbox: Sandbox,
    sc: Scenario,
    /// The scenario's faults and whether each is armed yet.
    armed: Vec<bool>,
    /// The simulated clock (seconds), advanced by each step's `time=` as in the drill.
    t: u64,
    timeout: Duration,
    budget: u64,
    /// (step id, secret names) found in a step's raw output (the drill's transcript check).
    transcript_leaks: Vec<(String, Vec<String>)>,
    scanner_hits: Vec<String>,
    secrets: PathBuf,
    stack: PathBuf,
    /// What runs the steps besides the sandbox (cdb-lab: the real servers), for the journal.
    pub label: Option<String>,
    /// The world's seed (for `describe`).
    seed: u64,
    /// Every value the world knew after the last step (see `known_values`).
    known: Vec<String>,
}

impl std::fmt::Debug for WorldExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorldExecutor")
            .field("scenario", &self.sc.id)
            .finish_non_exhaustive()
    }
}

impl WorldExecutor {
    /// The world of scenario `id` (`baseline`: the fault-free world of `class` and the trigger,
    /// the sweep's baseline), validated against `hub`.
    pub fn scenario(
        cfg: &Config,
        hub: &Hub,
        id: &str,
        class: &str,
        leak: bool,
    ) -> Result<Scenario, DrillError> {
        if id == "baseline" {
            return crate::sweep::baseline_scenario(hub, class, trigger_of(leak));
        }
        Ok(scenario::load(&cfg.root, id)?.validate(hub)?)
    }

    /// The sandbox and world of `sc`, as the drill starts it.
    pub fn new(cfg: &Config, hub: &Hub, sc: Scenario) -> Result<WorldExecutor, DrillError> {
        let budget = crate::engine::budget_secs(hub, &sc)?;
        let (sandbox, world) = crate::engine::start_world(cfg, &sc)?;
        world.save(&sandbox.world_file())?;
        let secrets = sandbox.secrets.clone();
        let stack = sandbox.stack.clone();
        let armed = vec![false; sc.faults.len()];
        let seed = world.seed;
        let known = crate::scan::known_values(&world);
        let mut ex = WorldExecutor {
            sandbox,
            sc,
            armed,
            t: 0,
            timeout: cfg.step_timeout,
            budget,
            transcript_leaks: Vec::new(),
            scanner_hits: Vec::new(),
            secrets,
            stack,
            label: None,
            seed,
            known,
        };
        ex.arm_after("start")?;
        Ok(ex)
    }

    fn world<T>(&self, f: impl FnOnce(&mut World) -> T) -> io::Result<T> {
        crate::world::with_world(&self.sandbox.world_file(), f)
    }

    /// As the engine's `Run::arm_after`: the faults to inject after step `after`.
    fn arm_after(&mut self, after: &str) -> io::Result<()> {
        for k in 0..self.sc.faults.len() {
            if self.armed[k] || self.sc.faults[k].after.value != after {
                continue;
            }
            self.armed[k] = true;
            let f = &self.sc.faults[k];
            let kind = f.kind.value;
            let target = f.target.as_ref().map(|t| t.value.clone());
            let times = f.times;
            self.world(|w| {
                w.current_step = None;
                crate::inject::inject(w, kind, target.as_deref(), times);
            })?;
        }
        Ok(())
    }

    fn before(&mut self, step: &Step) -> io::Result<()> {
        let (id, t) = (step.id.clone(), self.t);
        self.world(|w| {
            w.current_step = Some(id);
            w.clock = t;
        })
    }

    fn after(&mut self, step: &Step, out: &StepOutput) -> io::Result<()> {
        // The bot trades wherever its order path is open (engine.rs, after every step).
        let phase = step.phase;
        self.world(|w| crate::exchange::after_step(w, phase))?;
        self.t += step.time.secs;
        let world = World::load(&self.sandbox.world_file())?;
        self.known = crate::scan::known_values(&world);
        let text = format!("{}\n{}", out.stdout, out.stderr);
        let found = world.secrets_in(&text);
        if !found.is_empty() {
            self.transcript_leaks.push((step.id.clone(), found));
        }
        let rules = crate::scan::scan(&text);
        if !rules.is_empty() {
            self.scanner_hits.push(format!(
                "`{}` printed something the secret scanner flags ({})",
                step.id,
                rules.join(", ")
            ));
        }
        self.arm_after(&step.id)
    }
}

impl Executor for WorldExecutor {
    fn describe(&self) -> String {
        format!(
            "{}the mock world of drill scenario `{}` (seed {})",
            self.label
                .as_ref()
                .map(|l| format!("{l}, with "))
                .unwrap_or_default(),
            self.sc.id,
            self.seed
        )
    }

    fn secrets_path(&self) -> &Path {
        &self.secrets
    }

    fn compose_dir(&self) -> &Path {
        &self.stack
    }

    fn run(&mut self, step: &Step) -> io::Result<StepOutput> {
        self.before(step)?;
        let r = self.sandbox.run(&step.id, &step.body, self.timeout)?;
        let out = StepOutput {
            code: if r.timed_out { None } else { r.code },
            stdout: r.stdout,
            stderr: r.stderr,
        };
        self.after(step, &out)?;
        Ok(out)
    }

    fn manual(&mut self, step: &Step, done: bool) -> io::Result<StepOutput> {
        self.before(step)?;
        let out = if done {
            // What the operator did, applied to the world (engine.rs, manual steps).
            let effect = step.effect.clone().unwrap_or_default();
            let body = step.body.clone();
            match self.world(|w| crate::effects::apply(w, &effect, &body))? {
                Ok(msg) => StepOutput {
                    code: Some(0),
                    stdout: format!("[manual] {msg}\n"),
                    stderr: String::new(),
                },
                Err(msg) => StepOutput {
                    code: Some(1),
                    stdout: String::new(),
                    stderr: format!("[manual] {msg}\n"),
                },
            }
        } else {
            StepOutput {
                code: Some(1),
                stdout: String::new(),
                stderr: "[manual] the operator reported it failed\n".into(),
            }
        };
        self.after(step, &out)?;
        Ok(out)
    }

    fn replay(&mut self, step: &Step, decision: &str) -> io::Result<Option<bool>> {
        let out = match decision {
            "refused" | "declined" | "skipped" => return Ok(None),
            "manual-done" => self.manual(step, true)?,
            "manual-failed" => self.manual(step, false)?,
            _ => self.run(step)?,
        };
        Ok(Some(out.code == Some(0)))
    }

    fn kill_switch_engaged(&mut self) -> io::Result<Option<bool>> {
        // The world's kill-switch state file (exchange.rs; upstream core/safety/kill_switch.py).
        let w = World::load(&self.sandbox.world_file())?;
        Ok(Some(crate::exchange::switch_active(&w)))
    }

    fn known_values(&mut self) -> Vec<String> {
        match World::load(&self.sandbox.world_file()) {
            Ok(w) => self.known = crate::scan::known_values(&w),
            // The trait cannot report it (cdb-rotate's `Executor`); masking with no values would
            // let a secret through, so the values of the last step's world mask instead.
            Err(e) => eprintln!(
                "rotate: the drill world cannot be read ({e}): masking with the values it held after the last step"
            ),
        }
        self.known.clone()
    }

    fn sanitize(&self, text: &str) -> String {
        self.sandbox.sanitize(text)
    }

    fn closing_checks(&mut self) -> io::Result<Vec<Check>> {
        let w = World::load(&self.sandbox.world_file())?;
        // The drill's invariants but recovery-time (the rotation's own outcome says whether it
        // recovered; its wall clock is the operator's, not the drill's simulated one).
        let inv = crate::engine::invariants(
            &self.sc,
            &w,
            &self.transcript_leaks,
            self.scanner_hits.clone(),
            Some(self.t),
            None,
            self.budget,
        );
        Ok(inv
            .into_iter()
            .filter(|i| i.name != "recovery-time")
            .map(|i| Check {
                name: i.name,
                passed: i.passed,
                detail: i.detail,
            })
            .collect())
    }
}

/// `cdb-mock rotate …`: parses the words, builds the world of `--world SCENARIO` (a drill
/// scenario, or `baseline`: the class's fault-free world), runs the rotation with answers from
/// standard input. Exit codes as `cdb_rotate::runner`. cdb-lab's lab runs the same function
/// with its step runner set (real servers behind the steps).
pub fn main(args: &[String], exe: &Path) -> u8 {
    main_in(args, exe, None)
}

/// [`main`], saying in the journal what else runs the steps (`label`: the lab's servers).
pub fn main_in(args: &[String], exe: &Path, label: Option<String>) -> u8 {
    let a = match cdb_rotate::cli::parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}\n{}", cdb_rotate::cli::USAGE);
            return 2;
        }
    };
    let Some(id) = a.world.clone() else {
        eprintln!(
            "error: cdb-mock rotate runs against a mock world: give --world SCENARIO (the real stack is `cargo xtask rotate`)"
        );
        return 2;
    };
    let opts = cdb_rotate::cli::options(&a, crate::engine::default_root());
    let hub = match cdb_rotate::runner::load_hub(&opts.root) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {}", cdb_secrets::for_human(&e.0));
            return 2;
        }
    };
    if let Err(e) = cdb_rotate::runner::check_class(&hub, &opts.class) {
        eprintln!("error: {}", cdb_secrets::for_human(&e.0));
        return 2;
    }
    let cfg = Config {
        root: opts.root.clone(),
        seed: a.seed,
        step_timeout: step_timeout(),
        mock_exe: exe.to_path_buf(),
    };
    let sc = match WorldExecutor::scenario(&cfg, &hub, &id, &opts.class, opts.leak) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}", cdb_secrets::for_human(&e.to_string()));
            return 2;
        }
    };
    let trigger = trigger_of(opts.leak);
    if sc.class.value != opts.class || sc.trigger.value != trigger {
        eprintln!(
            "error: scenario `{id}` is a {} rotation of `{}`, not a {} rotation of `{}`",
            sc.trigger.value.as_str(),
            sc.class.value,
            trigger.as_str(),
            opts.class
        );
        return 2;
    }
    let mut exec = match WorldExecutor::new(&cfg, &hub, sc) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {}", cdb_secrets::for_human(&e.to_string()));
            return 2;
        }
    };
    exec.label = label;
    drop(hub);
    let stdin = std::io::stdin();
    let mut prompt = cdb_rotate::LinePrompter {
        input: stdin.lock(),
    };
    cdb_rotate::run(
        &opts,
        &mut exec,
        &mut prompt,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    )
}

/// A step's wall-time limit: 10 s as the drill's default, `CDB_ROTATE_STEP_TIMEOUT` seconds when
/// set (the lab's real servers and stand-ins are slower than the mock).
fn step_timeout() -> Duration {
    let secs = std::env::var("CDB_ROTATE_STEP_TIMEOUT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(10);
    Duration::from_secs(secs.max(1))
}

/// The trigger of a rotation run with or without `--leak`.
fn trigger_of(leak: bool) -> cdb_docs::Trigger {
    if leak {
        cdb_docs::Trigger::Leak
    } else {
        cdb_docs::Trigger::Routine
    }
}
