//! The journal is deterministic, and no output carries a secret value.

use crate::{drill, fixture, has_long_hex};

#[test]
fn same_seed_gives_a_byte_identical_journal() {
    let d = fixture();
    let root = d.path().to_str().unwrap();
    let a = d.path().join("a.json");
    let b = d.path().join("b.json");
    for j in [&a, &b] {
        let (code, out, _) = drill(&[
            "leak-db",
            "--root",
            root,
            "--seed",
            "7",
            "--journal",
            j.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{out}");
    }
    let (ja, jb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(ja, jb);
    let text = String::from_utf8(ja).unwrap();
    assert!(
        !text.contains("/tmp") && !text.contains("cdb-drill-"),
        "temp path in the journal"
    );
    assert!(text.contains("$SANDBOX") || !text.contains("SANDBOX"));
}

#[test]
fn no_secret_value_in_journal_report_or_stdout() {
    let d = fixture();
    let root = d.path().to_str().unwrap();
    let j = d.path().join("j");
    let r = d.path().join("r");
    let (code, out, err) = drill(&[
        "--all",
        "--root",
        root,
        "--journal",
        j.to_str().unwrap(),
        "--report",
        r.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let mut texts = vec![out, err];
    for dir in [&j, &r] {
        for e in std::fs::read_dir(dir).unwrap() {
            texts.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
    }
    // Every value the world holds is a long hex string; the initial ones are known from the seed.
    let w = tempfile::tempdir().unwrap();
    let world = cdb_drill::world::World::new(1, w.path(), &w.path().join("s")).unwrap();
    for t in &texts {
        assert!(
            !has_long_hex(t),
            "a hex run (secret-like) in an output:\n{t}"
        );
        for v in world.values.keys() {
            assert!(!t.contains(v.as_str()));
        }
    }
    let report = std::fs::read_to_string(r.join("leak-db.md")).unwrap();
    assert!(
        report.contains("## Timeline") && report.contains("time to detect"),
        "{report}"
    );
}
