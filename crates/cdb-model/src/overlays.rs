//! The Compose overlays a drill's stack can start with, by name (what runs them is
//! `cdb-drill`'s `overlays` module).
//!
//! Stack facts, "The TLS overlay": `tls.yml` is an extra `-f` file beside each project's file.

/// The TLS overlay's file name (upstream `infrastructure/compose/tls.yml`).
pub const TLS_OVERLAY: &str = "tls.yml";

/// Overlay files the drill's Compose folder holds, beside the two project files.
pub const OVERLAY_FILES: &[&str] = &[TLS_OVERLAY];

/// The overlays a drill of `class` starts with when its scenario names none.
pub fn default_overlays(class: &str) -> Vec<String> {
    if class == "tls" {
        vec![TLS_OVERLAY.to_owned()]
    } else {
        Vec::new()
    }
}
