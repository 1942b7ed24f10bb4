//! The drill's mock tools and drill command line as a standalone binary, for cdb-drill's own tests.
//!
//! `cdb-mock __cdb-mock TOOL ARGS…` is a mock tool (what the sandbox shims call);
//! `cdb-mock drill …` is the same command line as `cargo xtask drill …`;
//! `cdb-mock rotate <class> --world SCENARIO …` is `cargo xtask rotate … --world SCENARIO`.

use std::ffi::OsString;
use std::process::ExitCode;

const USAGE: &str = "usage: cdb-mock drill <scenario> [options] | cdb-mock rotate <class> --world SCENARIO [options] | cdb-mock __cdb-mock <tool> <args>…";

fn main() -> ExitCode {
    if let Some(code) = cdb_drill::mock::entry() {
        return ExitCode::from(code);
    }
    // As `OsString`s: `std::env::args` panics on an argument that is not UTF-8, and a drill's
    // paths (`--root`, `--journal`) need not be.
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let Some((word, rest)) = args.split_first() else {
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
    match word.to_str() {
        Some("drill") => ExitCode::from(cdb_drill::cli::main(rest, &exe)),
        // The guided rotation against a scenario's mock world (rotate_world.rs), whose parser
        // takes UTF-8 words.
        Some("rotate") => match utf8(rest) {
            Ok(words) => ExitCode::from(cdb_drill::rotate_world::main(&words, &exe)),
            Err(()) => {
                eprintln!("error: an argument of `rotate` is not UTF-8");
                ExitCode::from(2)
            }
        },
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The words as `String`s, or `Err` when one is not UTF-8.
fn utf8(words: &[OsString]) -> Result<Vec<String>, ()> {
    words
        .iter()
        .map(|w| w.to_str().map(str::to_owned).ok_or(()))
        .collect()
}
