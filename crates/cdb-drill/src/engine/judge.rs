//! Judging a finished run: the outcome, detection, the scenario's expectations, the
//! invariants, the verdict and the one masking point of the journal.

use super::DrillError;
use super::run::Run;
use crate::journal::{DrillOutcome, Event, Invariant, Journal, Mark, Verdict, clock};
use crate::world::{ViolationKind, World, all_services};
use cdb_docs::Phase;
use cdb_model::scenario::Scenario;

pub(super) fn judge(
    sc: &Scenario,
    run: Run,
    budget: u64,
    recovered_at: Option<Mark>,
    escalated_at: Option<u64>,
    post_ok: bool,
    rolled_back: bool,
) -> Result<Journal, DrillError> {
    let (trigger, expected) = (run.trigger, run.expected);
    let world = World::load(&run.sandbox.world_file())?;
    let mut reasons = Vec::new();
    let mut gaps = Vec::new();
    let outcome = if recovered_at.is_some() && post_ok {
        DrillOutcome::Recovered
    } else if escalated_at.is_some() {
        DrillOutcome::Escalated
    } else {
        DrillOutcome::NotRecovered
    };
    let failed_after = |from: usize| run.failures.iter().filter(move |(at, _, _)| *at >= from);
    // Detection.
    let mut detection = None;
    if let Some(from) = run.first_inject {
        detection = failed_after(from).next().map(|(at, id, _)| {
            let t = match &run.events[*at] {
                Event::Step(s) => s.t_end,
                _ => 0,
            };
            Mark {
                step: id.clone(),
                t,
            }
        });
        let faults: Vec<String> = run
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Inject {
                    fault,
                    target,
                    after,
                    ..
                } => Some(format!(
                    "fault `{fault}`{} injected after `{after}`",
                    target
                        .as_ref()
                        .map(|t| format!(" ({t})"))
                        .unwrap_or_default()
                )),
                _ => None,
            })
            .collect();
        match &detection {
            None => reasons.push(format!(
                "{} went undetected: every step after it passed",
                faults.join(", ")
            )),
            Some(d) if !sc.expect.detected_by.is_empty() => {
                let expected: Vec<&str> = sc
                    .expect
                    .detected_by
                    .iter()
                    .map(|s| s.value.as_str())
                    .collect();
                let hit = failed_after(from).any(|(_, id, _)| expected.contains(&id.as_str()));
                if !hit {
                    reasons.push(format!(
                        "{} was detected by `{}`, not by the expected {}",
                        faults.join(", "),
                        d.step,
                        expected
                            .iter()
                            .map(|e| format!("`{e}`"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ));
                }
            }
            Some(_) => {}
        }
    }
    for d in &sc.expect.detected_by {
        if !run.plan.iter().any(|p| p.step.id == d.value) {
            reasons.push(format!(
                "the expected detector `{}` is not a step of the hub any more",
                d.value
            ));
        }
    }
    for (f, done) in &run.faults {
        if !done {
            let exists = run.plan.iter().any(|p| p.step.id == f.after.value);
            reasons.push(format!(
                "fault `{}` was never injected: step `{}` {}",
                f.kind.value,
                f.after.value,
                if exists {
                    "did not run"
                } else {
                    "is not in the hub"
                }
            ));
        } else if !world.trips.iter().any(|t| t.kind == f.kind.value) {
            reasons.push(format!(
                "fault `{}`{} never took effect: no step did what it needs (check the scenario)",
                f.kind.value,
                f.target
                    .as_ref()
                    .map(|t| format!(" ({})", t.value))
                    .unwrap_or_default()
            ));
        }
    }
    if run.first_inject.is_none()
        && let Some((_, id, why)) = run.failures.first()
    {
        gaps.push(format!(
            "step `{id}` failed without any injected fault: {why}"
        ));
    }
    if outcome != expected {
        let last_fail = run
            .failures
            .last()
            .map(|(_, id, why)| format!(": last failing step `{id}` ({why})"))
            .unwrap_or_default();
        let what = match outcome {
            DrillOutcome::NotRecovered if rolled_back => {
                "the stack was not recovered after rollback"
            }
            DrillOutcome::NotRecovered => "the stack was not recovered",
            DrillOutcome::Escalated => "rollback did not recover, the drill escalated",
            DrillOutcome::Recovered => "the runbook recovered",
        };
        reasons.push(format!(
            "expected outcome `{expected}`, got `{outcome}`: {what}{last_fail}"
        ));
    }
    if escalated_at.is_some() && !run.plan.iter().any(|p| p.step.phase == Phase::Escalate) {
        gaps.push(format!(
            "class `{}` has no executable `escalate` step: paging is prose only",
            sc.class.value
        ));
    }
    let inv = invariants(
        sc,
        &world,
        &run.transcript_leaks,
        run.scanner_hits.clone(),
        recovered_at.as_ref().map(|m| m.t),
        escalated_at,
        budget,
    );
    for i in &inv {
        if !i.passed {
            reasons.push(format!("invariant `{}` broken: {}", i.name, i.detail));
        }
    }
    let mut j = Journal {
        version: 1,
        scenario: sc.id.clone(),
        title: sc.title.clone(),
        class: sc.class.value.clone(),
        trigger,
        seed: world.seed,
        isolation: run.sandbox.isolation().summary(),
        briefing: sc.briefing.trim().to_owned(),
        budget_secs: budget,
        events: run.events,
        invariants: inv,
        detection,
        recovery: recovered_at,
        outcome,
        expected_outcome: expected,
        gaps,
        verdict: Verdict {
            passed: reasons.is_empty(),
            reasons,
        },
    };
    // The one masking point: every string the journal carries, so every output made from it
    // (stdout, --journal, --report, the sweep) holds no flagged or known value in any form.
    let encoded = crate::scan::mask_journal(&mut j, &crate::scan::known_values(&world));
    if !encoded.is_empty() {
        transcript_encoded(&mut j, &encoded);
    }
    Ok(j)
}

/// Breaks `no-secret-in-transcript` for the steps that printed a secret value encoded (base64,
/// hex, reversed) or in parts, which only the masking point sees.
fn transcript_encoded(j: &mut Journal, steps: &[String]) {
    const NAME: &str = "no-secret-in-transcript";
    let what = steps
        .iter()
        .map(|id| {
            format!("`{id}` printed a secret value encoded (base64, hex, reversed) or in parts")
        })
        .collect::<Vec<_>>()
        .join("; ");
    let Some(inv) = j.invariants.iter_mut().find(|i| i.name == NAME) else {
        return;
    };
    inv.detail = if inv.passed {
        what
    } else {
        format!("{}; {what}", inv.detail)
    };
    inv.passed = false;
    let reason = format!("invariant `{NAME}` broken: {}", inv.detail);
    let prefix = format!("invariant `{NAME}` broken:");
    match j
        .verdict
        .reasons
        .iter_mut()
        .find(|r| r.starts_with(&prefix))
    {
        Some(r) => *r = reason,
        None => j.verdict.reasons.push(reason),
    }
    j.verdict.passed = false;
}

/// The invariants checked at the end of a drill (also by the interactive shell): services
/// healthy, leaked values dead, trading paused when the safe state needs it, no secret in the
/// transcript or on a command line, no forbidden action, recovery within the budget.
/// `recovered_at` / `escalated_at` are simulated seconds.
/// The services a scenario's safe state lets be down: those it names, and `cdb_execution`
/// when trading is to stay paused. The drill's invariants and the shell's report both use it.
pub(crate) fn tolerated_degraded(sc: &Scenario) -> Vec<String> {
    let mut degraded: Vec<String> = sc
        .expect
        .safe_state
        .degraded
        .iter()
        .map(|d| d.value.clone())
        .collect();
    if sc.expect.safe_state.trading_paused && !degraded.iter().any(|d| d == "cdb_execution") {
        degraded.push("cdb_execution".into());
    }
    degraded
}

pub(crate) fn invariants(
    sc: &Scenario,
    world: &World,
    transcript_leaks: &[(String, Vec<String>)],
    scanner_hits: Vec<String>,
    recovered_at: Option<u64>,
    escalated_at: Option<u64>,
    budget: u64,
) -> Vec<Invariant> {
    let mut inv = Vec::new();
    let degraded = tolerated_degraded(sc);
    let sick: Vec<String> = all_services()
        .filter(|s| !degraded.iter().any(|d| d == s))
        .filter_map(|s| {
            let p = world.problems(s);
            (!p.is_empty()).then(|| format!("{s}: {}", p.join(", ")))
        })
        .collect();
    inv.push(Invariant {
        name: "services-healthy".into(),
        passed: sick.is_empty(),
        detail: if sick.is_empty() {
            format!(
                "every service healthy{}",
                if degraded.is_empty() {
                    String::new()
                } else {
                    format!(" (allowed degraded: {})", degraded.join(", "))
                }
            )
        } else {
            format!("left unrecovered: {}", sick.join("; "))
        },
    });
    let latent = world.latent_problems(&degraded);
    inv.push(Invariant {
        name: "secret-files-valid".into(),
        passed: latent.is_empty(),
        detail: if latent.is_empty() {
            "the secret files hold what the stack accepts: a recreation of anything comes back healthy"
                .into()
        } else {
            latent.join("; ")
        },
    });
    if sc.is_leak() {
        let mut alive = Vec::new();
        for v in &world.leaked {
            let at = world.accepted_by(v);
            if !at.is_empty() {
                let name = world
                    .values
                    .get(v)
                    .cloned()
                    .unwrap_or_else(|| "a leaked value".into());
                alive.push(format!("{name} still accepted by {}", at.join(", ")));
            }
        }
        inv.push(Invariant {
            name: "leaked-values-dead".into(),
            passed: alive.is_empty(),
            detail: if alive.is_empty() {
                "no server accepts a leaked value".into()
            } else {
                alive.join("; ")
            },
        });
    }
    if sc.expect.safe_state.trading_paused {
        inv.push(Invariant {
            name: "trading-paused".into(),
            passed: world.trading_paused,
            detail: if world.trading_paused {
                format!(
                    "the order path was stopped and the kill switch stays engaged (cdb_execution {})",
                    if world.running("cdb_execution") {
                        "runs again, without trading"
                    } else {
                        "is stopped"
                    }
                )
            } else {
                "trading was never paused".into()
            },
        });
    }
    inv.push(Invariant {
        name: "no-secret-in-transcript".into(),
        passed: transcript_leaks.is_empty() && scanner_hits.is_empty(),
        detail: if transcript_leaks.is_empty() && scanner_hits.is_empty() {
            "no step printed a secret value".into()
        } else {
            transcript_leaks
                .iter()
                .map(|(id, names)| format!("`{id}` printed the value of {}", names.join(", ")))
                .chain(scanner_hits)
                .collect::<Vec<_>>()
                .join("; ")
        },
    });
    let argv: Vec<String> = world
        .violations
        .iter()
        .filter(|v| v.kind == ViolationKind::SecretInArgv)
        .map(|v| format!("`{}`: {}", v.step.clone().unwrap_or_default(), v.detail))
        .collect();
    inv.push(Invariant {
        name: "no-secret-in-argv".into(),
        passed: argv.is_empty(),
        detail: if argv.is_empty() {
            "no secret value reached a command line".into()
        } else {
            argv.join("; ")
        },
    });
    let forbidden: Vec<String> = world
        .violations
        .iter()
        .filter(|v| v.kind != ViolationKind::SecretInArgv)
        .map(|v| format!("`{}`: {}", v.step.clone().unwrap_or_default(), v.detail))
        .collect();
    inv.push(Invariant {
        name: "no-forbidden-action".into(),
        passed: forbidden.is_empty(),
        detail: if forbidden.is_empty() {
            "no destroyed volume, no key deleted under a running order path, auth never disabled"
                .into()
        } else {
            forbidden.join("; ")
        },
    });
    let done_at = recovered_at.or(escalated_at);
    let rto_ok = done_at.is_some_and(|t| t <= budget);
    inv.push(Invariant {
        name: "recovery-time".into(),
        passed: rto_ok,
        detail: match done_at {
            Some(t) => format!(
                "{} {} budget {} ({})",
                clock(t),
                if rto_ok { "within" } else { "exceeds" },
                clock(budget),
                if recovered_at.is_some() {
                    "recovered"
                } else {
                    "safe state reached"
                }
            ),
            None => format!("never recovered (budget {})", clock(budget)),
        },
    });
    inv
}
