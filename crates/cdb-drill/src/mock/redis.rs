//! Mock `redis-cli`: authentication through `REDISCLI_AUTH` (or the leaking `-a`), and the
//! commands a rotation uses: PING, AUTH, ACL SETUSER default, CONFIG SET requirepass, CONFIG REWRITE.
//!
//! Like the real tool without `-e`, errors print on stdout and the exit status stays 0.

use super::{Ctx, Loc, opt_value, split_words};
use crate::world::World;

/// The command words given on the command line (empty: commands come from stdin).
pub fn command_args(args: &[String]) -> Vec<String> {
    let mut i = 0;
    while i < args.len() {
        if opt_value(
            args,
            &mut i,
            &[
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
            ],
        )
        .is_some()
        {
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
                "secret-in-argv",
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
    let password = password.or_else(|| ctx.env.get("REDISCLI_AUTH").cloned());
    let mut authed = false;
    if let Some(p) = password {
        if user.as_deref().is_none_or(|u| u == "default") && w.redis_accepts(&p) {
            authed = true;
        } else {
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
    for words in lines {
        let reply = command(w, &words, &mut authed);
        let is_err = reply.starts_with("ERR")
            || reply.starts_with("NOAUTH")
            || reply.starts_with("WRONGPASS");
        ctx.outln(&reply);
        if is_err && exit_on_error {
            return 1;
        }
    }
    0
}

fn command(w: &mut World, words: &[String], authed: &mut bool) -> String {
    let up: Vec<String> = words.iter().map(|s| s.to_ascii_uppercase()).collect();
    let name = up.first().map(String::as_str).unwrap_or("");
    if name == "AUTH" {
        let p = words.last().cloned().unwrap_or_default();
        let user_ok = words.len() < 3 || words[1] == "default";
        return if user_ok && w.redis_accepts(&p) {
            *authed = true;
            "OK".into()
        } else {
            "WRONGPASS invalid username-password pair or user is disabled.".into()
        };
    }
    if !*authed {
        return "NOAUTH Authentication required.".into();
    }
    match (name, up.get(1).map(String::as_str)) {
        ("PING", _) => "PONG".into(),
        ("ACL", Some("WHOAMI")) => "default".into(),
        ("ACL", Some("SETUSER")) => {
            if words.get(2).map(String::as_str) != Some("default") {
                return "ERR the drill's mock Redis models only the default user".into();
            }
            for rule in &words[3.min(words.len())..] {
                if let Some(p) = rule.strip_prefix('>') {
                    w.remember("REDIS_PASSWORD (set by ACL SETUSER)", p);
                    w.redis.passwords.insert(p.to_owned());
                } else if let Some(p) = rule.strip_prefix('<') {
                    w.redis.passwords.remove(p);
                } else if rule.eq_ignore_ascii_case("resetpass") {
                    w.redis.passwords.clear();
                } else if rule.eq_ignore_ascii_case("nopass") {
                    w.violation(
                        "auth-disabled",
                        "`ACL SETUSER default nopass` turned Redis authentication off".into(),
                    );
                }
            }
            "OK".into()
        }
        ("CONFIG", Some("SET")) if up.get(2).map(String::as_str) == Some("REQUIREPASS") => {
            let p = words.get(3).cloned().unwrap_or_default();
            if p.is_empty() {
                w.violation(
                    "auth-disabled",
                    "`CONFIG SET requirepass \"\"` turned Redis authentication off".into(),
                );
            } else {
                w.remember("REDIS_PASSWORD (set by CONFIG SET)", &p);
            }
            // requirepass replaces every password of the default user with this one.
            w.redis.passwords = std::iter::once(p).filter(|p| !p.is_empty()).collect();
            "OK".into()
        }
        ("CONFIG", Some("REWRITE")) => {
            w.redis.rewritten = true;
            "OK".into()
        }
        ("CONFIG", Some("GET")) => {
            if up.get(2).map(String::as_str) == Some("REQUIREPASS") {
                let p = w.redis.passwords.iter().next().cloned().unwrap_or_default();
                format!("requirepass\n{p}")
            } else {
                String::new()
            }
        }
        ("CLIENT", Some("KILL")) => "0".into(),
        ("DBSIZE", _) => "42".into(),
        ("GET", _) | ("EXISTS", _) => "0".into(),
        _ => format!(
            "ERR the drill's mock Redis does not model '{}' (see docs/drill-world.md)",
            words.first().cloned().unwrap_or_default()
        ),
    }
}
