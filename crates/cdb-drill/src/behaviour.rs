//! What Compose cannot say about the stack's services, in one table: what `/health` checks,
//! whether a service validates its credentials at start, how it holds and renews connections,
//! what stopping it does to open orders. Every entry names the upstream file it was read from
//! (`jannekbuengener/Claire_de_Binare`) or the real-server fact behind it
//! (`docs/real-server-facts.md`, measured by `crates/cdb-lab`), and the world implements
//! exactly these entries. `docs/drill-world.md` shows the table; a test keeps the two equal.

/// One behaviour of one or more services.
#[derive(Debug)]
pub struct Behaviour {
    /// A stable kebab-case id, cited by the world's code where it implements the entry.
    pub id: &'static str,
    /// The services it applies to.
    pub services: &'static [&'static str],
    /// What the service does, in one sentence.
    pub summary: &'static str,
    /// Where it was read: an upstream path, or a real-server fact.
    pub source: &'static str,
}

const PYTHON_HTTP: &[&str] = &[
    "cdb_ws",
    "cdb_risk",
    "cdb_execution",
    "cdb_paper_runner",
    "cdb_signal",
    "cdb_allocation",
    "cdb_candles",
    "cdb_regime",
    "cdb_market",
];

/// The project's own Python services whose entrypoint exports `$(cat /run/secrets/…)` and
/// execs python: they read their files at every start and hold a pooled Redis connection
/// (`redis_conns::HOLDERS`). A test checks the list against the kit's Compose files.
pub const ENTRYPOINT_PYTHON: &[&str] = &[
    "cdb_market",
    "cdb_candles",
    "cdb_regime",
    "cdb_allocation",
    "cdb_risk",
    "cdb_execution",
    "cdb_db_writer",
    "cdb_paper_runner",
    "cdb_ws",
    "cdb_signal",
];

/// Every behaviour the world models beyond the Compose files.
pub const TABLE: &[Behaviour] = &[
    Behaviour {
        id: "health-constant",
        services: PYTHON_HTTP,
        summary: "`GET /health` returns 200 `{\"status\": \"ok\"}` while the process runs; it checks no credential, so a service on a refused password still answers 200",
        source: "services/execution/service.py `health()`, services/*/service.py",
    },
    Behaviour {
        id: "auth-at-start",
        services: &["cdb_risk", "cdb_execution"],
        summary: "at start, `validate_all_auth` pings Redis and logs in to PostgreSQL and exits when either refuses; with `restart: unless-stopped` a wrong password is a crash loop (not running)",
        source: "core/auth.py, services/execution/service.py `main()`, services/risk/service.py",
    },
    Behaviour {
        id: "no-exchange-check-at-start",
        services: &["cdb_risk", "cdb_execution"],
        summary: "nothing checks the MEXC keys at start: a wrong or revoked key shows only when a signed call (balance, order) is made",
        source: "core/auth.py (Redis and PostgreSQL only); stack-facts.md",
    },
    Behaviour {
        id: "no-smtp-check-at-start",
        services: &["cdb_grafana", "cdb_reports"],
        summary: "nothing checks the SMTP app password at start: a wrong one shows only when a mail is sent",
        source: "stack-facts.md (Grafana `GF_SMTP_*__FILE`, services/reports)",
    },
    Behaviour {
        id: "sessions-survive-password-change",
        services: &["cdb_postgres"],
        summary: "a session opened before `ALTER ROLE … PASSWORD` stays open and keeps working; only ending it (`pg_terminate_backend`, a restart) makes the client log in again",
        source: "docs/real-server-facts.md (PostgreSQL), crates/cdb-lab tests",
    },
    Behaviour {
        id: "connections-survive-password-change",
        services: &["cdb_redis"],
        summary: "a connection authenticated before `CONFIG SET requirepass` or `ACL SETUSER default <old` stays authenticated until `CLIENT KILL` or a reconnect",
        source: "docs/real-server-facts.md (Redis), crates/cdb-lab tests",
    },
    Behaviour {
        id: "redis-password-from-command-line",
        services: &["cdb_redis"],
        summary: "`--requirepass $(cat /run/secrets/redis_password)` is read at every start, a restart included, and every runtime `ACL SETUSER` / `CONFIG SET` change is lost then",
        source: "infrastructure/compose/compose.blue.yml (cdb_redis command)",
    },
    Behaviour {
        id: "entrypoint-reads-at-every-start",
        services: ENTRYPOINT_PYTHON,
        summary: "the entrypoint exports `$(cat /run/secrets/…)` and execs python: every start, a restart included, reads the files as they are then",
        source: "infrastructure/compose/compose.blue.yml, compose.red.yml (entrypoints)",
    },
    Behaviour {
        id: "pooled-connections",
        services: &[
            "cdb_market",
            "cdb_candles",
            "cdb_regime",
            "cdb_allocation",
            "cdb_risk",
            "cdb_execution",
            "cdb_db_writer",
            "cdb_paper_runner",
            "cdb_ws",
            "cdb_signal",
            "cdb_reports",
            "cdb_postgres_exporter",
            "cdb_redis_exporter",
            "cdb_grafana",
        ],
        summary: "holds its connections open; reconnects only when one is ended, with the value it read at start, and fails then if the server no longer accepts it",
        source: "services/*/service.py (redis.Redis / psycopg2 clients kept for the process's life); stack-facts.md",
    },
    Behaviour {
        id: "stop-does-not-cancel-orders",
        services: &["cdb_execution"],
        summary: "SIGTERM only ends the message loop; open orders at the exchange are cancelled only on a bot-shutdown event, so stopping the container leaves them open",
        source: "services/execution/service.py `signal_handler`, `_handle_bot_shutdown`",
    },
    Behaviour {
        id: "server-clock-ahead",
        services: &["cdb_postgres"],
        summary: "the server's clock (`now()`, `backend_start`, `docker logs` times) is the Docker VM's and differs from the host's `date`: the world sets it 300 s ahead, a modelling choice that makes any cut-off taken on the host visibly wrong",
        source: "issue 12 defect 4 (the host and the Docker VM clocks drift); Docker Desktop runs containers in a VM with its own clock",
    },
    Behaviour {
        id: "leaker-holds-a-session",
        services: &["cdb_postgres", "cdb_redis", "cdb_grafana"],
        summary: "after a leak, whoever has the value holds a live session or connection opened with it (PostgreSQL session, Redis connection, Grafana login) until it is ended; once ended it does not come back",
        source: "docs/real-server-facts.md (sessions and connections survive a password change); the playbook's threat model",
    },
    Behaviour {
        id: "grafana-sessions-and-lockout",
        services: &["cdb_grafana"],
        summary: "the admin's login sessions outlive `grafana cli admin reset-admin-password` until `POST /api/admin/users/:id/logout`; five failed logins within five minutes lock the user out, the right password included",
        source: "Grafana documentation (user session tokens; brute-force login protection, on by default); not measured on a real server",
    },
    Behaviour {
        id: "trade-key-files",
        services: &["cdb_risk", "cdb_execution"],
        summary: "the world models a setup that trades: the trade key's files `MEXC_TRADE_API_KEY.txt` and `MEXC_TRADE_API_SECRET.txt` are mounted beside the read key's, the same way (today's Compose files mount only the read key)",
        source: "stack-facts.md (\"Trade-key files are not mounted by today's Compose files; where a setup has them, they follow the same pattern\")",
    },
    Behaviour {
        id: "kill-switch-file",
        services: &["cdb_risk", "cdb_execution"],
        summary: "the kill switch is `/app/kill_switch/.cdb_kill_switch.state` on volume `kill_switch_state`: `state=active` stops trading, a missing, empty or unknown state counts as active; it is written atomically and survives restarts and recreates",
        source: "core/safety/kill_switch.py",
    },
];

/// The table as the Markdown `docs/drill-world.md` shows between its markers.
pub fn markdown() -> String {
    let mut out = String::from("| id | services | behaviour | read from |\n|---|---|---|---|\n");
    for b in TABLE {
        let services = if b.services.len() > 4 {
            format!("{} services", b.services.len())
        } else {
            b.services
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            b.id, services, b.summary, b.source
        ));
    }
    out
}

/// Whether behaviour `id` applies to `service`.
pub fn applies(id: &str, service: &str) -> bool {
    TABLE
        .iter()
        .any(|b| b.id == id && b.services.contains(&service))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_services_exist_in_the_kit() {
        let kit = crate::stack::kit();
        let mut seen = std::collections::BTreeSet::new();
        for b in TABLE {
            assert!(seen.insert(b.id), "duplicate {}", b.id);
            assert!(
                b.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                b.id
            );
            assert!(!b.source.is_empty());
            for s in b.services {
                assert!(
                    kit.service(s).is_some(),
                    "{}: no service {s} in the kit",
                    b.id
                );
            }
        }
    }

    #[test]
    fn entrypoint_services_are_those_the_compose_files_say() {
        let mut from_kit: Vec<&str> = crate::stack::kit()
            .services
            .iter()
            .filter(|s| {
                s.reads
                    .iter()
                    .any(|r| r.when == cdb_stack::ReadWhen::EveryStart.as_str())
            })
            .map(|s| s.name.as_str())
            .filter(|s| {
                !matches!(
                    *s,
                    "cdb_redis" | "cdb_postgres_exporter" | "cdb_redis_exporter"
                )
            })
            .collect();
        from_kit.sort_unstable();
        let mut listed = ENTRYPOINT_PYTHON.to_vec();
        listed.sort_unstable();
        assert_eq!(from_kit, listed);
    }

    #[test]
    fn health_constant_is_what_the_compose_health_checks_say() {
        // The table says which services answer a constant `/health`; the Compose files say
        // which services' health checks call it: the two must agree.
        for s in &crate::stack::kit().services {
            let constant = s.health == "http-constant";
            assert_eq!(constant, applies("health-constant", &s.name), "{}", s.name);
        }
    }
}
