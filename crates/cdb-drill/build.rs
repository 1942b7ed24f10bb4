//! Links the `cdb-mock` test binary as `xtask` is linked (static, no PIE; see
//! `xtask/build.rs`): cdb-drill's tests start it for every mock call.

include!("../../xtask/static_link.rs");

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../../xtask/static_link.rs");
    link_static("cdb-mock");
}
