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

/// Held by every test that runs a whole drill, rotation or suite on real servers with stand-in
/// consumers (the slow tier). Their verify steps wait for consumers to reconnect or for refused
/// logins within clamped windows (adapter.rs), and two of them side by side on two cores made
/// those windows too short: `lab::leak_db…` and `rotate::rotate_cache…` failed together and
/// passed alone. One at a time they do not compete for the cores; the servers were never shared.
pub fn one_real_stack_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    // A test that panicked while holding it leaves nothing to repair: the guard guards no data.
    ONE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
