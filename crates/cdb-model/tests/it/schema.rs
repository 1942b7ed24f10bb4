//! The scenario schema takes what it knows of fault kinds from `FaultKind`'s facts: a kind that
//! needs a `target` is refused without one, a service target is checked, an unknown kind is
//! refused with the list of known kinds, in the order and words the drill has always printed.

use cdb_model::faults::{FaultKind, Target};
use cdb_model::scenario::{self, ScenarioError};

/// Validates a database scenario whose one fault is `fault` (YAML flow mapping fields).
fn validate_fault(hub: &cdb_docs::Hub, fault: &str) -> Result<(), ScenarioError> {
    let text = format!(
        "title: t\nclass: database\ntrigger: routine\nbriefing: b\nfaults:\n  - {{{fault}, after: start}}\nexpect: {{outcome: recovered}}\n"
    );
    let mut sc = match scenario::parse(&text, "drills/t.yaml") {
        Ok(sc) => sc,
        Err(e) => panic!("the test's scenario does not parse: {e}"),
    };
    sc.id = "t".into();
    sc.validate(hub).map(|_| ())
}

#[test]
fn each_kind_is_validated_by_its_facts() {
    let hub = crate::load_hub(&crate::repo_root());
    for k in FaultKind::ALL {
        let bare = validate_fault(&hub, &format!("kind: {k}"));
        if k.needs_target() {
            let e = bare.expect_err(k.as_str());
            assert_eq!(e.message, format!("fault `{k}` needs a `target`"));
            assert_eq!((e.path.as_str(), e.line), ("drills/t.yaml", 6), "{e}");
        } else {
            assert_eq!(bare, Ok(()), "{k} needs no target");
        }
        let unknown = validate_fault(&hub, &format!("kind: {k}, target: cdb_nope"));
        if k.target() == Target::Service {
            let e = unknown.expect_err(k.as_str());
            assert_eq!(e.message, "unknown service `cdb_nope`");
        } else {
            assert_eq!(
                unknown,
                Ok(()),
                "{k}: its target is not checked as a service"
            );
        }
        if k.target() == Target::Service {
            assert_eq!(
                validate_fault(&hub, &format!("kind: {k}, target: cdb_db_writer")),
                Ok(()),
                "{k}"
            );
        }
    }
}

/// The message for an unknown kind, word for word as before the kinds' facts moved into
/// `FaultKind` (896bd38): the first seven kinds of the scenario schema, then the ones added
/// since, in the order they were added. A new kind is appended here too.
#[test]
fn an_unknown_kind_lists_the_known_ones_as_before() {
    let hub = crate::load_hub(&crate::repo_root());
    let e = validate_fault(&hub, "kind: recreate-ignord, target: cdb_db_writer")
        .expect_err("unknown kind");
    assert_eq!(
        e.to_string(),
        "drills/t.yaml:6:12: unknown fault kind `recreate-ignord` (known: recreate-ignored, \
         keeps-old-secret, grafana-reset-ignored, mexc-console-refuses, gh-secret-set-ignored, \
         service-crash, secret-file-emptied, secret-file-reverted, malformed-dsn, redis-restart, \
         redis-backdoor-user, role-unchanged, kill-switch-reset, mexc-key-missing-permission, \
         mexc-key-not-ip-bound, smtp-app-password-invalid, ci-credential-invalid, command-hangs, \
         crash-loop, keeps-old-ca, overlay-dropped, tls-short-lived, tls-key-replaced, \
         tls-ca-bundle-kept)"
    );
}

/// Every shipped scenario still validates (the facts did not turn an accepted target away).
#[test]
fn the_shipped_scenarios_validate() {
    let root = crate::repo_root();
    let hub = crate::load_hub(&root);
    let ids = scenario::list(&root);
    assert!(!ids.is_empty(), "no scenario under drills/");
    for id in ids {
        let sc = scenario::load(&root, &id).unwrap_or_else(|e| panic!("{e}"));
        sc.validate(&hub).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// `try_list` reports a `drills` path it cannot read as a folder; `list` stays lenient.
#[test]
fn listing_reports_a_drills_path_it_cannot_read() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path();
    // No `drills/`: no scenario, and no error.
    assert_eq!(
        scenario::try_list(dir).map_err(|e| e.to_string()),
        Ok(vec![])
    );
    // A file where the folder should be: an error, not an empty list.
    std::fs::write(dir.join("drills"), "").expect("the test's file");
    assert!(scenario::try_list(dir).is_err());
    assert!(scenario::list(dir).is_empty());
    std::fs::remove_file(dir.join("drills")).expect("remove the file");
    std::fs::create_dir(dir.join("drills")).expect("the drills folder");
    for f in ["b.yaml", "a.yaml", "notes.md"] {
        std::fs::write(dir.join("drills").join(f), "").expect("a scenario file");
    }
    assert_eq!(
        scenario::try_list(dir).map_err(|e| e.to_string()),
        Ok(vec!["a".to_owned(), "b".to_owned()])
    );
}

/// A file with several mistakes is told the first one in the schema's order, whichever of them
/// are parsed into enums (trigger, kinds, outcome): an unknown class before a bad trigger, a
/// bad trigger before an unknown kind, a bad `after:` of an earlier fault before a later
/// fault's unknown kind, a bad `detected_by` before a bad outcome.
#[test]
fn the_first_mistake_is_reported_in_the_schemas_order() {
    let hub = crate::load_hub(&crate::repo_root());
    let check = |text: &str| {
        let mut d = scenario::parse(text, "drills/o.yaml").expect("YAML parses");
        d.id = "o".into();
        d.validate(&hub).map(|_| ()).map_err(|e| e.to_string())
    };
    let faults = "faults:\n  - {kind: service-crash, target: cdb_risk, after: nowhere}\n  - {kind: service-crsh, target: cdb_risk, after: start}\n";
    assert_eq!(
        check(&format!(
            "title: t\nclass: databse\ntrigger: any\nbriefing: b\n{faults}expect: {{outcome: fine}}\n"
        )),
        Err("drills/o.yaml:2:8: unknown class `databse` (matrix classes: database, cache, exchange, monitoring, alerting-mail, tls, ci)".into())
    );
    assert_eq!(
        check(&format!(
            "title: t\nclass: database\ntrigger: any\nbriefing: b\n{faults}expect: {{outcome: fine}}\n"
        )),
        Err("drills/o.yaml:3:10: trigger must be `leak` or `routine`, not `any`".into())
    );
    assert_eq!(
        check(&format!(
            "title: t\nclass: database\ntrigger: routine\nbriefing: b\n{faults}expect: {{outcome: fine}}\n"
        )),
        Err("drills/o.yaml:6:52: `after: nowhere` is not a step id of class `database` (`database-…`, or `start`)".into())
    );
    assert_eq!(
        check(
            "title: t\nclass: database\ntrigger: routine\nbriefing: b\nexpect: {outcome: fine, detected_by: [nothing]}\n"
        ),
        Err(
            "drills/o.yaml:5:39: `nothing` is not a step id of class `database` (`database-…`)"
                .into()
        )
    );
    assert_eq!(
        check(
            "title: t\nclass: database\ntrigger: routine\nbriefing: b\nexpect: {outcome: fine}\n"
        ),
        Err("drills/o.yaml:5:19: outcome must be `recovered` or `escalated`, not `fine`".into())
    );
}
