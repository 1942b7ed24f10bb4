//! One test per health-check class and per read rule, on minimal services.

use cdb_stack::{
    Command, Description, HealthProof, ReadWhen, Source, Via, classify, health::classify_test,
};

fn list(words: &[&str]) -> Command {
    Command::List(words.iter().map(|w| (*w).to_owned()).collect())
}

#[test]
fn process_checks() {
    assert_eq!(
        classify_test(&list(&["CMD-SHELL", "kill -0 1 || exit 1"]), true),
        HealthProof::Process
    );
    assert_eq!(
        classify_test(&list(&["CMD", "pgrep", "-f", "job.py"]), true),
        HealthProof::Process
    );
}

#[test]
fn port_checks() {
    assert_eq!(
        classify_test(
            &list(&["CMD-SHELL", "nc -z localhost 9090 || exit 1"]),
            false
        ),
        HealthProof::Port
    );
    assert_eq!(
        classify_test(
            &list(&[
                "CMD-SHELL",
                "bash -c 'exec 3<>/dev/tcp/127.0.0.1/9121' || exit 1"
            ]),
            false
        ),
        HealthProof::Port
    );
}

#[test]
fn http_checks_are_constant_only_for_the_projects_own_health_path() {
    let curl = list(&["CMD", "curl", "-fsS", "http://localhost:8009/health"]);
    assert_eq!(
        classify_test(&curl, true),
        HealthProof::HttpConstant {
            path: "/health".into()
        }
    );
    assert_eq!(
        classify_test(&curl, false),
        HealthProof::Http {
            path: "/health".into()
        }
    );
    let grafana = list(&["CMD", "curl", "-fsS", "http://localhost:3000/api/health"]);
    assert_eq!(
        classify_test(&grafana, false),
        HealthProof::Http {
            path: "/api/health".into()
        }
    );
    assert_eq!(
        classify_test(
            &Command::String("wget -q -O- http://localhost:9090/-/healthy".into()),
            false
        ),
        HealthProof::Http {
            path: "/-/healthy".into()
        }
    );
}

#[test]
fn server_up_and_login() {
    assert_eq!(
        classify_test(&list(&["CMD-SHELL", "pg_isready -U u -d d"]), false),
        HealthProof::ServerUp
    );
    assert_eq!(
        classify_test(
            &list(&[
                "CMD",
                "sh",
                "-c",
                "redis-cli -a $$(cat /run/secrets/redis_password) ping"
            ]),
            false
        ),
        HealthProof::Login {
            secret_file: Some("/run/secrets/redis_password".into()),
            variable: None
        }
    );
    assert_eq!(
        classify_test(
            &list(&[
                "CMD",
                "sh",
                "-c",
                "redis-cli -a \"$(cat /run/secrets/r)\" ping"
            ]),
            false
        ),
        HealthProof::Login {
            secret_file: Some("/run/secrets/r".into()),
            variable: None
        }
    );
    assert_eq!(
        classify_test(
            &list(&[
                "CMD",
                "sh",
                "-c",
                "redis-cli --tls -a $$REDIS_PASSWORD ping"
            ]),
            false
        ),
        HealthProof::Login {
            secret_file: None,
            variable: Some("REDIS_PASSWORD".into())
        }
    );
    assert_eq!(
        classify_test(&list(&["CMD", "redis-cli", "ping"]), false),
        HealthProof::ServerUp
    );
}

#[test]
fn none_and_unknown() {
    assert_eq!(classify_test(&list(&["NONE"]), false), HealthProof::None);
    assert_eq!(
        classify_test(&list(&["CMD", "/bin/check"]), false),
        HealthProof::Unclassified("/bin/check".into())
    );
    let d = Description::parse(&[Source {
        path: "p.yml".into(),
        text: "name: p\nservices:\n  a:\n    image: x\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n      disable: true\n  b:\n    image: y\n".into(),
    }])
    .expect("valid");
    let p = &d.projects[0];
    assert_eq!(
        classify(p.service("a").expect("a")).value,
        HealthProof::None
    );
    assert_eq!(
        classify(p.service("b").expect("b")).value,
        HealthProof::None
    );
}

fn reads_of(text: &str) -> Vec<(String, ReadWhen, Via)> {
    let d = Description::parse(&[Source {
        path: "p.yml".into(),
        text: text.into(),
    }])
    .unwrap_or_else(|e| panic!("{e:?}"));
    d.reads()
        .into_iter()
        .map(|r| (r.secret, r.when, r.via))
        .collect()
}

const SECRETS: &str = "secrets:\n  s:\n    file: ./S\n  s_dsn:\n    file: ./S_DSN\n";

#[test]
fn entrypoint_cat_is_read_at_every_start() {
    let text = format!(
        "name: p\nservices:\n  a:\n    image: x\n    secrets: [s, s_dsn]\n    entrypoint: [\"sh\", \"-c\", \"export S=$(cat /run/secrets/s) && exec app\"]\n{SECRETS}"
    );
    let r = reads_of(&text);
    assert_eq!(
        r[0],
        (
            "s".into(),
            ReadWhen::EveryStart,
            Via::Shell {
                variable: Some("S".into())
            }
        )
    );
    // `/run/secrets/s` is a prefix of `/run/secrets/s_dsn`: not a read of `s_dsn`.
    assert_eq!(r[1], ("s_dsn".into(), ReadWhen::Unsaid, Via::Mounted));
}

#[test]
fn file_variables_are_read_at_start() {
    let text = format!(
        "name: p\nservices:\n  a:\n    image: x\n    secrets: [s]\n    environment:\n      APP_TOKEN_FILE: /run/secrets/s\n{SECRETS}"
    );
    assert_eq!(
        reads_of(&text),
        [(
            "s".into(),
            ReadWhen::AtStart,
            Via::FileVariable("APP_TOKEN_FILE".into())
        )]
    );
}

#[test]
fn postgres_and_grafana_admin_files_apply_on_first_init_only() {
    for var in ["POSTGRES_PASSWORD_FILE", "GF_SECURITY_ADMIN_PASSWORD__FILE"] {
        let text = format!(
            "name: p\nservices:\n  a:\n    image: x\n    secrets: [s]\n    environment:\n      - {var}=/run/secrets/s\n{SECRETS}"
        );
        assert_eq!(
            reads_of(&text),
            [(
                "s".into(),
                ReadWhen::FirstInitOnly,
                Via::FileVariable(var.into())
            )]
        );
    }
}

#[test]
fn a_long_form_target_moves_the_mount() {
    let text = format!(
        "name: p\nservices:\n  a:\n    image: x\n    secrets:\n      - source: s\n        target: token\n    environment:\n      T_FILE: /run/secrets/token\n{SECRETS}"
    );
    assert_eq!(
        reads_of(&text),
        [(
            "s".into(),
            ReadWhen::AtStart,
            Via::FileVariable("T_FILE".into())
        )]
    );
}
