// How the `cdb-mock` binary is linked static and without PIE on linux-gnu (see `build.rs`).

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

/// Links binary `bin` of the package being built static and without PIE (linux-gnu only).
pub fn link_static(bin: &str) {
    println!("cargo:rerun-if-env-changed=CDB_XTASK_DYNAMIC");
    println!("cargo:rerun-if-env-changed=CC");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || env != "gnu" {
        return;
    }
    println!("cargo:rustc-link-arg-bin={bin}=-no-pie");
    if std::env::var_os("CDB_XTASK_DYNAMIC").is_some_and(|v| v == "1") {
        return;
    }
    if let Some(dir) = static_dir() {
        println!("cargo:rustc-link-arg-bin={bin}=-static");
        println!("cargo:rustc-link-arg-bin={bin}=-L{}", dir.display());
    }
}
