//! The drill engine: runs one scenario's phases against the world and judges the result.
//!
//! Order (docs/step-format.md): contain (leaks), pre-check, rotate, verify; when verify
//! passes, revoke; when a rotate, verify or revoke step fails, rollback (past failures),
//! verify again (and revoke again after a leak's roll-forward), and escalate if still not
//! recovered; then communicate and post-check. Faults are armed after their `after` step.
//!
//! This module holds the configuration, the errors and the entry points; [`run`](self::run())
//! runs one scenario through `run.rs` (the phases and steps), `judge.rs` turns the run into
//! the journal's verdict and invariants, and `replay.rs` keeps the snapshots the sweep starts
//! its cases from.

mod judge;
mod replay;
mod run;

pub(crate) use judge::{invariants, tolerated_degraded};
pub use replay::{
    Recording, Snapshot, drop_scratch_sandboxes, immediate_noop, run_from, run_from_armed,
    run_recording,
};

use crate::journal::Journal;
use crate::sandbox::Sandbox;
use crate::world::World;
use cdb_model::scenario::{self, Scenario, ScenarioError};
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

/// Why a drill could not run at all (exit 2). The messages are the command line's (`error: …`).
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    /// A scenario file's error, with its `drills/x.yaml:LINE:COL`.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The hub cannot be loaded or lacks what the drill needs.
    #[error("{0}")]
    Hub(String),
    /// The sandbox, the jail or the world file failed.
    #[error("sandbox: {0}")]
    Io(#[from] io::Error),
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
    let sc = scenario::load(&cfg.root, id)?.validate(&hub)?;
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
        // `validate` rejects a budget that does not parse; unvalidated, it is the same error
        // (a budget of 0 would fail every drill's recovery time instead).
        Some(b) => b
            .value
            .parse::<cdb_docs::Duration>()
            .map(|d| d.secs)
            .map_err(|_| {
                DrillError::Scenario(ScenarioError {
                    path: sc.rel_path(),
                    line: b.referenced.line() as usize,
                    column: b.referenced.column() as usize,
                    message: format!("`{}` is not a duration (30m, 1h)", b.value),
                })
            })?,
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
    run::run_with(cfg, hub, sc, None, None, None).map(|(j, _)| j)
}

/// The default root: the workspace that holds `drills/` (the current directory).
pub fn default_root() -> PathBuf {
    // `.` is the same directory for every later path operation when the name of the current
    // one cannot be read (removed, or its parent unreadable).
    std::env::current_dir().unwrap_or_else(|_| Path::new(".").to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::ShellError;
    use std::error::Error as _;

    /// The command line prints these as `error: {e}`: the derived messages are the ones the
    /// hand-written `Display` gave, and the I/O cause stays reachable as the source.
    #[test]
    fn error_messages_and_sources() {
        let sc = ScenarioError {
            path: "drills/x.yaml".into(),
            line: 3,
            column: 7,
            message: "unknown field".into(),
        };
        assert_eq!(
            DrillError::from(sc).to_string(),
            "drills/x.yaml:3:7: unknown field"
        );
        assert_eq!(DrillError::Hub("no hub".into()).to_string(), "no hub");
        let io = DrillError::from(io::Error::other("disk full"));
        assert_eq!(io.to_string(), "sandbox: disk full");
        assert_eq!(
            io.source().map(ToString::to_string),
            Some("disk full".into())
        );

        let p = PathBuf::from("/tmp/s.txt");
        let e = ShellError::Script(p.clone(), io::Error::other("gone"));
        assert_eq!(e.to_string(), "cannot read the script /tmp/s.txt: gone");
        assert!(e.source().is_some());
        let e = ShellError::Report(p, io::Error::other("read-only"));
        assert_eq!(
            e.to_string(),
            "cannot write the report /tmp/s.txt: read-only"
        );
        assert_eq!(
            ShellError::from(io::Error::other("x")).to_string(),
            "shell: x"
        );
        assert_eq!(
            ShellError::from(DrillError::Hub("h".into())).to_string(),
            "h"
        );
    }
}
