//! `LabError`: why a lab server could not start, and the skip policy for missing packages.

use std::path::PathBuf;

/// The command that installs what the lab needs on Debian and Ubuntu.
pub const INSTALL_HINT: &str = "sudo apt-get install postgresql redis-server";

/// One clear reason a lab server did not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A program the lab needs is not installed.
    #[error("{program} is not installed (looked in {looked_in}); install it with `{INSTALL_HINT}`")]
    Missing { program: String, looked_in: String },
    /// The loopback port asked for is already bound by another process.
    #[error("{server} cannot start: port 127.0.0.1:{port} is already in use by another process")]
    PortTaken { server: &'static str, port: u16 },
    /// The instance dir could not be created or prepared.
    #[error("cannot prepare the instance dir {}: {cause}", path.display())]
    Dir { path: PathBuf, cause: String },
    /// The server (or its `initdb`) exited or did not become ready in time.
    #[error("{server} did not start: {cause}")]
    Start { server: &'static str, cause: String },
}

impl LabError {
    /// Whether the error means "not installed" (a skip for a contributor, a failure in CI).
    pub fn is_missing(&self) -> bool {
        matches!(self, LabError::Missing { .. })
    }
}

/// The skip policy: a missing package skips a test for a contributor (`None`, with a message
/// on stderr naming the install command) but fails it under `CI=true`; any other error fails.
///
/// # Panics
/// Panics with the error's message when the test must fail.
pub fn skip_or_fail<T>(result: Result<T, LabError>, ci: bool) -> Option<T> {
    match result {
        Ok(server) => Some(server),
        Err(e) if e.is_missing() && !ci => {
            eprintln!("skipped: {e}");
            None
        }
        Err(e) if e.is_missing() => panic!("{e} (CI=true: a missing server fails the test)"),
        Err(e) => panic!("{e}"),
    }
}
