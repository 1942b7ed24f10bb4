//! Links `cdb-mock` as a static, position-dependent executable on Linux with glibc. It is the
//! drill's binary (`cargo xtask drill` runs it) and its mock tools: every mock call starts it
//! again (the sandbox's `docker`, `curl`, … are links to it), ~30 000 starts per sweep. A PIE of
//! this size spends a third of its start-up applying its relative relocations; the dynamic
//! loader then maps libc, libm and libgcc_s and binds their symbols, another 0.3 ms of CPU per
//! start. (A dev tool run on the developer's own machine and in CI: no address-space
//! randomisation needed.)
//!
//! `-C target-feature=+crt-static` would do it, but it cannot be set for one binary (only for the
//! whole build, which would also rebuild every other crate). So the link gets `-static` and a
//! directory of linker scripts that stand in for the shared libraries rustc names (`-lc`,
//! `-lgcc_s`, …), each pointing at the static archive (`libgcc_s` at `libgcc_eh`). When a static
//! archive is missing (no `libc.a`), or with `CDB_XTASK_DYNAMIC=1`, it stays dynamic (non-PIE).
//! (`xtask` itself is linked normally: it no longer contains the mocks.)

include!("static_link.rs");

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=static_link.rs");
    link_static("cdb-mock");
}
