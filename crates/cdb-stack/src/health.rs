//! What a service's health check proves, read from its `test` command.
//!
//! A green health check is evidence only for what its command looks at. The
//! classes, from weakest to strongest: the process exists, a port accepts a
//! connection, an HTTP endpoint answers (a constant one for the project's own
//! Python services: their `/health` handlers return 200 without checking any
//! credential, per `stack-facts.md`), the server is up (`pg_isready`, no
//! login), and a real login with a password.

use crate::compose::{Command, Service};
use crate::{Located, Pos};

/// What a passing health check shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HealthProof {
    /// No health check, or `disable: true` / `NONE`.
    None,
    /// A process exists (`kill -0`, `pgrep`).
    Process,
    /// A TCP port accepts connections (`nc -z`, bash's `/dev/tcp`).
    Port,
    /// `/health` of one of the project's own services (built from the repository): a constant 200.
    HttpConstant { path: String },
    /// Another HTTP endpoint (`/api/health`, `/-/healthy`): what it checks is the server's business.
    Http { path: String },
    /// The server accepts connections, without logging in (`pg_isready`).
    ServerUp,
    /// A login with a password: from a mounted file when `secret_file` is the
    /// mount path, else from `variable` of the container's environment.
    Login {
        secret_file: Option<String>,
        variable: Option<String>,
    },
    /// A command the classifier does not know.
    Unclassified(String),
}

impl HealthProof {
    /// A short stable name of the class, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            HealthProof::None => "none",
            HealthProof::Process => "process",
            HealthProof::Port => "port",
            HealthProof::HttpConstant { .. } => "http-constant",
            HealthProof::Http { .. } => "http",
            HealthProof::ServerUp => "server-up",
            HealthProof::Login { .. } => "login",
            HealthProof::Unclassified(_) => "unclassified",
        }
    }

    /// Whether a passing check shows that some credential is accepted.
    pub fn proves_a_credential(&self) -> bool {
        matches!(self, HealthProof::Login { .. })
    }
}

/// Classifies `service`'s health check; the position is the `test`'s (or the service's when there is none).
pub fn classify(service: &Service) -> Located<HealthProof> {
    let at = |p: &Pos| p.clone();
    let Some(hc) = &service.healthcheck else {
        return Located {
            value: HealthProof::None,
            at: at(&service.name.at),
        };
    };
    let Some(test) = &hc.test else {
        return Located {
            value: if hc.disable {
                HealthProof::None
            } else {
                HealthProof::Unclassified(String::new())
            },
            at: at(&hc.at),
        };
    };
    let value = if hc.disable {
        HealthProof::None
    } else {
        classify_test(&test.value, service.build)
    };
    Located {
        value,
        at: at(&test.at),
    }
}

/// Classifies a `test` command. `own_service` is true for services built from the repository.
pub fn classify_test(test: &Command, own_service: bool) -> HealthProof {
    let words = test.words();
    let text = match words.first().map(String::as_str) {
        Some("NONE") => return HealthProof::None,
        Some("CMD" | "CMD-SHELL") => words[1..].join(" "),
        _ => words.join(" "),
    };
    let has = |w: &str| text.contains(w);
    if has("pg_isready") {
        return HealthProof::ServerUp;
    }
    if has("redis-cli") {
        return redis_cli(&text);
    }
    if has("kill -0") || has("pgrep") {
        return HealthProof::Process;
    }
    if has("nc -z") || has("/dev/tcp/") {
        return HealthProof::Port;
    }
    if (has("curl") || has("wget"))
        && let Some(path) = url_path(&text)
    {
        return if own_service && path == "/health" {
            HealthProof::HttpConstant { path }
        } else {
            HealthProof::Http { path }
        };
    }
    HealthProof::Unclassified(text)
}

/// `redis-cli … ping`: a login when a password is given (`-a`), else only that the server answers.
fn redis_cli(text: &str) -> HealthProof {
    let Some(i) = text.find(" -a ") else {
        return HealthProof::ServerUp;
    };
    let arg = text[i + 4..].trim_start();
    let arg = arg.trim_start_matches('"');
    if let Some(rest) = arg.strip_prefix("$(cat ") {
        let path: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != ')' && *c != '"')
            .collect();
        return HealthProof::Login {
            secret_file: Some(path),
            variable: None,
        };
    }
    if let Some(rest) = arg.strip_prefix('$') {
        let rest = rest.strip_prefix('{').unwrap_or(rest);
        let var: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        return HealthProof::Login {
            secret_file: None,
            variable: (!var.is_empty()).then_some(var),
        };
    }
    HealthProof::Login {
        secret_file: None,
        variable: None,
    }
}

/// The path of the first `http://` or `https://` URL in `text`.
fn url_path(text: &str) -> Option<String> {
    let start = text.find("http://").or_else(|| text.find("https://"))?;
    let url = &text[start..];
    let url = url
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .next()?;
    let after_scheme = url.split_once("//")?.1;
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    Some(path.split('?').next().unwrap_or(path).to_owned())
}
