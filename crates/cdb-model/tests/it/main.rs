//! Integration tests of the model against the repository's Docs Hub and fixtures made from it.

mod classes;
mod schema;

use std::path::{Path, PathBuf};

/// The repository root (the hub, `drills/`, `stack/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Loads the hub under `root` with its steps parsed, as the drill and the sweep do.
pub fn load_hub(root: &Path) -> cdb_docs::Hub {
    let hub = cdb_docs::Hub::load(
        root,
        cdb_docs::Layout::default(),
        cdb_docs::hub::LoadOptions {
            text_files: false,
            parse_markdown: true,
        },
    );
    match hub {
        Ok(h) => h,
        Err(e) => panic!("{}: cannot load the hub: {e}", root.display()),
    }
}
