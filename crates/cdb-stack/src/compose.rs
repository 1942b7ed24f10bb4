//! One Compose file as typed data: the subset of the Compose specification the stack uses, with positions.
//!
//! The parser walks the generic YAML tree of [`cdb_docs::yaml::tree`] key by
//! key, so that every key it does not know, and every construct it does not
//! support, is an error at that key's line and column. Keys that are valid
//! Compose but say nothing about secrets, health, ports, mounts or networks
//! (`restart`, `depends_on`, `logging`, …) are accepted and not modelled.
//! `x-` extension keys are ignored, as the specification says.
//!
//! Values are kept as written: `${VAR}` interpolation is not resolved (the
//! model describes the files, not one operator's environment), except that
//! Compose's `$$` escape is read as `$` where commands are inspected.

use crate::{Located, Pos, StackError};
use cdb_docs::yaml::{self, Node, Spanned};

/// Top-level keys the model reads.
const TOP_KEYS: &[&str] = &["name", "services", "secrets", "volumes", "networks"];

/// Top-level keys that are valid Compose but change what the model would say
/// (`include` pulls in other files, `configs` mounts files like secrets), so a
/// file with them is outside the model.
const TOP_UNSUPPORTED: &[&str] = &["include", "configs"];

/// Service keys that are valid Compose and do not change which secrets a
/// service reads, what its health check proves, or its ports, mounts and
/// networks. They are accepted and not modelled.
const SERVICE_IGNORED: &[&str] = &[
    "build",
    "container_name",
    "restart",
    "depends_on",
    "labels",
    "logging",
    "deploy",
    "mem_limit",
    "mem_reservation",
    "memswap_limit",
    "cpus",
    "cpu_shares",
    "user",
    "working_dir",
    "stop_grace_period",
    "stop_signal",
    "tty",
    "stdin_open",
    "ulimits",
    "read_only",
    "security_opt",
    "cap_add",
    "cap_drop",
    "init",
    "shm_size",
    "pull_policy",
    "extra_hosts",
    "hostname",
    "expose",
    "profiles",
    "platform",
    "tmpfs",
    "sysctls",
    "dns",
    "pid",
    "ipc",
    "oom_score_adj",
    "privileged",
];

/// Service keys that are valid Compose but bring in settings the model cannot
/// see (`extends` another service, `env_file` variables, `configs` files,
/// `volumes_from` another container's mounts, `network_mode` instead of
/// networks): a service with
/// them is outside the model.
const SERVICE_UNSUPPORTED: &[&str] = &[
    "extends",
    "env_file",
    "configs",
    "volumes_from",
    "network_mode",
];

/// A command as written: a string (Compose splits it into words; a health
/// check runs it with the container's shell) or a list of words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    String(String),
    List(Vec<String>),
}

impl Command {
    /// Every word, with Compose's `$$` escape read as `$`.
    pub fn words(&self) -> Vec<String> {
        match self {
            Command::String(s) => vec![unescape(s)],
            Command::List(l) => l.iter().map(|w| unescape(w)).collect(),
        }
    }

    /// The words joined by spaces, `$$` read as `$`: what the classifiers search.
    pub fn text(&self) -> String {
        self.words().join(" ")
    }
}

/// Compose reads `$$` as a literal `$`.
fn unescape(s: &str) -> String {
    s.replace("$$", "$")
}

/// One entry of a service's `secrets:`: the secret's name and where it is mounted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretUse {
    pub source: Located<String>,
    /// The path inside the container: `/run/secrets/<target>`, or `target` itself when absolute.
    pub mount_path: String,
}

/// One environment variable; `value` is `None` when the entry has no value (taken from the host).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvVar {
    pub name: Located<String>,
    pub value: Option<String>,
}

/// A service's `healthcheck:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Healthcheck {
    pub test: Option<Located<Command>>,
    pub disable: bool,
    pub at: Pos,
}

/// What a mount mounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MountKind {
    /// A named volume, declared under the top-level `volumes:`.
    Volume(String),
    /// A host path (relative paths are relative to the first `-f` file).
    Bind(String),
    /// An anonymous volume.
    Anonymous,
}

/// One entry of a service's `volumes:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub kind: MountKind,
    pub target: String,
    pub read_only: bool,
}

/// One entry of a service's `ports:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub host_ip: Option<String>,
    pub published: Option<String>,
    pub target: String,
    pub protocol: String,
}

/// One service as one file writes it (an overlay may write only part of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub name: Located<String>,
    pub image: Option<Located<String>>,
    /// Built from the repository (`build:`), i.e. one of the project's own services.
    pub build: bool,
    pub secrets: Vec<SecretUse>,
    pub environment: Vec<EnvVar>,
    pub entrypoint: Option<Located<Command>>,
    pub command: Option<Located<Command>>,
    pub healthcheck: Option<Healthcheck>,
    pub ports: Vec<Located<Port>>,
    pub volumes: Vec<Located<Mount>>,
    pub networks: Vec<Located<String>>,
}

impl Service {
    fn new(name: Located<String>) -> Service {
        Service {
            name,
            image: None,
            build: false,
            secrets: Vec::new(),
            environment: Vec::new(),
            entrypoint: None,
            command: None,
            healthcheck: None,
            ports: Vec::new(),
            volumes: Vec::new(),
            networks: Vec::new(),
        }
    }

    /// The image reference a container of this service is created from, as written
    /// (`${…}` unresolved): its `image:`, else the name Compose gives the image it builds,
    /// `PROJECT-SERVICE` (docker/compose `api.GetImageNameOrDefault`, separator `-`).
    pub fn image_or_default(&self, project: &str) -> String {
        match &self.image {
            Some(i) => i.value.clone(),
            None => format!("{project}-{}", self.name.value),
        }
    }

    /// The value of an environment variable, if set with a value.
    pub fn env(&self, name: &str) -> Option<&str> {
        self.environment
            .iter()
            .find(|e| e.name.value == name)
            .and_then(|e| e.value.as_deref())
    }
}

/// A top-level secret: its name and the host file it is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretDef {
    pub name: Located<String>,
    /// The `file:` value as written (`${SECRETS_PATH:?…}/REDIS_PASSWORD`).
    pub file: Located<String>,
}

impl SecretDef {
    /// The file's name: the last path segment of `file:` (`REDIS_PASSWORD`, `MEXC_API_KEY.txt`).
    pub fn file_name(&self) -> &str {
        file_name(&self.file.value)
    }
}

/// The last segment of a path written with `/` (or `\`) separators.
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// A top-level network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkDef {
    pub name: Located<String>,
    /// Created outside Compose (`external: true`): Compose never creates or removes it.
    pub external: bool,
    /// The network's real name when `name:` is given.
    pub real_name: Option<String>,
}

/// One parsed Compose file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComposeFile {
    pub path: String,
    /// The project name (`name:`); the stack's base files have one, overlays do not.
    pub name: Option<Located<String>>,
    /// Where the `services:` key is (line 1 when absent).
    pub services_at: Pos,
    pub services: Vec<Service>,
    pub secrets: Vec<SecretDef>,
    pub volumes: Vec<Located<String>>,
    pub networks: Vec<NetworkDef>,
}

impl ComposeFile {
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name.value == name)
    }

    pub fn secret(&self, name: &str) -> Option<&SecretDef> {
        self.secrets.iter().find(|s| s.name.value == name)
    }
}

/// Parses one Compose file. `path` names the file in positions and errors.
pub fn parse_file(path: &str, text: &str) -> Result<ComposeFile, StackError> {
    let root = yaml::tree(text).map_err(|e| StackError {
        at: Pos {
            file: path.to_owned(),
            line: e.line,
            column: e.column,
        },
        message: format!("not valid YAML: {}", e.message),
    })?;
    let p = Parser { path };
    p.file(&root)
}

struct Parser<'a> {
    path: &'a str,
}

type Entries = [(Spanned<String>, Spanned<Node>)];

impl Parser<'_> {
    fn pos<T>(&self, s: &Spanned<T>) -> Pos {
        let (line, column) = yaml::pos(s);
        Pos {
            file: self.path.to_owned(),
            line: line.max(1),
            column: column.max(1),
        }
    }

    fn err<T, U>(&self, at: &Spanned<U>, message: impl Into<String>) -> Result<T, StackError> {
        Err(StackError::new(&self.pos(at), message))
    }

    fn located<U>(&self, key: &Spanned<U>, value: String) -> Located<String> {
        Located {
            value,
            at: self.pos(key),
        }
    }

    fn map<'n>(&self, node: &'n Spanned<Node>, what: &str) -> Result<&'n Entries, StackError> {
        match &node.value {
            Node::Map(entries) => {
                let mut seen: Vec<&str> = Vec::new();
                for (k, _) in entries {
                    if seen.contains(&k.value.as_str()) {
                        return self.err(k, format!("duplicate key `{}` in {what}", k.value));
                    }
                    seen.push(&k.value);
                }
                Ok(entries)
            }
            other => self.err(
                node,
                format!("{what} must be a mapping, found {}", other.kind()),
            ),
        }
    }

    /// A mapping, or null for an empty one (`volumes:` with nothing under it).
    fn map_or_null<'n>(
        &self,
        node: &'n Spanned<Node>,
        what: &str,
    ) -> Result<&'n Entries, StackError> {
        match node.value {
            Node::Null => Ok(&[]),
            _ => self.map(node, what),
        }
    }

    fn seq<'n>(
        &self,
        node: &'n Spanned<Node>,
        what: &str,
    ) -> Result<&'n [Spanned<Node>], StackError> {
        match &node.value {
            Node::Seq(items) => Ok(items),
            Node::Null => Ok(&[]),
            other => self.err(
                node,
                format!("{what} must be a list, found {}", other.kind()),
            ),
        }
    }

    fn scalar(&self, node: &Spanned<Node>, what: &str) -> Result<String, StackError> {
        match node.value.as_scalar_text() {
            Some(s) => Ok(s),
            None => self.err(
                node,
                format!("{what} must be a scalar, found {}", node.value.kind()),
            ),
        }
    }

    fn bool(&self, node: &Spanned<Node>, what: &str) -> Result<bool, StackError> {
        match node.value {
            Node::Bool(b) => Ok(b),
            _ => self.err(node, format!("{what} must be true or false")),
        }
    }

    fn command(&self, node: &Spanned<Node>, what: &str) -> Result<Located<Command>, StackError> {
        let value = match &node.value {
            Node::Seq(items) => Command::List(
                items
                    .iter()
                    .map(|i| self.scalar(i, what))
                    .collect::<Result<_, _>>()?,
            ),
            _ => Command::String(self.scalar(node, what)?),
        };
        Ok(Located {
            value,
            at: self.pos(node),
        })
    }

    fn file(&self, root: &Spanned<Node>) -> Result<ComposeFile, StackError> {
        let mut file = ComposeFile {
            path: self.path.to_owned(),
            name: None,
            services_at: Pos {
                file: self.path.to_owned(),
                line: 1,
                column: 1,
            },
            services: Vec::new(),
            secrets: Vec::new(),
            volumes: Vec::new(),
            networks: Vec::new(),
        };
        if matches!(root.value, Node::Null) {
            return self.err(root, "empty Compose file");
        }
        for (key, value) in self.map(root, "a Compose file")? {
            let k = key.value.as_str();
            if k.starts_with("x-") {
                continue;
            }
            match k {
                "name" => {
                    file.name = Some(self.located(value, self.scalar(value, "`name`")?));
                }
                "services" => {
                    file.services_at = self.pos(key);
                    for (name, body) in self.map_or_null(value, "`services`")? {
                        file.services.push(self.service(name, body)?);
                    }
                }
                "secrets" => {
                    for (name, body) in self.map_or_null(value, "`secrets`")? {
                        file.secrets.push(self.secret_def(name, body)?);
                    }
                }
                "volumes" => {
                    for (name, body) in self.map_or_null(value, "`volumes`")? {
                        self.volume_def(name, body)?;
                        file.volumes.push(self.located(name, name.value.clone()));
                    }
                }
                "networks" => {
                    for (name, body) in self.map_or_null(value, "`networks`")? {
                        file.networks.push(self.network_def(name, body)?);
                    }
                }
                "version" => {
                    // Obsolete in the Compose specification and ignored by Compose itself.
                }
                _ if TOP_UNSUPPORTED.contains(&k) => {
                    return self.err(
                        key,
                        format!(
                            "top-level `{k}` is valid Compose but not supported by the stack model"
                        ),
                    );
                }
                _ => {
                    return self.err(
                        key,
                        format!(
                            "unknown top-level key `{k}` (expected one of {}, or an `x-` extension)",
                            TOP_KEYS.join(", ")
                        ),
                    );
                }
            }
        }
        Ok(file)
    }

    fn secret_def(
        &self,
        name: &Spanned<String>,
        body: &Spanned<Node>,
    ) -> Result<SecretDef, StackError> {
        let mut file = None;
        for (key, value) in self.map(body, &format!("secret `{}`", name.value))? {
            match key.value.as_str() {
                "file" => file = Some(self.located(value, self.scalar(value, "`file`")?)),
                "name" => {}
                k if k.starts_with("x-") => {}
                k @ ("external" | "environment" | "content" | "driver" | "driver_opts"
                | "template_driver" | "labels") => {
                    return self.err(
                        key,
                        format!(
                            "secret `{}` uses `{k}`; the stack model supports only secrets read from a `file:`",
                            name.value
                        ),
                    );
                }
                k => {
                    return self.err(key, format!("unknown key `{k}` in secret `{}`", name.value));
                }
            }
        }
        match file {
            Some(file) if !file.value.trim().is_empty() => Ok(SecretDef {
                name: self.located(name, name.value.clone()),
                file,
            }),
            _ => self.err(name, format!("secret `{}` has no `file:`", name.value)),
        }
    }

    fn volume_def(&self, name: &Spanned<String>, body: &Spanned<Node>) -> Result<(), StackError> {
        for (key, _) in self.map_or_null(body, &format!("volume `{}`", name.value))? {
            match key.value.as_str() {
                "name" | "labels" | "driver" | "driver_opts" => {}
                k if k.starts_with("x-") => {}
                "external" => {
                    return self.err(
                        key,
                        format!(
                            "external volume `{}` is not supported by the stack model",
                            name.value
                        ),
                    );
                }
                k => return self.err(key, format!("unknown key `{k}` in volume `{}`", name.value)),
            }
        }
        Ok(())
    }

    fn network_def(
        &self,
        name: &Spanned<String>,
        body: &Spanned<Node>,
    ) -> Result<NetworkDef, StackError> {
        let mut def = NetworkDef {
            name: self.located(name, name.value.clone()),
            external: false,
            real_name: None,
        };
        for (key, value) in self.map_or_null(body, &format!("network `{}`", name.value))? {
            match key.value.as_str() {
                "external" => def.external = self.bool(value, "`external`")?,
                "name" => def.real_name = Some(self.scalar(value, "`name`")?),
                "driver" | "driver_opts" | "labels" | "internal" | "attachable" | "ipam"
                | "enable_ipv6" => {}
                k if k.starts_with("x-") => {}
                k => {
                    return self.err(
                        key,
                        format!("unknown key `{k}` in network `{}`", name.value),
                    );
                }
            }
        }
        Ok(def)
    }

    fn service(&self, name: &Spanned<String>, body: &Spanned<Node>) -> Result<Service, StackError> {
        let sname = &name.value;
        let mut svc = Service::new(self.located(name, sname.clone()));
        for (key, value) in self.map_or_null(body, &format!("service `{sname}`"))? {
            let k = key.value.as_str();
            match k {
                "image" => svc.image = Some(self.located(value, self.scalar(value, "`image`")?)),
                // `build: null` sets nothing: compose-go's merge keeps the earlier file's
                // value when a later one is null (override/merge.go `mergeYaml`; only the
                // `!reset` tag removes a key), and in a file of its own it means no build.
                "build" => svc.build = !matches!(value.value, Node::Null),
                "secrets" => {
                    for item in self.seq(value, "`secrets`")? {
                        svc.secrets.push(self.secret_use(sname, item)?);
                    }
                }
                "environment" => svc.environment = self.environment(value)?,
                "entrypoint" => svc.entrypoint = Some(self.command(value, "`entrypoint`")?),
                "command" => svc.command = Some(self.command(value, "`command`")?),
                "healthcheck" => svc.healthcheck = Some(self.healthcheck(key, value)?),
                "ports" => {
                    for item in self.seq(value, "`ports`")? {
                        svc.ports.push(self.port(item)?);
                    }
                }
                "volumes" => {
                    for item in self.seq(value, "`volumes`")? {
                        svc.volumes.push(self.mount(item)?);
                    }
                }
                "networks" => svc.networks = self.service_networks(value)?,
                _ if k.starts_with("x-") => {}
                _ if SERVICE_IGNORED.contains(&k) => {}
                _ if SERVICE_UNSUPPORTED.contains(&k) => {
                    return self.err(
                        key,
                        format!(
                            "service `{sname}` uses `{k}`, which the stack model does not support"
                        ),
                    );
                }
                _ => return self.err(key, format!("unknown key `{k}` in service `{sname}`")),
            }
        }
        Ok(svc)
    }

    fn secret_use(&self, service: &str, item: &Spanned<Node>) -> Result<SecretUse, StackError> {
        let (source, target) = match &item.value {
            Node::Map(_) => {
                let mut source = None;
                let mut target = None;
                for (key, value) in self.map(item, "a secret entry")? {
                    match key.value.as_str() {
                        "source" => {
                            source = Some(self.located(value, self.scalar(value, "`source`")?))
                        }
                        "target" => target = Some(self.scalar(value, "`target`")?),
                        "uid" | "gid" | "mode" => {}
                        k => {
                            return self.err(
                                key,
                                format!("unknown key `{k}` in a secret of service `{service}`"),
                            );
                        }
                    }
                }
                let Some(source) = source else {
                    return self.err(
                        item,
                        format!("a secret of service `{service}` has no `source`"),
                    );
                };
                (source, target)
            }
            _ => (
                self.located(item, self.scalar(item, "a secret entry")?),
                None,
            ),
        };
        let target = target.unwrap_or_else(|| source.value.clone());
        let mount_path = if target.starts_with('/') {
            target
        } else {
            format!("/run/secrets/{target}")
        };
        Ok(SecretUse { source, mount_path })
    }

    fn environment(&self, value: &Spanned<Node>) -> Result<Vec<EnvVar>, StackError> {
        let mut out: Vec<EnvVar> = Vec::new();
        match &value.value {
            Node::Seq(items) => {
                for item in items {
                    let text = self.scalar(item, "an environment entry")?;
                    let (name, val) = match text.split_once('=') {
                        Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                        None => (text.clone(), None),
                    };
                    out.push(EnvVar {
                        name: self.located(item, name),
                        value: val,
                    });
                }
            }
            _ => {
                for (key, val) in self.map_or_null(value, "`environment`")? {
                    let v = match val.value {
                        Node::Null => None,
                        _ => Some(self.scalar(val, "an environment value")?),
                    };
                    out.push(EnvVar {
                        name: self.located(key, key.value.clone()),
                        value: v,
                    });
                }
            }
        }
        for (i, e) in out.iter().enumerate() {
            if out[..i].iter().any(|p| p.name.value == e.name.value) {
                return Err(StackError::new(
                    &e.name.at,
                    format!("environment variable `{}` is set twice", e.name.value),
                ));
            }
        }
        Ok(out)
    }

    fn healthcheck(
        &self,
        key: &Spanned<String>,
        value: &Spanned<Node>,
    ) -> Result<Healthcheck, StackError> {
        let mut hc = Healthcheck {
            test: None,
            disable: false,
            at: self.pos(key),
        };
        for (k, v) in self.map(value, "`healthcheck`")? {
            match k.value.as_str() {
                "test" => hc.test = Some(self.command(v, "`test`")?),
                "disable" => hc.disable = self.bool(v, "`disable`")?,
                "interval" | "timeout" | "retries" | "start_period" | "start_interval" => {}
                other => return self.err(k, format!("unknown key `{other}` in `healthcheck`")),
            }
        }
        Ok(hc)
    }

    fn port(&self, item: &Spanned<Node>) -> Result<Located<Port>, StackError> {
        let port = match &item.value {
            Node::Map(_) => {
                let mut port = Port {
                    host_ip: None,
                    published: None,
                    target: String::new(),
                    protocol: "tcp".into(),
                };
                for (k, v) in self.map(item, "a port")? {
                    match k.value.as_str() {
                        "target" => port.target = self.scalar(v, "`target`")?,
                        "published" => port.published = Some(self.scalar(v, "`published`")?),
                        "host_ip" => port.host_ip = Some(self.scalar(v, "`host_ip`")?),
                        "protocol" => port.protocol = self.scalar(v, "`protocol`")?,
                        "mode" | "name" | "app_protocol" => {}
                        other => return self.err(k, format!("unknown key `{other}` in a port")),
                    }
                }
                if port.target.is_empty() {
                    return self.err(item, "a port has no `target`");
                }
                port
            }
            _ => {
                let text = self.scalar(item, "a port")?;
                match parse_port(&text) {
                    Some(p) => p,
                    None => return self.err(item, format!("cannot read port `{text}`")),
                }
            }
        };
        Ok(Located {
            value: port,
            at: self.pos(item),
        })
    }

    fn mount(&self, item: &Spanned<Node>) -> Result<Located<Mount>, StackError> {
        let mount = match &item.value {
            Node::Map(_) => {
                let mut kind = None;
                let mut source = None;
                let mut target = None;
                let mut read_only = false;
                for (k, v) in self.map(item, "a volume")? {
                    match k.value.as_str() {
                        "type" => kind = Some(self.scalar(v, "`type`")?),
                        "source" => source = Some(self.scalar(v, "`source`")?),
                        "target" => target = Some(self.scalar(v, "`target`")?),
                        "read_only" => read_only = self.bool(v, "`read_only`")?,
                        "bind" | "volume" | "consistency" => {}
                        other => return self.err(k, format!("unknown key `{other}` in a volume")),
                    }
                }
                let Some(target) = target else {
                    return self.err(item, "a volume has no `target`");
                };
                let kind = match (kind.as_deref(), source) {
                    (Some("bind"), Some(s)) => MountKind::Bind(s),
                    (Some("volume") | None, Some(s)) => MountKind::Volume(s),
                    (Some("volume") | None, None) => MountKind::Anonymous,
                    (Some(t), _) => {
                        return self.err(
                            item,
                            format!("volume type `{t}` is not supported by the stack model"),
                        );
                    }
                };
                Mount {
                    kind,
                    target,
                    read_only,
                }
            }
            _ => {
                let text = self.scalar(item, "a volume")?;
                match parse_mount(&text) {
                    Some(m) => m,
                    None => return self.err(item, format!("cannot read volume `{text}`")),
                }
            }
        };
        Ok(Located {
            value: mount,
            at: self.pos(item),
        })
    }

    fn service_networks(&self, value: &Spanned<Node>) -> Result<Vec<Located<String>>, StackError> {
        match &value.value {
            Node::Seq(items) => items
                .iter()
                .map(|i| Ok(self.located(i, self.scalar(i, "a network")?)))
                .collect(),
            _ => Ok(self
                .map_or_null(value, "`networks`")?
                .iter()
                .map(|(k, _)| self.located(k, k.value.clone()))
                .collect()),
        }
    }
}

/// Short port syntax: `[[HOST_IP:]PUBLISHED:]TARGET[/PROTOCOL]`.
fn parse_port(text: &str) -> Option<Port> {
    let (spec, protocol) = match text.split_once('/') {
        Some((s, p)) => (s, p.to_owned()),
        None => (text, "tcp".to_owned()),
    };
    let mut parts = spec.rsplitn(3, ':');
    let target = parts.next().filter(|t| !t.is_empty())?.to_owned();
    let published = parts.next().map(str::to_owned);
    let host_ip = parts.next().map(str::to_owned);
    Some(Port {
        host_ip,
        published,
        target,
        protocol,
    })
}

/// Short volume syntax: `TARGET`, `SOURCE:TARGET` or `SOURCE:TARGET:MODE`.
fn parse_mount(text: &str) -> Option<Mount> {
    let parts: Vec<&str> = text.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => (None, *t, ""),
        [s, t] => (Some(*s), *t, ""),
        [s, t, m] => (Some(*s), *t, *m),
        _ => return None,
    };
    if target.is_empty() {
        return None;
    }
    let kind = match source {
        None => MountKind::Anonymous,
        Some("") => return None,
        Some(s) if is_path(s) => MountKind::Bind(s.to_owned()),
        Some(s) => MountKind::Volume(s.to_owned()),
    };
    Some(Mount {
        kind,
        target: target.to_owned(),
        read_only: mode.split(',').any(|m| m == "ro"),
    })
}

/// Compose reads a short-syntax source as a host path when it looks like one.
fn is_path(s: &str) -> bool {
    s.starts_with(['.', '/', '~', '$']) || s.contains('/')
}
