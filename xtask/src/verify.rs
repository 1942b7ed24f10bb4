//! `cargo xtask verify`: argument parsing and wiring for the checks in `cdb-verify`.

use clap::Args;

#[derive(Args)]
pub struct VerifyArgs {}

pub fn run(_args: VerifyArgs) -> u8 {
    2
}
