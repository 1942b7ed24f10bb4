//! Integration tests of the drill engine (written below).
#![allow(clippy::unwrap_used)]
