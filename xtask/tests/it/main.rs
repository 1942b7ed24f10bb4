//! Integration tests of the `xtask` binary: verify, drill, review and the CI workflows, through the real command.

#![allow(clippy::unwrap_used)]

mod drill;
mod hostile;
mod review;
mod rotate;
mod secrets;
mod split;
mod stack;
mod support;
mod verify;
mod workflows;
