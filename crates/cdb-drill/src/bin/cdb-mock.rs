//! The drill's mock tools and drill command line as a standalone binary, for cdb-drill's own tests.
//!
//! `cdb-mock __cdb-mock TOOL ARGS…` is a mock tool (what the sandbox shims call);
//! `cdb-mock drill …` is the same command line as `cargo xtask drill …`.

use std::process::ExitCode;

fn main() -> ExitCode {
    if let Some(code) = cdb_drill::mock::entry() {
        return ExitCode::from(code);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(("drill", rest)) = args.split_first().map(|(a, r)| (a.as_str(), r)) else {
        eprintln!(
            "usage: cdb-mock drill <scenario> [options] | cdb-mock __cdb-mock <tool> <args>…"
        );
        return ExitCode::from(2);
    };
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot find this executable: {e}");
            return ExitCode::from(2);
        }
    };
    ExitCode::from(cdb_drill::cli::main(rest, &exe))
}
