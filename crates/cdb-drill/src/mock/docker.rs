//! Mock `docker`: `compose` (up, restart, stop, start, ps, down, exec, config), `exec`, `inspect`,
//! `ps` and `network`, with Compose's real semantics for secrets (read at creation only).

use super::{Ctx, Loc, opt_value};
use crate::world::{Health, World, all_services};
use cdb_model::faults::FaultKind;

pub fn run(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let Some((sub, rest)) = args.split_first() else {
        ctx.errln("Usage:  docker [OPTIONS] COMMAND");
        return 1;
    };
    match sub.as_str() {
        "compose" => compose(w, rest, ctx),
        "exec" => exec(w, rest, ctx, None),
        "inspect" | "container"
            if sub == "inspect" || rest.first().is_some_and(|s| s == "inspect") =>
        {
            let rest = if sub == "container" { &rest[1..] } else { rest };
            inspect(w, rest, ctx)
        }
        "ps" => ps(w, rest, ctx, None),
        // The PostgreSQL server's log (crate::pg).
        "logs" => crate::pg::docker_logs(w, rest, ctx),
        "network" => network(w, rest, ctx),
        "port" => port(w, rest, ctx),
        "restart" | "stop" | "start" => {
            let mut code = 0;
            for c in rest.iter().filter(|a| !a.starts_with('-')) {
                if !w.containers.contains_key(c.as_str()) {
                    ctx.errln(&format!(
                        "Error response from daemon: No such container: {c}"
                    ));
                    code = 1;
                    continue;
                }
                match sub.as_str() {
                    "restart" => w.restart(c),
                    "stop" => w.stop(c),
                    _ => w.start(c),
                }
                ctx.outln(c);
            }
            code
        }
        "rm" | "volume" | "system" | "run" | "kill" => {
            ctx.errln(&format!(
                "docker {sub}: not modelled by the drill world (docs/drill-world.md)"
            ));
            1
        }
        other => {
            ctx.errln(&format!("docker: '{other}' is not a docker command."));
            1
        }
    }
}

/// The projects named by `-f` files (relative to the working directory, which must hold them).
fn compose(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let mut files = Vec::new();
    let mut project_name = None;
    let mut i = 0;
    while i < args.len() {
        if let Some(f) = opt_value(args, &mut i, &["-f", "--file"]) {
            files.push(f);
        } else if let Some(p) = opt_value(args, &mut i, &["-p", "--project-name"]) {
            project_name = Some(p);
        } else if opt_value(args, &mut i, &["--env-file", "--profile"]).is_some() {
        } else {
            break;
        }
    }
    let Some((sub, rest)) = args[i..].split_first() else {
        ctx.errln("Usage:  docker compose [OPTIONS] COMMAND");
        return 1;
    };
    if files.is_empty() {
        ctx.errln("no configuration file provided: not found");
        return 1;
    }
    let mut services: Vec<&'static str> = Vec::new();
    let mut projects: Vec<&'static str> = Vec::new();
    // What Compose writes in the label: each `-f` file as an absolute path (overlays.rs).
    let mut abs_files = Vec::new();
    for f in &files {
        let name = f.rsplit('/').next().unwrap_or(f);
        if !ctx.exists(f) {
            ctx.errln(&format!(
                "open {}: no such file or directory",
                ctx.cwd.join(f).display()
            ));
            return 1;
        }
        abs_files.push(
            ctx.cwd
                .join(f.strip_prefix("./").unwrap_or(f))
                .display()
                .to_string(),
        );
        if crate::overlays::OVERLAY_FILES.contains(&name) {
            continue;
        }
        match crate::stack::kit().projects.iter().find(|p| p.file == name) {
            Some(p) => {
                services.extend(p.services.iter().map(String::as_str));
                projects.push(p.name.as_str());
            }
            None => {
                ctx.errln(&format!("{f}: not a Compose file of this stack"));
                return 1;
            }
        }
    }
    // Each project file sets `name:` (stack/compose); another `-p` is another project, whose
    // containers would take the same `container_name`s: Docker refuses them.
    if let Some(p) = &project_name
        && sub == "up"
        && projects.iter().any(|x| x != p)
    {
        let first = services.first().copied().unwrap_or("cdb_postgres");
        ctx.errln(&format!(
            "Error response from daemon: Conflict. The container name \"/{first}\" is already in use by a container of project {}",
            projects.first().copied().unwrap_or("")
        ));
        return 1;
    }
    let mut flags = Vec::new();
    let mut named = Vec::new();
    let mut j = 0;
    while j < rest.len() {
        let a = &rest[j];
        if sub == "exec" && !a.starts_with('-') {
            named.push(a.clone());
            break;
        }
        if matches!(
            a.as_str(),
            "-t" | "--timeout"
                | "-e"
                | "--env"
                | "-u"
                | "--user"
                | "--filter"
                | "--format"
                | "-w"
                | "--workdir"
                | "--pull"
        ) {
            flags.push(a.clone());
            if let Some(v) = rest.get(j + 1) {
                flags.push(v.clone());
            }
            j += 2;
            continue;
        }
        if a.starts_with('-') {
            flags.push(a.clone());
        } else {
            named.push(a.clone());
        }
        j += 1;
    }
    if sub != "exec" {
        for n in &named {
            if !services.contains(&n.as_str()) {
                ctx.errln(&format!("no such service: {n}"));
                return 1;
            }
        }
    }
    let targets: Vec<String> = if named.is_empty() {
        services.iter().map(|s| (*s).to_owned()).collect()
    } else {
        named.clone()
    };
    let has = |f: &str| flags.iter().any(|x| x == f);
    match sub.as_str() {
        "up" => {
            if !has("-d") && !has("--detach") {
                ctx.errln("docker compose up without -d attaches to the logs and never returns (the drill stops it)");
                return 124;
            }
            let force = has("--force-recreate");
            let no_recreate = has("--no-recreate");
            // `${ROLLBACK_TAG:-latest}` (rollback.yml) is resolved now, from this call's
            // environment: the files a container was created from keep no tag (overlays.rs).
            let tag = ctx.env.get("ROLLBACK_TAG").cloned();
            // With `--no-build` and `--pull never` Compose creates nothing from an image the
            // host lacks: `up` → `create` calls `ensureImagesExists` for the project before it
            // touches any container (docker/compose pkg/compose/create.go). The message is the
            // world's (the wording differs between Compose versions); what the runbook can rely
            // on is the exit status and the container left as it was.
            if has("--no-build") {
                let pull_never = flags
                    .windows(2)
                    .any(|p| p[0] == "--pull" && p[1] == "never");
                for t in &targets {
                    let recreates =
                        !w.containers.contains_key(t.as_str()) || (force && !no_recreate);
                    let local = w.has_image_for(t, &abs_files, tag.as_deref());
                    // Without `--pull never`, an image with no build is pulled (`missing`).
                    let built = crate::stack::kit()
                        .service(t)
                        .is_some_and(|s| s.image == format!("{}-{t}", s.project));
                    if recreates && !local && (pull_never || built) {
                        let image = w.resolve_image(t, &abs_files, tag.as_deref());
                        ctx.errln(&format!(
                            "Error response from daemon: No such image: {}",
                            crate::overlays::normalize_image(&image)
                        ));
                        return 1;
                    }
                }
            }
            for t in &targets {
                let exists = w.containers.contains_key(t.as_str());
                if !has("--no-deps") && !matches!(t.as_str(), "cdb_postgres" | "cdb_redis") {
                    for dep in ["cdb_postgres", "cdb_redis"] {
                        if !w.running(dep) && w.containers.contains_key(dep) {
                            w.start(dep);
                            ctx.errln(&format!(" Container {dep}  Started"));
                        }
                    }
                }
                if !exists || (force && !no_recreate) {
                    ctx.errln(&format!(" Container {t}  Recreate"));
                    if !w.trip(FaultKind::RecreateIgnored, Some(t)) {
                        w.create_from_env(t, abs_files.clone(), tag.as_deref());
                    }
                    ctx.errln(&format!(" Container {t}  Recreated"));
                    ctx.errln(&format!(" Container {t}  Started"));
                } else if !w.running(t) {
                    w.start(t);
                    ctx.errln(&format!(" Container {t}  Started"));
                } else {
                    ctx.errln(&format!(" Container {t}  Running"));
                }
            }
            if has("--wait") {
                for t in &targets {
                    if w.inspect_health(t) != Health::Healthy {
                        ctx.errln(&format!("container {t} is unhealthy"));
                        return 1;
                    }
                }
            }
            0
        }
        "restart" | "stop" | "start" => {
            for t in &targets {
                let verb = match sub.as_str() {
                    "restart" => {
                        w.restart(t);
                        "Started"
                    }
                    "stop" => {
                        w.stop(t);
                        "Stopped"
                    }
                    _ => {
                        w.start(t);
                        "Started"
                    }
                };
                ctx.errln(&format!(" Container {t}  {verb}"));
            }
            0
        }
        "down" => {
            if has("-v") || has("--volumes") {
                w.violation(
                    crate::world::ViolationKind::VolumeDestroyed,
                    "`docker compose down -v` destroyed the database volume: every row is gone"
                        .into(),
                );
                w.postgres.volume_destroyed = true;
                w.postgres.roles.clear();
            }
            for t in &targets {
                w.stop(t);
                w.containers.remove(t.as_str());
                ctx.errln(&format!(" Container {t}  Removed"));
            }
            0
        }
        "ps" => ps(w, &flags, ctx, Some(&targets)),
        "config" if has("--services") => {
            for s in &services {
                ctx.outln(s);
            }
            0
        }
        "exec" => {
            // `compose exec SVC CMD…` with options before SVC; container names equal service names here.
            let Some(svc) = named.first() else {
                ctx.errln("docker compose exec requires a service");
                return 1;
            };
            if !services.contains(&svc.as_str()) {
                ctx.errln(&format!("service \"{svc}\" is not running"));
                return 1;
            }
            let mut exec_args: Vec<String> = flags.iter().filter(|f| *f != "-T").cloned().collect();
            let pos = rest.iter().position(|a| a == svc).unwrap_or(0);
            exec_args.extend(rest[pos..].iter().cloned());
            exec(w, &exec_args, ctx, Some(svc))
        }
        other => {
            ctx.errln(&format!(
                "docker compose {other}: not modelled by the drill world"
            ));
            1
        }
    }
}

/// `docker exec [-i] [-t] [-e NAME[=VALUE]]… [-u USER] CONTAINER CMD…`
fn exec(w: &mut World, args: &[String], ctx: &mut Ctx, _svc: Option<&String>) -> i32 {
    let mut env = std::collections::BTreeMap::new();
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') {
        if let Some(e) = opt_value(args, &mut i, &["-e", "--env"]) {
            match e.split_once('=') {
                Some((k, v)) => {
                    env.insert(k.to_owned(), v.to_owned());
                }
                None => {
                    // `-e NAME` copies the caller's variable, when it is set.
                    if let Some(v) = ctx.env.get(&e) {
                        env.insert(e.clone(), v.clone());
                    }
                }
            }
        } else if opt_value(args, &mut i, &["-u", "--user", "-w", "--workdir"]).is_some() {
        } else {
            i += 1;
        }
    }
    let Some((container, cmd)) = args[i..].split_first() else {
        ctx.errln("docker: 'docker exec' requires at least 2 arguments.");
        return 1;
    };
    let Some(c) = w.containers.get(container.as_str()) else {
        ctx.errln(&format!(
            "Error response from daemon: No such container: {container}"
        ));
        return 1;
    };
    if !c.running {
        ctx.errln(&format!(
            "Error response from daemon: container {container} is not running"
        ));
        return 1;
    }
    let Some((tool, targs)) = cmd.split_first() else {
        ctx.errln("docker: 'docker exec' requires at least 2 arguments.");
        return 1;
    };
    // `cat FILE` of the TLS files the overlay mounts (overlays.rs); every image has cat.
    if tool == "cat" && !targs.is_empty() && targs.iter().all(|a| crate::overlays::is_tls_mount(a))
    {
        let mut code = 0;
        for a in targs {
            match w.tls_mount_text(container, a) {
                Some(t) => ctx.out(&t),
                None => {
                    ctx.errln(&format!("cat: can't open '{a}': No such file or directory"));
                    code = 1;
                }
            }
        }
        return code;
    }
    // Python images (exchange.rs): python, cmp, grep, cat run inside them.
    if crate::exchange::PYTHON_IMAGES.contains(&container.as_str())
        && matches!(tool.as_str(), "python" | "python3" | "cmp" | "grep" | "cat")
    {
        let container = container.clone();
        let outer_env = std::mem::replace(&mut ctx.env, env);
        let outer_loc = std::mem::replace(&mut ctx.loc, Loc::Container(container.clone()));
        let code = crate::exchange::run_inside(w, &container, tool, targs, ctx);
        ctx.env = outer_env;
        ctx.loc = outer_loc;
        return code;
    }
    let available = match tool.as_str() {
        "psql" => container == "cdb_postgres",
        "redis-cli" => container == "cdb_redis",
        "grafana" | "grafana-cli" => container == "cdb_grafana",
        _ => false,
    };
    if !available {
        ctx.errln(&format!(
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{tool}\": executable file not found in $PATH: unknown"
        ));
        return 127;
    }
    let outer_env = std::mem::replace(&mut ctx.env, env);
    let outer_loc = std::mem::replace(&mut ctx.loc, Loc::Container(container.clone()));
    let code = super::dispatch(w, tool, targs, ctx);
    ctx.env = outer_env;
    ctx.loc = outer_loc;
    code
}

/// `docker inspect [-f TEMPLATE] NAME…`
fn inspect(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let mut fmt = None;
    let mut names = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if let Some(f) = opt_value(args, &mut i, &["-f", "--format"]) {
            fmt = Some(f);
        } else if args[i] == "--type" {
            i += 2;
        } else {
            names.push(args[i].clone());
            i += 1;
        }
    }
    if names.is_empty() {
        ctx.errln("\"docker inspect\" requires at least 1 argument.");
        return 1;
    }
    let mut code = 0;
    let mut json = Vec::new();
    for n in &names {
        let n = n.trim_start_matches('/');
        if !w.containers.contains_key(n) {
            ctx.errln(&format!("Error: No such object: {n}"));
            code = 1;
            continue;
        }
        match &fmt {
            Some(t) => match render(w, n, t) {
                Ok(line) => ctx.outln(&line),
                Err(e) => {
                    ctx.errln(&format!("template parsing error: {e}"));
                    return 1;
                }
            },
            None => json.push(serde_json::json!({
                "Name": format!("/{n}"),
                "Image": w.image_id(n),
                "Config": {"Image": w.image_ref(n), "Labels": labels_json(w, n)},
                "State": {
                    "Status": status_word(w, n),
                    "Running": w.running(n),
                    "Health": {"Status": health_word(w, n)},
                },
            })),
        }
    }
    if fmt.is_none() {
        match serde_json::to_string_pretty(&json) {
            Ok(text) => ctx.outln(&text),
            Err(e) => {
                ctx.errln(&format!(
                    "cdb-drill: docker inspect cannot write its JSON: {e}"
                ));
                return 1;
            }
        }
    }
    code
}

fn labels_json(w: &World, n: &str) -> serde_json::Value {
    use crate::overlays::{CONFIG_FILES_LABEL, PROJECT_LABEL, SERVICE_LABEL, WORKDIR_LABEL};
    let mut m = serde_json::Map::new();
    for l in [
        PROJECT_LABEL,
        CONFIG_FILES_LABEL,
        WORKDIR_LABEL,
        SERVICE_LABEL,
    ] {
        if let Some(v) = w.label(n, l) {
            m.insert(l.to_owned(), serde_json::Value::String(v));
        }
    }
    serde_json::Value::Object(m)
}

fn status_word(w: &World, n: &str) -> &'static str {
    if w.running(n) { "running" } else { "exited" }
}

fn health_word(w: &World, n: &str) -> &'static str {
    match w.inspect_health(n) {
        Health::Healthy => "healthy",
        _ => "unhealthy",
    }
}

/// Expands the Go-template fields the runbooks use.
fn render(w: &World, n: &str, t: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = t;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            return Err("unclosed action".into());
        };
        let field = rest[start + 2..start + end].trim();
        // `index .Config.Labels "NAME"`: a Compose label (overlays.rs); a missing key is
        // the empty text (Go's `index` of a map[string]string gives its zero value).
        if let Some(arg) = field.strip_prefix("index .Config.Labels ") {
            let label = arg.trim().trim_matches('"');
            out.push_str(&w.label(n, label).unwrap_or_default());
            rest = &rest[start + end + 2..];
            continue;
        }
        let v = match field {
            ".Image" => w.image_id(n),
            // The reference it was created from, as Compose passes it: `Image:
            // api.GetImageNameOrDefault(service, project)` in docker/compose
            // pkg/compose/create.go `getCreateConfigs`, the name and not the ID (overlays.rs).
            ".Config.Image" => w.image_ref(n),
            ".State.Health.Status" => health_word(w, n).to_owned(),
            ".State.Running" => w.running(n).to_string(),
            ".State.Status" => status_word(w, n).to_owned(),
            ".Name" => format!("/{n}"),
            ".Config.Hostname" => n.to_owned(),
            ".RestartCount" => "0".into(),
            // Its address on the shared network (redis_conns.rs: what `CLIENT LIST` shows).
            ".NetworkSettings.Networks.cdb_network.IPAddress" => crate::redis_conns::ip_of(n),
            ".Created" | ".State.StartedAt" => {
                let g = w.containers.get(n).map_or(0, |c| c.generation);
                format!("2026-01-01T09:00:{:02}.000000000Z", g.min(59))
            }
            other => {
                return Err(format!(
                    "template: :1: executing \"\" at <{other}>: map has no entry for key \"{}\"",
                    other.trim_start_matches('.')
                ));
            }
        };
        out.push_str(&v);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn ps_status(w: &World, n: &str) -> String {
    match w.inspect_health(n) {
        Health::Healthy => "Up 2 hours (healthy)".into(),
        Health::Unhealthy => "Up 2 hours (unhealthy)".into(),
        _ => "Exited (0) 1 minute ago".into(),
    }
}

/// `docker ps` and `docker compose ps`.
fn ps(w: &mut World, args: &[String], ctx: &mut Ctx, only: Option<&Vec<String>>) -> i32 {
    let mut all = false;
    let mut fmt = None;
    let mut filters = Vec::new();
    let mut quiet = false;
    let mut services_only = false;
    let mut i = 0;
    while i < args.len() {
        if let Some(f) = opt_value(args, &mut i, &["--format"]) {
            fmt = Some(f);
        } else if let Some(f) = opt_value(args, &mut i, &["--filter"]) {
            filters.push(f);
        } else {
            match args[i].as_str() {
                "-a" | "--all" => all = true,
                "-q" | "--quiet" => quiet = true,
                "--services" => services_only = true,
                _ => {}
            }
            i += 1;
        }
    }
    let names: Vec<String> = match only {
        Some(t) => t.clone(),
        None => all_services().map(str::to_owned).collect(),
    };
    if fmt.is_none() && !quiet && !services_only {
        ctx.outln("NAME\tSERVICE\tSTATUS\tPORTS");
    }
    for n in names {
        if !w.containers.contains_key(n.as_str()) {
            continue;
        }
        let running = w.running(&n);
        if !running && !all && only.is_none() {
            continue;
        }
        let keep = filters.iter().all(|f| match f.split_once('=') {
            Some(("name", v)) => n.contains(v),
            Some(("status", v)) => (v == "running") == running,
            Some(("health", v)) => health_word(w, &n) == v,
            _ => true,
        });
        if !keep {
            continue;
        }
        if quiet || services_only {
            ctx.outln(&n);
            continue;
        }
        match &fmt {
            Some(t) => {
                let line = t
                    .replace("{{.Names}}", &n)
                    .replace("{{.Name}}", &n)
                    .replace("{{.Service}}", &n)
                    .replace("{{.Status}}", &ps_status(w, &n))
                    .replace("{{.State}}", status_word(w, &n))
                    .replace("{{.Health}}", if running { health_word(w, &n) } else { "" })
                    .replace("\\t", "\t");
                ctx.outln(&line);
            }
            None => ctx.outln(&format!("{n}\t{n}\t{}\t{}", ps_status(w, &n), ports(&n))),
        }
    }
    0
}

/// Published ports: every one bound to 127.0.0.1, as the stack publishes them.
/// `docker port CONTAINER [PRIVATE_PORT[/PROTO]]`: every published mapping, one per line
/// (`5432/tcp -> 127.0.0.1:5432`), as Docker prints them; the kit's Compose files publish each
/// port on 127.0.0.1 under its own number (stack.rs).
fn port(w: &World, args: &[String], ctx: &mut Ctx) -> i32 {
    let Some(n) = args.first() else {
        ctx.errln("\"docker port\" requires at least 1 argument.");
        return 1;
    };
    if !w.containers.contains_key(n) {
        ctx.errln(&format!(
            "Error response from daemon: No such container: {n}"
        ));
        return 1;
    }
    let want = args.get(1).map(|p| p.trim_end_matches("/tcp").to_owned());
    let mut found = false;
    for p in own_ports(n) {
        if want.as_deref().is_some_and(|x| x != p.to_string()) {
            continue;
        }
        found = true;
        if want.is_some() {
            ctx.outln(&format!("127.0.0.1:{p}"));
        } else {
            ctx.outln(&format!("{p}/tcp -> 127.0.0.1:{p}"));
        }
    }
    if let (Some(x), false) = (want, found) {
        ctx.errln(&format!(
            "Error: No public port '{x}/tcp' published for {n}"
        ));
        return 1;
    }
    0
}

fn own_ports(n: &str) -> Vec<u16> {
    match n {
        "cdb_postgres" => vec![5432],
        "cdb_redis" => vec![6379],
        _ => crate::world::ENDPOINTS
            .iter()
            .filter(|(_, _, c)| *c == n)
            .map(|(p, _, _)| *p)
            .collect(),
    }
}

fn ports(n: &str) -> String {
    own_ports(n)
        .iter()
        .map(|p| format!("127.0.0.1:{p}->{p}/tcp"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn network(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    match args.first().map(String::as_str) {
        Some("create") => {
            let Some(n) = args.get(1) else {
                ctx.errln("\"docker network create\" requires exactly 1 argument.");
                return 1;
            };
            if !w.networks.insert(n.clone()) {
                ctx.errln(&format!(
                    "Error response from daemon: network with name {n} already exists"
                ));
                return 1;
            }
            ctx.outln("f00dfeed");
            0
        }
        Some("ls") => {
            ctx.outln("NETWORK ID\tNAME\tDRIVER\tSCOPE");
            for n in &w.networks {
                ctx.outln(&format!("f00dfeed\t{n}\tbridge\tlocal"));
            }
            0
        }
        Some("inspect") => {
            let n = args.get(1).cloned().unwrap_or_default();
            if w.networks.contains(&n) {
                ctx.outln(&format!("[{{\"Name\": \"{n}\"}}]"));
                0
            } else {
                ctx.errln(&format!(
                    "Error response from daemon: network {n} not found"
                ));
                1
            }
        }
        _ => {
            ctx.errln("docker network: only create, ls and inspect are modelled");
            1
        }
    }
}
