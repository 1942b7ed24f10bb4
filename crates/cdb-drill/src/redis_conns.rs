//! Redis as the real server behaves, beyond its passwords: live client connections with an id,
//! a user, addresses and an age; the ACL users added at runtime; the ACL log of failed logins.
//!
//! Where each behaviour comes from:
//! - Connections survive password changes (`CONFIG SET requirepass`, `ACL SETUSER default
//!   resetpass`/`<old`) until they are killed or reconnect: docs/real-server-facts.md, pinned by
//!   crates/cdb-lab `redis.rs` (`connection_survives_config_set_requirepass`,
//!   `connection_survives_acl_setuser_resetpass`); stack-facts "What a health check proves".
//! - `CLIENT KILL` filters (`ID`, `USER`, `SKIPME`, `MAXAGE`): cdb-lab
//!   `client_kill_ends_exactly_the_named_connections`; `MAXAGE` exists from Redis 7.4, the
//!   stack runs 8.8.0 (stack/compose/compose.blue.yml, `redis:8.8.0-alpine`).
//! - A restart re-reads `--requirepass $(cat /run/secrets/redis_password)` and ends every
//!   connection; runtime ACL changes are lost (no config file, no ACL file): cdb-lab
//!   `restart_rereads_the_config_file`; stack/compose/compose.blue.yml `cdb_redis.command`.
//! - Who holds a connection: the services that mount `redis_password` and run Python with
//!   `REDIS_HOST: cdb_redis` (stack/compose/compose.{blue,red}.yml): they keep a pooled
//!   connection and reconnect with the `REDIS_PASSWORD` their entrypoint exported at start
//!   (issue 11: "a consumer reconnects with the value its file held when it started, and fails
//!   only then"). The exporter logs in at each scrape and holds nothing (its `redis_up`).

use crate::world::{World, all_services};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Services that hold a pooled connection to Redis (stack/compose: they mount `redis_password`
/// and run Python services with `REDIS_HOST: cdb_redis`).
pub const HOLDERS: &[&str] = crate::behaviour::ENTRYPOINT_PYTHON;

/// The owner name of the leaker's connection.
pub const LEAKER: &str = "(leaker)";

/// The ACL user the `redis-backdoor-user` fault adds (the leaker's way back in).
pub const BACKDOOR_USER: &str = "svc-monitor";

/// Redis's `dir` and `dbfilename` as the stack runs it (the official image's workdir `/data`,
/// volume `redis_data:/data`, no `--dbfilename`: the default `dump.rdb`). Both are protected
/// configs since Redis 7.0 (`enable-protected-configs no` by default): `CONFIG SET` refuses them.
pub const DIR: &str = "/data";
pub const DBFILENAME: &str = "dump.rdb";

/// One client connection.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Conn {
    pub id: u64,
    /// The service holding it, [`LEAKER`], or `redis-cli` for a step's own connection.
    pub owner: String,
    pub user: String,
    /// The password it authenticated with (never shown: CLIENT LIST has no such field).
    pub password: String,
    pub addr: String,
    pub laddr: String,
    /// Simulated second it was opened.
    pub created: u64,
    /// A login the server refused: listed by `CLIENT LIST` as `user=default cmd=auth` until
    /// the client closes it, able to run nothing (docs/real-server-facts.md, pinned by
    /// cdb-lab's `a_connection_refused_at_auth_is_listed_as_user_default`). A holder whose
    /// pool keeps retrying with a refused password has one listed at most times.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refused: bool,
}

/// One ACL LOG entry (failed logins: reason `auth`, object `AUTH`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AclLogEntry {
    pub entry_id: u64,
    pub count: u64,
    pub username: String,
    pub client_info: String,
    pub created: u64,
    pub updated: u64,
}

/// A runtime ACL user besides `default`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AclUser {
    pub on: bool,
    pub passwords: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Conns {
    pub list: Vec<Conn>,
    pub next_id: u64,
    pub next_port: u32,
    pub acl_log: Vec<AclLogEntry>,
    pub next_entry: u64,
    /// ACL users added at runtime (`ACL SETUSER name …`), lost at a restart.
    pub users: BTreeMap<String, AclUser>,
    /// The leaker connected once (a leak of the Redis password): it keeps trying.
    pub leaker_seen: bool,
    /// Passwords the leaker added to the `default` user (fault `redis-backdoor-user`).
    pub leaker_passwords: Vec<String>,
    /// The `requirepass` setting: the start value, or the last `CONFIG SET requirepass`. It is
    /// what `CONFIG GET requirepass` shows; `ACL SETUSER default >p` does not change it (Redis
    /// keeps ACL passwords as SHA-256 hashes only).
    pub requirepass: Option<String>,
}

/// The address a container has on `cdb_network` (deterministic: its place in the stack).
pub fn ip_of(service: &str) -> String {
    let i = all_services().position(|s| s == service).unwrap_or(200);
    format!("{SUBNET}.{}", i + 2)
}

/// The network's gateway (host 1 of the subnet): what Redis sees for a client on the host,
/// which comes through the published port.
pub fn gateway() -> String {
    format!("{SUBNET}.1")
}

/// The first three octets of `cdb_network`'s addresses in the drill (Docker's first
/// user-defined bridge network).
const SUBNET: &str = "172.18.0";

fn server_addr() -> String {
    format!("{}:6379", ip_of("cdb_redis"))
}

fn next_port(w: &mut World) -> u32 {
    let c = &mut w.redis.conns;
    c.next_port += 1;
    40000 + c.next_port
}

/// Opens a connection (already authenticated) and returns its id.
fn open(w: &mut World, owner: &str, user: &str, password: &str, ip: &str, laddr: String) -> u64 {
    let port = next_port(w);
    let c = &mut w.redis.conns;
    c.next_id += 1;
    let id = c.next_id;
    c.list.push(Conn {
        id,
        owner: owner.to_owned(),
        user: user.to_owned(),
        password: password.to_owned(),
        addr: format!("{ip}:{port}"),
        laddr,
        created: w.clock,
        refused: false,
    });
    id
}

/// Whether `user` logs in with `password` now.
pub fn accepts(w: &World, user: &str, password: &str) -> bool {
    if !w.running("cdb_redis") {
        return false;
    }
    if user == "default" {
        return w.redis.passwords.contains(password);
    }
    w.redis
        .conns
        .users
        .get(user)
        .is_some_and(|u| u.on && u.passwords.iter().any(|p| p == password))
}

/// Logs a failed login in the ACL LOG. Redis groups a failure with the newest entry of the
/// same reason, context, object and user when that one is under 60 s old, and then keeps the
/// newest client's info only (`addACLLogEntry` in Redis' acl.c): the log counts failures, it
/// does not list every client that failed.
pub fn log_auth_failure(w: &mut World, user: &str, addr: &str, laddr: &str) {
    let now = w.clock;
    // An unauthenticated client shows as `user=default` (cdb-lab:
    // `acl_deluser_ends_its_connections_and_acl_log_groups_failed_logins`).
    let info = format!("id=0 addr={addr} laddr={laddr} name= user=default cmd=auth");
    let log = &mut w.redis.conns;
    if let Some(e) = log.acl_log.last_mut()
        && e.username == user
        && now.saturating_sub(e.updated) < 60
    {
        e.count += 1;
        e.updated = now;
        e.client_info = info;
        return;
    }
    let entry_id = log.next_entry;
    log.next_entry += 1;
    log.acl_log.push(AclLogEntry {
        entry_id,
        count: 1,
        username: user.to_owned(),
        client_info: info,
        created: now,
        updated: now,
    });
    // Redis keeps `acllog-max-len` (128) entries.
    if log.acl_log.len() > 128 {
        log.acl_log.remove(0);
    }
}

/// Every holder without a connection, and the leaker, (re)connect now with what they hold:
/// connection pools retry. A holder uses the value it read at start; a refused one logs a
/// failed login and stays without a connection (and keeps retrying at the next change).
pub fn reconnect(w: &mut World) {
    if !w.running("cdb_redis") {
        return;
    }
    for s in HOLDERS {
        if !w.running(s)
            || w.redis
                .conns
                .list
                .iter()
                .any(|c| c.owner == *s && !c.refused)
        {
            continue;
        }
        // The last refused try is closed; the pool tries again.
        w.redis.conns.list.retain(|c| !(c.owner == *s && c.refused));
        // Over TLS, a failed handshake ends before any AUTH (no ACL LOG entry).
        if w.tls_link(s, "cdb_redis").is_err() {
            continue;
        }
        let pw = w
            .containers
            .get(*s)
            .and_then(|c| c.read.get("REDIS_PASSWORD").cloned())
            .unwrap_or_default();
        let ip = ip_of(s);
        if w.redis.passwords.contains(&pw) {
            open(w, s, "default", &pw, &ip, server_addr());
        } else {
            let id = open(w, s, "default", "", &ip, server_addr());
            let addr = match w.redis.conns.list.iter_mut().find(|c| c.id == id) {
                Some(c) => {
                    c.refused = true;
                    c.addr.clone()
                }
                None => String::new(),
            };
            log_auth_failure(w, "default", &addr, &server_addr());
        }
    }
    leaker_reconnect(w);
}

/// The leaker keeps trying while it has no connection: with the backdoor user when there is
/// one, else with each leaked value.
fn leaker_reconnect(w: &mut World) {
    if !w.redis.conns.list.iter().all(|c| c.owner != LEAKER) {
        return;
    }
    if !w.redis.conns.leaker_seen {
        return;
    }
    let mut creds: Vec<(String, String)> = Vec::new();
    if let Some(u) = w.redis.conns.users.get(BACKDOOR_USER) {
        creds.extend(
            u.passwords
                .iter()
                .map(|p| (BACKDOOR_USER.to_owned(), p.clone())),
        );
    }
    creds.extend(
        w.redis
            .conns
            .leaker_passwords
            .iter()
            .map(|p| ("default".to_owned(), p.clone())),
    );
    creds.extend(w.leaked.iter().map(|v| ("default".to_owned(), v.clone())));
    for (user, pw) in creds {
        if accepts(w, &user, &pw) {
            open(w, LEAKER, &user, &pw, &gateway(), server_addr());
            return;
        }
    }
    // Every try failed: one failed login (the leaker's client tries the leaked password).
    if !w.leaked.is_empty() {
        let port = next_port(w);
        log_auth_failure(
            w,
            "default",
            &format!("{}:{port}", gateway()),
            &server_addr(),
        );
    }
}

/// After a leak of the Redis password, the leaker holds its own connection (issue 11: "the
/// attacker's own when a value leaked"): opened with the leaked value from the host's
/// published port (Redis sees the network gateway).
pub fn leaker_connects(w: &mut World) {
    let leaked: Vec<String> = w
        .leaked
        .iter()
        .filter(|v| accepts(w, "default", v))
        .cloned()
        .collect();
    if let Some(v) = leaked.first() {
        w.redis.conns.leaker_seen = true;
        open(w, LEAKER, "default", v, &gateway(), server_addr());
    }
}

/// Fault `redis-backdoor-user`: someone holding a working password (after a leak, the leaker)
/// made their own ways back in: an ACL user (`ACL SETUSER svc-monitor on >… ~* &* +@all`) and
/// a password of their own on the `default` user (`ACL SETUSER default >…`), and holds a
/// connection as that user. Both are runtime changes: a restart of `cdb_redis` drops them
/// (redis_conns::server_starts). Returns whether it changed the world.
pub fn backdoor(w: &mut World) -> bool {
    if !w.running("cdb_redis") || w.redis.conns.users.contains_key(BACKDOOR_USER) {
        return false;
    }
    let extra = w.fresh_secret("a password the leaker added to Redis' default user", 16);
    w.redis.passwords.insert(extra.clone());
    w.redis.conns.leaker_passwords.push(extra);
    let pw = w.fresh_secret("the leaker's Redis ACL user password", 16);
    w.redis.conns.users.insert(
        BACKDOOR_USER.to_owned(),
        AclUser {
            on: true,
            passwords: vec![pw.clone()],
        },
    );
    // It keeps the connection it made the changes on (after a leak, the leaked value's).
    w.redis.conns.leaker_seen = true;
    open(w, LEAKER, BACKDOOR_USER, &pw, &gateway(), server_addr());
    true
}

/// A container stops or is replaced: its connections end.
pub fn drop_owner(w: &mut World, service: &str) {
    if service == "cdb_redis" {
        w.redis.conns.list.clear();
    } else {
        w.redis.conns.list.retain(|c| c.owner != service);
    }
}

/// `cdb_redis` (re)starts: `redis-server --requirepass $(cat /run/secrets/redis_password)`
/// re-reads the file (a bind mount: what the host file holds now), and nothing of the runtime
/// state survives: ACL users, the ACL log and every connection.
pub fn server_starts(w: &mut World) {
    let p = w
        .read_secret_file("REDIS_PASSWORD")
        .filter(|p| !p.is_empty());
    if let Some(c) = w.containers.get_mut("cdb_redis")
        && let Some(p) = &p
    {
        c.read.insert("REDIS_PASSWORD".into(), p.clone());
    }
    w.redis.startup = p.clone();
    w.redis.passwords = p.into_iter().collect();
    w.redis.rewritten = false;
    reset_runtime(w);
}

/// Whether Redis' runtime state differs from what a restart would give it: `default` accepting
/// other passwords than the file's, or an ACL user added at runtime.
pub fn runtime_differs(w: &World) -> bool {
    let file = w
        .read_secret_file("REDIS_PASSWORD")
        .filter(|p| !p.is_empty());
    w.redis.passwords.iter().cloned().collect::<Vec<_>>() != file.into_iter().collect::<Vec<_>>()
        || !w.redis.conns.users.is_empty()
}

/// A new `redis-server` process: no connection, no runtime ACL user, an empty ACL log.
pub fn reset_runtime(w: &mut World) {
    let leaker_seen = w.redis.conns.leaker_seen;
    let requirepass = w.redis.startup.clone();
    let (next_id, next_port, next_entry) = (
        w.redis.conns.next_id,
        w.redis.conns.next_port,
        w.redis.conns.next_entry,
    );
    w.redis.conns = Conns {
        next_id,
        next_port,
        next_entry,
        leaker_seen,
        requirepass,
        ..Conns::default()
    };
}

/// Problems Redis itself has that its health check cannot see: an ACL user the stack does not
/// define (the Compose file sets `--requirepass` only).
pub fn server_problems(w: &World) -> Vec<String> {
    let mut p: Vec<String> = w
        .redis
        .conns
        .users
        .keys()
        .map(|u| format!("Redis has an ACL user the stack does not define: {u}"))
        .collect();
    if w.redis
        .conns
        .leaker_passwords
        .iter()
        .any(|x| w.redis.passwords.contains(x))
    {
        p.push("Redis' default user accepts a password the leaker added".into());
    }
    if w.redis.conns.list.iter().any(|c| c.owner == LEAKER) {
        p.push("the leaker holds a live Redis connection".into());
    }
    p
}

/// Where a value is still accepted through a live connection.
pub fn accepted_by(w: &World, value: &str) -> Vec<String> {
    w.redis
        .conns
        .list
        .iter()
        .filter(|c| !c.refused && c.password == value)
        .map(|c| format!("a live Redis connection (id={} addr={})", c.id, c.addr))
        .collect()
}
