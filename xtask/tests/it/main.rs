//! Integration tests of the `xtask` binary: `verify` over fixture hubs copied into temp dirs.

#![allow(clippy::unwrap_used)]

mod review;
mod secrets;
mod support;
mod verify;
mod workflows;
