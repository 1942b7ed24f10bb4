//! The stack the drill world is built from: the kit's Compose description, parsed by the model
//! crate (`cdb_model::stack`), and the copy of that parse the mock processes read.
//!
//! What Compose cannot say is in [`crate::behaviour`].

pub use cdb_model::stack::{Kit, KitProject, KitRead, KitService};
use std::sync::OnceLock;

/// The file beside the world file that holds the parsed kit, so that the mock tools (one
/// process per call, thousands per sweep) read a small JSON instead of parsing YAML.
pub const KIT_FILE: &str = "kit.json";

/// The kit's description, parsed on first use. The files are compiled in, and `verify`'s
/// `stack-parse` rule and this module's tests reject a broken one before it can ship. A mock
/// process takes the engine's parse from `kit.json` beside the world file when it is there.
pub fn kit() -> &'static Kit {
    static CACHED: OnceLock<Option<Kit>> = OnceLock::new();
    CACHED
        .get_or_init(|| {
            std::env::var_os(crate::mock::STATE_VAR)
                .map(|w| std::path::PathBuf::from(w).with_file_name(KIT_FILE))
                .and_then(|p| std::fs::read(p).ok())
                .and_then(|b| serde_json::from_slice(&b).ok())
        })
        .as_ref()
        .unwrap_or_else(cdb_model::stack::kit)
}

/// Writes the parsed kit beside the world file `world` (see [`KIT_FILE`]).
pub fn write_cache(world: &std::path::Path) -> std::io::Result<()> {
    let text = serde_json::to_string(kit()).map_err(std::io::Error::other)?;
    std::fs::write(world.with_file_name(KIT_FILE), text)
}

#[cfg(test)]
mod endpoint_tests {
    /// The world's health endpoints are the ports the kit's Compose files publish.
    #[test]
    fn endpoints_are_the_published_ports() {
        let mut published: Vec<(u16, String)> = super::kit()
            .services
            .iter()
            .flat_map(|s| s.ports.iter().map(move |p| (*p, s.name.clone())))
            .filter(|(_, s)| s != "cdb_postgres" && s != "cdb_redis")
            .collect();
        published.sort();
        let mut table: Vec<(u16, String)> = crate::world::ENDPOINTS
            .iter()
            .map(|(p, _, c)| (*p, (*c).to_owned()))
            .collect();
        table.sort();
        assert_eq!(published, table);
    }
}
