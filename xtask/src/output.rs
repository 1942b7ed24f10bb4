//! Output helpers every subcommand shares: writing to stdout, and usage errors (exit 2).

use std::io::Write;

/// Prints a usage or configuration error and returns exit code 2.
pub fn usage(msg: &str) -> u8 {
    eprintln!("error: {msg}");
    2
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub fn emit(s: &str) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: cannot write output: {e}");
            2
        }
    }
}
