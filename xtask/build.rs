//! Links `xtask` as a position-dependent executable on Linux: every drill mock call starts
//! this binary again (the sandbox's `docker`, `curl`, … are links to it), and a PIE of this
//! size spends a third of that start-up applying its 21 000 relative relocations. (A dev tool
//! run on the developer's own machine and in CI; no address-space randomisation needed.)

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bin=xtask=-no-pie");
    }
}
