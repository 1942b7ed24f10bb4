//! The crate split (ARCHITECTURE.md, "Crates"): what `cargo xtask verify` builds holds no
//! simulator, sandbox, jail or mock, and the model crate both sides share holds no process or OS
//! code. Read from `cargo metadata`'s resolved graph, so a dependency added anywhere shows up.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Crates only the drill command may pull in (the runner, the mocks, the sandbox and jail, the
/// real-server lab) and the OS crates they use.
const SIMULATOR: &[&str] = &["cdb-drill", "cdb-lab", "rustix", "signal-hook", "tempfile"];

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Package name -> names of its normal and build dependencies, for every package in the graph.
fn graph() -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(workspace())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let name_of: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut g = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].as_str() != Some("dev"))
            })
            .map(|d| name_of[d["pkg"].as_str().unwrap()].to_owned())
            .collect();
        g.insert(name_of[node["id"].as_str().unwrap()].to_owned(), deps);
    }
    g
}

/// Every package `root` builds with (not its dev-dependencies), itself included.
fn closure(g: &BTreeMap<String, Vec<String>>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![root.to_owned()];
    while let Some(p) = todo.pop() {
        if seen.insert(p.clone()) {
            todo.extend(g.get(&p).into_iter().flatten().cloned());
        }
    }
    seen
}

#[test]
fn verify_and_xtask_build_without_the_simulator() {
    let g = graph();
    for root in ["cdb-verify", "cdb-review", "cdb-model", "xtask"] {
        let c = closure(&g, root);
        assert!(c.contains(root), "{root} is not in the workspace graph");
        let found: Vec<&&str> = SIMULATOR.iter().filter(|s| c.contains(**s)).collect();
        assert!(found.is_empty(), "{root} builds with {found:?}");
    }
    // The drill still has its model and is what brings the simulator in.
    let drill = closure(&g, "cdb-drill");
    assert!(drill.contains("cdb-model") && drill.contains("rustix"));
}

#[test]
fn the_model_crate_depends_on_data_crates_only_and_runs_nothing() {
    let g = graph();
    let direct: BTreeSet<&str> = g["cdb-model"].iter().map(String::as_str).collect();
    assert_eq!(
        direct,
        // thiserror only derives Display and Error for the scenario schema's error.
        BTreeSet::from(["cdb-docs", "cdb-stack", "serde", "thiserror"]),
        "cdb-model's dependencies changed: keep it free of process and OS code (ARCHITECTURE.md)"
    );
    let src = workspace().join("crates/cdb-model/src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for banned in [
            "std::process",
            "std::os::",
            "std::net",
            "Command::new",
            "env::var",
        ] {
            assert!(
                !text.contains(banned),
                "{} uses `{banned}`: the model crate runs nothing and reads no environment",
                path.display()
            );
        }
    }
}
