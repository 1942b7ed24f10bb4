//! `cargo xtask drill`: argument parsing and wiring for the drill engine (placeholder until cdb-drill lands).

use clap::Args;

#[derive(Args)]
pub struct DrillArgs {
    /// Scenario id (a file `drills/<id>.yaml`).
    pub scenario: Option<String>,
}

/// When the process was started as one of the drill's mock tools, runs it and returns its exit code.
pub fn mock_entry() -> Option<u8> {
    None
}

pub fn run(_args: DrillArgs) -> u8 {
    eprintln!("error: the drill engine is not built yet");
    2
}
