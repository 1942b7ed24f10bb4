//! The sweep, the coverage function and the mutation check on the real hub and broken copies.

use crate::{RUNBOOK, fixture, mock_exe, remove_steps};
use cdb_docs::Trigger;
use cdb_drill::engine::Config;
use cdb_drill::sweep::{self, Outcome, Plan};
use std::time::Duration;

fn cfg(root: &std::path::Path) -> Config {
    Config {
        root: root.to_path_buf(),
        seed: 1,
        step_timeout: Duration::from_secs(10),
        mock_exe: mock_exe(),
    }
}

#[test]
fn the_plan_covers_every_class_fault_and_point_and_prunes_statically() {
    let hub = sweep::load_hub(&crate::workspace()).unwrap();
    let steps = sweep::hub_steps(&hub);
    let plan = sweep::plan(&steps, None);
    for f in cdb_model::faults::CATALOGUE {
        assert!(plan.iter().any(|(c, _)| c.fault.id == f.id), "{}", f.id);
    }
    // An armed fault that no later step could trip is not applicable, decided without a run.
    assert!(
        plan.iter()
            .any(|(_, p)| matches!(p, Plan::Static(why) if why.contains("could trip")))
    );
    // Armed faults with no possible trip between two points run once.
    assert!(plan.iter().any(|(_, p)| matches!(p, Plan::Same(_))));
}

#[test]
fn a_database_case_is_detected_and_recovered_and_without_revoke_it_is_undetected() {
    let d = fixture();
    let hub = sweep::load_hub(d.path()).unwrap();
    let steps = sweep::hub_steps(&hub);
    let (case, _) = sweep::plan(&steps, Some("database"))
        .into_iter()
        .find(|(c, p)| {
            c.fault.id == "recreate-ignored" && c.trigger == Trigger::Routine && *p == Plan::Run
        })
        .unwrap();
    let r = sweep::run_case(&cfg(d.path()), &hub, &case).unwrap();
    assert_eq!(r.outcome, Outcome::Recovered, "{r:?}");
    assert!(r.detected_by.is_some());
    // A consumer left on the old password keeps its pooled session: only Revoke, which ends the
    // sessions older than the cut-off, makes it reconnect and fail where the server can see it.
    assert_eq!(
        r.detected_by.as_deref(),
        Some("database-revoke-check-stragglers"),
        "{r:?}"
    );
    assert!(remove_steps(d.path(), RUNBOOK, "database", "revoke") >= 3);
    let hub = sweep::load_hub(d.path()).unwrap();
    let r = sweep::run_case(&cfg(d.path()), &hub, &case).unwrap();
    assert_eq!(r.outcome, Outcome::Undetected, "{r:?}");
    assert!(r.reason.contains("cdb_risk"), "{r:?}");
}

#[test]
fn coverage_sees_a_class_without_faults_or_scenarios_as_unexercised() {
    let d = fixture();
    let hub = sweep::load_hub(d.path()).unwrap();
    let steps = sweep::hub_steps(&hub);
    let scen = cdb_model::coverage::scenarios(d.path());
    let done = cdb_model::coverage::exercised(&steps, &scen);
    assert!(done.contains("database-verify-consumers-healthy"));
    assert!(
        done.contains("database-rollback-fresh-next"),
        "leak rollback via leak cases"
    );
    // Only steps of classes the catalogue and scenarios reach count: a made-up class does not.
    let mut fake = steps[0].clone();
    fake.class = "no-such-class".into();
    fake.phase = cdb_docs::Phase::Verify;
    fake.id = "no-such-class-verify-x".into();
    let mut all = steps.clone();
    all.push(&fake);
    assert!(!cdb_model::coverage::exercised(&all, &scen).contains("no-such-class-verify-x"));
}

#[test]
fn sweep_json_is_one_object_per_case() {
    let d = fixture();
    let (code, out, err) = crate::drill(&[
        "--sweep",
        "--class",
        "ci",
        "--format",
        "json",
        "--root",
        d.path().to_str().unwrap(),
    ]);
    assert!(code <= 1, "{err}");
    let mut cases = 0;
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v.get("case").is_some() {
            cases += 1;
            assert!(v["outcome"].is_string());
        }
    }
    assert!(cases > 10, "{out}");
    let (code, _, err) = crate::drill(&[
        "--sweep",
        "--class",
        "nope",
        "--root",
        d.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
}

/// A case started from its baseline's snapshot gives the journal a run from scratch gives,
/// byte for byte: immediate and armed faults, after the last pre-check and after rotate steps,
/// on both triggers.
#[test]
fn a_case_started_from_a_snapshot_has_the_journal_of_a_run_from_scratch() {
    let d = fixture();
    let hub = sweep::load_hub(d.path()).unwrap();
    let steps = sweep::hub_steps(&hub);
    let planned = sweep::plan(&steps, Some("database"));
    let c = cfg(d.path());
    let mut compared = 0;
    for trigger in [Trigger::Routine, Trigger::Leak] {
        let cases: Vec<&sweep::Case> = planned
            .iter()
            .filter(|(k, p)| *p == Plan::Run && k.trigger == trigger && k.after != "start")
            .map(|(k, _)| k)
            .collect();
        // A few faults of each mechanism, at several points.
        let mut pick: Vec<&sweep::Case> = Vec::new();
        for f in [
            "secret-file-emptied",
            "recreate-ignored",
            "role-unchanged",
            "service-crash",
        ] {
            // One case each: the mechanisms, not the points, are what differ (the slow tier's
            // and the nightly workflow's whole-sweep comparisons take every point).
            pick.extend(cases.iter().filter(|k| k.fault.id == f).take(1));
        }
        assert!(
            pick.len() >= 4,
            "{}: {} cases",
            trigger.as_str(),
            pick.len()
        );
        // Two mechanisms on each trigger, the other two on the other: each mechanism and each
        // trigger is compared.
        let routine = trigger == Trigger::Routine;
        let pick: Vec<&sweep::Case> = pick
            .into_iter()
            .enumerate()
            .filter(|(n, _)| (n % 2 == 0) == routine)
            .map(|(_, k)| k)
            .collect();
        let at: Vec<String> = pick.iter().map(|k| k.after.clone()).collect();
        let (_, rec) = sweep::record_baseline(&c, &hub, "database", trigger, &at).unwrap();
        for k in pick {
            let snap = rec
                .snapshots
                .iter()
                .find(|s| s.after() == k.after)
                .unwrap_or_else(|| panic!("no snapshot after {}", k.after));
            assert!(snap.steps_run() >= 2, "{}", k.id());
            let from = sweep::case_journal(&c, &hub, k, Some(snap)).unwrap();
            let scratch = sweep::case_journal(&c, &hub, k, None).unwrap();
            assert_eq!(
                from.to_json(),
                scratch.to_json(),
                "{}: the snapshot-started journal differs",
                k.id()
            );
            compared += 1;
        }
    }
    assert!(compared >= 4);
}

/// The shared sweep (snapshots, armed faults no trip matches decided from the baseline) gives
/// every case the result the sweep from scratch gives.
#[test]
fn the_shared_sweep_classifies_every_case_as_the_sweep_from_scratch() {
    // The smallest class's leak cases in the fast tier (the leak's baseline is the one with a
    // containment phase before the rotation); the slow tier takes both triggers of two
    // classes, and the nightly workflow compares the whole sweep both ways.
    shared_and_scratch_sweeps_agree(&["ci"], Some(Trigger::Leak));
}

/// `the_shared_sweep_classifies_every_case_as_the_sweep_from_scratch` on two classes.
#[test]
#[ignore = "slow tier: two classes' sweeps run twice (README, Two commands)"]
fn the_shared_sweep_classifies_every_case_of_two_classes_as_the_sweep_from_scratch() {
    shared_and_scratch_sweeps_agree(&["ci", "monitoring"], None);
}

/// Runs each class's cases (of `trigger`, or all) shared and from scratch and compares their
/// JSON, case by case.
fn shared_and_scratch_sweeps_agree(classes: &[&str], trigger: Option<Trigger>) {
    let d = fixture();
    let hub = sweep::load_hub(d.path()).unwrap();
    let steps = sweep::hub_steps(&hub);
    let c = cfg(d.path());
    for &class in classes {
        let planned = sweep::plan(&steps, Some(class));
        let cases: Vec<&sweep::Case> = planned
            .iter()
            .filter(|(k, p)| *p == Plan::Run && trigger.is_none_or(|t| k.trigger == t))
            .map(|(k, _)| k)
            .collect();
        assert!(!cases.is_empty(), "{class}: no case");
        let json = |share: bool| {
            let (b, r) = sweep::run_cases(&c, &hub, &[], &cases, share).unwrap();
            assert!(b.iter().all(|b| b.passed), "{class}: {b:?}");
            r.iter()
                .map(|r| serde_json::to_string(r).unwrap())
                .collect::<Vec<_>>()
        };
        let shared = json(true);
        let scratch = json(false);
        assert_eq!(shared.len(), cases.len());
        for (a, b) in shared.iter().zip(&scratch) {
            assert_eq!(a, b, "{class}");
        }
    }
}

/// An armed fault's case started from the snapshot before the first step that could trip it
/// (its fault armed there, its `Inject` event where the journal was at its injection point)
/// has the journal a run from scratch gives, byte for byte, on both triggers, from `start` too.
#[test]
fn an_armed_case_started_before_its_trip_step_has_the_journal_of_a_run_from_scratch() {
    let d = fixture();
    let hub = sweep::load_hub(d.path()).unwrap();
    let steps = sweep::hub_steps(&hub);
    let c = cfg(d.path());
    let mut compared = 0;
    for class in ["database", "monitoring"] {
        let planned = sweep::plan(&steps, Some(class));
        for trigger in [Trigger::Routine, Trigger::Leak] {
            let cases: Vec<(&sweep::Case, String)> = planned
                .iter()
                .filter(|(k, p)| *p == Plan::Run && k.trigger == trigger)
                .filter_map(|(k, _)| sweep::resume_step(&steps, k).map(|r| (k, r)))
                .take(1)
                .collect();
            let mut at: Vec<String> = cases.iter().map(|(_, r)| r.clone()).collect();
            at.extend(cases.iter().map(|(k, _)| k.after.clone()));
            let (_, rec) = sweep::record_baseline(&c, &hub, class, trigger, &at).unwrap();
            let snap = |after: &str| rec.snapshots.iter().find(|s| s.after() == after);
            for (k, r) in cases {
                let inject = snap(&k.after);
                assert!(inject.is_some() || k.after == "start", "{}", k.id());
                let resume = snap(&r).unwrap_or_else(|| panic!("no snapshot after {r}"));
                assert!(resume.steps_run() > inject.map_or(0, |s| s.steps_run()));
                let from = sweep::case_journal_armed(&c, &hub, k, inject, resume).unwrap();
                let scratch = sweep::case_journal(&c, &hub, k, None).unwrap();
                assert_eq!(
                    from.to_json(),
                    scratch.to_json(),
                    "{}: the journal started after `{r}` differs",
                    k.id()
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 4, "{compared}");
}

/// A fault applied at once that changes nothing at its injection point (no trip, every file as
/// it was) is decided without a run: a run from scratch classifies it as not applicable, no
/// effect, with no failed step; and a fault that does change something is never taken for one.
#[test]
fn an_immediate_fault_that_changes_nothing_is_its_baseline() {
    // Up to three cases of each kind (no effect, acting) per trigger; the slow tier takes all.
    immediate_faults_against_their_baseline(Some(3));
}

/// The whole database class of `an_immediate_fault_that_changes_nothing_is_its_baseline`.
#[test]
#[ignore = "slow tier: every immediate database case, run from scratch (README, Two commands)"]
fn every_immediate_database_fault_that_changes_nothing_is_its_baseline() {
    immediate_faults_against_their_baseline(None);
}

/// Runs the database class's immediate-fault cases from scratch (at most `per_kind` of each
/// kind, no effect and acting, per trigger) and checks that a case decided as no effect from
/// its baseline's snapshot is classified so by its run, and that both kinds occur.
fn immediate_faults_against_their_baseline(per_kind: Option<usize>) {
    let d = fixture();
    let hub = sweep::load_hub(d.path()).unwrap();
    let steps = sweep::hub_steps(&hub);
    let c = cfg(d.path());
    let (mut noop, mut acts) = (0, 0);
    for trigger in [Trigger::Routine, Trigger::Leak] {
        let planned = sweep::plan(&steps, Some("database"));
        let cases: Vec<&sweep::Case> = planned
            .iter()
            .filter(|(k, p)| {
                *p == Plan::Run
                    && k.trigger == trigger
                    && k.after != "start"
                    && matches!(
                        k.fault.mechanism,
                        cdb_model::faults::Mechanism::Immediate { .. }
                    )
            })
            .map(|(k, _)| k)
            .collect();
        let at: Vec<String> = cases.iter().map(|k| k.after.clone()).collect();
        let (_, rec) = sweep::record_baseline(&c, &hub, "database", trigger, &at).unwrap();
        assert_eq!(rec.failed_steps, 0);
        let (mut noop_here, mut acts_here) = (0, 0);
        for k in cases {
            let Some(snap) = rec.snapshots.iter().find(|s| s.after() == k.after) else {
                continue;
            };
            let is_noop = sweep::immediate_noop(&c, &hub, k, snap).unwrap();
            let seen = if is_noop {
                &mut noop_here
            } else {
                &mut acts_here
            };
            if per_kind.is_some_and(|n| *seen >= n) {
                continue;
            }
            *seen += 1;
            if is_noop {
                noop += 1;
                let scratch = sweep::run_case(&c, &hub, k).unwrap();
                assert_eq!(scratch.outcome, Outcome::NotApplicable, "{}", k.id());
                assert_eq!(
                    scratch.reason,
                    "no effect: the fault never took effect at this point"
                );
                assert!(scratch.failed.is_empty() && scratch.detected_by.is_none());
            } else {
                acts += 1;
            }
        }
    }
    assert!(noop >= 1 && acts >= 1, "{noop} no-op, {acts} acting");
}

/// A sandbox restored from a snapshot keeps which mounts see the host file: the restore writes
/// new files (new inodes), and the world's mounts move with them. Without that, every mount
/// looked replaced by rename after a restore, and an edit in place that a container sees in
/// the recorded run went unseen in a case started from the snapshot.
#[test]
fn a_restored_sandbox_keeps_which_mounts_see_edits_in_place() {
    use cdb_drill::sandbox::Sandbox;
    use cdb_drill::world::{World, with_world};
    let a = Sandbox::new(&crate::mock_exe()).unwrap();
    World::new(1, &a.root, &a.secrets)
        .unwrap()
        .save(&a.world_file())
        .unwrap();
    // cdb_risk mounts both files: REDIS_PASSWORD is replaced by rename (its mount goes stale),
    // POSTGRES_PASSWORD stays on its inode.
    let redis = a.secrets.join("REDIS_PASSWORD");
    let tmp = a.secrets.join("REDIS_PASSWORD.tmp");
    std::fs::write(&tmp, "renamed-in-fake-value").unwrap();
    std::fs::rename(&tmp, &redis).unwrap();
    let snap = a.snapshot().unwrap();
    let mut b = Sandbox::new(&crate::mock_exe()).unwrap();
    b.restore(&snap).unwrap();
    // Edit both files in place in the restored sandbox.
    std::fs::write(b.secrets.join("POSTGRES_PASSWORD"), "edited-in-place-fake").unwrap();
    std::fs::write(b.secrets.join("REDIS_PASSWORD"), "edited-in-place-fake").unwrap();
    let (pg_seen, redis_seen) = with_world(&b.world_file(), |w| {
        (
            w.mounted_value("cdb_risk", "POSTGRES_PASSWORD"),
            w.mounted_value("cdb_risk", "REDIS_PASSWORD"),
        )
    })
    .unwrap();
    assert_eq!(
        pg_seen.as_deref(),
        Some("edited-in-place-fake"),
        "the mount on an unreplaced file no longer sees edits in place after a restore"
    );
    assert_ne!(
        redis_seen.as_deref(),
        Some("edited-in-place-fake"),
        "a mount whose file was replaced by rename sees the new file after a restore"
    );
}

/// Every secret class of the matrix is swept on both triggers: a class added to the matrix
/// without its faults, leaked files (`plan::leaked_files`) or steps shows here, not as a sweep
/// that silently skips it.
#[test]
fn every_matrix_class_has_routine_and_leak_sweep_cases() {
    let hub = sweep::load_hub(&crate::workspace()).unwrap();
    let matrix = match &hub.matrix {
        Some(Ok(m)) => m,
        other => panic!("the hub's matrix did not load: {other:?}"),
    };
    let steps = sweep::hub_steps(&hub);
    let plan = sweep::plan(&steps, None);
    assert!(!matrix.classes.is_empty());
    for class in &matrix.classes {
        let id = class.id.value.as_str();
        for trigger in cdb_model::plan::TRIGGERS {
            let runs = plan
                .iter()
                .filter(|(c, p)| c.class == id && c.trigger == *trigger && *p == Plan::Run)
                .count();
            assert!(
                runs > 0,
                "class `{id}` has no {} case the sweep runs",
                trigger.as_str()
            );
        }
    }
}
