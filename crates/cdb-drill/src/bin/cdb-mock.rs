//! The drill's mock tools and drill command line as a standalone binary, for cdb-drill's own tests.
//!
//! `cdb-mock __cdb-mock TOOL ARGS…` is a mock tool (what the sandbox shims call);
//! `cdb-mock drill …` is the same command line as `cargo xtask drill …`;
//! `cdb-mock rotate <class> --world SCENARIO …` is `cargo xtask rotate … --world SCENARIO`.

use std::process::ExitCode;

const USAGE: &str = "usage: cdb-mock drill <scenario> [options] | cdb-mock rotate <class> --world SCENARIO [options] | cdb-mock __cdb-mock <tool> <args>…";

fn main() -> ExitCode {
    if let Some(code) = cdb_drill::mock::entry() {
        return ExitCode::from(code);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((word, rest)) = args.split_first().map(|(a, r)| (a.as_str(), r)) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot find this executable: {e}");
            return ExitCode::from(2);
        }
    };
    match word {
        "drill" => ExitCode::from(cdb_drill::cli::main(rest, &exe)),
        // The guided rotation against a scenario's mock world (rotate_world.rs).
        "rotate" => ExitCode::from(cdb_drill::rotate_world::main(rest, &exe)),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
