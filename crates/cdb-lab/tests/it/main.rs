//! Integration tests of `cdb-lab`: the real servers' behaviours the drill world must model.
//!
//! Each test's doc comment names the drill-world behaviour it is evidence for;
//! `docs/real-server-facts.md` lists them with the server versions they ran on.

#![allow(clippy::unwrap_used)]

#[cfg(unix)]
mod certs;
#[cfg(unix)]
mod cli;
#[cfg(unix)]
mod conformance;
#[cfg(unix)]
mod lab;
#[cfg(unix)]
mod lifecycle;
#[cfg(unix)]
mod pg;
#[cfg(unix)]
mod redis;
mod rotate;
#[cfg(unix)]
mod standin;

/// Starts a server or applies the skip policy (`CI=true`: a missing server fails).
#[cfg(unix)]
fn lab<T>(started: Result<T, cdb_lab::LabError>) -> Option<T> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    cdb_lab::skip_or_fail(started, ci)
}
