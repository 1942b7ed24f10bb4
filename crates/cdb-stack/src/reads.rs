//! Which secret files a service reads, how and when: what a rotation must do for the service to see a new value.
//!
//! Compose mounts each secret's host file at `/run/secrets/<target>`. What
//! reads it follows from the service's definition:
//! - an entrypoint or command that runs `$(cat /run/secrets/x)` in a shell
//!   reads the file every time the container starts, a restart included
//!   ([`ReadWhen::EveryStart`]): the shell runs again at each start;
//! - a `*_FILE` variable pointing at the mount is read by the image's own
//!   start-up code at each start ([`ReadWhen::AtStart`]): the convention of
//!   the official images and Grafana's `__FILE` settings;
//! - except where that code applies the value only on first initialisation
//!   ([`ReadWhen::FirstInitOnly`]): the official PostgreSQL image reads
//!   `POSTGRES_PASSWORD_FILE` only when it initialises an empty data
//!   directory (its documentation: "will not be used if you start the
//!   container with a data directory that already contains a database"), and
//!   Grafana applies `GF_SECURITY_ADMIN_PASSWORD__FILE` only when it creates
//!   the admin user on its first start (its configuration reference for
//!   `admin_password`); both rules are in `stack-facts.md` of the mission;
//! - a mounted file nothing in the Compose file reads is read, if at all, by
//!   the program's own code ([`ReadWhen::Unsaid`]); the drill world's
//!   behaviour table (issue 11) says what each program does.

use crate::compose::Service;
use crate::merge::Project;
use crate::{Located, Pos};

/// When a service reads a secret file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReadWhen {
    /// At every container start, a restart included: a shell `$(cat …)` in the entrypoint or command.
    EveryStart,
    /// At container start, by the image's start-up code (`*_FILE`).
    AtStart,
    /// Only when the image first initialises its data (`POSTGRES_PASSWORD_FILE`, Grafana's admin password).
    FirstInitOnly,
    /// Mounted, but the Compose file does not say who reads it or when.
    Unsaid,
}

impl ReadWhen {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadWhen::EveryStart => "every start",
            ReadWhen::AtStart => "at start",
            ReadWhen::FirstInitOnly => "first initialisation only",
            ReadWhen::Unsaid => "not said by Compose",
        }
    }
}

/// How the value travels from the file into the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A shell substitution in the entrypoint or command. `variable` is the
    /// shell variable it is assigned to (`REDIS_PASSWORD`), `None` when the
    /// value becomes a word of a command line (`--requirepass $(cat …)`),
    /// where `ps` and `docker top` show it.
    Shell { variable: Option<String> },
    /// A `*_FILE` environment variable naming the mount.
    FileVariable(String),
    /// Nothing in the Compose file.
    Mounted,
}

/// One read of one secret file by one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretRead {
    pub service: String,
    /// The secret's Compose name (`redis_password`).
    pub secret: String,
    /// The host file's name (`REDIS_PASSWORD`, `MEXC_API_KEY.txt`), when the project declares it.
    pub file: Option<String>,
    pub mount_path: String,
    pub when: ReadWhen,
    pub via: Via,
    /// Where the read is written (the variable, the command, or the `secrets:` entry).
    pub at: Pos,
}

impl SecretRead {
    /// The value is on a process's command line (visible to `ps` on the host).
    pub fn on_command_line(&self) -> bool {
        matches!(self.via, Via::Shell { variable: None })
    }
}

/// Variables whose file the image applies on first initialisation only (see the module comment).
const FIRST_INIT_ONLY: &[&str] = &["POSTGRES_PASSWORD_FILE", "GF_SECURITY_ADMIN_PASSWORD__FILE"];

/// Every read of every secret `service` mounts, in `secrets:` order; a
/// secret read in two ways gives two reads, one read by nothing gives one
/// [`ReadWhen::Unsaid`] read.
pub fn secret_reads(project: &Project, service: &Service) -> Vec<SecretRead> {
    let mut out = Vec::new();
    for u in &service.secrets {
        let file = project
            .secret(&u.source.value)
            .map(|d| d.file_name().to_owned());
        let read = |when, via, at: &Pos| SecretRead {
            service: service.name.value.clone(),
            secret: u.source.value.clone(),
            file: file.clone(),
            mount_path: u.mount_path.clone(),
            when,
            via,
            at: at.clone(),
        };
        let before = out.len();
        for e in &service.environment {
            if e.value.as_deref() != Some(u.mount_path.as_str()) {
                continue;
            }
            let name = &e.name.value;
            let when = if FIRST_INIT_ONLY.contains(&name.as_str()) {
                ReadWhen::FirstInitOnly
            } else if name.ends_with("_FILE") {
                ReadWhen::AtStart
            } else {
                continue;
            };
            out.push(read(when, Via::FileVariable(name.clone()), &e.name.at));
        }
        for cmd in [&service.entrypoint, &service.command]
            .into_iter()
            .flatten()
        {
            for variable in shell_reads(cmd, &u.mount_path) {
                out.push(read(ReadWhen::EveryStart, Via::Shell { variable }, &cmd.at));
            }
        }
        if out.len() == before {
            out.push(read(ReadWhen::Unsaid, Via::Mounted, &u.source.at));
        }
    }
    out
}

/// Each `$(cat PATH…)` of `cmd`, with the shell variable it is assigned to, if any.
fn shell_reads(cmd: &Located<crate::Command>, path: &str) -> Vec<Option<String>> {
    let text = cmd.value.text();
    let needle = format!("$(cat {path}");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find(&needle) {
        let start = from + i;
        let end = start + needle.len();
        // `/run/secrets/redis_password_dsn` must not count as a read of `redis_password`.
        let next = text[end..].chars().next();
        if next.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')) {
            out.push(assigned_variable(&text[..start]));
        }
        from = end;
    }
    out
}

/// The shell variable an assignment just before a substitution names:
/// `export NAME=` or `NAME="` gives `NAME`; anything else (an option such as
/// `--requirepass ` or `--redis.password=`) gives `None`.
fn assigned_variable(before: &str) -> Option<String> {
    let before = before.strip_suffix('"').unwrap_or(before);
    let before = before.strip_suffix('=')?;
    let word = before.rsplit(|c: char| c.is_whitespace()).next()?;
    let mut chars = word.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then(|| word.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_and_argument_are_told_apart() {
        assert_eq!(
            assigned_variable("sh -c export REDIS_PASSWORD="),
            Some("REDIS_PASSWORD".into())
        );
        assert_eq!(
            assigned_variable("export PGPASSWORD=\""),
            Some("PGPASSWORD".into())
        );
        assert_eq!(assigned_variable("redis-server --requirepass "), None);
        assert_eq!(
            assigned_variable("exec redis_exporter --redis.password="),
            None
        );
        assert_eq!(assigned_variable(""), None);
        assert_eq!(assigned_variable("="), None);
    }
}
