//! Scenario errors: a clear message with file and line, exit 2, never a panic.

use crate::{drill, fixture};

#[test]
fn a_malformed_scenario_names_file_and_line() {
    let d = fixture();
    std::fs::write(
        d.path().join("drills/bad.yaml"),
        "title: t\nclass: database\ntrigger: leak\nleaked: [POSTGRES_PASSWORD]\nbriefing: b\nexpect:\n  outcome: recovered\n  detcted_by: [x]\n",
    )
    .unwrap();
    let (code, _, err) = drill(&["bad", "--root", d.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("drills/bad.yaml:8:"), "{err}");
    assert!(err.contains("detcted_by"), "{err}");
}

#[test]
fn scenario_errors_are_usage_errors() {
    let d = fixture();
    let root = d.path().to_str().unwrap();
    std::fs::write(
        d.path().join("drills/badclass.yaml"),
        "title: t\nclass: databse\ntrigger: routine\nbriefing: b\nexpect: {outcome: recovered}\n",
    )
    .unwrap();
    let (code, _, err) = drill(&["badclass", "--root", root]);
    assert_eq!(code, 2);
    assert!(
        err.contains("drills/badclass.yaml:2:8: unknown class `databse`"),
        "{err}"
    );
    std::fs::write(d.path().join("drills/yaml.yaml"), "title: [unclosed\n").unwrap();
    let (code, _, err) = drill(&["yaml", "--root", root]);
    assert_eq!(code, 2);
    assert!(err.contains("drills/yaml.yaml:"), "{err}");
    let (code, _, err) = drill(&["no-such-drill", "--root", root]);
    assert_eq!(code, 2);
    assert!(err.contains("known: "), "{err}");
    let (code, _, err) = drill(&["../etc/passwd", "--root", root]);
    assert_eq!(code, 2, "{err}");
    assert!(cdb_drill::cli::parse_args(&["--seed".into(), "x".into()]).is_err());
    assert!(cdb_drill::cli::parse_args(&[]).is_err());
}

#[test]
fn list_shows_every_scenario() {
    let d = fixture();
    let (code, out, _) = drill(&["--list", "--root", d.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("leak-db\tdatabase\tleak\t"), "{out}");
}

/// A scenario that never went through `validate` (the sweep builds its own in memory) fails
/// with the schema's message, file and line before any step runs, instead of running with a
/// budget of 0 or an outcome nothing can reach.
#[test]
fn an_unvalidated_scenario_fails_before_its_steps() {
    let root = crate::workspace();
    let hub = cdb_drill::sweep::load_hub(&root).unwrap();
    let cfg = cdb_drill::Config {
        root: root.clone(),
        seed: 1,
        step_timeout: std::time::Duration::from_secs(10),
        mock_exe: crate::mock_exe(),
    };
    let head = "title: t\nclass: database\ntrigger: routine\nbriefing: b\nexpect:\n";
    for (tail, want) in [
        (
            "  outcome: recovered\n  budget: soon\n",
            "drills/u.yaml:7:11: `soon` is not a duration (30m, 1h)",
        ),
        (
            "  outcome: not-recovered\n",
            "drills/u.yaml:6:12: outcome must be `recovered` or `escalated`, not `not-recovered`",
        ),
    ] {
        let mut sc = cdb_model::scenario::parse(&format!("{head}{tail}"), "drills/u.yaml").unwrap();
        sc.id = "u".into();
        let started = std::time::Instant::now();
        // Typing refuses what no drill can expect; the engine, what it cannot run.
        let e = match sc.typed() {
            Ok(sc) => cdb_drill::engine::run_scenario(&cfg, &hub, &sc)
                .unwrap_err()
                .to_string(),
            Err(e) => e.to_string(),
        };
        assert_eq!(e, want);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "it ran steps"
        );
    }
}
