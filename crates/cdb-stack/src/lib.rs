//! The stack as its Compose files describe it: a typed, pure model for `verify` and (issue 11) the drill world.
//!
//! [`parse_file`] turns one Compose file into a [`ComposeFile`]: services with
//! their secrets, environment, entrypoint and command, health check, ports,
//! volumes and networks, each with the file, line and column it came from.
//! [`merge`] applies files in `-f` order as Compose does for the subset of
//! Compose the stack uses. [`reads`] says which secret files a service reads
//! and when; [`health`] says what a health check proves; [`interpolate`]
//! resolves `${VAR:-default}` where a caller needs a value as Compose would run it.
//!
//! The crate is pure: it never touches the file system, the network or a
//! process, and has no platform-specific code, so it builds for Windows (where
//! operators run the stack) as well as Linux. Callers read the files and pass
//! their text.
//!
//! Anything outside the supported subset (`extends`, `include`, an unknown
//! key, a secret without `file:`, malformed YAML) is a [`StackError`] naming
//! the file, line and column, never a silent default.

pub mod compose;
pub mod description;
pub mod health;
pub mod interpolate;
pub mod merge;
pub mod reads;

pub use compose::{
    Command, ComposeFile, EnvVar, Healthcheck, Mount, MountKind, NetworkDef, Port, SecretDef,
    SecretUse, Service, parse_file,
};
pub use description::{Description, Source};
pub use health::{HealthProof, classify};
pub use interpolate::interpolate;
pub use merge::{Project, merge};
pub use reads::secret_reads;
pub use reads::{ReadWhen, SecretRead, Via};

use std::fmt;

/// Where something is written: a file and a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A value with the place it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub at: Pos,
}

/// Why a Compose file (or a set of them) is outside what the model supports.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {message}")]
pub struct StackError {
    pub at: Pos,
    pub message: String,
}

impl StackError {
    pub(crate) fn new(at: &Pos, message: impl Into<String>) -> StackError {
        StackError {
            at: at.clone(),
            message: message.into(),
        }
    }
}
