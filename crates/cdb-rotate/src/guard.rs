//! The refusals (issue 15, "Guarded"): what the tool will not run, whatever the operator answers.
//!
//! - Revoke, and every deletion of a credential or of the way back, before a Verify phase
//!   passed in this rotation: a revoke retires the value the rollback would return to, and a
//!   deleted key cannot be un-deleted. A deletion is a manual step whose effect deletes or
//!   revokes (`mexc.delete-key`, `smtp.revoke-app-password`), a body that deletes a user, role, secret or API object
//!   (`ACL DELUSER`, `DROP ROLE`, `DROP USER`, `gh secret delete`, `-X DELETE`), or an `rm` of a
//!   `.prev` file (the value a routine rollback restores). Two phases are exempt, because the
//!   runbook orders their deletions before any verify: Contain (the playbook's "cut off what the
//!   leaked credential can do, before anything else": the leaked keys die first) and Rollback
//!   (it runs because Verify failed, and deletes the failed new value, never the way back).
//!   A step the runbook orders before Verify on purpose names its proof (`proven-by=ID`, the
//!   earlier check that the new value works where it is used: a running consumer's old key can
//!   only be shown unused by deleting it): it runs once that step passed in this rotation.
//! - During an incident (`--incident ID`, or the playbook's marker `$SECRETS_PATH/INCIDENT`,
//!   which its containment of an S1 leak opens), a step that would start `cdb_execution` while the kill switch is
//!   released, or its state cannot be read: any recreate starts it again, and `cdb_execution`
//!   trades unless the switch is engaged (stack-facts.md, "The kill switch").

use cdb_docs::{Phase, Step};

/// Whether `step` deletes a credential or the way back (see the module doc).
pub fn deletes(step: &Step) -> bool {
    if step
        .effect
        .as_deref()
        .is_some_and(|e| e.contains("delete") || e.contains("revoke"))
    {
        return true;
    }
    const VERBS: &[&str] = &[
        "ACL DELUSER",
        "DROP ROLE",
        "DROP USER",
        "gh secret delete",
        "-X DELETE",
    ];
    if VERBS.iter().any(|v| step.body.contains(v)) {
        return true;
    }
    step.body.lines().any(|l| {
        // `rm` as a command word, with a `.prev` among the words up to the end of the command.
        l.split([';', '|', '&']).any(|cmd| {
            let mut words = cmd.split_whitespace();
            words.any(|w| w == "rm") && cmd.contains(".prev")
        })
    })
}

/// Whether `step` would start `cdb_execution`: it names it and recreates, starts or restarts
/// containers (every recreate step of the runbook does, `cdb_execution` last).
pub fn starts_execution(step: &Step) -> bool {
    if !step.body.contains("cdb_execution") {
        return false;
    }
    const VERBS: &[&str] = &[
        "--force-recreate",
        "docker start",
        "docker restart",
        "compose restart",
        "compose start",
    ];
    VERBS.iter().any(|v| step.body.contains(v))
        || step
            .body
            .lines()
            .any(|l| l.contains("docker compose") && l.split_whitespace().any(|w| w == "up"))
}

/// Why `step` must not run now, if it must not.
pub fn refusal(
    step: &Step,
    verified: bool,
    proven: impl Fn(&str) -> bool,
    incident: bool,
    kill_switch: impl FnOnce() -> Option<bool>,
) -> Option<String> {
    let exempt = matches!(step.phase, Phase::Contain | Phase::Rollback);
    if !verified && step.phase == Phase::Revoke {
        return Some("revoke before Verify passed in this rotation".into());
    }
    if !verified && !exempt && deletes(step) {
        match &step.proven_by {
            Some(proof) if proven(proof) => {}
            Some(proof) => {
                return Some(format!(
                    "a deletion before Verify, and its proof `{proof}` has not passed in this rotation"
                ));
            }
            None => {
                return Some(
                    "a deletion before Verify passed in this rotation (the way back would be gone)"
                        .into(),
                );
            }
        }
    }
    if incident && starts_execution(step) {
        match kill_switch() {
            Some(true) => {}
            Some(false) => {
                return Some(
                    "incident open and the kill switch is released: this step would start cdb_execution"
                        .into(),
                );
            }
            None => {
                return Some(
                    "incident open and the kill switch's state cannot be read: this step would start cdb_execution"
                        .into(),
                );
            }
        }
    }
    None
}
