//! `LabError`: why a lab server could not start, and the skip policy for missing packages.

use std::fmt;
use std::path::PathBuf;

/// The command that installs what the lab needs on Debian and Ubuntu.
pub const INSTALL_HINT: &str = "sudo apt-get install postgresql redis-server";

/// One clear reason a lab server did not start.
#[derive(Debug)]
pub enum LabError {
    /// A program the lab needs is not installed.
    Missing { program: String, looked_in: String },
    /// The loopback port asked for is already bound by another process.
    PortTaken { server: &'static str, port: u16 },
    /// The instance dir could not be created or prepared.
    Dir { path: PathBuf, cause: String },
    /// The server (or its `initdb`) exited or did not become ready in time.
    Start { server: &'static str, cause: String },
}

impl LabError {
    /// Whether the error means "not installed" (a skip for a contributor, a failure in CI).
    pub fn is_missing(&self) -> bool {
        matches!(self, LabError::Missing { .. })
    }
}

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabError::Missing { program, looked_in } => write!(
                f,
                "{program} is not installed (looked in {looked_in}); install it with `{INSTALL_HINT}`"
            ),
            LabError::PortTaken { server, port } => write!(
                f,
                "{server} cannot start: port 127.0.0.1:{port} is already in use by another process"
            ),
            LabError::Dir { path, cause } => write!(
                f,
                "cannot prepare the instance dir {}: {cause}",
                path.display()
            ),
            LabError::Start { server, cause } => write!(f, "{server} did not start: {cause}"),
        }
    }
}

impl std::error::Error for LabError {}

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
