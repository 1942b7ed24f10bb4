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
