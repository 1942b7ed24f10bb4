//! Links `xtask` as a static, position-dependent executable on Linux with glibc: every drill
//! mock call starts this binary again (the sandbox's `docker`, `curl`, … are links to it), ~30 000
//! starts per sweep. A PIE of this size spends a third of its start-up applying 21 000 relative
//! relocations; the dynamic loader then maps libc, libm and libgcc_s and binds their symbols,
//! another 0.3 ms of CPU per start. (A dev tool run on the developer's own machine and in CI: no
//! address-space randomisation needed.)
//!
//! `-C target-feature=+crt-static` would do it, but it cannot be set for one binary (only for the
//! whole build, which would also rebuild every other crate). So the link gets `-static` and a
//! directory of linker scripts that stand in for the shared libraries rustc names (`-lc`,
//! `-lgcc_s`, …), each pointing at the static archive (`libgcc_s` at `libgcc_eh`). When a static
//! archive is missing (no `libc.a`), or with `CDB_XTASK_DYNAMIC=1`, it stays dynamic (non-PIE).

use std::path::PathBuf;
use std::process::Command;

/// The shared libraries rustc links a std binary against on linux-gnu, and their static stand-ins.
const LIBS: &[(&str, &str)] = &[
    ("c", "libc.a"),
    ("m", "libm.a"),
    ("gcc_s", "libgcc_eh.a"),
    ("rt", "librt.a"),
    ("pthread", "libpthread.a"),
    ("dl", "libdl.a"),
    ("util", "libutil.a"),
];

/// The path of a static archive as the C compiler finds it.
fn archive(cc: &str, name: &str) -> Option<PathBuf> {
    let out = Command::new(cc)
        .arg(format!("-print-file-name={name}"))
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    (p.is_absolute() && p.is_file()).then_some(p)
}

/// Writes the stand-in scripts; `None` when an archive is missing.
fn static_dir() -> Option<PathBuf> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let dir = PathBuf::from(std::env::var_os("OUT_DIR")?).join("static-libs");
    std::fs::create_dir_all(&dir).ok()?;
    for (lib, a) in LIBS {
        let path = archive(&cc, a)?;
        let script = format!("INPUT({})\n", path.display());
        std::fs::write(dir.join(format!("lib{lib}.so")), script).ok()?;
    }
    Some(dir)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CDB_XTASK_DYNAMIC");
    println!("cargo:rerun-if-env-changed=CC");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || env != "gnu" {
        return;
    }
    println!("cargo:rustc-link-arg-bin=xtask=-no-pie");
    if std::env::var_os("CDB_XTASK_DYNAMIC").is_some_and(|v| v == "1") {
        return;
    }
    if let Some(dir) = static_dir() {
        println!("cargo:rustc-link-arg-bin=xtask=-static");
        println!("cargo:rustc-link-arg-bin=xtask=-L{}", dir.display());
    }
}
