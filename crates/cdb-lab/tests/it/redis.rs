//! Redis: authenticated connections across password changes, `CLIENT KILL` filters, restarts.

use crate::lab;
use cdb_lab::{RedisConn, RedisServer, Reply};

fn authed(redis: &RedisServer, password: &str) -> RedisConn {
    let mut conn = redis.connect().unwrap();
    assert!(conn.auth(password).unwrap(), "AUTH refused");
    conn
}

fn client_id(conn: &mut RedisConn) -> String {
    conn.cmd(&["CLIENT", "ID"]).unwrap().text()
}

/// Whether `conn` is still open: a closed connection fails to read a reply.
fn alive(conn: &mut RedisConn) -> bool {
    conn.cmd(&["PING"])
        .is_ok_and(|r| r == Reply::Simple("PONG".into()))
}

/// Evidence for "a Redis connection stays authenticated after `requirepass` changes" (issue
/// 11, item 2): `CONFIG SET requirepass` leaves authenticated connections working; a new
/// connection needs the new password.
#[test]
fn connection_survives_config_set_requirepass() {
    let Some(redis) = lab(RedisServer::start()) else {
        return;
    };
    let old = redis.password().to_owned();
    let new = format!("{old}-rotated");
    let mut consumer = authed(&redis, &old);
    let mut admin = authed(&redis, &old);
    assert_eq!(
        admin
            .cmd(&["CONFIG", "SET", "requirepass", &new])
            .unwrap()
            .text(),
        "OK"
    );

    assert!(alive(&mut consumer));
    assert_eq!(consumer.cmd(&["SET", "k", "v"]).unwrap().text(), "OK");
    assert_eq!(consumer.cmd(&["GET", "k"]).unwrap().text(), "v");

    let mut fresh = redis.connect().unwrap();
    let refused = fresh.cmd(&["AUTH", &old]).unwrap();
    assert!(refused.text().starts_with("WRONGPASS"), "{refused:?}");
    assert!(
        fresh
            .cmd(&["GET", "k"])
            .unwrap()
            .text()
            .starts_with("NOAUTH")
    );
    assert!(fresh.auth(&new).unwrap());
}

/// Evidence for the same behaviour through ACLs (issue 11, item 2): `ACL SETUSER default
/// resetpass >new` leaves authenticated connections working; the old password is refused.
#[test]
fn connection_survives_acl_setuser_resetpass() {
    let Some(redis) = lab(RedisServer::start()) else {
        return;
    };
    let old = redis.password().to_owned();
    let new = format!("{old}-acl");
    let mut consumer = authed(&redis, &old);
    let mut admin = authed(&redis, &old);
    let set = admin
        .cmd(&["ACL", "SETUSER", "default", "resetpass", &format!(">{new}")])
        .unwrap();
    assert_eq!(set.text(), "OK");

    assert!(alive(&mut consumer));
    assert_eq!(consumer.cmd(&["INCR", "n"]).unwrap(), Reply::Int(1));

    let mut fresh = redis.connect().unwrap();
    assert!(!fresh.auth(&old).unwrap());
    assert!(fresh.auth(&new).unwrap());
}

/// Evidence for "`CLIENT KILL` honours its filters" (issue 11, item 2): `ID n` ends exactly
/// that connection; `USER default SKIPME yes` ends every other `default` connection and not
/// the caller's. `MAXAGE` exists from Redis 7.4 on: on older servers it is a syntax error
/// (which this test pins), on newer ones it ends the connections older than the age.
#[test]
fn client_kill_ends_exactly_the_named_connections() {
    let Some(redis) = lab(RedisServer::start()) else {
        return;
    };
    let pw = redis.password().to_owned();
    let mut a = authed(&redis, &pw);
    let mut b = authed(&redis, &pw);
    let mut c = authed(&redis, &pw);
    let mut admin = authed(&redis, &pw);

    let a_id = client_id(&mut a);
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", &a_id]).unwrap(),
        Reply::Int(1)
    );
    assert!(!alive(&mut a));
    assert!(alive(&mut b) && alive(&mut c) && alive(&mut admin));

    let killed = admin
        .cmd(&["CLIENT", "KILL", "USER", "default", "SKIPME", "yes"])
        .unwrap();
    assert_eq!(killed, Reply::Int(2), "b and c, not the caller");
    assert!(!alive(&mut b) && !alive(&mut c));
    assert!(alive(&mut admin));

    let mut old = authed(&redis, &pw);
    let maxage = admin
        .cmd(&["CLIENT", "KILL", "MAXAGE", "1", "SKIPME", "yes"])
        .unwrap();
    if redis.at_least(7, 4) {
        // Nothing is a second old yet; after two seconds `old` is.
        assert_eq!(maxage, Reply::Int(0));
        std::thread::sleep(std::time::Duration::from_millis(2100));
        let mut young = authed(&redis, &pw);
        let aged = admin
            .cmd(&["CLIENT", "KILL", "MAXAGE", "1", "SKIPME", "yes"])
            .unwrap();
        assert_eq!(
            aged,
            Reply::Int(1),
            "only the connection older than a second"
        );
        assert!(!alive(&mut old) && alive(&mut young));
    } else {
        assert!(
            maxage.is_error(),
            "{} has no MAXAGE filter: {maxage:?}",
            redis.version()
        );
        assert!(alive(&mut old));
    }
}

/// Evidence for "a restart of `cdb_redis` goes back to the password file and drops runtime
/// changes" (issue 11, item 4): `CONFIG SET requirepass` is lost on restart unless written
/// back with `CONFIG REWRITE`. The real stack passes `--requirepass $(cat file)`, which has
/// no `CONFIG REWRITE` path: a restart always goes back to the file's value.
#[test]
fn restart_rereads_the_config_file() {
    let Some(mut redis) = lab(RedisServer::start()) else {
        return;
    };
    let file_value = redis.password().to_owned();
    let runtime = format!("{file_value}-runtime");
    let mut admin = authed(&redis, &file_value);
    assert_eq!(
        admin
            .cmd(&["CONFIG", "SET", "requirepass", &runtime])
            .unwrap()
            .text(),
        "OK"
    );
    let old_pid = redis.pid();
    redis.restart().unwrap();
    assert_ne!(redis.pid(), old_pid);
    assert!(!alive(&mut admin), "a restart ends every connection");

    let mut after = redis.connect().unwrap();
    assert!(
        !after.auth(&runtime).unwrap(),
        "the runtime password is gone"
    );
    assert!(
        after.auth(&file_value).unwrap(),
        "the file's password is back"
    );

    assert_eq!(
        after
            .cmd(&["CONFIG", "SET", "requirepass", &runtime])
            .unwrap()
            .text(),
        "OK"
    );
    assert_eq!(after.cmd(&["CONFIG", "REWRITE"]).unwrap().text(), "OK");
    redis.restart().unwrap();
    let mut rewritten = redis.connect().unwrap();
    assert!(!rewritten.auth(&file_value).unwrap());
    assert!(
        rewritten.auth(&runtime).unwrap(),
        "CONFIG REWRITE kept the runtime value"
    );
}

/// The value of `field` in an `ACL LOG` entry (RESP2: a flat array of names and values).
fn log_field(entry: &Reply, field: &str) -> Option<Reply> {
    let Reply::Array(Some(items)) = entry else {
        return None;
    };
    items
        .chunks(2)
        .find(|kv| kv[0].text() == field)
        .map(|kv| kv[1].clone())
}

/// Evidence for the drill world's `ACL DELUSER` and `ACL LOG` (redis_conns.rs, used by the
/// cache Revoke): deleting a user ends its connections (reply: the count); a failed `AUTH` is
/// logged with reason `auth`, and failures of the same user in quick succession are one entry
/// whose count grows and whose `client-info` is the newest client's.
#[test]
fn acl_deluser_ends_its_connections_and_acl_log_groups_failed_logins() {
    let Some(redis) = lab(RedisServer::start()) else {
        return;
    };
    let pw = redis.password().to_owned();
    let mut admin = authed(&redis, &pw);
    let other = format!("{pw}-other");
    let set = admin
        .cmd(&[
            "ACL",
            "SETUSER",
            "svc-monitor",
            "on",
            &format!(">{other}"),
            "~*",
            "+@all",
        ])
        .unwrap();
    assert_eq!(set.text(), "OK");
    let mut backdoor = redis.connect().unwrap();
    let ok = backdoor.cmd(&["AUTH", "svc-monitor", &other]).unwrap();
    assert_eq!(ok.text(), "OK");
    assert_eq!(
        admin.cmd(&["ACL", "USERS"]).unwrap().text(),
        "default\nsvc-monitor"
    );
    assert_eq!(
        admin.cmd(&["ACL", "DELUSER", "svc-monitor"]).unwrap(),
        Reply::Int(1)
    );
    assert!(!alive(&mut backdoor), "its connection ended with the user");
    assert!(alive(&mut admin));

    assert_eq!(admin.cmd(&["ACL", "LOG", "RESET"]).unwrap().text(), "OK");
    let mut first = redis.connect().unwrap();
    let mut second = redis.connect().unwrap();
    assert!(!first.auth("wrong-1").unwrap());
    assert!(!second.auth("wrong-2").unwrap());
    // An unauthenticated connection cannot ask its own id: the two failed clients are the
    // connections whose last command was AUTH, the second one the newer (higher id).
    let list = admin.cmd(&["CLIENT", "LIST"]).unwrap().text();
    let failed: Vec<u64> = list
        .lines()
        .filter(|l| l.contains(" cmd=auth "))
        .filter_map(|l| l.strip_prefix("id=")?.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(failed.len(), 2, "{list}");
    let second_id = failed.iter().max().unwrap();
    let log = admin.cmd(&["ACL", "LOG"]).unwrap();
    let Reply::Array(Some(entries)) = &log else {
        panic!("{log:?}");
    };
    assert_eq!(entries.len(), 1, "one grouped entry: {log:?}");
    let e = &entries[0];
    assert_eq!(log_field(e, "reason").unwrap().text(), "auth");
    assert_eq!(log_field(e, "object").unwrap().text(), "AUTH");
    assert_eq!(log_field(e, "username").unwrap().text(), "default");
    assert_eq!(log_field(e, "count").unwrap(), Reply::Int(2));
    let info = log_field(e, "client-info").unwrap().text();
    assert!(
        info.contains(&format!("id={second_id} ")),
        "the newest client's info: {info}"
    );
}

/// Evidence for the drill world's `CONFIG` forms (redis_conns.rs, mock/redis.rs): `dir` and
/// `dbfilename` are protected configs from Redis 7.0 on (`CONFIG SET` refuses them with
/// `enable-protected-configs no`, the default), and `CONFIG GET requirepass` shows the
/// `requirepass` setting, not a password added with `ACL SETUSER default >…` (ACL passwords are
/// kept as SHA-256 hashes; `ACL LIST` shows one `#` hash per password).
#[test]
fn dir_is_protected_and_requirepass_is_not_the_acl_passwords() {
    let Some(redis) = lab(RedisServer::start()) else {
        return;
    };
    let pw = redis.password().to_owned();
    let mut admin = authed(&redis, &pw);
    let set = admin.cmd(&["CONFIG", "SET", "dir", "/tmp"]).unwrap();
    if redis.at_least(7, 0) {
        assert!(
            set.is_error() && set.text().contains("protected config"),
            "{set:?}"
        );
    }
    let added = format!("{pw}-added");
    assert_eq!(
        admin
            .cmd(&["ACL", "SETUSER", "default", &format!(">{added}")])
            .unwrap()
            .text(),
        "OK"
    );
    let got = admin.cmd(&["CONFIG", "GET", "requirepass"]).unwrap().text();
    assert_eq!(got, format!("requirepass\n{pw}"));
    let list = admin.cmd(&["ACL", "LIST"]).unwrap().text();
    let default = list
        .lines()
        .find(|l| l.starts_with("user default "))
        .unwrap();
    assert_eq!(
        default.split(' ').filter(|w| w.starts_with('#')).count(),
        2,
        "{default}"
    );
    assert!(!default.contains(&added) && !default.contains(&pw));
}

/// Makes a CA and a certificate it signs in `dir` with the real `openssl` (EC P-256, as the
/// runbook's `tls-rotate-stage-next` issues them): `NAME.key`, `NAME.crt`, `ca-NAME.crt`.
fn issue(dir: &std::path::Path, name: &str, cn: &str) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("req.cnf"),
        "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n",
    )
    .unwrap();
    let ca_key = format!("ca-{name}.key");
    let ca_crt = format!("ca-{name}.crt");
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let crt = format!("{name}.crt");
    for k in [&ca_key, &key] {
        run(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            k,
        ]);
    }
    run(&[
        "req",
        "-x509",
        "-new",
        "-config",
        "req.cnf",
        "-key",
        &ca_key,
        "-subj",
        "/CN=cdb-internal-ca",
        "-days",
        "30",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        &ca_crt,
    ]);
    run(&[
        "req",
        "-new",
        "-config",
        "req.cnf",
        "-key",
        &key,
        "-subj",
        &format!("/CN={cn}"),
        "-addext",
        &format!("subjectAltName=DNS:{cn},DNS:localhost"),
        "-out",
        &csr,
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca_crt,
        "-CAkey",
        &ca_key,
        "-days",
        "30",
        "-copy_extensions",
        "copy",
        "-out",
        &crt,
    ]);
}

/// Evidence for the TLS forms of the runbook's `redis-cli` calls (the TLS overlay runs Redis
/// TLS-only, stack facts): on a TLS port a plain `redis-cli` gets no answer; `redis-cli --tls
/// --cacert CA --cert C --key K` logs in when CA signed the server's certificate, and fails
/// against a CA that did not (the client checks the server's chain). A TLS port is set at
/// runtime with `CONFIG SET tls-port` (Redis 6 and later, built with TLS as Debian's is).
#[test]
fn a_tls_port_refuses_plain_clients_and_checks_the_servers_chain() {
    let Some(redis) = lab(RedisServer::start()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    issue(dir.path(), "redis", "cdb_redis");
    issue(dir.path(), "client", "cdb-client");
    let p = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    let tls_port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mut admin = authed(&redis, redis.password());
    let set = admin
        .cmd(&[
            "CONFIG",
            "SET",
            "tls-cert-file",
            &p("redis.crt"),
            "tls-key-file",
            &p("redis.key"),
            "tls-ca-cert-file",
            &p("ca-client.crt"),
            "tls-auth-clients",
            "optional",
            "tls-port",
            &tls_port,
        ])
        .unwrap();
    assert_eq!(set.text(), "OK");
    let cli = |extra: &[String]| {
        let out = std::process::Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &tls_port])
            .args(extra)
            .arg("PING")
            .env("REDISCLI_AUTH", redis.password())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        )
    };
    let tls = |ca: &str| -> Vec<String> {
        [
            "--tls",
            "--cacert",
            &p(ca),
            "--cert",
            &p("client.crt"),
            "--key",
            &p("client.key"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let plain = cli(&[]);
    assert_ne!(plain.1, "PONG", "a plain client on the TLS port: {plain:?}");
    assert_eq!(cli(&tls("ca-redis.crt")), (Some(0), "PONG".into()));
    let wrong_ca = cli(&tls("ca-client.crt"));
    assert_ne!(
        wrong_ca.1, "PONG",
        "a CA that did not sign the server's certificate: {wrong_ca:?}"
    );
}

/// A connection that has not logged in, or whose `AUTH` was refused, is listed by `CLIENT
/// LIST` with `user=default` until it closes (with `cmd=NULL` before any command, `cmd=auth`
/// after the refused one). So `user=default` on a consumer's address does not prove that the
/// consumer logged in: the runbook's `cache-revoke-end-old-connections` counts such a line as
/// "reconnected" (the most likely cause of a false PASS seen once in a lab run of `leak-cache`,
/// where the straggler's stand-in retries a refused password every 200 ms).
#[test]
fn a_connection_refused_at_auth_is_listed_as_user_default() {
    let Some(redis) = lab(RedisServer::start()) else {
        return;
    };
    let mut admin = authed(&redis, redis.password());
    let mut never = redis.connect().unwrap();
    let mut refused = redis.connect().unwrap();
    assert!(!refused.auth("not-the-password").unwrap());
    // The two other clients (neither may run CLIENT ID: NOAUTH).
    let others = {
        let list = admin.cmd(&["CLIENT", "LIST"]).unwrap().text();
        list.lines()
            .filter(|l| !l.contains("cmd=client|list"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(others.len(), 2, "{others:?}");
    for l in &others {
        assert!(l.contains(" user=default "), "{l}");
    }
    assert!(
        others.iter().any(|l| l.contains(" cmd=NULL ")),
        "{others:?}"
    );
    assert!(
        others.iter().any(|l| l.contains(" cmd=auth ")),
        "{others:?}"
    );
    // Neither can run a command.
    assert!(never.cmd(&["PING"]).unwrap().is_error());
    assert!(refused.cmd(&["PING"]).unwrap().is_error());
}
