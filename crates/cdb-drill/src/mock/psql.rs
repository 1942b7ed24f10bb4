//! Mock `psql`: connection and authentication as the official image sets them up, and the
//! handful of statements a rotation needs (ALTER ROLE, pg_stat_activity, pg_terminate_backend).
//!
//! Real semantics that catch wrong commands: `-c` never interpolates variables; the
//! default role inside the container is `root` (which does not exist) and the default
//! database is the role's name; errors on stdin do not change the exit status
//! unless `ON_ERROR_STOP` is set.

use super::{Ctx, Loc, opt_value};
use crate::world::World;
use cdb_model::faults::FaultKind;
use std::collections::BTreeMap;

const DATABASES: &[&str] = &["claire_de_binare", "postgres", "template1"];

/// Whether the argument list carries a `-c` command (alone or in a group like `-tAc`).
pub fn has_command(args: &[String]) -> bool {
    args.iter().any(|a| {
        a == "--command"
            || a.starts_with("--command=")
            || (a.starts_with('-') && !a.starts_with("--") && a[1..].contains('c'))
    })
}

struct Opts {
    host: Option<String>,
    user: Option<String>,
    db: Option<String>,
    commands: Vec<String>,
    vars: BTreeMap<String, String>,
    tuples: bool,
    unaligned: bool,
    quiet: bool,
    file: Option<String>,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        host: None,
        user: None,
        db: None,
        commands: Vec::new(),
        vars: BTreeMap::new(),
        tuples: false,
        unaligned: false,
        quiet: false,
        file: None,
    };
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if let Some(v) = opt_value(args, &mut i, &["-h", "--host"]) {
            o.host = Some(v);
        } else if opt_value(args, &mut i, &["-p", "--port"]).is_some() {
        } else if let Some(v) = opt_value(args, &mut i, &["-U", "--username"]) {
            o.user = Some(v);
        } else if let Some(v) = opt_value(args, &mut i, &["-d", "--dbname"]) {
            o.db = Some(v);
        } else if let Some(v) = opt_value(args, &mut i, &["-v", "--set", "--variable"]) {
            let (k, val) = v.split_once('=').unwrap_or((&v, ""));
            o.vars.insert(k.to_owned(), val.to_owned());
        } else if let Some(v) = opt_value(args, &mut i, &["-f", "--file"]) {
            o.file = Some(v);
        } else if let Some(v) = opt_value(args, &mut i, &["--command"]) {
            o.commands.push(v);
        } else if a.starts_with("--") {
            match a.as_str() {
                "--tuples-only" => o.tuples = true,
                "--no-align" => o.unaligned = true,
                "--quiet" => o.quiet = true,
                "--no-psqlrc" | "--no-password" | "--echo-errors" => {}
                other => return Err(format!("unrecognized option '{other}'")),
            }
            i += 1;
        } else if let Some(group) = a.strip_prefix('-').filter(|g| !g.is_empty()) {
            // A group of single-letter flags; `c` takes the rest or the next argument.
            let mut consumed_next = false;
            for (k, ch) in group.char_indices() {
                match ch {
                    't' => o.tuples = true,
                    'A' => o.unaligned = true,
                    'q' => o.quiet = true,
                    'X' | 'w' | 'e' | 'b' | 'n' => {}
                    'c' => {
                        let rest = &group[k + 1..];
                        if rest.is_empty() {
                            o.commands
                                .push(args.get(i + 1).cloned().unwrap_or_default());
                            consumed_next = true;
                        } else {
                            o.commands.push(rest.to_owned());
                        }
                        break;
                    }
                    other => return Err(format!("invalid option -- '{other}'")),
                }
            }
            i += if consumed_next { 2 } else { 1 };
        } else {
            positional.push(a.clone());
            i += 1;
        }
    }
    let mut pos = positional.into_iter();
    if o.db.is_none() {
        o.db = pos.next();
    }
    if o.user.is_none() {
        o.user = pos.next();
    }
    Ok(o)
}

pub fn run(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let mut o = match parse(args) {
        Ok(o) => o,
        Err(e) => {
            ctx.errln(&format!("psql: {e}"));
            ctx.errln("Try \"psql --help\" for more information.");
            return 1;
        }
    };
    // A connection URI as the database name carries user and password.
    let mut uri_password = None;
    if let Some(db) = o.db.clone()
        && (db.starts_with("postgresql://") || db.starts_with("postgres://"))
    {
        uri_password = crate::world::dsn_password(&db);
        let rest = db.split_once("://").map_or("", |x| x.1);
        if let Some((userinfo, hostpart)) = rest.rsplit_once('@') {
            o.user = Some(userinfo.split(':').next().unwrap_or("").to_owned());
            let (hostport, dbname) = hostpart.split_once('/').unwrap_or((hostpart, ""));
            o.host = Some(hostport.split(':').next().unwrap_or("").to_owned());
            o.db =
                Some(dbname.split('?').next().unwrap_or("").to_owned()).filter(|d| !d.is_empty());
        }
    }
    let in_container = ctx.loc == Loc::Container("cdb_postgres".into());
    let default_user = ctx.env.get("PGUSER").cloned().unwrap_or_else(|| {
        if in_container {
            "root".into()
        } else {
            "operator".into()
        }
    });
    let user = o.user.clone().unwrap_or(default_user);
    let db =
        o.db.clone()
            .or_else(|| ctx.env.get("PGDATABASE").cloned())
            .unwrap_or_else(|| user.clone());
    let tcp = o.host.as_deref().is_some_and(|h| !h.starts_with('/'));
    let target = if tcp {
        let h = o.host.clone().unwrap_or_default();
        format!("connection to server at \"{h}\", port 5432 failed")
    } else {
        "connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed".to_owned()
    };
    if tcp {
        let h = o.host.as_deref().unwrap_or("");
        let reachable =
            matches!(h, "127.0.0.1" | "localhost" | "::1") || (in_container && h == "cdb_postgres");
        if !reachable {
            ctx.errln(&format!("psql: error: could not translate host name \"{h}\" to address: Name or service not known"));
            return 2;
        }
    } else if !in_container {
        ctx.errln(&format!("psql: error: {target}: No such file or directory"));
        return 2;
    }
    if !w.running("cdb_postgres") {
        ctx.errln(&format!("psql: error: {target}: Connection refused"));
        return 2;
    }
    let Some(role_pw) = w.postgres.roles.get(&user).cloned() else {
        ctx.errln(&format!(
            "psql: error: {target}: FATAL:  role \"{user}\" does not exist"
        ));
        return 2;
    };
    // The official postgres image keeps initdb's default pg_hba.conf lines
    // `host all all 127.0.0.1/32 trust` (and `::1/128`): inside the container a
    // loopback connection is trusted, so only a connection to the container's
    // network name (`-h cdb_postgres`, matched by `host all all all scram-sha-256`)
    // proves a password.
    let loopback = o
        .host
        .as_deref()
        .is_some_and(|h| matches!(h, "127.0.0.1" | "localhost" | "::1"));
    if tcp && !(in_container && loopback) {
        let given = uri_password.or_else(|| ctx.env.get("PGPASSWORD").cloned());
        match given {
            None if role_pw.is_empty() => {
                // A NULL password: the server asks for one, and no password logs in.
                ctx.errln(&format!(
                    "psql: error: {target}: fe_sendauth: no password supplied"
                ));
                return 2;
            }
            None => {
                ctx.errln(&format!(
                    "psql: error: {target}: fe_sendauth: no password supplied"
                ));
                return 2;
            }
            Some(p) if p != role_pw || p.is_empty() => {
                // The server logs every refused login (crate::pg).
                w.pg_log_auth_failure();
                ctx.errln(&format!(
                    "psql: error: {target}: FATAL:  password authentication failed for user \"{user}\""
                ));
                return 2;
            }
            Some(_) => {}
        }
    }
    if !DATABASES.contains(&db.as_str()) {
        ctx.errln(&format!(
            "psql: error: {target}: FATAL:  database \"{db}\" does not exist"
        ));
        return 2;
    }
    // This psql's own backend, as `pg_stat_activity` shows it (`pg_backend_pid()`).
    let conn = Conn {
        pid: {
            let p = w.postgres.next_pid;
            w.postgres.next_pid += 1;
            p
        },
        user: user.clone(),
        addr: match o.host.as_deref() {
            _ if !tcp => None,
            Some("localhost") => Some("127.0.0.1".to_owned()),
            Some("cdb_postgres") => Some(crate::pg::container_addr("cdb_postgres")),
            // From the host through the published port: the bridge gateway.
            Some(h) if !in_container => Some(crate::pg::gateway()).filter(|_| !h.is_empty()),
            Some(h) => Some(h.to_owned()),
            None => None,
        },
    };
    let stop = o
        .vars
        .get("ON_ERROR_STOP")
        .is_some_and(|v| matches!(v.as_str(), "1" | "on" | "true"));
    let out = Out {
        tuples: o.tuples,
        unaligned: o.unaligned,
        quiet: o.quiet,
    };
    if !o.commands.is_empty() {
        // `-c` sends the text as is: no psql variables, no splitting on backslash commands.
        for c in &o.commands {
            for stmt in split_statements(c) {
                if let Err(e) = execute(w, &stmt, out, ctx, &conn) {
                    ctx.errln(&e);
                    return if e.contains(LOST) { 2 } else { 1 };
                }
            }
        }
        return 0;
    }
    let script = match o.file.as_deref() {
        None | Some("-") => ctx.stdin.clone(),
        Some(f) => match ctx.read_text(f) {
            Ok(t) if !in_container => t,
            _ => {
                ctx.errln(&format!("psql: error: {f}: No such file or directory"));
                return 1;
            }
        },
    };
    let mut vars = o.vars.clone();
    let mut buf = String::new();
    for line in script.lines() {
        let t = line.trim();
        if let Some(meta) = t.strip_prefix('\\') {
            let words = super::split_words(meta);
            match words.first().map(String::as_str) {
                Some("set") => {
                    let k = words.get(1).cloned().unwrap_or_default();
                    let v = words[2.min(words.len())..].concat();
                    vars.insert(k, v);
                }
                Some("q") => break,
                Some("conninfo") => ctx.outln(&format!(
                    "You are connected to database \"{db}\" as user \"{user}\"."
                )),
                _ => {
                    ctx.errln(&format!("invalid command \\{meta}"));
                    if stop {
                        return 3;
                    }
                }
            }
            continue;
        }
        buf.push_str(&interpolate(line, &vars));
        buf.push('\n');
    }
    for stmt in split_statements(&buf) {
        if let Err(e) = execute(w, &stmt, out, ctx, &conn) {
            ctx.errln(&format!("psql:<stdin>: {e}"));
            if e.contains(LOST) {
                return 2;
            }
            if stop {
                return 3;
            }
        }
    }
    0
}

/// psql's `:name`, `:'name'` and `:"name"` interpolation (stdin and files only).
fn interpolate(line: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let b = line.as_bytes();
    let mut i = 0;
    let mut in_quote = false;
    while i < b.len() {
        let c = b[i] as char;
        if c == '\'' {
            in_quote = !in_quote;
        }
        if !in_quote && c == ':' && i + 1 < b.len() && b[i + 1] != b':' {
            let rest = &line[i + 1..];
            let (quote, body) = match rest.chars().next() {
                Some('\'') => (Some('\''), &rest[1..]),
                Some('"') => (Some('"'), &rest[1..]),
                _ => (None, rest),
            };
            let name: String = body
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let closes = quote.is_none_or(|q| body[name.len()..].starts_with(q));
            if !name.is_empty()
                && closes
                && let Some(v) = vars.get(&name)
            {
                match quote {
                    Some('\'') => out.push_str(&format!("'{}'", v.replace('\'', "''"))),
                    Some(_) => out.push_str(&format!("\"{v}\"")),
                    None => out.push_str(v),
                }
                i += 1 + usize::from(quote.is_some()) * 2 + name.len();
                continue;
            }
        }
        out.push(c);
        i += c.len_utf8().max(1);
        if c.len_utf8() > 1 {
            // Non-ASCII: copy the rest of the char's bytes (rare in SQL; keeps indexes on char bounds).
            while i < b.len() && !line.is_char_boundary(i) {
                i += 1;
            }
        }
    }
    out
}

/// Splits SQL on `;` outside quotes; drops empty statements and `--` comments.
fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    cur.push(c);
                }
                '-' if chars.peek() == Some(&'-') => {
                    for c in chars.by_ref() {
                        if c == '\n' {
                            break;
                        }
                    }
                    cur.push('\n');
                }
                ';' => out.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            },
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

/// The client's own backend.
struct Conn {
    pid: u32,
    user: String,
    addr: Option<String>,
}

/// psql's message when its own backend was terminated.
const LOST: &str = "server closed the connection unexpectedly";

#[derive(Clone, Copy)]
struct Out {
    tuples: bool,
    unaligned: bool,
    quiet: bool,
}

fn table(ctx: &mut Ctx, out: Out, header: &[&str], rows: &[Vec<String>]) {
    if out.tuples {
        for r in rows {
            ctx.outln(&r.join(if out.unaligned { "|" } else { " | " }));
        }
        return;
    }
    ctx.outln(&header.join(if out.unaligned { "|" } else { " | " }));
    if !out.unaligned {
        ctx.outln(
            &header
                .iter()
                .map(|h| "-".repeat(h.len().max(3)))
                .collect::<Vec<_>>()
                .join("-+-"),
        );
    }
    for r in rows {
        ctx.outln(&r.join(if out.unaligned { "|" } else { " | " }));
    }
    let n = rows.len();
    ctx.outln(&format!("({n} row{})", if n == 1 { "" } else { "s" }));
}

/// Reads an SQL string literal at the start of `s`: `'…'` with `''` escapes, or `E'…'`.
fn literal(s: &str) -> Option<String> {
    let s = s
        .strip_prefix('E')
        .or_else(|| s.strip_prefix('e'))
        .unwrap_or(s);
    let body = s.strip_prefix('\'')?;
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
            } else {
                return Some(out);
            }
        } else {
            out.push(c);
        }
    }
    None
}

fn execute(w: &mut World, stmt: &str, out: Out, ctx: &mut Ctx, conn: &Conn) -> Result<(), String> {
    let upper = stmt.to_ascii_uppercase();
    let words: Vec<&str> = stmt.split(' ').collect();
    if let Some(at) = stmt
        .find(':')
        .filter(|_| !stmt.contains("::") && !upper.contains("'"))
    {
        let near: String = stmt[at..].chars().take(12).collect();
        return Err(format!(
            "ERROR:  syntax error at or near \"{}\"",
            near.split(' ').next().unwrap_or(&near)
        ));
    }
    if upper.starts_with("ALTER ROLE ") || upper.starts_with("ALTER USER ") {
        let role = words.get(2).map(|r| r.trim_matches('"')).unwrap_or("");
        if !w.postgres.roles.contains_key(role) {
            return Err(format!("ERROR:  role \"{role}\" does not exist"));
        }
        let Some(at) = upper.find(" PASSWORD ") else {
            if !out.quiet {
                ctx.outln("ALTER ROLE");
            }
            return Ok(());
        };
        let rest = &stmt[at + " PASSWORD ".len()..];
        if w.trip(FaultKind::RoleUnchanged, None) {
            // Fault: the statement reports success and the role keeps its password.
            if !out.quiet {
                ctx.outln("ALTER ROLE");
            }
            return Ok(());
        }
        if rest.to_ascii_uppercase().starts_with("NULL") {
            w.postgres.roles.insert(role.to_owned(), String::new());
        } else {
            let Some(pw) = literal(rest) else {
                let near = rest.split(' ').next().unwrap_or(rest);
                return Err(format!("ERROR:  syntax error at or near \"{near}\""));
            };
            if pw.is_empty() {
                // PostgreSQL clears the password (NULL): nobody logs in with one any more.
                ctx.errln("NOTICE:  empty string is not a valid password, clearing password");
            }
            w.remember("POSTGRES_PASSWORD (set by ALTER ROLE)", &pw);
            w.postgres.roles.insert(role.to_owned(), pw);
        }
        if !out.quiet {
            ctx.outln("ALTER ROLE");
        }
        return Ok(());
    }
    if upper.starts_with("SELECT") && upper.contains("PG_STAT_ACTIVITY") {
        return stat_activity(w, stmt, out, ctx, conn);
    }
    if upper == "SELECT EXTRACT(EPOCH FROM CLOCK_TIMESTAMP())" {
        // The server's clock now, as PostgreSQL 14+ prints it: Unix seconds with six decimals
        // (`numeric`). The world's clock has whole seconds.
        let v = format!("{}.000000", crate::pg::server_epoch(w.clock));
        table(ctx, out, &["extract"], &[vec![v]]);
        return Ok(());
    }
    if upper.starts_with("SELECT") && upper.contains("NOW()") {
        // The server's clock (the Docker VM's, crate::pg): `extract(epoch FROM now())` (with
        // `ceil(…)`, `::bigint`) prints Unix seconds; `now()` a timestamp.
        let at = w.clock;
        if upper.contains("EXTRACT(EPOCH FROM NOW())") {
            let v = crate::pg::server_epoch(at).to_string();
            table(ctx, out, &["epoch"], &[vec![v]]);
        } else if matches!(upper.as_str(), "SELECT NOW()" | "SELECT CURRENT_TIMESTAMP") {
            table(ctx, out, &["now"], &[vec![crate::pg::server_timestamp(at)]]);
        } else {
            return Err(format!(
                "ERROR:  the drill's mock Postgres does not model this use of now() ({stmt}; see docs/drill-world.md)"
            ));
        }
        return Ok(());
    }
    match upper.as_str() {
        "SELECT 1" => table(ctx, out, &["?column?"], &[vec!["1".into()]]),
        "SELECT CURRENT_USER" | "SELECT SESSION_USER" => {
            table(ctx, out, &["current_user"], &[vec!["claire_user".into()]])
        }
        "SELECT VERSION()" => table(ctx, out, &["version"], &[vec!["PostgreSQL 18.4".into()]]),
        "BEGIN" | "COMMIT" | "ROLLBACK" => {
            if !out.quiet {
                ctx.outln(&upper);
            }
        }
        // Where PostgreSQL reads its TLS files (`SHOW ssl…`). Under the overlay the world is the
        // kit's corrected tls.yml: ssl on, the files it mounts beside the data directory
        // (tls.rs). Upstream's tls.yml instead copies them into the data directory at first
        // initialisation (`infrastructure/tls/postgres_ssl_init.sh`: `ssl_cert_file =
        // 'server.crt'`); docs/drill-world.md says the world does not model that. Without the
        // overlay: PostgreSQL's defaults (`ssl` off, file names relative to the data directory).
        "SHOW SSL" | "SHOW SSL_CERT_FILE" | "SHOW SSL_KEY_FILE" | "SHOW SSL_CA_FILE" => {
            let on = w.tls_on("cdb_postgres");
            let (col, v) = match upper.as_str() {
                "SHOW SSL" => ("ssl", if on { "on" } else { "off" }),
                "SHOW SSL_CERT_FILE" if on => ("ssl_cert_file", "/var/lib/postgresql/server.crt"),
                "SHOW SSL_CERT_FILE" => ("ssl_cert_file", "server.crt"),
                "SHOW SSL_KEY_FILE" if on => ("ssl_key_file", "/var/lib/postgresql/server.key"),
                "SHOW SSL_KEY_FILE" => ("ssl_key_file", "server.key"),
                _ if on => ("ssl_ca_file", "/var/lib/postgresql/root.crt"),
                _ => ("ssl_ca_file", ""),
            };
            table(ctx, out, &[col], &[vec![v.to_owned()]]);
        }
        _ if upper.starts_with("SELECT ROLNAME FROM PG_ROLES") => {
            let rows: Vec<Vec<String>> = w.postgres.roles.keys().map(|r| vec![r.clone()]).collect();
            table(ctx, out, &["rolname"], &rows);
        }
        _ => {
            let first = words.first().copied().unwrap_or("");
            return Err(format!(
                "ERROR:  the drill's mock Postgres does not model this statement (starts with \"{first}\"; see docs/drill-world.md)"
            ));
        }
    }
    Ok(())
}

/// One row of `pg_stat_activity`.
struct Row {
    pid: u32,
    usename: String,
    backend_type: String,
    client_addr: Option<String>,
    /// World clock.
    backend_start: u64,
}

const COLUMNS: &[&str] = &[
    "pid",
    "usename",
    "application_name",
    "client_addr",
    "backend_start",
    "backend_type",
    "state",
    "datname",
];

/// `SELECT cols | count(*) | pg_terminate_backend(pid) FROM pg_stat_activity [WHERE c AND …]
/// [ORDER BY …]`: every session (the client's own included), filtered by each condition of the
/// `WHERE` (crate::pg: real-server facts on `pg_terminate_backend`).
fn stat_activity(
    w: &mut World,
    stmt: &str,
    out: Out,
    ctx: &mut Ctx,
    conn: &Conn,
) -> Result<(), String> {
    let upper = stmt.to_ascii_uppercase();
    let Some(from) = upper.find(" FROM PG_STAT_ACTIVITY") else {
        return Err(unmodelled(stmt));
    };
    let select = stmt["SELECT".len()..from].trim().to_owned();
    let mut tail = stmt[from + " FROM PG_STAT_ACTIVITY".len()..]
        .trim()
        .to_owned();
    if let Some(o) = tail.to_ascii_uppercase().find("ORDER BY") {
        tail.truncate(o);
    }
    let tail = tail.trim();
    let conds: Vec<String> = if tail.is_empty() {
        Vec::new()
    } else {
        let Some(w_) = tail
            .strip_prefix("WHERE ")
            .or_else(|| tail.strip_prefix("where "))
        else {
            return Err(unmodelled(stmt));
        };
        split_and(w_)
    };
    let mut rows: Vec<Row> = w
        .postgres
        .sessions
        .iter()
        .map(|s| Row {
            pid: s.pid,
            usename: if s.usename.is_empty() {
                "claire_user".into()
            } else {
                s.usename.clone()
            },
            backend_type: if s.backend_type.is_empty() {
                "client backend".into()
            } else {
                s.backend_type.clone()
            },
            client_addr: s.client_addr.clone(),
            backend_start: s.backend_start,
        })
        .collect();
    rows.push(Row {
        pid: conn.pid,
        usename: conn.user.clone(),
        backend_type: "client backend".into(),
        client_addr: conn.addr.clone(),
        backend_start: w.clock,
    });
    let mut selected = Vec::new();
    for r in rows {
        let mut keep = true;
        for c in &conds {
            keep &= matches_cond(&r, c, conn)?;
        }
        if keep {
            selected.push(r);
        }
    }
    let sel_upper = select.to_ascii_uppercase();
    if sel_upper.contains("PG_TERMINATE_BACKEND") {
        let own = selected.iter().any(|r| r.pid == conn.pid);
        let pids: Vec<u32> = selected
            .iter()
            .map(|r| r.pid)
            .filter(|p| *p != conn.pid)
            .collect();
        w.pg_terminate(&pids);
        if own {
            // The client's own backend is among them: it ends mid-statement.
            return Err(format!(
                "FATAL:  terminating connection due to administrator command\n{LOST}"
            ));
        }
        let rows: Vec<Vec<String>> = pids.iter().map(|_| vec!["t".to_owned()]).collect();
        table(ctx, out, &["pg_terminate_backend"], &rows);
        return Ok(());
    }
    if sel_upper.replace(' ', "") == "COUNT(*)" {
        table(ctx, out, &["count"], &[vec![selected.len().to_string()]]);
        return Ok(());
    }
    let cols: Vec<String> = if select == "*" {
        return Err(unmodelled(stmt));
    } else {
        select
            .split(',')
            .map(|c| c.trim().to_ascii_lowercase())
            .collect()
    };
    for c in &cols {
        if !COLUMNS.contains(&c.as_str()) {
            return Err(unmodelled(stmt));
        }
    }
    let header: Vec<&str> = cols.iter().map(String::as_str).collect();
    let data: Vec<Vec<String>> = selected
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| match c.as_str() {
                    "pid" => r.pid.to_string(),
                    "usename" => r.usename.clone(),
                    // The services set no application_name (crate::pg).
                    "application_name" => String::new(),
                    "client_addr" => r.client_addr.clone().unwrap_or_default(),
                    "backend_start" => crate::pg::server_timestamp(r.backend_start),
                    "backend_type" => r.backend_type.clone(),
                    "state" if r.pid == conn.pid => "active".into(),
                    "state" if r.backend_type == "client backend" => "idle".into(),
                    "state" => String::new(),
                    "datname" if r.backend_type == "client backend" => "claire_de_binare".into(),
                    _ => String::new(),
                })
                .collect()
        })
        .collect();
    table(ctx, out, &header, &data);
    Ok(())
}

fn unmodelled(stmt: &str) -> String {
    format!(
        "ERROR:  the drill's mock Postgres does not model this pg_stat_activity query ({stmt}; see docs/drill-world.md)"
    )
}

/// Splits a WHERE clause on top-level `AND` (case-insensitive, outside quotes).
fn split_and(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = false;
    let words: Vec<&str> = s.split(' ').collect();
    for wd in words {
        if !quote && wd.eq_ignore_ascii_case("AND") {
            out.push(std::mem::take(&mut cur).trim().to_owned());
            continue;
        }
        quote ^= wd.matches('\'').count() % 2 == 1;
        cur.push_str(wd);
        cur.push(' ');
    }
    out.push(cur.trim().to_owned());
    out.retain(|c| !c.is_empty());
    out
}

/// Whether `r` satisfies one condition: `col = 'v'` / `<>` / `!=` for text columns,
/// `pid <> pg_backend_pid()`, `client_addr IS [NOT] NULL`, and `backend_start < | <= | > | >=`
/// `to_timestamp(N)` (N: Unix seconds on the server's clock).
fn matches_cond(r: &Row, c: &str, conn: &Conn) -> Result<bool, String> {
    let compact = c.replace(' ', "").to_ascii_lowercase();
    match compact.as_str() {
        "pid<>pg_backend_pid()" | "pid!=pg_backend_pid()" => return Ok(r.pid != conn.pid),
        "pid=pg_backend_pid()" => return Ok(r.pid == conn.pid),
        "client_addrisnull" => return Ok(r.client_addr.is_none()),
        "client_addrisnotnull" => return Ok(r.client_addr.is_some()),
        _ => {}
    }
    let ops = ["<>", "!=", "<=", ">=", "=", "<", ">"];
    let Some((col, op, rhs)) = ops.iter().find_map(|op| {
        c.find(op)
            .map(|at| (c[..at].trim(), *op, c[at + op.len()..].trim()))
    }) else {
        return Err(format!(
            "ERROR:  the drill's mock Postgres does not model the condition \"{c}\""
        ));
    };
    let col = col.to_ascii_lowercase();
    if col == "backend_start" {
        let n = rhs
            .strip_prefix("to_timestamp(")
            .and_then(|x| x.strip_suffix(')'))
            .and_then(|x| x.trim().split('.').next().map(str::to_owned))
            .and_then(|x| x.parse::<u64>().ok())
            .ok_or_else(|| {
                format!(
                    "ERROR:  the drill's mock Postgres compares backend_start with to_timestamp(<unix seconds>) only, not \"{rhs}\""
                )
            })?;
        let t = crate::pg::server_epoch(r.backend_start);
        return Ok(match op {
            "<" => t < n,
            "<=" => t <= n,
            ">" => t > n,
            ">=" => t >= n,
            "=" => t == n,
            _ => t != n,
        });
    }
    let Some(v) = literal(rhs) else {
        return Err(format!(
            "ERROR:  the drill's mock Postgres does not model the condition \"{c}\""
        ));
    };
    let have = match col.as_str() {
        "usename" => Some(r.usename.clone()),
        "backend_type" => Some(r.backend_type.clone()),
        "application_name" => Some(String::new()),
        "client_addr" => r.client_addr.clone(),
        "datname" => (r.backend_type == "client backend").then(|| "claire_de_binare".to_owned()),
        _ => {
            return Err(format!(
                "ERROR:  the drill's mock Postgres does not model the condition \"{c}\""
            ));
        }
    };
    // NULL compares as unknown: the row is not selected.
    let Some(have) = have else { return Ok(false) };
    Ok(match op {
        "=" => have == v,
        "<>" | "!=" => have != v,
        _ => {
            return Err(format!(
                "ERROR:  the drill's mock Postgres does not model the condition \"{c}\""
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_interpolates() {
        let v = BTreeMap::from([("pw".to_owned(), "a'b".to_owned())]);
        assert_eq!(
            interpolate("ALTER ROLE x PASSWORD :'pw';", &v),
            "ALTER ROLE x PASSWORD 'a''b';"
        );
        assert_eq!(
            split_statements("SELECT 1; -- c\nSELECT 'a;b';"),
            vec!["SELECT 1", "SELECT 'a;b'"]
        );
        assert_eq!(literal("'a''b' rest").as_deref(), Some("a'b"));
    }
}
