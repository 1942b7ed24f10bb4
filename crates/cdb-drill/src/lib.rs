//! Scripted tabletop drills of the secret-rotation runbook and the leak playbook.
//!
//! A drill runs the hub's executable steps themselves, unchanged, in a sandbox whose
//! `docker`, `psql`, `redis-cli`, `curl`, `grafana`, `openssl` and `gh` are mocks backed
//! by a deterministic model of the stack ([`world`]); it injects the scenario's faults
//! and checks that the runbook's own verify and rollback steps detect and recover them.
//! The contract between runbooks and mocks is `docs/drill-world.md`. What `cdb-verify` shares
//! with the drills (fault catalogue, scenario schema, the sweep's plan, the kit's stack) is in
//! the model crate `cdb-model`.

pub mod behaviour;
pub mod ci;
pub mod cli;
pub mod effects;
pub mod engine;
pub mod exchange;
pub mod inject;
pub mod interrupt;
pub mod jail;
pub mod journal;
pub mod mock;
pub mod mutate;
pub mod overlays;
pub mod page;
pub mod pg;
pub mod redis_conns;
pub mod report;
pub mod rotate_world;
pub mod sandbox;
pub mod scan;
pub mod sessions;
pub mod shell;
pub mod stack;
pub mod summary;
pub mod sweep;
pub mod tls;
pub mod world;

pub use engine::{Config, DrillError, run};
pub use journal::Journal;
