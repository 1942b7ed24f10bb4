//! Builds the mock tools' client (`crates/cdb-mock-client`) for the drill binary to embed
//! (`sandbox.rs` writes it into each sandbox and links `docker`, `psql`, … to it).
//!
//! The client is compiled here with rustc alone (it has no dependencies), so a drill needs no
//! second `cargo build` and no path to find: the binary that runs the drill carries its tools.
//! Where the standard library for `x86_64-unknown-linux-musl` is installed (`rustup target add
//! x86_64-unknown-linux-musl`; `.ci/run` adds it) the client is built for it: a static musl
//! binary starts in about a fifth of the time of a glibc one on the virtual machines the sweep
//! runs on (glibc reads the CPU's cache layout with dozens of `cpuid` instructions at every
//! start, and each one traps to the hypervisor; README, benchmark). Otherwise it is built for the
//! target being built, which works the same, only slower. No link arguments are changed.

use std::path::{Path, PathBuf};
use std::process::Command;

const MUSL: &str = "x86_64-unknown-linux-musl";

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let src = manifest.join("../cdb-mock-client/src");
    println!("cargo:rerun-if-changed={}", src.display());
    println!("cargo:rerun-if-env-changed=CDB_MOCK_CLIENT_TARGET");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = std::env::var("TARGET").unwrap_or_default();
    let out = out_dir.join("cdb-mock-client");
    if !target.contains("linux") {
        // Drills run on Linux only (`cargo xtask drill` says so elsewhere): embed nothing.
        std::fs::write(&out, b"").ok();
        println!("cargo:rustc-env=CDB_MOCK_CLIENT={}", out.display());
        return;
    }
    let chosen = std::env::var("CDB_MOCK_CLIENT_TARGET")
        .ok()
        .unwrap_or_else(|| {
            if target == "x86_64-unknown-linux-gnu" && has_std_for(Path::new(&rustc), MUSL) {
                MUSL.to_owned()
            } else {
                target.clone()
            }
        });
    if chosen != MUSL {
        println!(
            "cargo:warning=the drill's mock client is built for {chosen}: `rustup target add {MUSL}` makes drills faster"
        );
    }
    let status = Command::new(&rustc)
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "bin",
            "--crate-name",
            "cdb_mock_client",
        ])
        .args([
            "-C",
            "opt-level=2",
            "-C",
            "panic=abort",
            "-C",
            "strip=symbols",
            "-C",
            "debuginfo=0",
        ])
        .args(["--target", &chosen, "--cap-lints", "warn"])
        .arg(src.join("main.rs"))
        .arg("-o")
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            panic!("building the drill's mock client with {rustc:?} for {chosen} failed ({s})")
        }
        Err(e) => panic!("cannot run {rustc:?} to build the drill's mock client: {e}"),
    }
    println!("cargo:rustc-env=CDB_MOCK_CLIENT={}", out.display());
    println!("cargo:rustc-env=CDB_MOCK_CLIENT_TARGET={chosen}");
}

/// Whether rustc has the standard library for `target` (its sysroot holds the target's libs).
fn has_std_for(rustc: &Path, target: &str) -> bool {
    Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
                .join("lib/rustlib")
                .join(target)
                .join("lib")
        })
        .is_some_and(|d| d.is_dir())
}
