//! The conformance suite: each runbook step that calls `psql`, `redis-cli` or `openssl`, run in the
//! mock world and against real servers from the same starting state, compared.
//!
//! The steps come from the hub (never a list kept here); their starting states from drills of the
//! database, cache and monitoring scenarios (`SCENARIOS`): the state right before a step is the
//! engine's snapshot after the step that preceded it (`engine::run_recording`). The mock side
//! restores that snapshot into a sandbox and runs the step there as a drill does. The real side
//! restores the same snapshot into a second sandbox, loads the world's server state into the real
//! PostgreSQL and Redis (the role's password, every live session and connection with the password
//! it logged in with, in the order they started; the default user's passwords, ACL users,
//! `requirepass`), and runs the step unchanged with the real `psql`, `redis-cli` and `openssl`, its
//! `docker` being the lab adapter (adapter.rs). Then it compares what the runbook depends on: the
//! exit code, the verdict line and the output lines (normalised in normalise.rs only), and what the
//! servers hold after the step: which of the sessions and connections open before it are still
//! open, which known passwords log in, which ACL users exist. Every difference names the
//! behaviour it belongs to.

use crate::normalise;
use crate::{Host, LabError, PgServer, PgSession, RedisConn, RedisServer, Reply};
use cdb_drill::sandbox::Sandbox;
use cdb_drill::world::World;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The scenarios whose drills give the starting states: a leak and a routine rotation of the
/// database, two cache leaks (one with the leaker's own user and connections), and a failed
/// monitoring rotation (its `openssl` staging step); the exchange and Grafana leaks (their
/// evidence collection reads both servers); and the lab's own scenarios (scenarios.rs) for the
/// steps no drill of `drills/` reaches: the routine cache rollback, the alerting-mail leak's
/// evidence and the monitoring roll-forward. A drill's first step starts from the drill's
/// starting state (`start_state`).
pub const SCENARIOS: &[&str] = &[
    "leak-db",
    "routine-db-straggler",
    "leak-cache",
    "leak-cache-live-connection",
    "failed-rotation-monitoring",
    "leak-exchange-key",
    "leak-grafana-admin",
    "lab-failed-rotation-db",
    "lab-failed-rotation-cache",
    "lab-leak-cache-tls",
    "lab-leak-alerting-mail",
    "lab-leak-monitoring-roll-forward",
    "leak-tls",
    "routine-tls-short-lived",
    "routine-tls-overlay-dropped",
];

/// The tools whose calls make a step part of the suite.
pub const TOOLS: &[&str] = &["psql", "redis-cli", "openssl"];

/// A world made wrong on purpose in one behaviour, to show the suite fails when the world drifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The drill world as it is.
    Faithful,
    /// Wrong: a password change (`ALTER ROLE`) ends every session that logged in with another
    /// password. Real PostgreSQL keeps them (docs/real-server-facts.md).
    SessionsEndAtPasswordChange,
}

/// How to run the suite.
#[derive(Debug, Clone)]
pub struct Config {
    pub root: PathBuf,
    /// The executable that answers the drill's mocks and is the lab's `docker` adapter.
    pub tool: PathBuf,
    pub seed: u64,
    pub variant: Variant,
    /// Only these step ids (all when empty).
    pub only: Vec<String>,
    /// Only the starting states these scenarios give (all of the suite's when empty): each
    /// scenario is a recorded drill, so a short run names few.
    pub scenarios: Vec<String>,
    pub step_timeout: Duration,
}

/// One step's outcome on one side.
#[derive(Debug, Clone, Default)]
pub struct Side {
    pub code: Option<i32>,
    pub stdout: Vec<String>,
    pub stderr: String,
    pub verdict: Option<String>,
}

/// A difference between the mock and the real run, named by the behaviour it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub behaviour: String,
    pub detail: String,
}

/// One step compared from one starting state.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub scenario: String,
    pub step: String,
    /// The step after which the state was taken.
    pub after: String,
    pub mock: Side,
    pub real: Side,
    pub differences: Vec<Difference>,
}

/// A step of the suite's set that no case reached, or that is left out, with why.
#[derive(Debug, Clone)]
pub struct NotRun {
    pub step: String,
    pub why: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub cases: Vec<CaseResult>,
    pub not_run: Vec<NotRun>,
    pub pg_version: String,
    pub redis_version: String,
}

impl Report {
    pub fn failed(&self) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(|c| !c.differences.is_empty())
    }

    /// Every behaviour named by some difference.
    pub fn behaviours(&self) -> BTreeSet<String> {
        self.cases
            .iter()
            .flat_map(|c| c.differences.iter().map(|d| d.behaviour.clone()))
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "conformance: {} case(s) on PostgreSQL {} and Redis {}; {} differ",
            self.cases.len(),
            self.pg_version,
            self.redis_version,
            self.failed().count()
        )?;
        for c in &self.cases {
            let mark = if c.differences.is_empty() {
                "same"
            } else {
                "DIFF"
            };
            writeln!(
                f,
                "  {mark} {} ({}, after {}): {}",
                c.step,
                c.scenario,
                c.after,
                c.real.verdict.as_deref().unwrap_or("(no verdict)")
            )?;
            for d in &c.differences {
                writeln!(f, "    behaviour \"{}\": {}", d.behaviour, d.detail)?;
            }
            if !c.differences.is_empty() {
                writeln!(f, "    mock exit {:?}, stdout:", c.mock.code)?;
                for l in &c.mock.stdout {
                    writeln!(f, "      | {l}")?;
                }
                writeln!(f, "    real exit {:?}, stdout:", c.real.code)?;
                for l in &c.real.stdout {
                    writeln!(f, "      | {l}")?;
                }
                if !c.real.stderr.trim().is_empty() {
                    writeln!(f, "    real stderr:")?;
                    for l in c.real.stderr.lines() {
                        writeln!(f, "      ! {l}")?;
                    }
                }
            }
        }
        for n in &self.not_run {
            writeln!(f, "  not run: {}: {}", n.step, n.why)?;
        }
        Ok(())
    }
}

/// Why the suite could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// A server did not start (a missing package is `LabError::Missing`).
    #[error(transparent)]
    Lab(LabError),
    /// The drill side (the hub, a sandbox, a step) failed; the message names what.
    #[error("{0}")]
    Drill(String),
}

fn drill_err(e: impl fmt::Display) -> SuiteError {
    SuiteError::Drill(e.to_string())
}

/// The hub's steps that the suite compares, and the ones it leaves out with why.
pub fn suite_steps(hub: &cdb_docs::Hub) -> (Vec<cdb_docs::Step>, Vec<NotRun>) {
    let mut steps = Vec::new();
    let mut out = Vec::new();
    for s in hub.steps() {
        if s.manual || s.lang != "bash" || !TOOLS.iter().any(|t| calls(&s.body, t)) {
            continue;
        }
        if let Some((_, why)) = normalise::CLASSES_LEFT_OUT
            .iter()
            .find(|(c, _)| *c == s.class)
        {
            out.push(NotRun {
                step: s.id.clone(),
                why: format!("class {}: {why}", s.class),
            });
        } else if let Some((_, why)) = normalise::AFTER_A_REPEATED_STEP
            .iter()
            .find(|(id, _)| *id == s.id)
        {
            out.push(NotRun {
                step: s.id.clone(),
                why: why.to_string(),
            });
        } else if let Some((_, why)) = normalise::NEEDS_CONSUMERS
            .iter()
            .find(|(id, _)| *id == s.id)
        {
            out.push(NotRun {
                step: s.id.clone(),
                why: format!("needs the consumers ({why}): the lab drills compare it"),
            });
        } else {
            steps.push(s.clone());
        }
    }
    (steps, out)
}

/// Whether `body` calls `tool` as a command word (not inside another word).
fn calls(body: &str, tool: &str) -> bool {
    body.match_indices(tool).any(|(i, _)| {
        let before = body[..i].chars().next_back();
        let after = body[i + tool.len()..].chars().next();
        before.is_none_or(|c| c.is_whitespace() || c == '(' || c == '|' || c == ';')
            && after.is_none_or(|c| c.is_whitespace() || c == ')' || c == ';')
    })
}

/// Runs the suite: every step of the set from every starting state the scenarios give it (its
/// first run in each scenario whose preceding step ran for the first time just before it).
pub fn run(cfg: &Config) -> Result<Report, SuiteError> {
    let hub = cdb_docs::Hub::load(
        &cfg.root,
        cdb_docs::Layout::default(),
        cdb_docs::hub::LoadOptions {
            text_files: false,
            parse_markdown: true,
        },
    )
    .map_err(|e| SuiteError::Drill(format!("{}: cannot load the hub: {e}", cfg.root.display())))?;
    // No lab run may set its step runner while this suite's sandboxes run (lab.rs).
    let _one = crate::lab::LAB_RUN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (steps, mut not_run) = suite_steps(&hub);
    let steps: Vec<_> = steps
        .into_iter()
        .filter(|s| cfg.only.is_empty() || cfg.only.contains(&s.id))
        .collect();
    let dcfg = cdb_drill::Config {
        root: cfg.root.clone(),
        seed: cfg.seed,
        step_timeout: cfg.step_timeout,
        mock_exe: cfg.tool.clone(),
    };
    let mut covered: BTreeSet<String> = BTreeSet::new();
    let mut jobs: Vec<Job> = Vec::new();
    for id in SCENARIOS
        .iter()
        .filter(|id| cfg.scenarios.is_empty() || cfg.scenarios.iter().any(|s| s == *id))
    {
        let sc = crate::scenarios::load(&cfg.root, &hub, id).map_err(drill_err)?;
        let wanted: Vec<&cdb_docs::Step> =
            steps.iter().filter(|s| s.class == sc.class.value).collect();
        if wanted.is_empty() {
            continue;
        }
        let all: Vec<String> = hub.steps().map(|s| s.id.clone()).collect();
        let (journal, rec) =
            cdb_drill::engine::run_recording(&dcfg, &hub, &sc, &all).map_err(drill_err)?;
        let order: Vec<String> = journal
            .events
            .iter()
            .filter_map(|e| match e {
                cdb_drill::journal::Event::Step(s) => Some(s.id.clone()),
                _ => None,
            })
            .collect();
        let mut done_here = BTreeSet::new();
        for (k, sid) in order.iter().enumerate() {
            let Some(step) = wanted.iter().find(|s| s.id == *sid) else {
                continue;
            };
            if done_here.contains(sid) {
                continue;
            }
            let start = if k == 0 {
                // The drill's first step starts from the drill's starting state.
                if sc.faults.iter().any(|f| f.after.value == "start") {
                    continue;
                }
                (
                    start_state(&dcfg, &sc).map_err(drill_err)?,
                    0,
                    "start".to_owned(),
                )
            } else {
                let prev = &order[k - 1];
                // The snapshot is taken at a step's first run only: use it when that is this one.
                if order[..k - 1].contains(prev) {
                    continue;
                }
                let Some(snap) = rec.snapshots.iter().find(|s| s.after() == prev) else {
                    continue;
                };
                (snap.files().clone(), snap.clock(), snap.after().to_owned())
            };
            done_here.insert(sid.clone());
            covered.insert(sid.clone());
            jobs.push(Job {
                scenario: id,
                step: (*step).clone(),
                files: start.0,
                clock: start.1,
                after: start.2,
            });
        }
    }
    let (versions, results) = run_jobs(cfg, &jobs)?;
    let mut report = Report {
        pg_version: versions.0,
        redis_version: versions.1,
        ..Report::default()
    };
    // Cases whose starting state the lab cannot reproduce (certs.rs `Unsupported`), by name.
    let mut skipped: Vec<NotRun> = Vec::new();
    for r in results {
        match r {
            Ok(case) => report.cases.push(case),
            Err(n) => skipped.push(n),
        }
    }
    for s in &steps {
        if !covered.contains(&s.id) {
            not_run.push(NotRun {
                step: s.id.clone(),
                why: format!(
                    "no scenario of {:?} runs it after a step's first run",
                    SCENARIOS
                ),
            });
        }
    }
    not_run.extend(skipped);
    report.not_run = not_run;
    Ok(report)
}

/// One case to run: a step from a starting state.
struct Job {
    scenario: &'static str,
    step: cdb_docs::Step,
    files: cdb_drill::sandbox::SandboxSnapshot,
    clock: u64,
    after: String,
}

/// How many labs (each its own PostgreSQL and Redis) run cases at once: the cases wait on the
/// servers and the clock far more than they compute (about 60 CPU-s in 150 s for the whole
/// suite on one lab), so two halve the wall time on two cores. `CDB_LAB_WORKERS` overrides.
fn workers() -> usize {
    std::env::var("CDB_LAB_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
        .max(1)
}

type CaseOutcome = Result<CaseResult, NotRun>;

/// What one worker ran: the server versions (first worker only) and its cases by job index.
type WorkerRan = Result<(Option<(String, String)>, Vec<(usize, CaseOutcome)>), SuiteError>;

/// Runs `jobs` on `workers()` labs; the results in the jobs' order, and the first lab's
/// server versions.
fn run_jobs(
    cfg: &Config,
    jobs: &[Job],
) -> Result<((String, String), Vec<CaseOutcome>), SuiteError> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let n = workers().min(jobs.len().max(1));
    let ran: Vec<WorkerRan> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|w| {
                let next = &next;
                scope.spawn(move || {
                    let mut lab = Lab::start(&cfg.tool)?;
                    let versions =
                        (w == 0).then(|| (lab.pg.version(), lab.redis.version().to_owned()));
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(j) = jobs.get(i) else { break };
                        let r = run_case(
                            cfg,
                            &mut lab,
                            j.scenario,
                            &j.step,
                            (&j.files, j.clock, &j.after),
                        )?;
                        out.push((i, r));
                    }
                    Ok((versions, out))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(SuiteError::Drill("a suite worker panicked".into())))
            })
            .collect()
    });
    let mut versions = (String::new(), String::new());
    let mut all: Vec<(usize, CaseOutcome)> = Vec::new();
    for r in ran {
        let (v, out) = r?;
        if let Some(v) = v {
            versions = v;
        }
        all.extend(out);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok((versions, all.into_iter().map(|(_, r)| r).collect()))
}

/// Why a reset could not reach Redis at all.
const NO_REDIS_ADMIN: &str =
    "cannot log in to the lab's Redis with its own password or any the case set";

fn run_case(
    cfg: &Config,
    lab: &mut Lab,
    scenario: &str,
    step: &cdb_docs::Step,
    (files, clock, after): (&cdb_drill::sandbox::SandboxSnapshot, u64, &str),
) -> Result<Result<CaseResult, NotRun>, SuiteError> {
    let io = |e: std::io::Error| SuiteError::Drill(format!("{}: {e}", step.id));
    // The mock side, as the engine runs a step.
    let mut mock_sb = Sandbox::new(&cfg.tool).map_err(io)?;
    mock_sb.restore(files).map_err(io)?;
    let prepare = |w: &mut World| {
        w.probes = None;
        w.current_step = Some(step.id.clone());
        w.clock = clock;
    };
    cdb_drill::world::with_world(&mock_sb.world_file(), prepare).map_err(io)?;
    let pre = World::load(&mock_sb.world_file()).map_err(io)?;
    let r = mock_sb
        .run(&step.id, &step.body, cfg.step_timeout)
        .map_err(io)?;
    if cfg.variant == Variant::SessionsEndAtPasswordChange {
        cdb_drill::world::with_world(&mock_sb.world_file(), |w| {
            let before = pre.postgres.roles.get(PG_ROLE);
            let now = w.postgres.roles.get(PG_ROLE).cloned();
            if before != now.as_ref()
                && let Some(pw) = now
            {
                // The deliberate error: sessions on another password end with the change.
                w.postgres
                    .sessions
                    .retain(|s| s.backend_type != "client backend" || s.password == pw);
            }
        })
        .map_err(io)?;
    }
    let post = World::load(&mock_sb.world_file()).map_err(io)?;
    let mock_root = mock_sb.root.display().to_string();
    let mock_out = normalise::lines(
        &normalise::redact(&r.stdout, &post, &mock_sb.secrets),
        &mock_root,
    );
    let mock = Side {
        code: r.code,
        verdict: normalise::verdict(&mock_out),
        stdout: mock_out,
        stderr: mock_sb.sanitize(&normalise::redact(&r.stderr, &post, &mock_sb.secrets)),
    };

    // The real side: the same files, the world's server state loaded into the real servers.
    let mut real_sb = Sandbox::new(&cfg.tool).map_err(io)?;
    real_sb.restore(files).map_err(io)?;
    cdb_drill::world::with_world(&real_sb.world_file(), prepare).map_err(io)?;
    lab.wire(&real_sb).map_err(io)?;
    // The world's TLS files as real keys and certificates (certs.rs).
    let made = lab.materialise(&pre, &real_sb);
    if let Err(crate::certs::CertError::Unsupported(why)) = &made {
        return Ok(Err(NotRun {
            step: step.id.clone(),
            why: format!("from {scenario} after {after}: {why}"),
        }));
    }
    let loaded = made
        .map_err(|e| e.to_string())
        .and_then(|()| lab.load(&pre, &real_sb.secrets));
    let (real, real_state) = match loaded {
        Err(e) => (
            Side {
                code: None,
                stdout: Vec::new(),
                stderr: format!(
                    "the real servers could not be put in the step's starting state: {e}"
                ),
                verdict: None,
            },
            None,
        ),
        Ok(()) => {
            let r = lab.run_step(&real_sb, step, cfg.step_timeout).map_err(io)?;
            let real_root = real_sb.root.display().to_string();
            let out = normalise::lines(
                &normalise::redact(&r.stdout, &post, &real_sb.secrets),
                &real_root,
            );
            let side = Side {
                code: r.code,
                verdict: normalise::verdict(&out),
                stdout: out,
                stderr: real_sb.sanitize(&normalise::redact(&r.stderr, &post, &real_sb.secrets)),
            };
            let candidates = candidates(&pre, &post, &mock_sb.secrets, &real_sb.secrets);
            (side, Some(lab.observe(&candidates)))
        }
    };
    let mut differences = compare_outputs(&mock, &real);
    match real_state {
        Some(state) => differences.extend(compare_state(step, &pre, &post, &state, lab)),
        None => differences.push(Difference {
            behaviour: "starting state".into(),
            detail: real.stderr.clone(),
        }),
    }
    lab.reset().map_err(|e| {
        SuiteError::Drill(format!(
            "{}: the lab could not be reset after the case: {e}",
            step.id
        ))
    })?;
    Ok(Ok(CaseResult {
        scenario: scenario.to_owned(),
        step: step.id.clone(),
        after: after.to_owned(),
        mock,
        real,
        differences,
    }))
}

/// A drill's starting state, as the drill engine builds it before its first step
/// (`engine::run_with`): the world from the seed with the scenario's overlays, the leaked
/// values, and the leaker's Redis connection, PostgreSQL session and Grafana session. Faults
/// injected at `start` are not in it (their scenarios' first steps are left out).
fn start_state(
    cfg: &cdb_drill::Config,
    sc: &cdb_model::scenario::Scenario,
) -> Result<cdb_drill::sandbox::SandboxSnapshot, String> {
    let e = |e: std::io::Error| format!("the starting state of {}: {e}", sc.id);
    let sandbox = Sandbox::new(&cfg.mock_exe).map_err(e)?;
    let mut world = World::new_with(
        cfg.seed,
        &sandbox.root,
        &sandbox.secrets,
        &sc.start_overlays(),
    )
    .map_err(e)?;
    for name in &sc.leaked {
        let value = match name.value.strip_prefix("ci:") {
            Some(ci) => world.github.secrets.get(ci).cloned(),
            None => world.read_secret_file(&name.value),
        };
        if let Some(v) = value {
            world.leaked.insert(v);
        }
    }
    cdb_drill::redis_conns::leaker_connects(&mut world);
    world.open_leaker_sessions();
    world.open_leaker_grafana_session();
    world.save(&sandbox.world_file()).map_err(e)?;
    sandbox.snapshot().map_err(e)
}

fn compare_outputs(mock: &Side, real: &Side) -> Vec<Difference> {
    let mut d = Vec::new();
    if mock.code != real.code {
        d.push(Difference {
            behaviour: "exit code".into(),
            detail: format!("mock exit {:?}, real exit {:?}", mock.code, real.code),
        });
    }
    if mock.verdict != real.verdict {
        d.push(Difference {
            behaviour: "verdict line".into(),
            detail: format!("mock {:?}, real {:?}", mock.verdict, real.verdict),
        });
    } else if mock.stdout != real.stdout {
        let only_mock: Vec<&String> = mock
            .stdout
            .iter()
            .filter(|l| !real.stdout.contains(l))
            .collect();
        let only_real: Vec<&String> = real
            .stdout
            .iter()
            .filter(|l| !mock.stdout.contains(l))
            .collect();
        d.push(Difference {
            behaviour: "output lines".into(),
            detail: format!(
                "only in the mock: {only_mock:?}; only on the real servers: {only_real:?}"
            ),
        });
    }
    d
}

const PG_ROLE: &str = "claire_user";

/// A value a step might log in with, by a name (never the value): the file that holds it, or
/// the name the world gives it. A value a step makes (`openssl rand`) differs between the two
/// sides, so a file's value is read on each side (normalise.rs, "values a step makes").
#[derive(Debug, Clone)]
struct Candidate {
    label: String,
    mock: Option<String>,
    real: Option<String>,
}

/// The values worth trying after a step: what the password files hold now on each side, the
/// role's and the default user's passwords before and after, and every live session's and
/// connection's.
fn candidates(
    pre: &World,
    post: &World,
    mock_secrets: &Path,
    real_secrets: &Path,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    // A file that is not there (most suffixes are absent most of the time) is no candidate.
    let read = |d: &Path, n: &str| {
        std::fs::read_to_string(d.join(n))
            .ok()
            .filter(|v| !v.is_empty())
    };
    let mut in_files: BTreeSet<String> = BTreeSet::new();
    for prefix in ["POSTGRES_PASSWORD", "REDIS_PASSWORD"] {
        for suffix in ["", ".next", ".prev", ".failed"] {
            let name = format!("{prefix}{suffix}");
            let (m, r) = (read(mock_secrets, &name), read(real_secrets, &name));
            if m.is_none() && r.is_none() {
                continue;
            }
            in_files.extend(m.iter().cloned());
            out.push(Candidate {
                label: format!("file {name}"),
                mock: m,
                real: r,
            });
        }
    }
    let mut vals: BTreeSet<String> = BTreeSet::new();
    for w in [pre, post] {
        vals.extend(w.postgres.roles.values().cloned());
        vals.extend(w.postgres.sessions.iter().map(|s| s.password.clone()));
        vals.extend(w.redis.passwords.iter().cloned());
        vals.extend(w.redis.conns.list.iter().map(|c| c.password.clone()));
    }
    for v in vals {
        if v.is_empty() || in_files.contains(&v) {
            continue;
        }
        let label = post
            .values
            .get(&v)
            .or_else(|| pre.values.get(&v))
            .cloned()
            .unwrap_or_else(|| "a value the world does not name".into());
        out.push(Candidate {
            label: format!("value {label}"),
            mock: Some(v.clone()),
            real: Some(v),
        });
    }
    out
}

/// What the real servers hold after a step.
#[derive(Debug, Default)]
struct RealState {
    /// World session pids whose real session is still open.
    pg_alive: BTreeSet<u32>,
    /// Candidate labels (with index) that log in as `claire_user` from another container.
    pg_accepts: BTreeSet<usize>,
    /// World connection ids whose real connection is still open.
    redis_alive: BTreeSet<u64>,
    redis_accepts: BTreeSet<usize>,
    redis_users: Option<BTreeSet<String>>,
    candidates: Vec<Candidate>,
}

fn compare_state(
    step: &cdb_docs::Step,
    pre: &World,
    post: &World,
    real: &RealState,
    lab: &Lab,
) -> Vec<Difference> {
    let mut d = Vec::new();
    let body = &step.body;
    if calls(body, "psql") && pre.running("cdb_postgres") {
        let before: BTreeSet<u32> = lab.pg_sessions.keys().copied().collect();
        let mock_alive: BTreeSet<u32> = post
            .postgres
            .sessions
            .iter()
            .map(|s| s.pid)
            .filter(|p| before.contains(p))
            .collect();
        if mock_alive != real.pg_alive {
            let behaviour = if body.contains("pg_terminate_backend") {
                "pg_terminate_backend ends exactly the rows its WHERE selects"
            } else if body.contains("ALTER ROLE") {
                "a session opened before a password change survives it"
            } else {
                "PostgreSQL sessions"
            };
            d.push(Difference {
                behaviour: behaviour.into(),
                detail: format!(
                    "sessions open after the step: mock {}, real {}",
                    holders_pg(pre, &mock_alive),
                    holders_pg(pre, &real.pg_alive)
                ),
            });
        }
        let mock_acc: BTreeSet<usize> = real
            .candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.mock.as_deref().is_some_and(|v| post.pg_accepts(v)))
            .map(|(i, _)| i)
            .collect();
        if mock_acc != real.pg_accepts {
            d.push(Difference {
                behaviour: "a new login from another container needs the role's current password"
                    .into(),
                detail: format!(
                    "accepted: mock {}, real {}",
                    labels(&real.candidates, &mock_acc),
                    labels(&real.candidates, &real.pg_accepts)
                ),
            });
        }
    }
    if calls(body, "redis-cli") && pre.running("cdb_redis") {
        let before: BTreeSet<u64> = lab.redis_conns.keys().copied().collect();
        let mock_alive: BTreeSet<u64> = post
            .redis
            .conns
            .list
            .iter()
            .filter(|c| !c.refused)
            .map(|c| c.id)
            .filter(|i| before.contains(i))
            .collect();
        if mock_alive != real.redis_alive {
            let behaviour = if body.contains("CLIENT KILL") {
                "CLIENT KILL ends exactly the connections its filters select"
            } else if body.contains("ACL DELUSER") {
                "ACL DELUSER ends its user's connections"
            } else if body.contains("ACL SETUSER") || body.contains("CONFIG SET") {
                "a connection authenticated before a password change survives it"
            } else {
                "Redis connections"
            };
            d.push(Difference {
                behaviour: behaviour.into(),
                detail: format!(
                    "connections open after the step: mock {}, real {}",
                    holders_redis(pre, &mock_alive),
                    holders_redis(pre, &real.redis_alive)
                ),
            });
        }
        let mock_acc: BTreeSet<usize> = real
            .candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.mock
                    .as_deref()
                    .is_some_and(|v| cdb_drill::redis_conns::accepts(post, "default", v))
            })
            .map(|(i, _)| i)
            .collect();
        if mock_acc != real.redis_accepts {
            d.push(Difference {
                behaviour: "the default user's passwords (ACL SETUSER >, <, resetpass)".into(),
                detail: format!(
                    "accepted: mock {}, real {}",
                    labels(&real.candidates, &mock_acc),
                    labels(&real.candidates, &real.redis_accepts)
                ),
            });
        }
        let mock_users: BTreeSet<String> = post.redis.conns.users.keys().cloned().collect();
        if let Some(users) = &real.redis_users
            && *users != mock_users
        {
            d.push(Difference {
                behaviour: "ACL users".into(),
                detail: format!("mock {mock_users:?}, real {users:?}"),
            });
        }
    }
    d
}

fn holders_pg(w: &World, pids: &BTreeSet<u32>) -> String {
    let v: Vec<String> = w
        .postgres
        .sessions
        .iter()
        .filter(|s| pids.contains(&s.pid))
        .map(|s| format!("{} (pid {})", s.application, s.pid))
        .collect();
    format!("[{}]", v.join(", "))
}

fn holders_redis(w: &World, ids: &BTreeSet<u64>) -> String {
    let v: Vec<String> = w
        .redis
        .conns
        .list
        .iter()
        .filter(|c| ids.contains(&c.id))
        .map(|c| format!("{} (id {})", c.owner, c.id))
        .collect();
    format!("[{}]", v.join(", "))
}

fn labels(c: &[Candidate], idx: &BTreeSet<usize>) -> String {
    let v: Vec<&str> = idx.iter().map(|&i| c[i].label.as_str()).collect();
    format!("[{}]", v.join(", "))
}

/// The real servers and what the harness holds open on them.
struct Lab {
    pg: PgServer,
    redis: RedisServer,
    redis_tls_port: u16,
    /// Whether `tls` turned TLS on for the case (reset turns it off).
    tls_on: bool,
    tool: PathBuf,
    conf: PathBuf,
    /// World session pid → the real session standing for it.
    pg_sessions: BTreeMap<u32, PgSession>,
    /// World connection id → (the real connection, its `CLIENT ID`).
    redis_conns: BTreeMap<u64, (RedisConn, i64)>,
    /// The values the last step's Redis may accept now (reset logs in with one of them).
    known: Vec<Candidate>,
}

impl Lab {
    fn start(tool: &Path) -> Result<Lab, SuiteError> {
        let pg = PgServer::start().map_err(SuiteError::Lab)?;
        let redis = RedisServer::start().map_err(SuiteError::Lab)?;
        // In the Redis instance's dir: its supervisor removes it, also when this process is
        // killed (instance.rs), so the suite leaves nothing behind.
        let conf = redis.dir().join("adapter.conf");
        let redis_cli = crate::instance::find_program("redis-cli", &["/usr/bin", "/usr/local/bin"])
            .map_err(SuiteError::Lab)?;
        // The port Redis listens on with TLS while a case's world has the overlay (`tls`).
        let redis_tls_port = crate::instance::pick_port("Redis", None).map_err(SuiteError::Lab)?;
        crate::adapter::AdapterConf {
            pg_bin: pg.bin_dir().to_path_buf(),
            pg_socket: pg.dir().to_path_buf(),
            pg_port: pg.port(),
            pg_remote_port: pg.remote_port(),
            pg_log: pg.log_path(),
            redis_cli,
            redis_port: redis.port(),
            redis_tls_port,
            redis_dir: redis.dir().to_path_buf(),
            mock_exe: tool.to_path_buf(),
            control: None,
        }
        .write(&conf)
        .map_err(drill_err)?;
        Ok(Lab {
            pg,
            redis,
            redis_tls_port,
            tls_on: false,
            tool: tool.to_path_buf(),
            conf,
            pg_sessions: BTreeMap::new(),
            redis_conns: BTreeMap::new(),
            known: Vec::new(),
        })
    }

    /// Replaces the sandbox's mock server tools by the real ones and `docker` by the adapter.
    fn wire(&self, sb: &Sandbox) -> std::io::Result<()> {
        let openssl = crate::instance::find_program("openssl", &["/usr/bin", "/usr/local/bin"])
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string()))?;
        let redis_cli = crate::instance::find_program("redis-cli", &["/usr/bin", "/usr/local/bin"])
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string()))?;
        for (name, target) in [
            ("docker", self.tool.clone()),
            ("psql", self.pg.bin_dir().join("psql")),
            ("redis-cli", redis_cli),
            ("openssl", openssl),
        ] {
            let link = sb.bin.join(name);
            // Usually there is none; any other failure to remove it shows in `symlink` below.
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(target, link)?;
        }
        Ok(())
    }

    /// Replaces the world's PEM files in `sb` (its secrets dir and TLS folder) by real keys and
    /// certificates with the registry's attributes (certs.rs).
    fn materialise(&mut self, w: &World, sb: &Sandbox) -> Result<(), crate::certs::CertError> {
        if w.tls.certs.is_empty() && w.tls.keys.is_empty() {
            return Ok(());
        }
        let openssl = crate::instance::find_program("openssl", &["/usr/bin", "/usr/local/bin"])
            .map_err(|e| crate::certs::CertError::Openssl(e.to_string()))?;
        let mut m = crate::certs::Materialiser::new(w, &openssl, &sb.root.join("lab-certs"))?;
        m.rewrite_dir(&sb.secrets)?;
        m.rewrite_dir(&sb.root.join(cdb_drill::tls::DIR))?;
        // The servers under the overlay load what their container read at its creation
        // (tls.rs `reads`): the same registry ids, so the same real keys as the files.
        let err = |e: String| crate::certs::CertError::Openssl(e);
        let mut loaded = |server: &str| -> Result<Option<[String; 3]>, crate::certs::CertError> {
            if !(w.running(server) && w.tls_on(server)) {
                return Ok(None);
            }
            let (crt, key) = cdb_drill::tls::server_files(server);
            let read = |n: &str| {
                w.containers
                    .get(server)
                    .and_then(|c| c.read.get(n).cloned())
                    .unwrap_or_default()
            };
            let mut out: [String; 3] = Default::default();
            for (i, n) in [crt, key, "ca.crt"].into_iter().enumerate() {
                out[i] = m.rewrite(&read(n))?.ok_or_else(|| {
                    crate::certs::CertError::Unsupported(format!("{server} loaded no {n}"))
                })?;
            }
            Ok(Some(out))
        };
        let pg_files = loaded("cdb_postgres")?;
        let redis_files = loaded("cdb_redis")?;
        if let Some([crt, key, ca]) = pg_files {
            self.pg.enable_ssl(&crt, &key, &ca).map_err(err)?;
            self.tls_on = true;
        }
        if let Some([crt, key, ca]) = redis_files {
            self.redis_tls(&crt, &key, &ca).map_err(err)?;
            self.tls_on = true;
        }
        Ok(())
    }

    /// Redis with a TLS port, as tls.yml runs it (`--tls-port`, the server's certificate and
    /// key, the CA, `--tls-auth-clients optional`); its plain port stays for the harness, and
    /// the adapter sends every `redis-cli` of the case to the TLS port (adapter.rs).
    fn redis_tls(&self, crt: &str, key: &str, ca: &str) -> Result<(), String> {
        let dir = self.redis.dir().join("tls");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut paths = Vec::new();
        for (n, text) in [("redis.crt", crt), ("redis.key", key), ("ca.crt", ca)] {
            let p = dir.join(n);
            std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
            paths.push(p.to_string_lossy().into_owned());
        }
        let mut admin = self
            .redis_admin(&[])
            .ok_or("cannot log in to the lab's Redis with its own password")?;
        let port = self.redis_tls_port.to_string();
        redis_ok(
            &mut admin,
            &[
                "CONFIG",
                "SET",
                "tls-cert-file",
                &paths[0],
                "tls-key-file",
                &paths[1],
                "tls-ca-cert-file",
                &paths[2],
                "tls-auth-clients",
                "optional",
                "tls-port",
                &port,
            ],
        )
    }

    /// Runs a step as the operator's shell would, outside the jail (it has no network), with
    /// the sandbox's environment and the adapter.
    fn run_step(
        &self,
        sb: &Sandbox,
        step: &cdb_docs::Step,
        limit: Duration,
    ) -> std::io::Result<crate::instance::Ran> {
        let script = sb.root.join("steps").join(format!("lab-{}.sh", step.id));
        std::fs::write(&script, &step.body)?;
        let mut cmd = sb.step_command(Path::new("/bin/bash"), &script);
        cmd.env(crate::adapter::ADAPTER_VAR, &self.conf);
        crate::instance::run_bounded(cmd, "", limit)
    }

    /// Ends everything the harness opened and brings the servers back to the lab's own
    /// password, no other ACL user and an empty ACL log. A reset that did not happen is an
    /// error: the next case would start from this case's leftovers and compare wrongly.
    fn reset(&mut self) -> Result<(), String> {
        // Every step is tried, so one failure does not leave more state behind; the first
        // failure is the error.
        let mut first: Option<String> = None;
        let mut note = |what: &str, r: Result<(), String>| {
            if let Err(e) = r
                && first.is_none()
            {
                first = Some(format!("{what}: {e}"));
            }
        };
        if std::mem::take(&mut self.tls_on) {
            note("PostgreSQL's TLS off", self.pg.disable_ssl());
            match self.redis_admin(&self.known) {
                Some(mut admin) => note(
                    "Redis's TLS port off",
                    redis_ok(&mut admin, &["CONFIG", "SET", "tls-port", "0"]),
                ),
                None => note("Redis's TLS port off", Err(NO_REDIS_ADMIN.into())),
            }
        }
        self.pg_sessions.clear();
        let ended = self.pg.psql(
            Host::Socket,
            None,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE backend_type = 'client backend' AND pid <> pg_backend_pid();",
        );
        note(
            "ending PostgreSQL's client sessions",
            if ended.success() {
                Ok(())
            } else {
                Err(format!(
                    "psql exited {:?}: {}",
                    ended.code,
                    ended.stderr.trim()
                ))
            },
        );
        self.redis_conns.clear();
        let known = std::mem::take(&mut self.known);
        let Some(mut admin) = self.redis_admin(&known) else {
            note("Redis's password and ACL users", Err(NO_REDIS_ADMIN.into()));
            return first.map_or(Ok(()), Err);
        };
        let own = self.redis.password().to_owned();
        // `redis_ok`'s errors name the command, never its values.
        note(
            "Redis",
            redis_ok(&mut admin, &["CONFIG", "SET", "requirepass", &own]),
        );
        note(
            "Redis",
            redis_ok(
                &mut admin,
                &[
                    "ACL",
                    "SETUSER",
                    "default",
                    "on",
                    "resetpass",
                    &format!(">{own}"),
                ],
            ),
        );
        match admin.cmd(&["ACL", "USERS"]) {
            Ok(Reply::Array(Some(users))) => {
                for u in users.iter().map(Reply::text).filter(|u| u != "default") {
                    note("Redis", redis_ok(&mut admin, &["ACL", "DELUSER", &u]));
                }
            }
            Ok(_) => note("Redis ACL USERS", Err("not a list of users".into())),
            Err(e) => note("Redis ACL USERS", Err(e.to_string())),
        }
        note(
            "Redis",
            redis_ok(
                &mut admin,
                &["CLIENT", "KILL", "USER", "default", "SKIPME", "yes"],
            ),
        );
        note("Redis", redis_ok(&mut admin, &["ACL", "LOG", "RESET"]));
        first.map_or(Ok(()), Err)
    }

    /// A connection authenticated with the lab's own password or one of `extra`.
    fn redis_admin(&self, extra: &[Candidate]) -> Option<RedisConn> {
        let own = self.redis.password().to_owned();
        std::iter::once(own)
            .chain(extra.iter().filter_map(|c| c.real.clone()))
            .find_map(|pw| {
                let mut c = self.redis.connect().ok()?;
                c.auth(&pw).ok()?.then_some(c)
            })
    }

    /// Loads the world's server state into the real servers (after `reset`).
    fn load(&mut self, w: &World, secrets: &Path) -> Result<(), String> {
        if w.running("cdb_postgres") {
            self.load_pg(w, secrets)?;
        }
        if w.running("cdb_redis") {
            self.load_redis(w)?;
        }
        Ok(())
    }

    fn alter_role(&self, pw: &str) -> Result<(), String> {
        self.pg.set_role_password(pw)
    }

    fn server_epoch(&self) -> Result<f64, String> {
        let out = self.pg.psql(
            Host::Socket,
            None,
            "SELECT extract(epoch FROM clock_timestamp());",
        );
        out.stdout
            .trim()
            .parse()
            .map_err(|_| format!("cannot read the server's clock: {}", out.stderr.trim()))
    }

    fn load_pg(&mut self, w: &World, secrets: &Path) -> Result<(), String> {
        let mut sessions: Vec<&cdb_drill::world::Session> = w
            .postgres
            .sessions
            .iter()
            .filter(|s| s.backend_type == "client backend")
            .collect();
        sessions.sort_by_key(|s| (s.backend_start, s.pid));
        // normalise::SERVER_TIME_FILES: a recorded cut-off moves to the real clock.
        let cut_file = secrets.join(normalise::SERVER_TIME_FILES[0]);
        // No file: the world recorded no cut-off.
        let cut: Option<u64> = std::fs::read_to_string(&cut_file)
            .ok()
            .and_then(|t| t.trim().parse().ok());
        let (older, newer): (Vec<_>, Vec<_>) = sessions
            .into_iter()
            .partition(|s| cut.is_none_or(|c| cdb_drill::pg::server_epoch(s.backend_start) < c));
        for s in older {
            self.open_pg(s)?;
        }
        if cut.is_some() {
            // The cut-off is the next whole second after the older sessions started.
            let real_cut = self.server_epoch()?.floor() as u64 + 1;
            let deadline = Instant::now() + Duration::from_secs(3);
            while self.server_epoch()? < real_cut as f64 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            std::fs::write(&cut_file, real_cut.to_string())
                .map_err(|e| format!("{}: {e}", cut_file.display()))?;
        }
        for s in newer {
            self.open_pg(s)?;
        }
        match w.postgres.roles.get(PG_ROLE) {
            Some(pw) => self.alter_role(pw),
            None => Ok(()),
        }
    }

    fn open_pg(&mut self, s: &cdb_drill::world::Session) -> Result<(), String> {
        self.alter_role(&s.password)?;
        let session = self
            .pg
            .session(Host::Remote, Some(&s.password))
            .map_err(|e| format!("session of {}: {e}", s.application))?;
        self.pg_sessions.insert(s.pid, session);
        Ok(())
    }

    fn load_redis(&mut self, w: &World) -> Result<(), String> {
        let mut admin = self
            .redis_admin(&[])
            .ok_or("cannot log in to the lab's Redis with its own password")?;
        let ok = redis_ok;
        // A refused login's listing is the retry of a client that closes it (redis_conns.rs):
        // nothing to hold open on the real server.
        let mut conns: Vec<&cdb_drill::redis_conns::Conn> =
            w.redis.conns.list.iter().filter(|c| !c.refused).collect();
        conns.sort_by_key(|c| (c.created, c.id));
        for c in conns {
            // Let the connection's password in for its login; the final state is set below.
            if c.user == "default" {
                ok(
                    &mut admin,
                    &["ACL", "SETUSER", "default", &format!(">{}", c.password)],
                )?;
            } else {
                ok(
                    &mut admin,
                    &[
                        "ACL",
                        "SETUSER",
                        &c.user,
                        "on",
                        &format!(">{}", c.password),
                        "~*",
                        "&*",
                        "+@all",
                    ],
                )?;
            }
            let mut conn = self.redis.connect().map_err(|e| e.to_string())?;
            match conn.cmd(&["AUTH", &c.user, &c.password]) {
                Ok(r) if !r.is_error() => {}
                other => {
                    return Err(format!(
                        "connection of {} did not log in: {other:?}",
                        c.owner
                    ));
                }
            }
            let id = match conn.cmd(&["CLIENT", "ID"]) {
                Ok(Reply::Int(n)) => n,
                other => return Err(format!("CLIENT ID: {other:?}")),
            };
            self.redis_conns.insert(c.id, (conn, id));
        }
        // The final state: requirepass, the default user's passwords, the other users.
        load_redis_auth(&mut admin, w)?;
        if let Ok(Reply::Array(Some(users))) = admin.cmd(&["ACL", "USERS"]) {
            for u in users.iter().map(Reply::text).filter(|u| u != "default") {
                if !w.redis.conns.users.contains_key(&u) {
                    ok(&mut admin, &["ACL", "DELUSER", &u])?;
                }
            }
        }
        for (name, u) in &w.redis.conns.users {
            let mut args: Vec<String> =
                vec!["ACL".into(), "SETUSER".into(), name.clone(), "reset".into()];
            args.push(if u.on { "on" } else { "off" }.into());
            args.extend(u.passwords.iter().map(|p| format!(">{p}")));
            args.extend(["~*".into(), "&*".into(), "+@all".into()]);
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            ok(&mut admin, &refs)?;
        }
        ok(&mut admin, &["ACL", "LOG", "RESET"])?;
        // The harness's own connection must not be there when the step lists or kills clients.
        drop(admin);
        Ok(())
    }

    /// What the servers hold now, for the candidates.
    fn observe(&mut self, candidates: &[Candidate]) -> RealState {
        self.known = candidates.to_vec();
        let mut st = RealState {
            candidates: candidates.to_vec(),
            ..RealState::default()
        };
        let out = self.pg.psql(
            Host::Socket,
            None,
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend';",
        );
        let live: BTreeSet<u32> = out
            .stdout
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect();
        st.pg_alive = self
            .pg_sessions
            .iter()
            .filter(|(_, s)| live.contains(&s.backend_pid()))
            .map(|(p, _)| *p)
            .collect();
        for (i, c) in candidates.iter().enumerate() {
            let Some(v) = c.real.as_deref() else {
                continue;
            };
            if self.pg.psql(Host::Remote, Some(v), "SELECT 1;").success() {
                st.pg_accepts.insert(i);
            }
            if let Ok(mut conn) = self.redis.connect()
                && conn.auth(v).unwrap_or(false)
            {
                st.redis_accepts.insert(i);
            }
        }
        if let Some(mut admin) = self.redis_admin(candidates) {
            if let Ok(r) = admin.cmd(&["CLIENT", "LIST"]) {
                let ids: BTreeSet<i64> = r
                    .text()
                    .lines()
                    .filter_map(|l| l.strip_prefix("id=")?.split(' ').next()?.parse().ok())
                    .collect();
                st.redis_alive = self
                    .redis_conns
                    .iter()
                    .filter(|(_, (_, id))| ids.contains(id))
                    .map(|(w, _)| *w)
                    .collect();
            }
            if let Ok(Reply::Array(Some(users))) = admin.cmd(&["ACL", "USERS"]) {
                st.redis_users = Some(
                    users
                        .iter()
                        .map(Reply::text)
                        .filter(|u| u != "default")
                        .collect(),
                );
            }
        }
        st
    }
}

/// A Redis command the lab needs to succeed; the error names the command (never its values).
pub(crate) fn redis_ok(c: &mut RedisConn, args: &[&str]) -> Result<(), String> {
    match c.cmd(args) {
        Ok(r) if !r.is_error() => Ok(()),
        Ok(r) => Err(format!("{}: {}", args[..2].join(" "), r.text())),
        Err(e) => Err(format!("{}: {e}", args[..2].join(" "))),
    }
}

/// Gives the real Redis the world's authentication: `requirepass` (the world's runtime value,
/// else the one it started with: what a restart loads) and the default user's passwords, as
/// both the conformance suite and the lab load them.
pub(crate) fn load_redis_auth(admin: &mut RedisConn, w: &World) -> Result<(), String> {
    let requirepass = w
        .redis
        .conns
        .requirepass
        .clone()
        .or_else(|| w.redis.startup.clone())
        .unwrap_or_default();
    redis_ok(admin, &["CONFIG", "SET", "requirepass", &requirepass])?;
    let mut args: Vec<String> = vec![
        "ACL".into(),
        "SETUSER".into(),
        "default".into(),
        "on".into(),
        "resetpass".into(),
    ];
    args.extend(w.redis.passwords.iter().map(|p| format!(">{p}")));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    redis_ok(admin, &refs)
}
