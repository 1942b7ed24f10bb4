//! The lab's own scenarios (`crates/cdb-lab/scenarios/*.yaml`): cases the drills of `drills/` do
//! not hold but the lab needs, a failed rotation of each of database and cache that Verify
//! catches and the rollback recovers (lab drills), and the starting states of steps no drill
//! reaches (conformance suite). They are parsed and checked against the hub as drills are;
//! `drills/<id>.yaml` wins when both exist.

use cdb_model::scenario::Scenario;

/// `(id, text)` of each lab scenario, compiled in so the lab's binary runs from any root.
pub const LAB_SCENARIOS: &[(&str, &str)] = &[
    (
        "lab-failed-rotation-db",
        include_str!("../scenarios/lab-failed-rotation-db.yaml"),
    ),
    (
        "lab-failed-rotation-cache",
        include_str!("../scenarios/lab-failed-rotation-cache.yaml"),
    ),
    (
        "lab-leak-cache-tls",
        include_str!("../scenarios/lab-leak-cache-tls.yaml"),
    ),
    (
        "lab-leak-alerting-mail",
        include_str!("../scenarios/lab-leak-alerting-mail.yaml"),
    ),
    (
        "lab-leak-monitoring-roll-forward",
        include_str!("../scenarios/lab-leak-monitoring-roll-forward.yaml"),
    ),
];

/// The hub at `root`, as the drill engine loads it.
pub fn hub(root: &std::path::Path) -> Result<cdb_docs::Hub, String> {
    cdb_docs::Hub::load(
        root,
        cdb_docs::Layout::default(),
        cdb_docs::hub::LoadOptions {
            text_files: false,
            parse_markdown: true,
        },
    )
    .map_err(|e| format!("{}: cannot load the Docs Hub: {e}", root.display()))
}

/// Scenario `id`: `root/drills/<id>.yaml`, else a lab scenario; checked against `hub`.
pub fn load(root: &std::path::Path, hub: &cdb_docs::Hub, id: &str) -> Result<Scenario, String> {
    let sc = match LAB_SCENARIOS.iter().find(|(n, _)| *n == id) {
        Some((n, text)) if !root.join("drills").join(format!("{id}.yaml")).exists() => {
            let rel = format!("crates/cdb-lab/scenarios/{n}.yaml");
            let mut sc = cdb_model::scenario::parse(text, &rel).map_err(|e| e.to_string())?;
            sc.id = (*n).to_owned();
            sc.path = root.join(rel);
            sc
        }
        _ => cdb_model::scenario::load(root, id).map_err(|e| e.to_string())?,
    };
    sc.validate(hub).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every lab scenario parses and names steps, faults and classes the hub knows.
    #[test]
    fn lab_scenarios_are_valid_against_the_hub() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let hub = hub(&root).unwrap_or_else(|e| panic!("{e}"));
        for (id, _) in LAB_SCENARIOS {
            let sc = load(&root, &hub, id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(sc.id, *id);
        }
    }
}
