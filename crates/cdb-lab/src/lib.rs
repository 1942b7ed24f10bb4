//! Real PostgreSQL and Redis servers for tests: the evidence the drill world is checked against.
//!
//! `PgServer::start()` and `RedisServer::start()` start their own instances in temp dirs, on
//! free loopback ports, never touching a system instance. Each server runs under a small shell
//! supervisor whose standard input is a pipe from this process: when the handle is dropped, or
//! when this process dies in any way (a panic, `SIGKILL`), the pipe closes and the supervisor
//! stops the server and removes its dir. A server that cannot start gives one `LabError` naming
//! the cause within a bounded time.
//!
//! Linux only; on other platforms the crate is empty so the workspace still builds.

#[cfg(unix)]
pub mod adapter;
#[cfg(unix)]
pub mod certs;
#[cfg(unix)]
pub mod conformance;
#[cfg(unix)]
mod error;
#[cfg(unix)]
mod instance;
#[cfg(unix)]
pub mod lab;
#[cfg(unix)]
pub mod normalise;
#[cfg(unix)]
mod pg;
#[cfg(unix)]
mod redis;
#[cfg(unix)]
mod relay;
pub mod rotate_lab;
#[cfg(unix)]
pub mod scenarios;
#[cfg(unix)]
pub mod standin;

#[cfg(unix)]
pub use error::{INSTALL_HINT, LabError, skip_or_fail};
#[cfg(unix)]
pub use instance::{Options, processes_using};
#[cfg(unix)]
pub use pg::{Host, PgServer, PgSession, PsqlOutput};
#[cfg(unix)]
pub use redis::{RedisConn, RedisServer, Reply};
