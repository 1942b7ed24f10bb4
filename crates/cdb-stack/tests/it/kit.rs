//! The kit's own description (`stack/compose/`): it parses, and says what `stack-facts.md` says.

use cdb_stack::{Description, HealthProof, MountKind, ReadWhen, Source, Via, classify};
use std::path::Path;

pub fn kit_sources() -> Vec<Source> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stack/compose");
    [
        "compose.blue.yml",
        "compose.red.yml",
        "tls.yml",
        "rollback.yml",
    ]
    .iter()
    .map(|name| Source {
        path: format!("stack/compose/{name}"),
        text: std::fs::read_to_string(dir.join(name)).expect("the kit's stack file is readable"),
    })
    .collect()
}

fn kit() -> Description {
    match Description::parse(&kit_sources()) {
        Ok(d) => d,
        Err(errors) => panic!("the kit's stack does not parse: {errors:?}"),
    }
}

fn names(d: &Description, project: &str) -> Vec<String> {
    let p = d
        .projects
        .iter()
        .find(|p| p.name.as_deref() == Some(project))
        .expect("project exists");
    p.services.iter().map(|s| s.name.value.clone()).collect()
}

#[test]
fn projects_and_services_are_those_of_the_stack() {
    let d = kit();
    assert_eq!(d.projects.len(), 2);
    assert_eq!(
        names(&d, "cdb-blue"),
        [
            "cdb_postgres",
            "cdb_redis",
            "cdb_market",
            "cdb_candles",
            "cdb_regime",
            "cdb_allocation",
            "cdb_risk",
            "cdb_execution",
            "cdb_db_writer",
            "cdb_paper_runner"
        ]
    );
    assert_eq!(
        names(&d, "cdb-red"),
        [
            "cdb_ws",
            "cdb_signal",
            "cdb_prometheus",
            "cdb_grafana",
            "cdb_postgres_exporter",
            "cdb_redis_exporter",
            "cdb_cadvisor",
            "cdb_reports"
        ]
    );
    for p in &d.projects {
        let net = p.networks.iter().find(|n| n.name.value == "cdb_network");
        assert!(net.is_some_and(|n| n.external), "{:?}", p.name);
        for s in &p.services {
            assert_eq!(s.networks.len(), 1);
            assert_eq!(s.networks[0].value, "cdb_network");
            for port in &s.ports {
                assert_eq!(
                    port.value.host_ip.as_deref(),
                    Some("127.0.0.1"),
                    "{}",
                    s.name.value
                );
            }
        }
    }
}

#[test]
fn kill_switch_volume_is_shared_by_risk_and_execution() {
    let d = kit();
    for name in ["cdb_risk", "cdb_execution"] {
        let p = d.project_of(name).expect("defined");
        let s = p.service(name).expect("defined");
        assert!(s.volumes.iter().any(|m| m.value.kind
            == MountKind::Volume("kill_switch_state".into())
            && m.value.target == "/app/kill_switch"));
        assert_eq!(
            s.env("CDB_KILL_SWITCH_STATE_FILE"),
            Some("/app/kill_switch/.cdb_kill_switch.state")
        );
    }
    assert_eq!(
        d.project_of("cdb_execution")
            .and_then(|p| p.service("cdb_execution"))
            .and_then(|s| s.env("MOCK_TRADING")),
        Some("true")
    );
}

#[test]
fn secret_files_carry_upstreams_names() {
    let d = kit();
    let blue = d
        .projects
        .iter()
        .find(|p| p.name.as_deref() == Some("cdb-blue"))
        .expect("blue");
    let files: Vec<&str> = blue.secrets.iter().map(|s| s.file_name()).collect();
    assert_eq!(
        files,
        [
            "REDIS_PASSWORD",
            "POSTGRES_PASSWORD",
            "MEXC_API_KEY.txt",
            "MEXC_API_SECRET.txt"
        ]
    );
}

fn read(d: &Description, service: &str, secret: &str) -> Vec<(ReadWhen, Via)> {
    d.reads()
        .into_iter()
        .filter(|r| r.service == service && r.secret == secret)
        .map(|r| (r.when, r.via))
        .collect()
}

#[test]
fn each_read_rule_applies_where_stack_facts_say() {
    let d = kit();
    let shell = |v: &str| Via::Shell {
        variable: Some(v.into()),
    };
    let argv = Via::Shell { variable: None };
    let var = |v: &str| Via::FileVariable(v.into());
    let table = [
        (
            "cdb_execution",
            "mexc_api_secret",
            ReadWhen::EveryStart,
            shell("MEXC_API_SECRET"),
        ),
        (
            "cdb_redis",
            "redis_password",
            ReadWhen::EveryStart,
            argv.clone(),
        ),
        (
            "cdb_redis_exporter",
            "redis_password",
            ReadWhen::EveryStart,
            argv,
        ),
        (
            "cdb_postgres_exporter",
            "postgres_password",
            ReadWhen::EveryStart,
            shell("PGPASSWORD"),
        ),
        (
            "cdb_postgres",
            "postgres_password",
            ReadWhen::FirstInitOnly,
            var("POSTGRES_PASSWORD_FILE"),
        ),
        (
            "cdb_grafana",
            "grafana_password",
            ReadWhen::FirstInitOnly,
            var("GF_SECURITY_ADMIN_PASSWORD__FILE"),
        ),
        (
            "cdb_grafana",
            "smtp_password",
            ReadWhen::AtStart,
            var("GF_SMTP_PASSWORD__FILE"),
        ),
        (
            "cdb_reports",
            "postgres_password_dsn",
            ReadWhen::AtStart,
            var("POSTGRES_DSN_FILE"),
        ),
        // Read by the program's own code (or by nothing): Compose does not say.
        (
            "cdb_reports",
            "smtp_password",
            ReadWhen::Unsaid,
            Via::Mounted,
        ),
        (
            "cdb_grafana",
            "alert_email_to",
            ReadWhen::Unsaid,
            Via::Mounted,
        ),
    ];
    for (service, secret, when, via) in table {
        assert_eq!(
            read(&d, service, secret),
            [(when, via)],
            "{service} {secret}"
        );
    }
}

#[test]
fn only_the_redis_exporter_and_redis_put_a_password_on_a_command_line() {
    let d = kit();
    let mut on_argv: Vec<String> = d
        .reads()
        .into_iter()
        .filter(|r| r.on_command_line())
        .map(|r| r.service)
        .collect();
    on_argv.sort();
    assert_eq!(on_argv, ["cdb_redis", "cdb_redis_exporter"]);
}

#[test]
fn the_postgres_exporters_dsn_holds_no_password() {
    let d = kit();
    let p = d.project_of("cdb_postgres_exporter").expect("defined");
    let s = p.service("cdb_postgres_exporter").expect("defined");
    let text = s.command.as_ref().expect("command").value.text();
    assert!(text.contains("DATA_SOURCE_NAME=\"host=cdb_postgres port=5432"));
    assert!(text.contains("sslmode=disable"));
    assert!(!text.contains("password="));
}

#[test]
fn health_checks_are_classified_as_stack_facts_says() {
    let d = kit();
    let proof = |name: &str| {
        let p = d.project_of(name).expect("defined");
        classify(p.service(name).expect("defined")).value
    };
    for python in [
        "cdb_market",
        "cdb_candles",
        "cdb_regime",
        "cdb_allocation",
        "cdb_risk",
        "cdb_execution",
        "cdb_paper_runner",
        "cdb_ws",
        "cdb_signal",
    ] {
        assert_eq!(
            proof(python),
            HealthProof::HttpConstant {
                path: "/health".into()
            },
            "{python}"
        );
    }
    assert_eq!(proof("cdb_db_writer"), HealthProof::Process);
    assert_eq!(proof("cdb_reports"), HealthProof::Process);
    assert_eq!(proof("cdb_prometheus"), HealthProof::Port);
    assert_eq!(proof("cdb_postgres_exporter"), HealthProof::Port);
    assert_eq!(proof("cdb_redis_exporter"), HealthProof::Port);
    assert_eq!(proof("cdb_postgres"), HealthProof::ServerUp);
    assert_eq!(
        proof("cdb_redis"),
        HealthProof::Login {
            secret_file: Some("/run/secrets/redis_password".into()),
            variable: None
        }
    );
    assert_eq!(
        proof("cdb_grafana"),
        HealthProof::Http {
            path: "/api/health".into()
        }
    );
    assert_eq!(proof("cdb_cadvisor"), HealthProof::None);
    let credential: Vec<&str> = d
        .services()
        .filter(|(_, s)| classify(s).value.proves_a_credential())
        .map(|(_, s)| s.name.value.as_str())
        .collect();
    assert_eq!(credential, ["cdb_redis"]);
}

#[test]
fn the_tls_overlay_changes_redis_and_postgres_as_upstream_does() {
    let d = kit();
    let p = d
        .with_overlays("stack/compose/compose.blue.yml", &["stack/compose/tls.yml"])
        .expect("blue + tls merges");
    let redis = p.service("cdb_redis").expect("redis");
    let cmd = redis.command.as_ref().expect("command").value.text();
    assert!(cmd.contains("--port 0") && cmd.contains("--tls-port 6379"));
    assert!(cmd.contains("--tls-auth-clients optional"));
    // The overlay's command is no shell: the password file is no longer read.
    assert_eq!(
        cdb_stack::secret_reads(&p, redis)
            .iter()
            .map(|r| r.when)
            .collect::<Vec<_>>(),
        [ReadWhen::Unsaid]
    );
    assert_eq!(
        classify(redis).value,
        HealthProof::Login {
            secret_file: None,
            variable: Some("REDIS_PASSWORD".into())
        }
    );
    assert!(
        redis
            .volumes
            .iter()
            .any(|m| m.value.target == "/tls" && m.value.read_only)
    );
    let pg = p.service("cdb_postgres").expect("postgres");
    assert!(pg.env("POSTGRES_PASSWORD_FILE").is_some());
    assert_eq!(pg.env("POSTGRES_PASSWORD"), Some("${POSTGRES_PASSWORD}"));
    let data: Vec<&str> = pg
        .volumes
        .iter()
        .filter(|m| m.value.kind == MountKind::Volume("postgres_data".into()))
        .map(|m| m.value.target.as_str())
        .collect();
    assert_eq!(data, ["/var/lib/postgresql", "/var/lib/postgresql/data"]);
    let risk = p.service("cdb_risk").expect("risk");
    assert_eq!(risk.env("REDIS_TLS"), Some("true"));
    assert_eq!(risk.env("POSTGRES_SSLMODE"), Some("verify-ca"));
    // cdb_ws belongs to cdb-red: with blue it is added half-defined, as Compose would.
    let ws = p.service("cdb_ws").expect("added by the overlay");
    assert!(ws.image.is_none() && !ws.build);
}

/// Upstream's rollback overlay (commit in `stack/compose/rollback.yml`): nine built services
/// pinned to `…:${ROLLBACK_TAG:-latest}`, `build: null` removing nothing, and the pin lost
/// by a recreate with the base file alone (the base's image is Compose's default name).
#[test]
fn the_rollback_overlay_pins_the_built_images_and_keeps_build() {
    let d = kit();
    let overlay = d.file("stack/compose/rollback.yml").expect("rollback.yml");
    assert!(overlay.name.is_none(), "an overlay has no `name:`");
    let mut pinned: Vec<&str> = overlay
        .services
        .iter()
        .map(|s| s.name.value.as_str())
        .collect();
    pinned.sort_unstable();
    assert_eq!(
        pinned,
        [
            "cdb_allocation",
            "cdb_db_writer",
            "cdb_execution",
            "cdb_market",
            "cdb_paper_runner",
            "cdb_regime",
            "cdb_risk",
            "cdb_signal",
            "cdb_ws"
        ]
    );
    let base = d
        .with_overlays("stack/compose/compose.blue.yml", &[])
        .expect("blue alone");
    let p = d
        .with_overlays(
            "stack/compose/compose.blue.yml",
            &["stack/compose/rollback.yml"],
        )
        .expect("blue + rollback merges");
    let risk = p.service("cdb_risk").expect("risk");
    let pin = risk.image.as_ref().expect("pinned");
    assert_eq!(
        pin.value,
        "${COMPOSE_PROJECT_NAME:-claire_de_binare}_cdb_risk:${ROLLBACK_TAG:-latest}"
    );
    assert_eq!(pin.at.file, "stack/compose/rollback.yml");
    // `build: null` keeps the base's build (compose-go's merge keeps a value a later file
    // sets to null), so the service is still one of the project's own builds.
    assert!(risk.build);
    // Resolved as Compose would under project cdb-blue: the project name, then the tag.
    let env = |tag: Option<&'static str>| {
        move |k: &str| match k {
            "COMPOSE_PROJECT_NAME" => Some("cdb-blue".to_owned()),
            "ROLLBACK_TAG" => tag.map(str::to_owned),
            _ => None,
        }
    };
    assert_eq!(
        cdb_stack::interpolate(&risk.image_or_default("cdb-blue"), &env(Some("r1"))).as_deref(),
        Ok("cdb-blue_cdb_risk:r1")
    );
    assert_eq!(
        cdb_stack::interpolate(&risk.image_or_default("cdb-blue"), &env(None)).as_deref(),
        Ok("cdb-blue_cdb_risk:latest")
    );
    // Without the overlay: the name Compose builds the image under, another repository.
    let plain = base.service("cdb_risk").expect("risk");
    assert_eq!(plain.image_or_default("cdb-blue"), "cdb-blue-cdb_risk");
    // Services it does not pin keep their base image; a server's is its own.
    assert_eq!(
        p.service("cdb_candles")
            .expect("candles")
            .image_or_default("cdb-blue"),
        "cdb-blue-cdb_candles"
    );
    assert_eq!(
        p.service("cdb_postgres")
            .expect("pg")
            .image_or_default("cdb-blue"),
        "postgres:18.4-alpine"
    );
    // The overlay names cdb_ws (cdb-red) too: with blue, Compose adds it half-defined.
    assert!(base.service("cdb_ws").is_none() && p.service("cdb_ws").is_some());
}
