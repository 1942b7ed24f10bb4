//! Grafana's side of the monitoring class: the admin's login sessions and the brute-force
//! lockout, as Grafana 13 (the stack's version, stack/compose/compose.red.yml) behaves.
//!
//! - Login sessions are auth tokens in Grafana's database (`GET /api/admin/users/:id/auth-tokens`).
//!   Changing the password with `grafana cli admin reset-admin-password` writes the password
//!   only: a session opened with the old one stays logged in until it is revoked,
//!   `POST /api/admin/users/:id/logout` revokes them all (Grafana's Admin HTTP API: "Logout user
//!   revokes all auth tokens (devices) for the user"). When a scenario leaks `GRAFANA_PASSWORD`,
//!   the leaker holds such a session from the start of the drill.
//! - Brute-force protection (on by default, `[security] disable_brute_force_login_protection =
//!   false`): after 5 failed logins of a user within 5 minutes, that user's logins are refused,
//!   the right password included, until the window has passed. Basic-auth API calls count, as
//!   form logins do (both go through the password client). A success does not clear the count
//!   here (the strict reading).

use crate::world::World;
use serde::{Deserialize, Serialize};

/// Failed logins that block a user (`brute_force_login_protection_max_attempts` default).
pub const LOCKOUT_ATTEMPTS: usize = 5;
/// The window failed logins are counted in, in seconds.
pub const LOCKOUT_WINDOW: u64 = 300;

/// One login session (auth token) of Grafana's admin.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct GrafanaSession {
    pub id: u32,
    /// The password the session logged in with (never shown).
    pub password: String,
    /// `leaker`, or `operator`.
    pub holder: String,
    pub client_ip: String,
    /// World clock at login.
    pub created: u64,
}

/// Grafana's login state: sessions and failed attempts.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GrafanaLogins {
    pub sessions: Vec<GrafanaSession>,
    pub next_id: u32,
    /// World clock of each failed admin login.
    pub failures: Vec<u64>,
}

/// The outcome of a basic-auth login as `admin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Login {
    Ok,
    Wrong,
    Blocked,
}

impl World {
    /// A basic-auth login as `user` with `password`, counted by the brute-force protection.
    pub fn grafana_login(&mut self, user: &str, password: &str) -> Login {
        let now = self.clock;
        let logins = &mut self.grafana_logins;
        logins
            .failures
            .retain(|t| now.saturating_sub(*t) < LOCKOUT_WINDOW);
        if user == "admin" && logins.failures.len() >= LOCKOUT_ATTEMPTS {
            return Login::Blocked;
        }
        if user == "admin" && password == self.grafana.admin_password {
            Login::Ok
        } else {
            if user == "admin" {
                self.grafana_logins.failures.push(now);
            }
            Login::Wrong
        }
    }

    /// The leaker's session: logged in with the leaked admin password at the start.
    pub fn open_leaker_grafana_session(&mut self) {
        let pw = self.grafana.admin_password.clone();
        if self.leaked.contains(&pw)
            && !self
                .grafana_logins
                .sessions
                .iter()
                .any(|s| s.holder == "leaker")
        {
            let id = self.grafana_logins.next_id + 1;
            self.grafana_logins.next_id = id;
            self.grafana_logins.sessions.push(GrafanaSession {
                id,
                password: pw,
                holder: "leaker".into(),
                client_ip: crate::pg::gateway(),
                created: self.clock,
            });
        }
    }

    /// Where `value` still opens Grafana: a session logged in with it.
    pub fn grafana_sessions_with(&self, value: &str) -> bool {
        self.grafana_logins
            .sessions
            .iter()
            .any(|s| s.password == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_block_the_right_password_too() {
        let d = tempfile::tempdir().expect("tempdir");
        let mut w = World::new(3, d.path(), &d.path().join("s")).expect("world");
        let good = w.grafana.admin_password.clone();
        for _ in 0..LOCKOUT_ATTEMPTS - 1 {
            assert_eq!(w.grafana_login("admin", "wrong-password"), Login::Wrong);
        }
        assert_eq!(w.grafana_login("admin", &good), Login::Ok);
        assert_eq!(w.grafana_login("admin", "wrong-password"), Login::Wrong);
        assert_eq!(w.grafana_login("admin", &good), Login::Blocked);
        w.clock += LOCKOUT_WINDOW;
        assert_eq!(w.grafana_login("admin", &good), Login::Ok);
    }
}
