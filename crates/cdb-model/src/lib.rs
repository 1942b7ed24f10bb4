//! The model the `verify` rules and the drills share, as data and pure functions.
//!
//! It holds what both sides must agree on: the fault catalogue ([`faults`]), the scenario
//! schema and its validation ([`scenario`]), how a drill ends ([`outcome`]), the sweep's plan ([`plan`]) and the static
//! coverage it gives ([`coverage`]), the kit's stack as its Compose files describe it
//! ([`stack`]), the overlay names ([`overlays`]) and the runbook's procedure, which phase runs
//! next ([`procedure`]).
//!
//! Invariant (ARCHITECTURE.md, "Crates"): no process, no sandbox, no OS-specific code, so
//! `cdb-verify` depends on this crate instead of the simulator (`cdb-drill`) and builds on
//! Windows. The only I/O is reading scenario files, through `cdb_docs::fsio`.

pub mod coverage;
pub mod faults;
pub mod outcome;
pub mod overlays;
pub mod plan;
pub mod procedure;
pub mod scenario;
pub mod stack;
