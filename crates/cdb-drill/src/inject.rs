//! Immediate faults: what the engine does to the world right after the step a fault is
//! injected after (the catalogue that names them is `cdb_model::faults`).

use crate::world::World;
use cdb_model::faults::FaultKind;

/// Injects one fault as at its injection point: a kind that acts at once
/// ([`FaultKind::is_immediate`]) is applied now and trips only when it changed the
/// world; any other kind is armed, to trip at the first mock call it matches. The engine (and
/// so the sweep) and the interactive shell inject through this one function.
pub fn inject(w: &mut World, kind: FaultKind, target: Option<&str>, times: u32) {
    if kind.is_immediate() {
        if apply_now(w, kind, target) {
            w.trip_now(kind, target);
        }
    } else {
        w.armed.push(crate::world::Armed {
            kind,
            service: target.map(str::to_owned),
            secret: None,
            remaining: times,
        });
    }
}

/// Applies an immediate fault; returns whether it changed the world (else it had no effect).
/// A kind the world arms instead ([`FaultKind::is_immediate`] is false) changes nothing here.
pub fn apply_now(w: &mut World, kind: FaultKind, target: Option<&str>) -> bool {
    let target = target.unwrap_or("");
    match kind {
        FaultKind::ServiceCrash => {
            let was = w.running(target);
            w.stop(target);
            was
        }
        FaultKind::SecretFileEmptied => {
            let had = w.read_secret_file(target).is_some_and(|v| !v.is_empty());
            had && w.write_secret_file(target, "").is_ok()
        }
        FaultKind::SecretFileReverted => {
            // The value a running consumer read at creation: what is in use now; for a file
            // only tooling reads (no container does), the rotation's own record of it, `.prev`.
            let in_use = w
                .containers
                .values()
                .find_map(|c| c.read.get(target).cloned())
                .or_else(|| w.read_secret_file(&format!("{target}.prev")));
            match in_use {
                Some(v) if w.read_secret_file(target).as_deref() != Some(v.as_str()) => {
                    w.write_secret_file(target, &v).is_ok()
                }
                _ => false,
            }
        }
        FaultKind::MalformedDsn => {
            let name = if target.is_empty() {
                "POSTGRES_PASSWORD_DSN"
            } else {
                target
            };
            let v = w.fresh_secret("POSTGRES_PASSWORD_DSN (malformed)", 16);
            w.write_secret_file(name, &v).is_ok()
        }
        FaultKind::TlsKeyReplaced => {
            // A fresh key in place of the one the certificate was issued for.
            let had = w
                .read_secret_file(target)
                .is_some_and(|t| w.tls.key_id(&t).is_some());
            if !had {
                return false;
            }
            let key = w.tls_new_key("EC P-256", "a TLS private key (regenerated)");
            w.write_secret_file(target, &key).is_ok()
        }
        FaultKind::TlsCaBundleKept => {
            // The CA file becomes the new CA plus the one in use, when they differ.
            let file = w.read_secret_file(target).unwrap_or_default();
            let in_use = w
                .containers
                .values()
                .find_map(|c| c.read.get(target).cloned());
            let now = w.tls.cert_ids(&file);
            match in_use {
                Some(old)
                    if !now.is_empty()
                        && w.tls
                            .cert_ids(&old)
                            .first()
                            .is_some_and(|id| !now.contains(id)) =>
                {
                    w.write_secret_file(target, &format!("{file}\n{old}\n"))
                        .is_ok()
                }
                _ => false,
            }
        }
        FaultKind::RedisRestart => {
            // A restart re-reads the password file and drops runtime ACL state: it changes
            // something when the runtime state differs from that, or connections are open.
            let differs = crate::redis_conns::runtime_differs(w) || !w.redis.conns.list.is_empty();
            w.restart("cdb_redis");
            differs
        }
        FaultKind::RedisBackdoorUser => crate::redis_conns::backdoor(w),
        // The armed kinds, listed so that a new kind is a decision here: the compiler asks
        // whether it acts at once.
        FaultKind::CiCredentialInvalid
        | FaultKind::CommandHangs
        | FaultKind::CrashLoop
        | FaultKind::GhSecretSetIgnored
        | FaultKind::GrafanaResetIgnored
        | FaultKind::KeepsOldCa
        | FaultKind::KeepsOldSecret
        | FaultKind::KillSwitchReset
        | FaultKind::MexcConsoleRefuses
        | FaultKind::MexcKeyMissingPermission
        | FaultKind::MexcKeyNotIpBound
        | FaultKind::OverlayDropped
        | FaultKind::RecreateIgnored
        | FaultKind::RoleUnchanged
        | FaultKind::SmtpAppPasswordInvalid
        | FaultKind::TlsShortLived => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(dir: &std::path::Path) -> World {
        World::new(7, dir, &dir.join("secrets")).expect("a world")
    }

    /// `apply_now` acts only for the kinds `FaultKind`'s facts call immediate: an armed kind
    /// changes nothing (no file, no container, no world state), whatever it names.
    #[test]
    fn armed_kinds_change_nothing_when_applied_now() {
        let d = tempfile::tempdir().expect("tempdir");
        let mut w = world(d.path());
        let before = serde_json::to_string(&w).expect("serialises");
        for k in FaultKind::ALL.into_iter().filter(|k| !k.is_immediate()) {
            for target in [None, Some("cdb_db_writer"), Some("POSTGRES_PASSWORD")] {
                assert!(!apply_now(&mut w, k, target), "{k} acted at once");
            }
        }
        let after = serde_json::to_string(&w).expect("serialises");
        assert_eq!(before, after, "an armed kind changed the world");
    }

    /// `inject` applies an immediate kind at once (a trip, when it changed the world) and arms
    /// any other kind, typed as it was given.
    #[test]
    fn inject_applies_immediate_kinds_and_arms_the_others() {
        let d = tempfile::tempdir().expect("tempdir");
        let mut w = world(d.path());
        assert!(w.running("cdb_db_writer"));
        inject(&mut w, FaultKind::ServiceCrash, Some("cdb_db_writer"), 1);
        assert!(!w.running("cdb_db_writer"));
        assert_eq!(w.trips.len(), 1);
        assert_eq!(w.trips[0].kind, FaultKind::ServiceCrash);
        assert!(w.armed.is_empty());
        // Crashing it again changes nothing: no second trip.
        inject(&mut w, FaultKind::ServiceCrash, Some("cdb_db_writer"), 1);
        assert_eq!(w.trips.len(), 1);
        inject(&mut w, FaultKind::RecreateIgnored, Some("cdb_risk"), 2);
        assert_eq!(w.armed.len(), 1);
        assert_eq!(w.armed[0].kind, FaultKind::RecreateIgnored);
        assert_eq!(w.armed[0].remaining, 2);
        assert!(w.armed(FaultKind::RecreateIgnored, Some("cdb_risk")));
        assert!(!w.armed(FaultKind::KeepsOldSecret, Some("cdb_risk")));
        assert_eq!(w.trips.len(), 1, "arming is no trip");
    }
}
