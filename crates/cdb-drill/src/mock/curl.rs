//! Mock `curl`: the stack's 127.0.0.1 endpoints (health, Grafana's API, exporters' metrics).
//! Every other host fails like an unresolvable name (exit 6): nothing leaves the sandbox.

use super::{Ctx, opt_value, split_words};
use crate::world::{ENDPOINTS, World};
use serde_json::json;

#[derive(Default)]
struct Req {
    url: Option<String>,
    method: Option<String>,
    data: Option<String>,
    user: Option<String>,
    headers: Vec<String>,
    fail: bool,
    silent: bool,
    show_error: bool,
    output: Option<String>,
    write_out: Option<String>,
    include: bool,
}

fn read_arg_file(ctx: &Ctx, v: &str) -> Result<String, String> {
    match v.strip_prefix('@') {
        Some("-") => Ok(ctx.stdin.clone()),
        Some(f) => ctx.read_text(f).map_err(|_| format!("Failed to open {f}")),
        None => Ok(v.to_owned()),
    }
}

fn parse(args: &[String], ctx: &Ctx, r: &mut Req) -> Result<(), String> {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].clone();
        if let Some(v) = opt_value(args, &mut i, &["-K", "--config"]) {
            let text = if v == "-" {
                ctx.stdin.clone()
            } else {
                ctx.read_text(&v)
                    .map_err(|_| format!("(26) Failed to open config file {v}"))?
            };
            config(&text, ctx, r)?;
        } else if let Some(v) = opt_value(args, &mut i, &["-u", "--user"]) {
            r.user = Some(v);
        } else if let Some(v) = opt_value(args, &mut i, &["-H", "--header"]) {
            if v.starts_with('@') {
                let t = read_arg_file(ctx, &v)?;
                r.headers.extend(t.lines().map(str::to_owned));
            } else {
                r.headers.push(v);
            }
        } else if let Some(v) = opt_value(args, &mut i, &["-X", "--request"]) {
            r.method = Some(v);
        } else if let Some(v) = opt_value(
            args,
            &mut i,
            &["-d", "--data", "--data-binary", "--data-raw"],
        ) {
            r.data = Some(if a == "--data-raw" {
                v
            } else {
                read_arg_file(ctx, &v)?
            });
        } else if let Some(v) = opt_value(args, &mut i, &["-o", "--output"]) {
            r.output = Some(v);
        } else if let Some(v) = opt_value(args, &mut i, &["-w", "--write-out"]) {
            r.write_out = Some(v);
        } else if opt_value(
            args,
            &mut i,
            &[
                "-m",
                "--max-time",
                "--connect-timeout",
                "--retry",
                "--retry-delay",
                "--retry-max-time",
            ],
        )
        .is_some()
        {
        } else if let Some(v) = opt_value(args, &mut i, &["--url"]) {
            r.url = Some(v);
        } else if a.starts_with("--") {
            match a.as_str() {
                "--fail" | "--fail-with-body" => r.fail = true,
                "--silent" => r.silent = true,
                "--show-error" => r.show_error = true,
                "--include" => r.include = true,
                _ => {}
            }
            i += 1;
        } else if let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
            for c in flags.chars() {
                match c {
                    'f' => r.fail = true,
                    's' => r.silent = true,
                    'S' => r.show_error = true,
                    'i' => r.include = true,
                    'L' | 'k' | 'v' | 'g' => {}
                    other => {
                        return Err(format!(
                            "(2) option -{other}: is unknown to the drill's mock curl"
                        ));
                    }
                }
            }
            i += 1;
        } else {
            r.url = Some(a);
            i += 1;
        }
    }
    Ok(())
}

/// A curl config file: `user = "a:b"`, `header = "…"`, `url = "…"`, `-u a:b`, …
fn config(text: &str, ctx: &Ctx, r: &mut Req) -> Result<(), String> {
    let mut args = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (k, v) = match l.split_once(|c: char| c == '=' || c == ':' || c.is_whitespace()) {
            Some((k, v)) => (k.trim(), v.trim().trim_start_matches(['=', ':']).trim()),
            None => (l, ""),
        };
        let v = split_words(v).into_iter().next().unwrap_or_default();
        let k = k.trim_start_matches('-');
        let key = if k.len() == 1 {
            format!("-{k}")
        } else {
            format!("--{k}")
        };
        args.push(key);
        if !v.is_empty() {
            args.push(v);
        }
    }
    parse(&args, ctx, r)
}

fn basic_user(r: &Req) -> Option<(String, String)> {
    let u = r.user.as_ref()?;
    let (a, b) = u.split_once(':')?;
    Some((a.to_owned(), b.to_owned()))
}

fn bearer(r: &Req) -> Option<String> {
    r.headers.iter().find_map(|h| {
        let (k, v) = h.split_once(':')?;
        if !k.trim().eq_ignore_ascii_case("authorization") {
            return None;
        }
        v.trim()
            .strip_prefix("Bearer ")
            .map(|t| t.trim().to_owned())
    })
}

pub fn run(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let mut r = Req::default();
    if let Err(e) = parse(args, ctx, &mut r) {
        ctx.errln(&format!("curl: {e}"));
        return 2;
    }
    if r.user.as_deref().is_some_and(|u| u.contains(':'))
        && args
            .iter()
            .any(|a| a == "-u" || a == "--user" || a.starts_with("-u"))
    {
        w.violation(
            crate::world::ViolationKind::SecretInArgv,
            "`curl -u user:password` puts the password on the command line (use -K)".into(),
        );
    }
    let Some(url) = r.url.clone() else {
        ctx.errln("curl: no URL specified!");
        return 2;
    };
    let say = |ctx: &mut Ctx, r: &Req, msg: &str| {
        if !r.silent || r.show_error {
            ctx.errln(&format!("curl: {msg}"));
        }
    };
    let rest = url.split_once("://").map_or(url.as_str(), |x| x.1);
    let (hostport, path) = match rest.find('/') {
        Some(p) => (&rest[..p], &rest[p..]),
        None => (rest, "/"),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().unwrap_or(0)),
        None => (hostport, 80),
    };
    if !matches!(host, "127.0.0.1" | "localhost") {
        say(ctx, &r, &format!("(6) Could not resolve host: {host}"));
        return 6;
    }
    let path = path.split('?').next().unwrap_or(path);
    let Some(&(_, health_path, container)) = ENDPOINTS.iter().find(|(p, _, _)| *p == port) else {
        say(
            ctx,
            &r,
            &format!(
                "(7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server"
            ),
        );
        return 7;
    };
    if !w.running(container) {
        say(
            ctx,
            &r,
            &format!(
                "(7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server"
            ),
        );
        return 7;
    }
    let method = r.method.clone().unwrap_or_else(|| {
        if r.data.is_some() {
            "POST".into()
        } else {
            "GET".into()
        }
    });
    let (status, body) = if container == "cdb_grafana" {
        grafana(w, &method, path, &r)
    } else if path != health_path {
        (404, "404 page not found\n".to_owned())
    } else {
        match container {
            "cdb_prometheus" => (200, "Prometheus Server is Healthy.\n".into()),
            "cdb_postgres_exporter" => {
                // `pg_up` is a ping on the exporter's pooled connection: a live session
                // passes; a new one is opened with PGPASSWORD from the file read at its start
                // only when the old one ended (crate::pg).
                w.pg_reconnect();
                let up = w.pg_has_session(container);
                (
                    200,
                    format!(
                        "# TYPE pg_up gauge\npg_up {}\npg_exporter_last_scrape_error {}\n",
                        u8::from(up),
                        u8::from(!up)
                    ),
                )
            }
            "cdb_redis_exporter" => {
                let up = w
                    .containers
                    .get(container)
                    .and_then(|c| c.read.get("REDIS_PASSWORD"))
                    .is_some_and(|p| w.redis_accepts(p))
                    && w.tls_link(container, "cdb_redis").is_ok();
                (
                    200,
                    format!("# TYPE redis_up gauge\nredis_up {}\n", u8::from(up)),
                )
            }
            // Behaviour `health-constant`: the Python services' handler returns a constant body;
            // it checks no credential, so a consumer on a refused password still answers 200.
            _ => (200, "{\"status\": \"ok\"}\n".to_owned()),
        }
    };
    if r.fail && status >= 400 {
        say(
            ctx,
            &r,
            &format!("(22) The requested URL returned error: {status}"),
        );
        if let Some(wo) = &r.write_out {
            ctx.out(
                &wo.replace("%{http_code}", &status.to_string())
                    .replace("\\n", "\n"),
            );
        }
        return 22;
    }
    let mut text = String::new();
    if r.include {
        text.push_str(&format!("HTTP/1.1 {status}\r\n\r\n"));
    }
    text.push_str(&body);
    match &r.output {
        Some(f) if f != "-" => {
            if f != "/dev/null" && ctx.write_file(f, text.as_bytes()).is_err() {
                say(
                    ctx,
                    &r,
                    &format!("(23) Failure writing output to destination {f}"),
                );
                return 23;
            }
        }
        _ => ctx.out(&text),
    }
    if let Some(wo) = &r.write_out {
        ctx.out(
            &wo.replace("%{http_code}", &status.to_string())
                .replace("\\n", "\n"),
        );
    }
    0
}

/// Grafana's HTTP API, as far as a rotation uses it.
fn grafana(w: &mut World, method: &str, path: &str, r: &Req) -> (u16, String) {
    if path == "/api/health" {
        return (
            200,
            "{\"commit\":\"drill\",\"database\":\"ok\",\"version\":\"11.2.0\"}\n".into(),
        );
    }
    // Basic auth is a login: counted by Grafana's brute-force protection (sessions.rs).
    let login = basic_user(r).map(|(u, p)| w.grafana_login(&u, &p));
    if login == Some(crate::sessions::Login::Blocked) {
        return (
            401,
            "{\"message\":\"Invalid username or password\",\"error\":\"too many consecutive incorrect login attempts for user - login for user temporarily blocked\"}\n".into(),
        );
    }
    let admin = login == Some(crate::sessions::Login::Ok);
    let token = bearer(r).is_some_and(|t| w.grafana.tokens.contains_key(&t));
    if !admin && !token {
        let msg = if bearer(r).is_some() {
            "Invalid API key"
        } else {
            "Unauthorized"
        };
        return (401, format!("{{\"message\":\"{msg}\"}}\n"));
    }
    let body: serde_json::Value = r
        .data
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or(serde_json::Value::Null);
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segs.as_slice()) {
        ("GET", ["api", "users", "lookup"]) => (
            200,
            json!({"id": 1, "login": "admin", "isGrafanaAdmin": true}).to_string(),
        ),
        // The admin's login sessions (sessions.rs): listed and revoked by a Grafana admin.
        ("GET", ["api", "admin", "users", "1", "auth-tokens"]) if admin => {
            let list: Vec<serde_json::Value> = w
                .grafana_logins
                .sessions
                .iter()
                .map(|s| json!({"id": s.id, "isActive": true, "clientIp": s.client_ip, "createdAt": crate::mock::util::format_time(crate::mock::util::EPOCH_START + s.created, "%Y-%m-%dT%H:%M:%SZ")}))
                .collect();
            (200, serde_json::Value::Array(list).to_string())
        }
        ("POST", ["api", "admin", "users", "1", "logout"]) if admin => {
            w.grafana_logins.sessions.clear();
            (200, json!({"message": "User logged out"}).to_string())
        }
        ("GET", ["api", "user"]) => (
            200,
            json!({"id": 1, "login": "admin", "isGrafanaAdmin": true}).to_string(),
        ),
        // Evidence (the playbook's collection step): users and service accounts, as Grafana's
        // HTTP API lists them (`GET /api/users` needs a server admin; `/api/serviceaccounts/search`).
        ("GET", ["api", "users"]) if admin => (
            200,
            json!([{"id": 1, "login": "admin", "isAdmin": true}]).to_string(),
        ),
        ("GET", ["api", "serviceaccounts", "search"]) => {
            let mut ids: Vec<u32> = w.grafana.tokens.values().map(|(sa, _)| *sa).collect();
            ids.sort_unstable();
            ids.dedup();
            let list: Vec<serde_json::Value> = ids
                .iter()
                .map(|sa| json!({"id": sa, "name": format!("sa-{sa}"), "tokens": w.grafana.tokens.values().filter(|(s, _)| s == sa).count()}))
                .collect();
            (
                200,
                json!({"totalCount": list.len(), "serviceAccounts": list}).to_string(),
            )
        }
        // The datasource provisioned from stack/grafana/provisioning/datasources/postgres.yml:
        // name `PostgreSQL`, no uid in the file, so Grafana generated one (crate::pg).
        ("GET", ["api", "datasources"]) => (200, json!([datasource_json(w)]).to_string()),
        ("GET", ["api", "datasources", "name", name]) => {
            if *name == "PostgreSQL" {
                (200, datasource_json(w).to_string())
            } else {
                (404, json!({"message": "Data source not found"}).to_string())
            }
        }
        ("GET", ["api", "datasources", "uid", uid, "health"]) if *uid != w.grafana_ds_uid() => {
            (404, json!({"message": "Data source not found"}).to_string())
        }
        ("GET", ["api", "datasources", "uid", _, "health"]) => {
            // The health check queries the datasource: its pool connects now if it has no session.
            w.pg_demand("cdb_grafana");
            if w.datasource_ok() {
                (
                    200,
                    json!({"status": "OK", "message": "Database Connection OK"}).to_string(),
                )
            } else {
                (400, json!({"status": "ERROR", "message": "pq: password authentication failed for user \"claire_user\""}).to_string())
            }
        }
        ("PUT", ["api", "admin", "users", "1", "password"]) if admin => {
            match body.get("password").and_then(|p| p.as_str()) {
                Some(p) if !p.is_empty() => {
                    w.remember("GRAFANA_PASSWORD (set by API)", p);
                    w.grafana.admin_password = p.to_owned();
                    (200, json!({"message": "User password updated"}).to_string())
                }
                _ => (400, json!({"message": "bad request data"}).to_string()),
            }
        }
        ("PUT", ["api", "user", "password"]) if admin => {
            let old = body.get("oldPassword").and_then(|p| p.as_str());
            let new = body
                .get("newPassword")
                .and_then(|p| p.as_str())
                .unwrap_or("");
            if old != Some(w.grafana.admin_password.as_str()) {
                return (401, json!({"message": "Invalid old password"}).to_string());
            }
            if new.is_empty() {
                return (
                    400,
                    json!({"message": "New password is too short"}).to_string(),
                );
            }
            w.remember("GRAFANA_PASSWORD (set by API)", new);
            w.grafana.admin_password = new.to_owned();
            (200, json!({"message": "User password changed"}).to_string())
        }
        ("POST", ["api", "serviceaccounts", sa, "tokens"]) => {
            let sa: u32 = sa.parse().unwrap_or(0);
            let id = w.grafana.next_token;
            w.grafana.next_token += 1;
            let t = format!("glsa_{}", w.fresh_secret("GRAFANA_SA_TOKEN (new)", 16));
            w.values.insert(t.clone(), "GRAFANA_SA_TOKEN (new)".into());
            w.grafana.tokens.insert(t.clone(), (sa, id));
            let name = body.get("name").and_then(|n| n.as_str()).unwrap_or("token");
            (200, json!({"id": id, "name": name, "key": t}).to_string())
        }
        ("GET", ["api", "serviceaccounts", sa, "tokens"]) => {
            let sa: u32 = sa.parse().unwrap_or(0);
            let list: Vec<serde_json::Value> = w
                .grafana
                .tokens
                .values()
                .filter(|(s, _)| *s == sa)
                .map(|(_, id)| json!({"id": id, "name": format!("token-{id}")}))
                .collect();
            (200, serde_json::Value::Array(list).to_string())
        }
        ("DELETE", ["api", "serviceaccounts", _, "tokens", tid]) => {
            let tid: u32 = tid.parse().unwrap_or(0);
            let before = w.grafana.tokens.len();
            w.grafana.tokens.retain(|_, (_, id)| *id != tid);
            if w.grafana.tokens.len() == before {
                (404, json!({"message": "token not found"}).to_string())
            } else {
                (
                    200,
                    json!({"message": "Service account token deleted"}).to_string(),
                )
            }
        }
        (
            "POST",
            [
                "api",
                "alertmanager",
                "grafana",
                "config",
                "api",
                "v1",
                "receivers",
                "test",
            ],
        ) => test_receivers(w, &body),
        _ => (404, json!({"message": "Not found"}).to_string()),
    }
}

fn datasource_json(w: &World) -> serde_json::Value {
    json!({"id": 1, "uid": w.grafana_ds_uid(), "orgId": 1, "name": "PostgreSQL", "type": "grafana-postgresql-datasource", "access": "proxy", "url": "cdb_postgres:5432", "user": "claire_user", "database": "claire_de_binare", "readOnly": true})
}

/// `POST /api/alertmanager/grafana/config/api/v1/receivers/test`: Grafana sends a test
/// notification through each integration given (a contact point's "Test" button). E-mail goes
/// through Grafana's SMTP settings, i.e. the app password Grafana read at its creation.
/// 200 when every integration sent; 207 when some failed; 400 when every receiver is invalid.
fn test_receivers(w: &World, body: &serde_json::Value) -> (u16, String) {
    let Some(receivers) = body.get("receivers").and_then(|r| r.as_array()) else {
        return (400, json!({"message": "bad request data"}).to_string());
    };
    if receivers.is_empty() {
        return (400, json!({"message": "no receivers"}).to_string());
    }
    let smtp_ok = w
        .containers
        .get("cdb_grafana")
        .and_then(|c| c.read.get("SMTP_PASSWORD"))
        .is_some_and(|p| w.smtp.app_passwords.contains(p));
    let (mut invalid, mut failed) = (0, 0);
    let mut out = Vec::new();
    for r in receivers {
        let configs: Vec<serde_json::Value> = r
            .get("grafana_managed_receiver_configs")
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default();
        let mut results = Vec::new();
        let mut bad = configs.is_empty();
        for c in &configs {
            let kind = c.get("type").and_then(|t| t.as_str()).unwrap_or("");
            let addresses = c
                .pointer("/settings/addresses")
                .and_then(|a| a.as_str())
                .unwrap_or("");
            let error = if kind != "email" {
                bad = true;
                Some(format!(
                    "the drill's mock Grafana sends only e-mail tests, not `{kind}`"
                ))
            } else if addresses.trim().is_empty() {
                bad = true;
                Some("could not find addresses in settings".to_owned())
            } else if !smtp_ok {
                failed += 1;
                Some(
                    "failed to send test message: 535 5.7.8 Username and Password not accepted"
                        .to_owned(),
                )
            } else {
                None
            };
            results.push(json!({
                "name": c.get("name").cloned().unwrap_or(serde_json::Value::Null),
                "uid": "",
                "status": if error.is_some() { "failed" } else { "ok" },
                "error": error,
            }));
        }
        if bad {
            invalid += 1;
        }
        out.push(json!({
            "name": r.get("name").cloned().unwrap_or(serde_json::Value::Null),
            "grafana_managed_receiver_configs": results,
        }));
    }
    let status = if invalid == receivers.len() {
        400
    } else if invalid + failed > 0 {
        207
    } else {
        200
    };
    (status, json!({"receivers": out}).to_string())
}
