//! `cdb-lab-tool rotate <class> [--leak] --world baseline|SCENARIO …`: the guided rotation
//! (`cdb-rotate`) with its steps run against real PostgreSQL and Redis and stand-in consumers:
//! cdb-drill's mock-world rotation (`rotate_world::main`) with the lab's [`LabRunner`] as the
//! process's step runner, exactly as `drill --lab` runs the drill engine (lab.rs). The world
//! keeps modelling what is not a server (containers, mounts, Compose, health, the exchange);
//! what the steps see of PostgreSQL and Redis comes from the real ones.
//!
//! Without the servers: skipped (exit 0) naming the install command, unless `CI=true`, where a
//! missing server is exit 2.

use crate::lab::{LAB_RUN, LabRunner};
use std::path::Path;
use std::sync::Arc;

pub fn main(args: &[String], tool: &Path) -> u8 {
    // The step runner is the process's (sandbox::set_runner): one lab run at a time.
    let _one = LAB_RUN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let runner = match LabRunner::start(tool) {
        Ok(r) => Arc::new(r),
        Err(crate::conformance::SuiteError::Lab(e)) if e.is_missing() && !ci => {
            println!("skipped: rotate --lab: {e} (or run .ci/install-servers)");
            return 0;
        }
        Err(e) => {
            eprintln!("error: rotate --lab: {e}");
            return 2;
        }
    };
    cdb_drill::sandbox::set_runner(Some(runner.clone()));
    let label = "the lab (real PostgreSQL and Redis, stand-in consumers; steps outside the jail)";
    let code = cdb_drill::rotate_world::main_in(args, tool, Some(label.to_owned()));
    cdb_drill::sandbox::set_runner(None);
    runner.stop();
    code
}
