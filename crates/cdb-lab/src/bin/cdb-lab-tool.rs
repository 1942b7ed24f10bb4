//! The lab's one executable for steps: the `docker` adapter (called as `docker` with
//! `CDB_LAB_ADAPTER` set) and, otherwise, the drill's mock tools (the conformance suite's
//! sandboxes link their tools to it, as drills link theirs to `xtask`).

use std::process::ExitCode;

#[cfg(unix)]
fn main() -> ExitCode {
    if let Some(code) = cdb_lab::adapter::entry() {
        return code;
    }
    if let Some(code) = cdb_lab::standin::entry() {
        return code;
    }
    if let Some(code) = cdb_drill::mock::entry() {
        return ExitCode::from(code);
    }
    eprintln!("cdb-lab-tool: run by the lab as `docker` or a mock tool, not by hand");
    ExitCode::from(2)
}

#[cfg(not(unix))]
fn main() -> ExitCode {
    eprintln!("cdb-lab-tool: the lab needs Linux");
    ExitCode::from(2)
}
