//! The fault catalogue: every way a rotation can go wrong that the world can model, as data.
//!
//! Each entry says which mechanism it uses (a fault armed in the world and tripped by the
//! mock that would do the thing, or a change the engine applies at once), which classes it
//! applies to (with the service, secret file or tool it hits in each), and where it can be
//! injected. The sweep plans every entry at every injection point (`plan.rs`; `cdb-drill` runs
//! them, applying the immediate ones with `inject::apply_now`); the coverage rule of
//! `cdb-verify` reads the catalogue to decide statically which steps any case runs.

/// How a fault reaches the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// Armed after its step; the mock or effect that would do the thing trips it later.
    /// `pattern`: text a step body (or a manual step's effect) must hold to possibly trip it.
    Armed { kind: FaultKind, pattern: Trigger },
    /// Applied by the engine right after its step.
    Immediate { kind: FaultKind },
}

/// What a later step must do for an armed fault to take effect (an over-approximation: a step
/// that does not match can never trip the fault; one that matches may).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The body contains this text.
    Body(&'static str),
    /// A manual step with this effect.
    Effect(&'static str),
    /// The body calls the fault's target tool (`docker`, `gh`, …).
    Tool,
}

/// Where a fault is injected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Points {
    /// `start` and after every rotate step of the class.
    Rotation,
    /// After the rotate steps whose body names the target file (a write that can fail).
    Writes,
}

/// One catalogue entry.
#[derive(Debug)]
pub struct FaultSpec {
    /// Stable id, kebab-case (sweep output, `drills/*.yaml` `kind:`).
    pub id: &'static str,
    pub summary: &'static str,
    pub mechanism: Mechanism,
    /// (class, target) pairs: the service, file or tool it hits in that class (`""`: none).
    pub applies: &'static [(&'static str, &'static str)],
    pub points: Points,
}

impl FaultSpec {
    /// The fault kind the engine arms or applies.
    pub fn fault_kind(&self) -> FaultKind {
        match self.mechanism {
            Mechanism::Armed { kind, .. } | Mechanism::Immediate { kind } => kind,
        }
    }

    /// The text form of [`FaultSpec::fault_kind`] (the sweep's cases name it so).
    pub fn kind(&self) -> &'static str {
        self.fault_kind().as_str()
    }

    /// The target in `class`, when the fault applies to it.
    pub fn target_in(&self, class: &str) -> Option<&'static str> {
        self.applies
            .iter()
            .find(|(c, _)| *c == class)
            .map(|(_, t)| *t)
    }
}

const RECREATE: Trigger = Trigger::Body("force-recreate");

/// The catalogue. Ids are stable: sweep output and scenarios refer to them.
pub const CATALOGUE: &[FaultSpec] = &[
    FaultSpec {
        id: "keeps-old-secret",
        summary: "a consumer's recreation reads its previous values again (a stale override): it keeps the old secret",
        mechanism: Mechanism::Armed {
            kind: FaultKind::KeepsOldSecret,
            pattern: RECREATE,
        },
        applies: &[
            ("database", "cdb_db_writer"),
            ("cache", "cdb_signal"),
            ("exchange", "cdb_execution"),
            ("alerting-mail", "cdb_reports"),
            ("tls", "cdb_risk"),
        ],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "recreate-ignored",
        summary: "a consumer is not recreated: `up --force-recreate` reports success and keeps the old container",
        mechanism: Mechanism::Armed {
            kind: FaultKind::RecreateIgnored,
            pattern: RECREATE,
        },
        applies: &[
            ("database", "cdb_risk"),
            ("cache", "cdb_market"),
            ("exchange", "cdb_risk"),
            ("alerting-mail", "cdb_grafana"),
            ("tls", "cdb_postgres"),
        ],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "exporter-not-updated",
        summary: "the metrics exporter is not recreated and stays on the old credential (its own health check only sees the process)",
        mechanism: Mechanism::Armed {
            kind: FaultKind::RecreateIgnored,
            pattern: RECREATE,
        },
        applies: &[
            ("database", "cdb_postgres_exporter"),
            ("cache", "cdb_redis_exporter"),
            ("tls", "cdb_postgres_exporter"),
        ],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "grafana-datasource-stale",
        summary: "Grafana's Postgres datasource keeps its old credential, the old password or, over TLS, the old CA and client certificate (Grafana's recreation re-reads its previous values)",
        mechanism: Mechanism::Armed {
            kind: FaultKind::KeepsOldSecret,
            pattern: RECREATE,
        },
        applies: &[("database", "cdb_grafana"), ("tls", "cdb_grafana")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "role-unchanged",
        summary: "the file is written but the role is unchanged: `ALTER ROLE … PASSWORD` prints ALTER ROLE and changes nothing",
        mechanism: Mechanism::Armed {
            kind: FaultKind::RoleUnchanged,
            pattern: Trigger::Body("ALTER ROLE"),
        },
        applies: &[("database", "")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "file-not-written",
        summary: "the credential is changed at the server but the secret file is not: it goes back to the value in use",
        mechanism: Mechanism::Immediate {
            kind: FaultKind::SecretFileReverted,
        },
        applies: &[
            ("database", "POSTGRES_PASSWORD"),
            ("cache", "REDIS_PASSWORD"),
            ("exchange", "MEXC_TRADE_API_KEY"),
            ("monitoring", "GRAFANA_PASSWORD"),
            ("alerting-mail", "SMTP_PASSWORD"),
        ],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "sa-token-file-reverted",
        summary: "the tooling's service-account token file goes back to the old token after the install (a settings sync or backup restores it): the tooling stays on the token Revoke deletes",
        mechanism: Mechanism::Immediate {
            kind: FaultKind::SecretFileReverted,
        },
        applies: &[("monitoring", "GRAFANA_SA_TOKEN")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "malformed-dsn",
        summary: "POSTGRES_PASSWORD_DSN is rewritten as random text instead of a postgresql:// URI (the upstream script's flaw)",
        mechanism: Mechanism::Immediate {
            kind: FaultKind::MalformedDsn,
        },
        applies: &[("database", "POSTGRES_PASSWORD_DSN")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "redis-restart-reverts",
        summary: "cdb_redis restarts: it re-reads its password file (`--requirepass $(cat …)`), so every password set at runtime is gone, and every connection ends (stack/compose/compose.blue.yml; real-server-facts `restart_rereads_the_config_file`)",
        mechanism: Mechanism::Immediate {
            kind: FaultKind::RedisRestart,
        },
        applies: &[("cache", "cdb_redis")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "redis-backdoor-user",
        summary: "someone with a working Redis password (after a leak, the leaker) added an ACL user and a password of their own to the default user, and holds a connection as that user (redis_conns.rs)",
        mechanism: Mechanism::Immediate {
            kind: FaultKind::RedisBackdoorUser,
        },
        applies: &[("cache", "cdb_redis")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "grafana-reset-ignored",
        summary: "`grafana cli admin reset-admin-password` reports success and changes nothing (wrong home path)",
        mechanism: Mechanism::Armed {
            kind: FaultKind::GrafanaResetIgnored,
            pattern: Trigger::Body("reset-admin-password"),
        },
        applies: &[("monitoring", "")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "kill-switch-released",
        summary: "cdb_execution comes back with the kill switch released: its recreation mounts an empty kill_switch_state volume (another project name, or the volume removed) and the service writes `state=inactive`",
        mechanism: Mechanism::Armed {
            kind: FaultKind::KillSwitchReset,
            pattern: RECREATE,
        },
        applies: &[("exchange", "cdb_execution")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "mexc-console-refuses",
        summary: "the MEXC console refuses to create an API key once",
        mechanism: Mechanism::Armed {
            kind: FaultKind::MexcConsoleRefuses,
            pattern: Trigger::Effect("mexc.create-"),
        },
        applies: &[("exchange", "")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "mexc-key-missing-permission",
        summary: "the new trade key is created without the Trade permission (a read-only key)",
        mechanism: Mechanism::Armed {
            kind: FaultKind::MexcKeyMissingPermission,
            pattern: Trigger::Effect("mexc.create-trade-key"),
        },
        applies: &[("exchange", "")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "mexc-key-not-ip-bound",
        summary: "the new trade key is created without its IP binding",
        mechanism: Mechanism::Armed {
            kind: FaultKind::MexcKeyNotIpBound,
            pattern: Trigger::Effect("mexc.create-trade-key"),
        },
        applies: &[("exchange", "")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "smtp-app-password-invalid",
        summary: "the new SMTP app password is saved with a typo: the mail provider rejects it",
        mechanism: Mechanism::Armed {
            kind: FaultKind::SmtpAppPasswordInvalid,
            pattern: Trigger::Effect("smtp.create-app-password"),
        },
        applies: &[("alerting-mail", "")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "ci-secret-not-updated",
        summary: "a CI secret is not updated: `gh secret set` reports success and sets it on a fork",
        mechanism: Mechanism::Armed {
            kind: FaultKind::GhSecretSetIgnored,
            pattern: Trigger::Body("gh secret set"),
        },
        applies: &[("ci", "AI_PROVIDER_API_KEY")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "ci-credential-invalid",
        summary: "the new AI-provider key is saved with a typo (a copy cut short): `gh secret set` takes it, the provider rejects it, and only the e2e run shows it",
        mechanism: Mechanism::Armed {
            kind: FaultKind::CiCredentialInvalid,
            pattern: Trigger::Effect("provider.create-key"),
        },
        applies: &[("ci", "")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "command-hangs",
        summary: "the next call of a tool hangs and is cut off by a timeout (exit 124, nothing done)",
        mechanism: Mechanism::Armed {
            kind: FaultKind::CommandHangs,
            pattern: Trigger::Tool,
        },
        applies: &[
            ("database", "docker"),
            ("cache", "redis-cli"),
            ("exchange", "docker"),
            ("monitoring", "curl"),
            ("alerting-mail", "docker"),
            ("tls", "docker"),
            ("ci", "gh"),
        ],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "crash-loop",
        summary: "a service crash-loops after its next recreation (it exits at once)",
        mechanism: Mechanism::Armed {
            kind: FaultKind::CrashLoop,
            pattern: RECREATE,
        },
        applies: &[
            ("database", "cdb_ws"),
            ("cache", "cdb_candles"),
            ("exchange", "cdb_risk"),
            ("alerting-mail", "cdb_reports"),
            ("tls", "cdb_redis"),
        ],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "service-crash",
        summary: "a consumer stops in the middle of the rotation",
        mechanism: Mechanism::Immediate {
            kind: FaultKind::ServiceCrash,
        },
        applies: &[
            ("database", "cdb_paper_runner"),
            ("cache", "cdb_regime"),
            ("exchange", "cdb_risk"),
            ("monitoring", "cdb_grafana"),
            ("alerting-mail", "cdb_reports"),
            ("tls", "cdb_db_writer"),
        ],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "secret-file-emptied",
        summary: "a secret file is truncated (an editor saved an empty file)",
        mechanism: Mechanism::Immediate {
            kind: FaultKind::SecretFileEmptied,
        },
        applies: &[
            ("database", "POSTGRES_PASSWORD"),
            ("cache", "REDIS_PASSWORD"),
            ("exchange", "MEXC_API_SECRET"),
            ("monitoring", "GRAFANA_PASSWORD"),
            ("alerting-mail", "SMTP_PASSWORD"),
            ("tls", "client.crt"),
        ],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "disk-full",
        summary: "the disk is full when the secret file is written: the file is left empty and the write's error scrolls by",
        mechanism: Mechanism::Immediate {
            kind: FaultKind::SecretFileEmptied,
        },
        applies: &[
            ("database", "POSTGRES_PASSWORD_DSN"),
            ("cache", "REDIS_PASSWORD.next"),
            ("exchange", "MEXC_TRADE_API_SECRET"),
            ("monitoring", "GRAFANA_PASSWORD.next"),
            ("alerting-mail", "SMTP_PASSWORD.next"),
            ("tls", "redis.crt.next"),
        ],
        points: Points::Writes,
    },
    FaultSpec {
        id: "tls-server-cert-old-ca",
        summary: "a server certificate from the old CA comes back: redis.crt goes back to the one in use (a backup restored over the new file), so Redis loads it with the new key",
        mechanism: Mechanism::Immediate {
            kind: FaultKind::SecretFileReverted,
        },
        applies: &[("tls", "redis.crt")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "tls-client-old-ca-bundle",
        summary: "a TLS client keeps the old CA bundle when it is recreated (a stale mount): it cannot verify the new server certificates",
        mechanism: Mechanism::Armed {
            kind: FaultKind::KeepsOldCa,
            pattern: RECREATE,
        },
        applies: &[("tls", "cdb_redis_exporter")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "tls-overlay-dropped",
        summary: "a client is recreated with the project's file only (`-f compose.blue.yml`, no `-f tls.yml`): the overlay is gone, it talks to PostgreSQL in plain text and cannot reach TLS-only Redis, while its own health check (`kill -0 1`) stays healthy",
        mechanism: Mechanism::Armed {
            kind: FaultKind::OverlayDropped,
            pattern: RECREATE,
        },
        applies: &[("tls", "cdb_db_writer")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "rollback-overlay-dropped",
        summary: "on a stack pinned by the rollback overlay (`-f rollback.yml`), a consumer is recreated with the project's file only: it comes back on the project's own build, the release the rollback was for, and its constant `/health` stays green",
        mechanism: Mechanism::Armed {
            kind: FaultKind::OverlayDropped,
            pattern: RECREATE,
        },
        applies: &[("database", "cdb_risk")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "tls-old-ca-still-trusted",
        summary: "the new CA is installed as a bundle with the old CA left in (a transition bundle never trimmed): everything connects, and the old CA stays trusted",
        mechanism: Mechanism::Immediate {
            kind: FaultKind::TlsCaBundleKept,
        },
        applies: &[("tls", "ca.crt")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "tls-cert-short-lived",
        summary: "the next certificate is issued for one day instead of the runbook's `-days` (a typo): it verifies today and expires tomorrow",
        mechanism: Mechanism::Armed {
            kind: FaultKind::TlsShortLived,
            pattern: Trigger::Body("x509 -req"),
        },
        applies: &[("tls", "")],
        points: Points::Rotation,
    },
    FaultSpec {
        id: "tls-key-cert-mismatch",
        summary: "the server key file is regenerated after its certificate was issued: key and certificate no longer match",
        mechanism: Mechanism::Immediate {
            kind: FaultKind::TlsKeyReplaced,
        },
        applies: &[("tls", "postgres.key")],
        points: Points::Writes,
    },
];

/// Faults whose cases start the stack with overlays beyond the class's default (overlays.rs):
/// the rollback pin exists only on a stack started with `rollback.yml`. The sweep runs their
/// cases from scratch, as their stack is not their class's baseline.
pub const START_OVERLAYS: &[(&str, &[&str])] = &[(
    "rollback-overlay-dropped",
    &[crate::overlays::ROLLBACK_OVERLAY],
)];

impl FaultSpec {
    /// The overlays a case of this fault starts the stack with (empty: the class's default).
    pub fn start_overlays(&self) -> &'static [&'static str] {
        START_OVERLAYS
            .iter()
            .find(|(id, _)| *id == self.id)
            .map_or(&[], |(_, o)| o)
    }
}

/// Every kind of fault the world knows, armed or applied at once: the one list the engine's
/// trip points, the catalogue, the scenario schema and the shell take their kinds from (a
/// misspelt trip point does not compile), and the one place for each kind's facts
/// ([`FaultKind::facts`]: its name, what it does, what its `target` names, whether it acts at
/// once, whether scenarios may name it). Its text form (`as_str`) is what `drills/*.yaml`, the
/// journal and the sweep say.
///
/// A new kind is a variant, its arm in [`FaultKind::facts`] (the compiler asks for it) and its
/// place in [`FaultKind::ALL`] (the tests below ask for it once the catalogue names the kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    CiCredentialInvalid,
    CommandHangs,
    CrashLoop,
    GhSecretSetIgnored,
    GrafanaResetIgnored,
    KeepsOldCa,
    KeepsOldSecret,
    KillSwitchReset,
    MalformedDsn,
    MexcConsoleRefuses,
    MexcKeyMissingPermission,
    MexcKeyNotIpBound,
    OverlayDropped,
    RecreateIgnored,
    RedisBackdoorUser,
    RedisRestart,
    RoleUnchanged,
    SecretFileEmptied,
    SecretFileReverted,
    ServiceCrash,
    SmtpAppPasswordInvalid,
    TlsCaBundleKept,
    TlsKeyReplaced,
    TlsShortLived,
}

/// What a fault's `target` names in a scenario (`drills/*.yaml`), and so whether the scenario
/// must give one and what the schema checks it against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// None needed: the fault acts in one place (a `target` given is passed to the world as it
    /// is; `malformed-dsn` takes it as the file to garble).
    Optional,
    /// A service of the stack, required and checked against the Compose files.
    Service,
    /// A name the world resolves when the fault acts, required but not checked by the schema: a
    /// secret file, a tool, a CI secret, or a service the fault only matches by name (a
    /// misspelt one never matches, and the drill's judgement shows the fault did nothing).
    Named,
}

/// The facts of one [`FaultKind`].
#[derive(Debug)]
pub struct KindFacts {
    /// The text form: `drills/*.yaml` `kind:`, the journal, the sweep.
    pub name: &'static str,
    /// What the fault does to the world, in one sentence (`target` is the scenario's).
    pub description: &'static str,
    pub target: Target,
    /// Applied by the engine right after its step (`cdb_drill::inject::apply_now`) instead of
    /// armed to trip at a later mock call.
    pub immediate: bool,
    /// Whether a scenario may name it in `faults:` (else only the catalogue uses it).
    pub in_scenarios: bool,
}

impl FaultKind {
    /// Every kind, in the order the scenario schema lists them when a kind is unknown (the
    /// seven kinds of the first scenarios, then the others as they were added): that error
    /// message is part of the drill's output and stays as it was.
    pub const ALL: [FaultKind; 24] = [
        FaultKind::RecreateIgnored,
        FaultKind::KeepsOldSecret,
        FaultKind::GrafanaResetIgnored,
        FaultKind::MexcConsoleRefuses,
        FaultKind::GhSecretSetIgnored,
        FaultKind::ServiceCrash,
        FaultKind::SecretFileEmptied,
        FaultKind::SecretFileReverted,
        FaultKind::MalformedDsn,
        FaultKind::RedisRestart,
        FaultKind::RedisBackdoorUser,
        FaultKind::RoleUnchanged,
        FaultKind::KillSwitchReset,
        FaultKind::MexcKeyMissingPermission,
        FaultKind::MexcKeyNotIpBound,
        FaultKind::SmtpAppPasswordInvalid,
        FaultKind::CiCredentialInvalid,
        FaultKind::CommandHangs,
        FaultKind::CrashLoop,
        FaultKind::KeepsOldCa,
        FaultKind::OverlayDropped,
        FaultKind::TlsShortLived,
        FaultKind::TlsKeyReplaced,
        FaultKind::TlsCaBundleKept,
    ];

    /// Everything the kit knows about this kind, in one place.
    pub fn facts(self) -> &'static KindFacts {
        use Target::{Named, Optional, Service};
        // Armed kinds first, then the ones the engine applies at once; in each, the order of
        // the enum.
        match self {
            FaultKind::CiCredentialInvalid => &KindFacts {
                name: "ci-credential-invalid",
                description: "the next AI-provider key is saved with a typo (a copy cut short): `gh secret set` takes it and the provider rejects it",
                target: Optional,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::CommandHangs => &KindFacts {
                name: "command-hangs",
                description: "the next call of the tool `target` hangs and is cut off by a timeout (exit 124, nothing done)",
                target: Named,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::CrashLoop => &KindFacts {
                name: "crash-loop",
                description: "`target` (a service) crash-loops after its next recreation: it exits at once",
                target: Service,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::GhSecretSetIgnored => &KindFacts {
                name: "gh-secret-set-ignored",
                description: "the next `gh secret set target` reports success but sets the secret on another repository (a fork)",
                target: Named,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::GrafanaResetIgnored => &KindFacts {
                name: "grafana-reset-ignored",
                description: "the next `grafana cli admin reset-admin-password` reports success and changes nothing (wrong home path)",
                target: Optional,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::KeepsOldCa => &KindFacts {
                name: "keeps-old-ca",
                description: "the next recreation of `target` (a TLS client) keeps its previous CA bundle (a stale mount)",
                target: Service,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::KeepsOldSecret => &KindFacts {
                name: "keeps-old-secret",
                description: "the next recreation of `target` reads its previous values again (e.g. a stale override)",
                target: Service,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::KillSwitchReset => &KindFacts {
                name: "kill-switch-reset",
                description: "the next recreation of `target` (cdb_execution) mounts an empty kill-switch volume: it comes back with the kill switch released",
                target: Named,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::MexcConsoleRefuses => &KindFacts {
                name: "mexc-console-refuses",
                description: "the MEXC console refuses to create API keys (`times: 0`: every time)",
                target: Optional,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::MexcKeyMissingPermission => &KindFacts {
                name: "mexc-key-missing-permission",
                description: "the next trade key the MEXC console creates lacks the Trade permission (a read-only key)",
                target: Optional,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::MexcKeyNotIpBound => &KindFacts {
                name: "mexc-key-not-ip-bound",
                description: "the next trade key the MEXC console creates has no IP binding",
                target: Optional,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::OverlayDropped => &KindFacts {
                name: "overlay-dropped",
                description: "the next recreation of `target` runs with its project's Compose file only: the overlays the stack was started with are gone",
                target: Named,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::RecreateIgnored => &KindFacts {
                name: "recreate-ignored",
                description: "the next `up --force-recreate` of `target` (a service) reports success but keeps the old container and the secrets it read",
                target: Service,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::RoleUnchanged => &KindFacts {
                name: "role-unchanged",
                description: "the next `ALTER ROLE … PASSWORD` prints ALTER ROLE and changes nothing",
                target: Optional,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::SmtpAppPasswordInvalid => &KindFacts {
                name: "smtp-app-password-invalid",
                description: "the next SMTP app password is saved with a typo: the mail provider rejects it",
                target: Optional,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::TlsShortLived => &KindFacts {
                name: "tls-short-lived",
                description: "the next certificate `openssl x509 -req` issues is valid for one day instead of the runbook's `-days`",
                target: Optional,
                immediate: false,
                in_scenarios: true,
            },
            FaultKind::MalformedDsn => &KindFacts {
                name: "malformed-dsn",
                description: "`target` (default POSTGRES_PASSWORD_DSN) is rewritten at once as random text instead of a postgresql:// URI",
                target: Optional,
                immediate: true,
                in_scenarios: true,
            },
            FaultKind::RedisBackdoorUser => &KindFacts {
                name: "redis-backdoor-user",
                description: "someone with a working Redis password adds an ACL user and a default-user password of their own at once, and holds a connection as that user",
                target: Optional,
                immediate: true,
                in_scenarios: true,
            },
            FaultKind::RedisRestart => &KindFacts {
                name: "redis-restart",
                description: "cdb_redis restarts at once: it re-reads its password file, so every password set at runtime is gone, and every connection ends",
                target: Optional,
                immediate: true,
                in_scenarios: true,
            },
            FaultKind::SecretFileEmptied => &KindFacts {
                name: "secret-file-emptied",
                description: "the secret file `target` is truncated at once (an editor saved an empty file)",
                target: Named,
                immediate: true,
                in_scenarios: true,
            },
            FaultKind::SecretFileReverted => &KindFacts {
                name: "secret-file-reverted",
                description: "the secret file `target` goes back at once to the value in use (what a running consumer read, else its `.prev`)",
                target: Named,
                immediate: true,
                in_scenarios: true,
            },
            FaultKind::ServiceCrash => &KindFacts {
                name: "service-crash",
                description: "`target` stops at once",
                target: Service,
                immediate: true,
                in_scenarios: true,
            },
            FaultKind::TlsCaBundleKept => &KindFacts {
                name: "tls-ca-bundle-kept",
                description: "the CA file `target` becomes at once the new CA plus the one in use, when they differ: the old CA stays trusted",
                target: Named,
                immediate: true,
                in_scenarios: true,
            },
            FaultKind::TlsKeyReplaced => &KindFacts {
                name: "tls-key-replaced",
                description: "the key file `target` is regenerated at once: it no longer matches the certificate issued for it",
                target: Named,
                immediate: true,
                in_scenarios: true,
            },
        }
    }

    pub fn as_str(self) -> &'static str {
        self.facts().name
    }

    /// What the fault does to the world, in one sentence.
    pub fn description(self) -> &'static str {
        self.facts().description
    }

    /// What its `target` names in a scenario.
    pub fn target(self) -> Target {
        self.facts().target
    }

    /// Whether a scenario that names it must give a `target`.
    pub fn needs_target(self) -> bool {
        self.target() != Target::Optional
    }

    /// Whether the engine applies it at once instead of arming it.
    pub fn is_immediate(self) -> bool {
        self.facts().immediate
    }

    /// Whether a scenario may name it.
    pub fn in_scenarios(self) -> bool {
        self.facts().in_scenarios
    }

    /// The kind named `s`, if the world knows it.
    pub fn parse(s: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, not `write_str`: widths and alignment apply as they did to the kinds' strings.
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for FaultKind {
    type Err = ();
    fn from_str(s: &str) -> Result<FaultKind, ()> {
        FaultKind::parse(s).ok_or(())
    }
}

/// Written as its text form ([`FaultKind::as_str`]), what the world file and the journal held
/// when kinds were strings, so both stay byte-identical.
impl serde::Serialize for FaultKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Read back from its text form (the world file the mocks share, the shell's state file); an
/// unknown name is an error naming it.
impl<'de> serde::Deserialize<'de> for FaultKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<FaultKind, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        FaultKind::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown fault kind `{s}`")))
    }
}

/// Looks an entry up by id.
pub fn find(id: &str) -> Option<&'static FaultSpec> {
    CATALOGUE.iter().find(|f| f.id == id)
}

/// The distinct classes the catalogue applies to.
pub fn classes() -> Vec<&'static str> {
    let mut v: Vec<&str> = CATALOGUE
        .iter()
        .flat_map(|f| f.applies.iter().map(|(c, _)| *c))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Whether a step could trip an armed fault with this trigger and target.
pub fn could_trip(trigger: Trigger, target: &str, step: &cdb_docs::Step) -> bool {
    match trigger {
        Trigger::Body(t) => !step.manual && step.body.contains(t),
        Trigger::Effect(e) => {
            step.manual && step.effect.as_deref().is_some_and(|x| x.starts_with(e))
        }
        Trigger::Tool => !step.manual && !target.is_empty() && step.body.contains(target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_kinds_known() {
        let mut ids: Vec<&str> = CATALOGUE.iter().map(|f| f.id).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate fault id");
        for f in CATALOGUE {
            assert!(
                f.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                f.id
            );
            let k = f.fault_kind();
            assert!(
                FaultKind::ALL.contains(&k),
                "{k} is missing from FaultKind::ALL"
            );
            assert!(!f.applies.is_empty(), "{}", f.id);
        }
    }

    /// `ALL` holds each kind once, and a kind's name is kebab-case, unique and reads back as the
    /// kind: the names are what scenarios, the journal and the sweep say.
    #[test]
    fn every_kind_is_listed_once_and_its_name_reads_back() {
        let mut names: Vec<&str> = FaultKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FaultKind::ALL.len(), "a kind is listed twice");
        for k in FaultKind::ALL {
            assert_eq!(FaultKind::parse(k.as_str()), Some(k));
            assert_eq!(k.to_string(), k.as_str());
            assert!(
                k.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-'),
                "{k}"
            );
            assert!(!k.description().is_empty(), "{k} has no description");
        }
        assert_eq!(FaultKind::parse("recreate-ignord"), None);
    }

    /// Serde writes and reads a kind as its text form, as the world file held it as a string.
    #[test]
    fn kinds_serialise_as_their_names() {
        for k in FaultKind::ALL {
            let v = serde_json::to_string(&k).expect("a kind serialises");
            assert_eq!(v, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<FaultKind>(&v).ok(), Some(k));
            assert_eq!(k.as_str().parse::<FaultKind>(), Ok(k));
        }
        assert_eq!(
            format!("[{:<14}]", FaultKind::CrashLoop),
            "[crash-loop    ]"
        );
        let e = serde_json::from_str::<FaultKind>("\"service-crsh\"").expect_err("unknown");
        assert!(
            e.to_string().contains("unknown fault kind `service-crsh`"),
            "{e}"
        );
    }

    /// The catalogue's mechanism and the kind's fact agree: a catalogue entry applied at once
    /// names an immediate kind, an armed one a kind the world arms (else the sweep would plan
    /// an armed case that the engine applies at once, or the reverse).
    #[test]
    fn catalogue_mechanisms_agree_with_the_kinds() {
        for f in CATALOGUE {
            let immediate = matches!(f.mechanism, Mechanism::Immediate { .. });
            assert_eq!(f.fault_kind().is_immediate(), immediate, "{}", f.id);
        }
        // Every immediate kind is in the catalogue, so the sweep applies each of them.
        for k in FaultKind::ALL.into_iter().filter(|k| k.is_immediate()) {
            assert!(CATALOGUE.iter().any(|f| f.fault_kind() == k), "{k}");
        }
    }

    /// A fault that hits a service in the catalogue has a kind whose scenario `target` is a
    /// service or a name: a kind with an optional target cannot say which service it hits.
    #[test]
    fn catalogue_targets_fit_the_kinds() {
        for f in CATALOGUE {
            let k = f.fault_kind();
            for (class, target) in f.applies {
                if k.target() == Target::Service {
                    assert!(
                        crate::stack::all_services().any(|s| s == *target),
                        "{} in {class}: `{target}` is no service",
                        f.id
                    );
                }
            }
        }
    }
}
