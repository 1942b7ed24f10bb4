//! `rotate`: the runbook executed on a stack, step by step, guarded and journaled (issue 15).
//!
//! The same steps and the same phase order as the drill (`cdb_model::procedure`), run by an
//! [`exec::Executor`]: [`exec::BashExecutor`] on the operator's machine against the real stack,
//! or cdb-drill's mock world (`cdb-mock rotate … --world SCENARIO`). Portable: no Unix-only API
//! outside `cfg(unix)` blocks, so `cargo xtask rotate` builds and runs on Windows with Git for
//! Windows' bash.

pub mod cli;
pub mod exec;
pub mod guard;
pub mod journal;
pub mod matrix_edit;
pub mod prompt;
pub mod redact;
pub mod report;
pub mod runner;

pub use exec::{BashExecutor, Check, Executor, StepOutput};
pub use prompt::{Answer, LinePrompter, ManualAnswer, Prompter};
pub use runner::{Options, run};
