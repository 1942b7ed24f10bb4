//! Creates a `.secrets-baseline` with a fresh fingerprint key: the key is generated on first use
//! and never replaced, since replacing it would orphan every entry. `verify` only reads.
//!
//! Run: `cargo run -p cdb-secrets --example baseline -- init [PATH]` (default `.secrets-baseline`).
//! Then add `rule fingerprint path` lines with the fingerprints `verify --format json` prints.

use cdb_secrets::Baseline;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("init") {
        eprintln!("usage: baseline init [PATH]");
        return ExitCode::from(2);
    }
    let path = PathBuf::from(args.get(1).map_or(".secrets-baseline", String::as_str));
    match Baseline::create_file(&path) {
        Ok(_) => {
            println!("created {} with a new fingerprint key", path.display());
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!(
                "error: {} exists; its key stays (a new one would orphan every entry)",
                path.display()
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: cannot create {}: {e}", path.display());
            ExitCode::from(2)
        }
    }
}
