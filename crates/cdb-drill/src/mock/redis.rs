//! Mock `redis-cli`: authentication through `REDISCLI_AUTH` (or the leaking `-a`), and the
//! commands a rotation and an incident use: PING, AUTH, ACL SETUSER/DELUSER/USERS/LIST/LOG/
//! WHOAMI, CONFIG SET requirepass, CONFIG GET, CONFIG REWRITE, CLIENT LIST/ID/KILL.
//!
//! Like the real tool without `-e`, errors print on stdout and the exit status stays 0. Output
//! is the tool's raw form (stdout is not a terminal): one element per line, integers bare.
//! The invocation is itself a client connection while it runs (it shows in `CLIENT LIST`, and
//! `SKIPME yes`, the default, spares it). Connections, users and the ACL log live in
//! `redis_conns.rs`, with where each behaviour comes from.

use super::{Ctx, Loc, opt_value, split_words};
use crate::redis_conns::{self as rc, Conn};
use crate::world::World;

/// Options that take a value (redis-cli 7/8; the TLS ones from `--tls` builds, as the stack's).
const VALUE_OPTS: &[&str] = &[
    "-h",
    "-p",
    "-a",
    "--pass",
    "--user",
    "-n",
    "-u",
    "-s",
    "--cacert",
    "--cacertdir",
    "--cert",
    "--key",
    "--sni",
    "--tls-ciphers",
    "--tls-ciphersuites",
];

/// The command words given on the command line (empty: commands come from stdin).
pub fn command_args(args: &[String]) -> Vec<String> {
    let mut i = 0;
    while i < args.len() {
        if opt_value(args, &mut i, VALUE_OPTS).is_some() {
            continue;
        }
        if args[i].starts_with('-') {
            i += 1;
            continue;
        }
        break;
    }
    args[i.min(args.len())..].to_vec()
}

/// The invocation's own connection.
struct Session {
    /// Its id once authenticated (it is listed from then on).
    id: Option<u64>,
    user: String,
    addr: String,
    laddr: String,
}

pub fn run(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let mut password = None;
    let mut user = None;
    let mut host = None;
    let mut exit_on_error = false;
    let mut warn = true;
    let mut tls = crate::overlays::RedisTls::default();
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') {
        if let Some(v) = opt_value(args, &mut i, &["-a", "--pass"]) {
            password = Some(v);
            w.violation(
                crate::world::ViolationKind::SecretInArgv,
                "`redis-cli -a` puts the password on the command line (use REDISCLI_AUTH)".into(),
            );
        } else if let Some(v) = opt_value(args, &mut i, &["--user"]) {
            user = Some(v);
        } else if let Some(v) = opt_value(args, &mut i, &["-h"]) {
            host = Some(v);
        } else if tls.option(args, &mut i) || opt_value(args, &mut i, &["-p", "-n", "-s"]).is_some()
        {
        } else {
            match args[i].as_str() {
                "-e" => exit_on_error = true,
                "--no-auth-warning" => warn = false,
                _ => {}
            }
            i += 1;
        }
    }
    if password.is_some() && warn {
        ctx.errln("Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.");
    }
    let local = ctx.loc == Loc::Container("cdb_redis".into());
    let h = host.unwrap_or_else(|| "127.0.0.1".into());
    let reachable = matches!(h.as_str(), "127.0.0.1" | "localhost") || (local && h == "cdb_redis");
    if !reachable {
        ctx.errln(&format!(
            "Could not connect to Redis at {h}:6379: Name or service not known"
        ));
        return 1;
    }
    if !w.running("cdb_redis") {
        ctx.errln(&format!(
            "Could not connect to Redis at {h}:6379: Connection refused"
        ));
        return 1;
    }
    // TLS-only Redis under the overlay, `--tls --cacert …` (overlays.rs).
    if let Err(e) = tls.connect(w, ctx) {
        ctx.errln(&e);
        return 1;
    }
    // Inside cdb_redis, 127.0.0.1 is the loopback; from the host, the published port goes
    // through the network's gateway.
    w.redis.conns.next_port += 1;
    let port = 40000 + w.redis.conns.next_port;
    let redis_ip = rc::ip_of("cdb_redis");
    let (addr, laddr) = if local && h != "cdb_redis" {
        (format!("127.0.0.1:{port}"), "127.0.0.1:6379".to_owned())
    } else if local {
        (format!("{redis_ip}:{port}"), format!("{redis_ip}:6379"))
    } else {
        (
            format!("{}:{port}", rc::gateway()),
            format!("{redis_ip}:6379"),
        )
    };
    let mut me = Session {
        id: None,
        user: "default".into(),
        addr,
        laddr,
    };
    let password = password.or_else(|| ctx.env.get("REDISCLI_AUTH").cloned());
    if let Some(p) = password {
        let u = user.unwrap_or_else(|| "default".into());
        if !login(w, &mut me, &u, &p) {
            ctx.errln("AUTH failed: WRONGPASS invalid username-password pair or user is disabled.");
        }
    }
    let cmd = command_args(&args[i.min(args.len())..]);
    let lines: Vec<Vec<String>> = if cmd.is_empty() {
        ctx.stdin
            .lines()
            .map(split_words)
            .filter(|w| !w.is_empty())
            .collect()
    } else {
        vec![cmd]
    };
    let mut code = 0;
    for words in lines {
        let reply = command(w, &words, &mut me);
        let is_err = reply.starts_with("ERR")
            || reply.starts_with("NOAUTH")
            || reply.starts_with("WRONGPASS");
        // An empty array prints an empty line too (redis-cli 7.0.15, measured).
        ctx.outln(&reply);
        if is_err && exit_on_error {
            code = 1;
            break;
        }
        // The session was killed (CLIENT KILL … SKIPME no): the tool stops.
        if me
            .id
            .is_some_and(|id| !w.redis.conns.list.iter().any(|c| c.id == id))
        {
            break;
        }
    }
    if let Some(id) = me.id {
        w.redis.conns.list.retain(|c| c.id != id);
    }
    code
}

/// AUTH: on success the session is a listed, authenticated connection; a failure is logged.
fn login(w: &mut World, me: &mut Session, user: &str, password: &str) -> bool {
    if rc::accepts(w, user, password) {
        me.user = user.to_owned();
        if let Some(id) = me.id {
            if let Some(c) = w.redis.conns.list.iter_mut().find(|c| c.id == id) {
                c.user = user.to_owned();
                c.password = password.to_owned();
            }
        } else {
            w.redis.conns.next_id += 1;
            let id = w.redis.conns.next_id;
            w.redis.conns.list.push(Conn {
                id,
                owner: "redis-cli".into(),
                user: user.to_owned(),
                password: password.to_owned(),
                addr: me.addr.clone(),
                laddr: me.laddr.clone(),
                created: w.clock,
                refused: false,
            });
            me.id = Some(id);
        }
        true
    } else {
        rc::log_auth_failure(w, user, &me.addr, &me.laddr);
        false
    }
}

fn command(w: &mut World, words: &[String], me: &mut Session) -> String {
    let up: Vec<String> = words.iter().map(|s| s.to_ascii_uppercase()).collect();
    let name = up.first().map(String::as_str).unwrap_or("");
    if name == "AUTH" {
        let p = words.last().cloned().unwrap_or_default();
        let user = if words.len() >= 3 {
            words[1].clone()
        } else {
            "default".into()
        };
        return if login(w, me, &user, &p) {
            "OK".into()
        } else {
            "WRONGPASS invalid username-password pair or user is disabled.".into()
        };
    }
    if me.id.is_none() {
        return "NOAUTH Authentication required.".into();
    }
    let reply = match (name, up.get(1).map(String::as_str)) {
        ("PING", _) => "PONG".into(),
        ("ACL", Some("WHOAMI")) => me.user.clone(),
        ("ACL", Some("SETUSER")) => acl_setuser(w, words),
        ("ACL", Some("DELUSER")) => acl_deluser(w, &words[2.min(words.len())..]),
        ("ACL", Some("USERS")) => {
            let mut names = vec!["default".to_owned()];
            names.extend(w.redis.conns.users.keys().cloned());
            names.sort();
            names.join("\n")
        }
        ("ACL", Some("LIST")) => acl_list(w),
        ("ACL", Some("LOG")) => acl_log(w, up.get(2).map(String::as_str)),
        ("CONFIG", Some("SET")) => config_set(w, words, &up),
        ("CONFIG", Some("REWRITE")) => {
            // The stack starts `redis-server` with options only (compose.blue.yml): there is
            // no config file to rewrite (real-server-facts: `restart_rereads_the_config_file`).
            "ERR The server is running without a config file".into()
        }
        ("CONFIG", Some("GET")) => config_get(w, &up[2.min(up.len())..]),
        ("CLIENT", Some("ID")) => me.id.unwrap_or_default().to_string(),
        ("CLIENT", Some("LIST")) => client_list(w, me, &up[2.min(up.len())..]),
        ("CLIENT", Some("KILL")) => client_kill(w, me, &words[2.min(words.len())..]),
        ("DBSIZE", _) => "42".into(),
        ("GET", _) | ("EXISTS", _) => "0".into(),
        _ => format!(
            "ERR the drill's mock Redis does not model '{}' (see docs/drill-world.md)",
            words.first().cloned().unwrap_or_default()
        ),
    };
    // Connection pools retry after any change: a refused holder may get in now.
    rc::reconnect(w);
    reply
}

fn acl_setuser(w: &mut World, words: &[String]) -> String {
    let Some(user) = words.get(2).cloned() else {
        return "ERR wrong number of arguments for 'acl|setuser' command".into();
    };
    let rules = &words[3.min(words.len())..];
    if user == "default" {
        for rule in rules {
            if let Some(p) = rule.strip_prefix('>') {
                w.remember("REDIS_PASSWORD (set by ACL SETUSER)", p);
                w.redis.passwords.insert(p.to_owned());
            } else if let Some(p) = rule.strip_prefix('<') {
                w.redis.passwords.remove(p);
            } else if rule.eq_ignore_ascii_case("resetpass") {
                w.redis.passwords.clear();
            } else if rule.eq_ignore_ascii_case("nopass") {
                w.violation(
                    crate::world::ViolationKind::AuthDisabled,
                    "`ACL SETUSER default nopass` turned Redis authentication off".into(),
                );
            }
        }
        return "OK".into();
    }
    let mut u = w.redis.conns.users.get(&user).cloned().unwrap_or_default();
    for rule in rules {
        if let Some(p) = rule.strip_prefix('>') {
            w.remember("a Redis ACL user's password (set by ACL SETUSER)", p);
            if !u.passwords.iter().any(|x| x == p) {
                u.passwords.push(p.to_owned());
            }
        } else if let Some(p) = rule.strip_prefix('<') {
            u.passwords.retain(|x| x != p);
        } else if rule.eq_ignore_ascii_case("resetpass") {
            u.passwords.clear();
        } else if rule.eq_ignore_ascii_case("on") {
            u.on = true;
        } else if rule.eq_ignore_ascii_case("off") {
            u.on = false;
        }
    }
    w.redis.conns.users.insert(user, u);
    "OK".into()
}

/// `ACL DELUSER`: the reply counts the users deleted; their connections are ended
/// (`ACLFreeUserAndKillClients` in Redis' acl.c).
fn acl_deluser(w: &mut World, names: &[String]) -> String {
    if names.is_empty() {
        return "ERR wrong number of arguments for 'acl|deluser' command".into();
    }
    if names.iter().any(|n| n == "default") {
        return "ERR The 'default' user cannot be removed".into();
    }
    let mut n = 0;
    for name in names {
        if w.redis.conns.users.remove(name).is_some() {
            n += 1;
            w.redis.conns.list.retain(|c| &c.user != name);
        }
    }
    n.to_string()
}

/// `ACL LIST` as Redis 7.0.15 prints it (`user default on #… ~* &* +@all`, measured).
/// A stand-in for the SHA-256 `ACL LIST` shows per password (not the real digest: the drill
/// only needs its shape; a step should not print these either).
fn pseudo_hash(p: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = String::new();
    for round in 0..4u64 {
        for b in p.bytes() {
            h ^= u64::from(b) ^ round;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

fn acl_list(w: &World) -> String {
    let mut lines = Vec::new();
    let hashes = |ps: &mut dyn Iterator<Item = &String>| -> String {
        let v: Vec<String> = ps.map(|p| format!(" #{}", pseudo_hash(p))).collect();
        v.concat()
    };
    let d = if w.redis.passwords.is_empty() {
        " nopass".to_owned()
    } else {
        hashes(&mut w.redis.passwords.iter())
    };
    lines.push(format!("user default on{d} ~* &* +@all"));
    for (name, u) in &w.redis.conns.users {
        lines.push(format!(
            "user {name} {}{} ~* &* +@all",
            if u.on { "on" } else { "off" },
            hashes(&mut u.passwords.iter())
        ));
    }
    lines.join("\n")
}

/// `ACL LOG [count | RESET]`, newest first, each entry's fields one per line (raw output).
fn acl_log(w: &mut World, arg: Option<&str>) -> String {
    if arg == Some("RESET") {
        w.redis.conns.acl_log.clear();
        return "OK".into();
    }
    let limit = match arg {
        None => 10,
        Some(n) => match n.parse::<usize>() {
            Ok(n) => n,
            Err(_) => return "ERR value is out of range, must be positive".into(),
        },
    };
    let now = w.clock;
    let epoch = w.now_unix() - w.clock;
    let mut out = Vec::new();
    for e in w.redis.conns.acl_log.iter().rev().take(limit) {
        out.extend([
            "count".to_owned(),
            e.count.to_string(),
            "reason".into(),
            "auth".into(),
            "context".into(),
            "toplevel".into(),
            "object".into(),
            "AUTH".into(),
            "username".into(),
            e.username.clone(),
            "age-seconds".into(),
            format!("{:.3}", now.saturating_sub(e.updated) as f64),
            "client-info".into(),
            e.client_info.clone(),
            "entry-id".into(),
            e.entry_id.to_string(),
            "timestamp-created".into(),
            ((epoch + e.created) * 1000).to_string(),
            "timestamp-last-updated".into(),
            ((epoch + e.updated) * 1000).to_string(),
        ]);
    }
    out.join("\n")
}

fn config_set(w: &mut World, words: &[String], up: &[String]) -> String {
    match up.get(2).map(String::as_str) {
        Some("REQUIREPASS") => {
            let p = words.get(3).cloned().unwrap_or_default();
            if p.is_empty() {
                w.violation(
                    crate::world::ViolationKind::AuthDisabled,
                    "`CONFIG SET requirepass \"\"` turned Redis authentication off".into(),
                );
            } else {
                w.remember("REDIS_PASSWORD (set by CONFIG SET)", &p);
            }
            // requirepass replaces every password of the default user with this one.
            w.redis.conns.requirepass = Some(p.clone()).filter(|p| !p.is_empty());
            w.redis.passwords = std::iter::once(p).filter(|p| !p.is_empty()).collect();
            "OK".into()
        }
        // Protected configs since Redis 7.0 (`enable-protected-configs no` by default).
        Some(p @ ("DIR" | "DBFILENAME")) => format!(
            "ERR CONFIG SET failed (possibly related to argument '{}') - can't set protected config",
            p.to_ascii_lowercase()
        ),
        _ => "ERR the drill's mock Redis models CONFIG SET requirepass only".into(),
    }
}

/// `CONFIG GET p…`: the pairs come in the server's order, not the request's (Redis 7.0.15
/// answered `dir dbfilename` with `dbfilename` first): here, by name.
fn config_get(w: &World, params: &[String]) -> String {
    if params.is_empty() {
        return "ERR wrong number of arguments for 'config|get' command".into();
    }
    let mut params = params.to_vec();
    params.sort();
    params.dedup();
    let mut out = Vec::new();
    for p in &params {
        match p.as_str() {
            "REQUIREPASS" => {
                let v = w.redis.conns.requirepass.clone().unwrap_or_default();
                out.extend(["requirepass".to_owned(), v]);
            }
            "DIR" => out.extend(["dir".to_owned(), rc::DIR.to_owned()]),
            "DBFILENAME" => out.extend(["dbfilename".to_owned(), rc::DBFILENAME.to_owned()]),
            _ => {}
        }
    }
    out.join("\n")
}

/// One `CLIENT LIST` line (Redis 8's field order; the drill's clients are idle normal ones).
fn client_line(w: &World, c: &Conn, me: &Session) -> String {
    let mine = me.id == Some(c.id);
    let age = w.clock.saturating_sub(c.created);
    format!(
        "id={} addr={} laddr={} fd={} name= age={age} idle={} flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 watch=0 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=1928 events=r cmd={} user={} redir=-1 resp=2 lib-name= lib-ver= io-thread=0",
        c.id,
        c.addr,
        c.laddr,
        c.id + 7,
        if mine { 0 } else { age.min(5) },
        if mine {
            "client|list"
        } else if c.refused {
            "auth"
        } else {
            "ping"
        },
        c.user
    )
}

fn client_list(w: &World, me: &Session, args: &[String]) -> String {
    let mut ids: Option<Vec<u64>> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "TYPE" if i + 1 < args.len() => {
                if !matches!(
                    args[i + 1].as_str(),
                    "NORMAL" | "PUBSUB" | "MASTER" | "REPLICA"
                ) {
                    return format!("ERR Unknown client type '{}'", args[i + 1].to_lowercase());
                }
                if args[i + 1] != "NORMAL" {
                    return String::new();
                }
                i += 2;
            }
            "ID" => {
                let v: Vec<u64> = args[i + 1..]
                    .iter()
                    .filter_map(|a| a.parse().ok())
                    .collect();
                ids = Some(v);
                i = args.len();
            }
            _ => return "ERR syntax error".into(),
        }
    }
    let mut out = String::new();
    for c in &w.redis.conns.list {
        if ids.as_ref().is_some_and(|v| !v.contains(&c.id)) {
            continue;
        }
        out.push_str(&client_line(w, c, me));
        out.push('\n');
    }
    // The bulk reply ends with a newline; raw output adds its own.
    out
}

/// `CLIENT KILL addr:port` (old form) or `CLIENT KILL <filter value>…`: `ID`, `USER`, `ADDR`,
/// `LADDR`, `TYPE`, `SKIPME` (default `yes`), `MAXAGE` (Redis 7.4+). Filters are ANDed; the
/// reply is the number of connections ended. Killed holders reconnect at once with the
/// password they hold (`reconnect`, after the command).
fn client_kill(w: &mut World, me: &Session, args: &[String]) -> String {
    if args.len() == 1 {
        let Some(pos) = w.redis.conns.list.iter().position(|c| c.addr == args[0]) else {
            return "ERR No such client".into();
        };
        w.redis.conns.list.remove(pos);
        return "OK".into();
    }
    if args.is_empty() || args.len() % 2 == 1 {
        return "ERR syntax error".into();
    }
    let mut id = None;
    let mut user = None;
    let mut addr = None;
    let mut laddr = None;
    let mut skipme = true;
    let mut maxage = None;
    let mut normal = true;
    for pair in args.chunks(2) {
        let (k, v) = (pair[0].to_ascii_uppercase(), pair[1].clone());
        match k.as_str() {
            "ID" => match v.parse::<u64>() {
                Ok(n) if n > 0 => id = Some(n),
                _ => return "ERR client-id should be greater than 0".into(),
            },
            "USER" => {
                if v != "default" && !w.redis.conns.users.contains_key(&v) {
                    return format!("ERR No such user '{v}'");
                }
                user = Some(v);
            }
            "ADDR" => addr = Some(v),
            "LADDR" => laddr = Some(v),
            "TYPE" => match v.to_ascii_lowercase().as_str() {
                "normal" => {}
                "pubsub" | "master" | "replica" | "slave" => normal = false,
                _ => return format!("ERR Unknown client type '{v}'"),
            },
            "SKIPME" => match v.to_ascii_lowercase().as_str() {
                "yes" => skipme = true,
                "no" => skipme = false,
                _ => return "ERR syntax error".into(),
            },
            "MAXAGE" => match v.parse::<u64>() {
                Ok(n) => maxage = Some(n),
                Err(_) => return "ERR syntax error".into(),
            },
            _ => return "ERR syntax error".into(),
        }
    }
    let now = w.clock;
    let before = w.redis.conns.list.len();
    w.redis.conns.list.retain(|c| {
        let matched = normal
            && id.is_none_or(|i| c.id == i)
            && user.as_ref().is_none_or(|u| &c.user == u)
            && addr.as_ref().is_none_or(|a| &c.addr == a)
            && laddr.as_ref().is_none_or(|a| &c.laddr == a)
            && maxage.is_none_or(|m| now.saturating_sub(c.created) > m)
            && !(skipme && me.id == Some(c.id));
        !matched
    });
    (before - w.redis.conns.list.len()).to_string()
}
