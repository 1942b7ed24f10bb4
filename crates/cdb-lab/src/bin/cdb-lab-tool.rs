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
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some((first, rest)) = args.split_first()
        && first == "__cdb-lab-conformance"
    {
        return conformance(rest);
    }
    eprintln!("cdb-lab-tool: run by the lab as `docker` or a mock tool, not by hand");
    ExitCode::from(2)
}

/// `cdb-lab-tool __cdb-lab-conformance ROOT [STEP…]`: the suite in a process of its own (the
/// no-leftovers test kills it midway).
#[cfg(unix)]
fn conformance(args: &[String]) -> ExitCode {
    let Some((root, only)) = args.split_first() else {
        eprintln!("usage: cdb-lab-tool __cdb-lab-conformance ROOT [STEP…]");
        return ExitCode::from(2);
    };
    let tool = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = cdb_lab::conformance::Config {
        root: root.into(),
        tool,
        seed: 1,
        variant: cdb_lab::conformance::Variant::Faithful,
        only: only.to_vec(),
        step_timeout: std::time::Duration::from_secs(60),
    };
    match cdb_lab::conformance::run(&cfg) {
        Ok(r) => {
            print!("{r}");
            ExitCode::from(u8::from(r.failed().count() > 0))
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(not(unix))]
fn main() -> ExitCode {
    eprintln!("cdb-lab-tool: the lab needs Linux");
    ExitCode::from(2)
}
