//! `cargo xtask rotate <class> --dry-run`: the plan of a rotation from the kit's own hub and
//! matrix, in the drill engine's phase order (`cdb_model::procedure`), and nothing written.

use crate::support::{Fixture, snapshot, xtask};

fn rotate(fx: &Fixture, args: &[&str]) -> crate::support::Run {
    let mut all = vec![
        "rotate".as_ref(),
        "--root".as_ref(),
        fx.dir.path().as_os_str(),
    ];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    xtask(all)
}

/// The step ids of `class` in `phase` that apply to `trigger`, from the fixture's hub.
fn step_ids(
    fx: &Fixture,
    class: &str,
    phase: &str,
    trigger: cdb_docs::step::Trigger,
) -> Vec<String> {
    let hub = cdb_docs::Hub::load(
        fx.dir.path(),
        cdb_docs::Layout::default(),
        cdb_docs::hub::LoadOptions {
            text_files: false,
            parse_markdown: true,
        },
    )
    .unwrap();
    hub.docs
        .iter()
        .flat_map(|d| d.steps.iter())
        .filter(|s| s.class == class && s.phase.as_str() == phase && s.when.applies_to(trigger))
        .map(|s| s.id.clone())
        .collect()
}

#[test]
fn a_leak_plan_lists_every_step_in_the_engines_order_with_approvals_and_budget() {
    let fx = Fixture::kit();
    let before = snapshot(fx.dir.path());
    let run = rotate(&fx, &["database", "--leak", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(out.contains("ROTATION PLAN: database · leak"), "{out}");
    assert!(
        out.contains("approvals (emergency): incident-commander"),
        "{out}"
    );
    assert!(
        out.contains("recovery-time budget (matrix `rto`): 30m"),
        "{out}"
    );
    // The main line in the procedure's order, each phase's steps under it.
    let mut last = 0;
    for phase in ["contain", "pre-check", "rotate", "verify", "revoke"] {
        let header = format!("\n  {phase} — ");
        let at = out
            .find(&header)
            .unwrap_or_else(|| panic!("no {phase} phase:\n{out}"));
        assert!(at > last, "{phase} is out of order:\n{out}");
        last = at;
        let ids = step_ids(&fx, "database", phase, cdb_docs::step::Trigger::Leak);
        assert!(!ids.is_empty(), "{phase}");
        for id in ids {
            assert!(out.contains(&format!("] {id} (")), "{id} missing:\n{out}");
        }
    }
    // A leak rolls forward and revokes again after a failed verify.
    assert!(
        out.contains(
            "If a verify step fails: rollback → verify → revoke → communicate → post-check"
        ),
        "{out}"
    );
    // Read-only phases run without asking; steps that change something ask.
    assert!(
        out.contains("[looks ] database-verify-new-credential"),
        "{out}"
    );
    assert!(out.contains("[asks  ] database-rotate-alter-role"), "{out}");
    assert_eq!(snapshot(fx.dir.path()), before, "a dry run wrote something");
}

#[test]
fn a_routine_plan_has_no_containment_and_its_own_approvals() {
    let fx = Fixture::kit();
    let run = rotate(&fx, &["exchange", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("\n  contain — "), "{}", run.stdout);
    assert!(
        run.stdout.contains("approvals (routine): "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("MEXC console access"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("If a verify step fails: rollback → verify → communicate → post-check"),
        "{}",
        run.stdout
    );
}

#[test]
fn without_dry_run_or_with_an_unknown_class_it_refuses_with_exit_2() {
    let fx = Fixture::kit();
    let run = rotate(&fx, &["database"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("only with --dry-run"), "{}", run.stderr);
    let run = rotate(&fx, &["no-such-class", "--dry-run"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`no-such-class` is not a class") && run.stderr.contains("database"),
        "{}",
        run.stderr
    );
}
