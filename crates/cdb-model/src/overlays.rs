//! The Compose overlays a drill's stack can start with, by name (what runs them is
//! `cdb-drill`'s `overlays` module).
//!
//! Stack facts, "The TLS overlay": `tls.yml` is an extra `-f` file beside each project's file,
//! and a recreate with only the project's file drops every overlay ("a rollback tag pin"
//! included): `rollback.yml` is the other overlay the kit mirrors.

/// The TLS overlay's file name (upstream `infrastructure/compose/tls.yml`).
pub const TLS_OVERLAY: &str = "tls.yml";

/// The rollback overlay's file name (upstream `infrastructure/compose/rollback.yml`): it pins
/// the built application images to `…:${ROLLBACK_TAG:-latest}`.
pub const ROLLBACK_OVERLAY: &str = "rollback.yml";

/// The tag the drill's stack runs pinned to when it starts with `rollback.yml`: one of the
/// `rollback-yyyyMMdd-HHmmss` tags upstream's `infrastructure/scripts/stack_tag.ps1` makes,
/// taken the evening before the drill (a modelling choice; the drill's clock starts
/// 2026-01-01T09:00Z).
pub const START_ROLLBACK_TAG: &str = "rollback-20251231-180000";

/// Overlay files the drill's Compose folder holds, beside the two project files.
pub const OVERLAY_FILES: &[&str] = &[TLS_OVERLAY, ROLLBACK_OVERLAY];

/// The overlays a drill of `class` starts with when its scenario names none.
pub fn default_overlays(class: &str) -> Vec<String> {
    if class == "tls" {
        vec![TLS_OVERLAY.to_owned()]
    } else {
        Vec::new()
    }
}
