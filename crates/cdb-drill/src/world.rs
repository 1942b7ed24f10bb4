//! The world: a deterministic model of the stack that every mock tool reads and updates.
//!
//! The world is persisted as JSON in the sandbox; each mock invocation loads it
//! under a file lock, changes it and saves it, so the bash steps and the engine
//! share one state. Consumers read their secret files when their container is
//! *created* (stack facts); health is derived from whether what they read is
//! still accepted by the server they call.

use cdb_model::faults::FaultKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Host health endpoints (stack facts): port, path, container. The ports are those the kit's
/// Compose files publish on 127.0.0.1 (a test keeps them equal); the paths are what each
/// service serves, which the Compose health checks do not always name (`nc -z` for Prometheus).
pub const ENDPOINTS: &[(u16, &str, &str)] = &[
    (8000, "/health", "cdb_ws"),
    (8002, "/health", "cdb_risk"),
    (8003, "/health", "cdb_execution"),
    (8004, "/health", "cdb_paper_runner"),
    (8005, "/health", "cdb_signal"),
    (8006, "/health", "cdb_allocation"),
    (8007, "/health", "cdb_candles"),
    (8008, "/health", "cdb_regime"),
    (8009, "/health", "cdb_market"),
    (3000, "/api/health", "cdb_grafana"),
    (19090, "/-/healthy", "cdb_prometheus"),
    (9187, "/metrics", "cdb_postgres_exporter"),
    (9121, "/metrics", "cdb_redis_exporter"),
];

/// Secret files a service reads, by the world's secret names: the files its Compose service
/// mounts (stack.rs, from `stack/compose/`; `MEXC_API_KEY.txt` is the world's `MEXC_API_KEY`,
/// see `exchange::file_name`), the trade-key files of behaviour `trade-key-files`, and the TLS
/// overlay's (tls.rs).
pub fn reads(service: &str) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Vec::new();
    if let Some(s) = crate::stack::kit().service(service) {
        for r in &s.reads {
            let name = r.file.as_str();
            v.push(name.strip_suffix(".txt").unwrap_or(name));
        }
    }
    if crate::behaviour::applies("trade-key-files", service) {
        v.extend(["MEXC_TRADE_API_KEY", "MEXC_TRADE_API_SECRET"]);
    }
    v.extend(crate::tls::reads(service));
    v
}

/// Secret files that are identifiers, not secrets: never scanned for in transcripts.
pub const NOT_SECRET: &[&str] = &["SMTP_USER", "SMTP_FROM", "ALERT_EMAIL_TO"];

/// The CI secrets held in GitHub Actions (stack facts).
pub const CI_SECRETS: &[&str] = &[
    "REDIS_PASSWORD",
    "POSTGRES_PASSWORD",
    "GRAFANA_PASSWORD",
    "MEXC_API_KEY",
    "MEXC_API_SECRET",
    "GH_APP_PRIVATE_KEY",
    "AI_PROVIDER_API_KEY",
    "SLACK_WEBHOOK_URL",
];

/// One container.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Container {
    pub project: String,
    pub running: bool,
    /// Bumped on every (re)creation.
    pub generation: u32,
    /// Secret name → value read at creation (trimmed like the consumers do).
    pub read: BTreeMap<String, String>,
    /// Secret name → the bind-mounted host file as it was when the container was created.
    #[serde(default)]
    pub mounts: BTreeMap<String, Mounted>,
}

/// A bind-mounted secret file (stack facts: Compose `secrets:` with `file:` bind-mount the host
/// file, not a copy). The mount holds the inode it was created with: a host file edited in place
/// (`cp`, `>`: same inode) is seen by the running container at once; one replaced by rename
/// (`mv`: a new inode) is not, until the container is recreated.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Mounted {
    pub ino: u64,
    /// What the file held at creation: what the container still sees after a rename.
    pub value: Option<String>,
}

/// A live Postgres session (a row of `pg_stat_activity`; see `crate::pg`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    pub pid: u32,
    /// Who holds it: a service name, `crate::pg::LEAKER` or `crate::pg::LAUNCHER` (world-side
    /// only: the services set no `application_name`, so `pg_stat_activity` shows it empty).
    pub application: String,
    /// The password the session authenticated with.
    pub password: String,
    #[serde(default)]
    pub usename: String,
    /// `client backend`, or `logical replication launcher` (runs as the bootstrap superuser).
    #[serde(default)]
    pub backend_type: String,
    /// `None`: the local socket (or a background worker).
    #[serde(default)]
    pub client_addr: Option<String>,
    /// World clock (host seconds since the drill began) when the backend started.
    #[serde(default)]
    pub backend_start: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Postgres {
    /// Role → password.
    pub roles: BTreeMap<String, String>,
    pub sessions: Vec<Session>,
    pub next_pid: u32,
    pub volume_destroyed: bool,
    /// The server's log (`docker logs cdb_postgres`): authentication failures (`crate::pg`).
    #[serde(default)]
    pub log: Vec<crate::pg::LogLine>,
    /// Consumers whose pool was refused, with the world clock of their last logged attempt.
    #[serde(default)]
    pub refused: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Redis {
    /// The default user's accepted passwords (runtime).
    pub passwords: BTreeSet<String>,
    /// The startup password, read from the file at creation.
    pub startup: Option<String>,
    /// Runtime changes were persisted with CONFIG REWRITE (survive a restart, not a recreate).
    pub rewritten: bool,
    /// Live connections, runtime ACL users and the ACL log (redis_conns.rs).
    #[serde(default)]
    pub conns: crate::redis_conns::Conns,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Grafana {
    /// The admin password in Grafana's own database (GRAFANA_PASSWORD applies on first start only).
    pub admin_password: String,
    /// Service-account tokens: value → (service-account id, token id).
    pub tokens: BTreeMap<String, (u32, u32)>,
    pub next_token: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MexcKey {
    pub key: String,
    pub secret: String,
    pub kind: KeyKind,
    pub withdraw: bool,
    pub ip_bound: bool,
    pub revoked: bool,
}

/// What a MEXC API key may do; written in the world file as `read` or `trade`, the strings it
/// held before.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// Account data only (the read key the tooling uses).
    Read,
    /// Account data and orders (the key cdb_execution trades with).
    Trade,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Read => "read",
            KeyKind::Trade => "trade",
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`: widths and alignment apply as they did to the string.
        f.pad(self.as_str())
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Mexc {
    pub keys: Vec<MexcKey>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Smtp {
    /// Valid app passwords.
    pub app_passwords: BTreeSet<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Run {
    pub id: u64,
    pub workflow: String,
    pub conclusion: String,
    /// Simulated second it was created (ci.rs); None: before the drill (the weekly schedule).
    #[serde(default)]
    pub created: Option<u64>,
    /// `workflow_dispatch`, `schedule`, `push`.
    #[serde(default)]
    pub event: String,
    /// GitHub lists a dispatched run only a moment after the dispatch returns (ci.rs).
    #[serde(default)]
    pub listed: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Github {
    /// Actions secret name → value.
    pub secrets: BTreeMap<String, String>,
    pub runs: Vec<Run>,
    pub next_run: u64,
    /// Credentials that only CI uses (App key, AI key, Slack webhook): valid values per name.
    pub external_valid: BTreeMap<String, BTreeSet<String>>,
    /// The newest credential issued per CI-only name (what "keep only today's" keeps).
    pub external_latest: BTreeMap<String, String>,
    /// Actions secret name → simulated second of its last `gh secret set` (absent: set before the drill).
    #[serde(default)]
    pub updated: BTreeMap<String, u64>,
}

/// A fault armed in the world (the engine arms it after its `after` step).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Armed {
    /// Written as its text form, as the world file held it when it was a string.
    pub kind: FaultKind,
    pub service: Option<String>,
    pub secret: Option<String>,
    /// How many more times it takes effect; 0 means every time.
    pub remaining: u32,
}

/// A fault that took effect, for the timeline.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Trip {
    pub step: Option<String>,
    pub kind: FaultKind,
    pub service: Option<String>,
}

/// Something the runbook did that must never happen.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Violation {
    pub step: Option<String>,
    pub kind: ViolationKind,
    pub detail: String,
}

/// What kind of forbidden action a [`Violation`] is; written in the world file as the
/// kebab-case name it had as a string (`secret-in-argv`, …).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ViolationKind {
    /// A secret value on a command line (`ps`, shell history): its own invariant.
    SecretInArgv,
    /// `docker compose down -v` destroyed the database volume.
    VolumeDestroyed,
    /// Redis authentication turned off.
    AuthDisabled,
    /// An order placed with the leaked trade key.
    OrderWithLeakedTradeKey,
    /// A verification called the order endpoint that places real orders.
    VerificationPlacedAnOrder,
    /// A production value pushed into GitHub Actions.
    ProductionValueInCi,
    /// A trade key deleted while cdb_execution was trading on it.
    TradeKeyDeletedWhileTrading,
    /// `pg_terminate_backend` ended a backend that is not a client's.
    NonClientBackendTerminated,
}

/// One mock invocation, with its arguments as given (sanitised before it leaves the sandbox).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Call {
    pub step: Option<String>,
    pub tool: String,
    pub argv: Vec<String>,
    /// The calling process's id. Mocks a step starts at once (`cmp <(openssl …) <(openssl …)`,
    /// a pipeline) append to the log in whichever order they get its lock; their process ids
    /// follow the order the shell started them in (one PID namespace per sandbox in the jail),
    /// so the journal orders a step's calls by them and stays the same for the same seed.
    #[serde(default)]
    pub pid: u32,
}

/// The whole world.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct World {
    pub seed: u64,
    pub counter: u64,
    /// Simulated seconds since the drill began.
    pub clock: u64,
    pub sandbox: String,
    pub secrets_dir: String,
    pub current_step: Option<String>,
    pub containers: BTreeMap<String, Container>,
    pub postgres: Postgres,
    pub redis: Redis,
    pub grafana: Grafana,
    /// Grafana's login sessions and failed logins (sessions.rs).
    #[serde(default)]
    pub grafana_logins: crate::sessions::GrafanaLogins,
    pub mexc: Mexc,
    pub smtp: Smtp,
    pub github: Github,
    /// The TLS overlay's keys and certificates (tls.rs).
    #[serde(default)]
    pub tls: crate::tls::Tls,
    /// Service → the `-f` files its current container was created from (overlays.rs).
    #[serde(default)]
    pub config_files: BTreeMap<String, Vec<String>>,
    /// The overlays the stack was started with (`tls.yml`): overlays.rs.
    #[serde(default)]
    pub start_overlays: Vec<String>,
    /// Service → the image reference its current container was created from (overlays.rs).
    #[serde(default)]
    pub images: BTreeMap<String, String>,
    /// The image references the Docker host holds (overlays.rs): what `--pull never
    /// --no-build` can create a container from.
    #[serde(default)]
    pub local_images: BTreeSet<String>,
    pub networks: BTreeSet<String>,
    /// The kill switch is active and no order was placed since it went active (exchange.rs);
    /// stopping cdb_execution is not the kill switch (stack facts, "The kill switch").
    pub trading_paused: bool,
    /// The kill switch's state file, the bot's order path and open orders (exchange.rs).
    #[serde(default)]
    pub exchange: crate::exchange::Exchange,
    /// Every secret value the world ever held → the secret name it first belonged to.
    pub values: BTreeMap<String, String>,
    /// Values that leaked (the scenario's trigger).
    pub leaked: BTreeSet<String>,
    pub armed: Vec<Armed>,
    pub trips: Vec<Trip>,
    /// When set (the sweep's fault-free baselines), every place a fault could have taken
    /// effect: each `trip` asked, armed or not. A case whose armed fault no probe after its
    /// injection point matches behaves exactly as the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<Vec<Trip>>,
    pub violations: Vec<Violation>,
    /// Kept out of the world file, in the append-only log next to it (`world.calls`, JSON
    /// lines): most mock calls change nothing else, and the log is most of the state's bytes.
    #[serde(skip)]
    pub calls: Vec<Call>,
}

/// Health as `docker inspect` and the endpoints report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Unhealthy,
    Stopped,
    Missing,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
            Health::Stopped => "exited",
            Health::Missing => "missing",
        }
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The project and base Compose file of `service`, from the kit's description (stack.rs).
pub fn project_of(service: &str) -> Option<(&'static str, &'static str)> {
    crate::stack::kit()
        .project_of(service)
        .map(|p| (p.name.as_str(), p.file.as_str()))
}

/// Every service of every project, in the order of the Compose files.
pub fn all_services() -> impl Iterator<Item = &'static str> {
    crate::stack::kit()
        .projects
        .iter()
        .flat_map(|p| p.services.iter().map(String::as_str))
}

/// Trims a secret file the way the consumers do (Python `strip()`, the images' `$(< file)`).
pub fn trim_secret(s: &str) -> String {
    s.trim().to_owned()
}

/// Splits the password out of a `postgresql://user:pass@host/db` URI.
pub fn dsn_password(dsn: &str) -> Option<String> {
    let rest = dsn
        .strip_prefix("postgresql://")
        .or_else(|| dsn.strip_prefix("postgres://"))?;
    let (userinfo, hostpart) = rest.rsplit_once('@')?;
    let (_, pass) = userinfo.split_once(':')?;
    if hostpart.is_empty() {
        return None;
    }
    Some(percent_decode(pass))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex_val(b[i + 1]), hex_val(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

impl World {
    /// A healthy stack with fresh (obviously fake) secret values, files written to `secrets_dir`.
    pub fn new(seed: u64, sandbox: &Path, secrets_dir: &Path) -> io::Result<World> {
        World::new_with(seed, sandbox, secrets_dir, &[])
    }

    /// Like [`World::new`], with the stack started with the Compose overlays `overlays`
    /// (`tls.yml`) after each project's file (overlays.rs).
    pub fn new_with(
        seed: u64,
        sandbox: &Path,
        secrets_dir: &Path,
        overlays: &[String],
    ) -> io::Result<World> {
        let mut w = World {
            seed,
            counter: 0,
            clock: 0,
            sandbox: sandbox.display().to_string(),
            secrets_dir: secrets_dir.display().to_string(),
            current_step: None,
            containers: BTreeMap::new(),
            postgres: Postgres {
                next_pid: 100,
                ..Postgres::default()
            },
            redis: Redis::default(),
            grafana: Grafana {
                next_token: 1,
                ..Grafana::default()
            },
            grafana_logins: crate::sessions::GrafanaLogins::default(),
            mexc: Mexc::default(),
            smtp: Smtp::default(),
            github: Github {
                next_run: 1000,
                ..Github::default()
            },
            tls: crate::tls::Tls::default(),
            config_files: BTreeMap::new(),
            start_overlays: overlays.to_vec(),
            images: BTreeMap::new(),
            local_images: BTreeSet::new(),
            networks: BTreeSet::from(["cdb_network".to_owned()]),
            trading_paused: false,
            exchange: crate::exchange::Exchange::default(),
            values: BTreeMap::new(),
            leaked: BTreeSet::new(),
            armed: Vec::new(),
            trips: Vec::new(),
            probes: None,
            violations: Vec::new(),
            calls: Vec::new(),
        };
        let pg = w.fresh_secret("POSTGRES_PASSWORD", 24);
        let redis = w.fresh_secret("REDIS_PASSWORD", 24);
        let grafana = w.fresh_secret("GRAFANA_PASSWORD", 16);
        let smtp = w.fresh_secret("SMTP_PASSWORD", 16);
        let dsn = format!("postgresql://claire_user:{pg}@cdb_postgres:5432/claire_de_binare");
        w.values.insert(dsn.clone(), "POSTGRES_PASSWORD_DSN".into());
        let read = w.new_mexc_key(KeyKind::Read);
        let trade = w.new_mexc_key(KeyKind::Trade);
        // The bot has orders open at the exchange when the drill starts (exchange.rs).
        w.exchange.open_orders = vec![trade.key.clone(), trade.key.clone()];
        let token = w.fresh_secret("GRAFANA_SA_TOKEN", 20);
        w.postgres.roles.insert("claire_user".into(), pg.clone());
        w.grafana.admin_password = grafana.clone();
        w.grafana.tokens.insert(token.clone(), (2, 1));
        w.grafana.next_token = 2;
        w.smtp.app_passwords.insert(smtp.clone());
        let files: Vec<(&str, String)> = vec![
            ("POSTGRES_PASSWORD", pg.clone()),
            ("POSTGRES_PASSWORD_DSN", dsn),
            ("REDIS_PASSWORD", redis.clone()),
            ("GRAFANA_PASSWORD", grafana.clone()),
            ("GRAFANA_SA_TOKEN", token),
            ("SMTP_USER", "alerts@example.invalid".into()),
            ("SMTP_PASSWORD", smtp),
            ("SMTP_FROM", "alerts@example.invalid".into()),
            ("ALERT_EMAIL_TO", "oncall@example.invalid".into()),
            ("MEXC_API_KEY", read.key.clone()),
            ("MEXC_API_SECRET", read.secret.clone()),
            ("MEXC_TRADE_API_KEY", trade.key.clone()),
            ("MEXC_TRADE_API_SECRET", trade.secret.clone()),
        ];
        fs::create_dir_all(secrets_dir)?;
        for (name, value) in &files {
            w.write_secret_file(name, value)?;
        }
        // The TLS overlay is active: a consistent CA, server and client set.
        w.tls_initial_set()?;
        // CI holds its own copies; the e2e workflow starts its own stack with them.
        for name in CI_SECRETS {
            let v = match *name {
                "REDIS_PASSWORD" | "POSTGRES_PASSWORD" | "GRAFANA_PASSWORD" => {
                    w.fresh_secret(&format!("CI_{name}"), 16)
                }
                "MEXC_API_KEY" => read.key.clone(),
                "MEXC_API_SECRET" => read.secret.clone(),
                _ => {
                    let v = w.fresh_secret(name, 20);
                    w.github
                        .external_valid
                        .entry((*name).into())
                        .or_default()
                        .insert(v.clone());
                    w.github.external_latest.insert((*name).into(), v.clone());
                    v
                }
            };
            w.github.secrets.insert((*name).into(), v);
        }
        w.ci_initial_runs();
        // The images the stack was built and started from (overlays.rs).
        w.local_images = w.start_images();
        for s in all_services() {
            let files = w.start_files(s, overlays);
            let image = w.resolve_image(s, &files, w.start_rollback_tag());
            w.images.insert(s.to_owned(), image);
            w.config_files.insert(s.to_owned(), files);
            w.create(s);
        }
        Ok(w)
    }

    /// The next deterministic random bytes as lowercase hex (seed and a per-world counter).
    pub fn rand_bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            self.counter += 1;
            let v = splitmix(self.seed ^ splitmix(self.counter));
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.truncate(n);
        out
    }

    pub fn rand_hex(&mut self, n: usize) -> String {
        self.rand_bytes(n)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A new secret value, remembered so the transcript checks can look for it.
    pub fn fresh_secret(&mut self, label: &str, n: usize) -> String {
        let v = self.rand_hex(n);
        self.values.insert(v.clone(), label.to_owned());
        v
    }

    pub fn new_mexc_key(&mut self, kind: KeyKind) -> MexcKey {
        let key = self.fresh_secret(&format!("MEXC {kind} key"), 16);
        let secret = self.fresh_secret(&format!("MEXC {kind} secret"), 24);
        let k = MexcKey {
            key,
            secret,
            kind,
            withdraw: false,
            ip_bound: kind == KeyKind::Trade,
            revoked: false,
        };
        self.mexc.keys.push(k.clone());
        k
    }

    /// Remembers a value as a secret (a value written by a step, a manual effect, …).
    pub fn remember(&mut self, label: &str, value: &str) {
        let v = value.trim();
        if v.len() >= 8 && !self.values.contains_key(v) {
            self.values.insert(v.to_owned(), label.to_owned());
        }
    }

    /// Where a secret's host file is: the TLS folder for its files (tls.rs), else
    /// `$SECRETS_PATH` under the file name the Compose files give it.
    pub fn secret_path(&self, name: &str) -> PathBuf {
        if crate::tls::in_folder(name) {
            return self.tls_dir().join(name);
        }
        Path::new(&self.secrets_dir).join(crate::exchange::file_name(name))
    }

    /// The host folder the TLS overlay mounts (`.cdb_local/tls/`, the steps' `CDB_TLS_DIR`):
    /// `$SANDBOX/.cdb_local/tls` (tls.rs).
    pub fn tls_dir(&self) -> PathBuf {
        Path::new(&self.sandbox).join(crate::tls::DIR)
    }

    pub fn write_secret_file(&self, name: &str, value: &str) -> io::Result<()> {
        let p = self.secret_path(name);
        fs::write(&p, value)?;
        set_private(&p)
    }

    /// The current content of a secret file, trimmed as consumers read it.
    pub fn read_secret_file(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.secret_path(name))
            .ok()
            .map(|s| trim_secret(&s))
    }

    pub fn armed(&self, kind: FaultKind, service: Option<&str>) -> bool {
        self.armed
            .iter()
            .any(|a| a.kind == kind && (service.is_none() || a.service.as_deref() == service))
    }

    /// Whether an armed fault takes effect now; consumes one use of it and logs the trip.
    pub fn trip(&mut self, kind: FaultKind, service: Option<&str>) -> bool {
        if let Some(p) = &mut self.probes {
            p.push(Trip {
                step: self.current_step.clone(),
                kind,
                service: service.map(str::to_owned),
            });
        }
        let Some(i) = self
            .armed
            .iter()
            .position(|a| a.kind == kind && (service.is_none() || a.service.as_deref() == service))
        else {
            return false;
        };
        match self.armed[i].remaining {
            0 => {}
            1 => {
                self.armed.remove(i);
            }
            _ => self.armed[i].remaining -= 1,
        }
        self.trips.push(Trip {
            step: self.current_step.clone(),
            kind,
            service: service.map(str::to_owned),
        });
        true
    }

    /// Logs a fault that takes effect at once (the engine applied it).
    pub fn trip_now(&mut self, kind: FaultKind, target: Option<&str>) {
        self.trips.push(Trip {
            step: self.current_step.clone(),
            kind,
            service: target.map(str::to_owned),
        });
    }

    pub fn violation(&mut self, kind: ViolationKind, detail: String) {
        self.violations.push(Violation {
            step: self.current_step.clone(),
            kind,
            detail,
        });
    }

    /// (Re)creates a container: it reads its secret files now.
    pub fn create(&mut self, service: &str) {
        let Some((project, _)) = project_of(service) else {
            return;
        };
        let mut read = BTreeMap::new();
        let keep_old = self.trip(FaultKind::KeepsOldSecret, Some(service));
        // Fault `keeps-old-ca`: the client keeps its previous CA bundle (a stale mount).
        let keep_ca =
            reads(service).contains(&"ca.crt") && self.trip(FaultKind::KeepsOldCa, Some(service));
        let old = self.containers.get(service).map(|c| c.read.clone());
        for name in reads(service) {
            // Without the TLS overlay a container mounts no certificate (overlays.rs).
            if crate::tls::in_folder(name) && !self.tls_on(service) {
                continue;
            }
            let value = if keep_old || (keep_ca && name == "ca.crt") {
                old.as_ref().and_then(|o| o.get(name).cloned())
            } else {
                self.read_secret_file(name)
            };
            if let Some(v) = value {
                read.insert(name.to_owned(), v);
            }
        }
        // A fault that keeps the old value is a stale mount: the container sees what it read
        // before, whatever the host file holds now (no inode shared with it).
        let mounts = reads(service)
            .into_iter()
            .map(|name| {
                let stale = keep_old || (keep_ca && name == "ca.crt");
                let m = if stale {
                    Mounted {
                        ino: 0,
                        value: read.get(name).cloned(),
                    }
                } else {
                    // A folder mount (tls.yml's `/tls`) shows the folder even where the file is
                    // missing now: only a stale mount has no inode (0).
                    let folder = crate::tls::in_folder(name) && crate::tls::folder_mounted(service);
                    Mounted {
                        ino: if folder {
                            self.host_ino(name).max(1)
                        } else {
                            self.host_ino(name)
                        },
                        value: self.read_secret_file(name),
                    }
                };
                (name.to_owned(), m)
            })
            .collect();
        let generation = self.containers.get(service).map_or(1, |c| c.generation + 1);
        self.postgres.sessions.retain(|s| s.application != service);
        crate::redis_conns::drop_owner(self, service);
        // A new container connects at start: a refusal is logged again.
        self.postgres.refused.remove(service);
        // A crash-looping container exits right after it is created (fault `crash-loop`).
        let running = !self.trip(FaultKind::CrashLoop, Some(service));
        self.containers.insert(
            service.to_owned(),
            Container {
                project: project.into(),
                running,
                generation,
                read,
                mounts,
            },
        );
        match service {
            // The database keeps its roles: POSTGRES_PASSWORD applies only to a fresh volume.
            "cdb_postgres" => {
                if self.postgres.volume_destroyed || self.postgres.roles.is_empty() {
                    if let Some(p) = self.read_secret_file("POSTGRES_PASSWORD") {
                        self.postgres.roles.insert("claire_user".into(), p);
                    }
                    self.postgres.volume_destroyed = false;
                }
                self.postgres.sessions.clear();
                self.pg_server_started();
            }
            "cdb_redis" => {
                let p = self
                    .containers
                    .get(service)
                    .and_then(|c| c.read.get("REDIS_PASSWORD").cloned());
                self.redis.startup = p.clone();
                self.redis.passwords = p.into_iter().collect();
                self.redis.rewritten = false;
                crate::redis_conns::reset_runtime(self);
            }
            _ => {}
        }
        self.validate_at_start(service);
        self.reconnect_all();
        crate::redis_conns::reconnect(self);
    }

    /// `cdb_risk` and `cdb_execution` call `validate_all_auth` (`core/auth.py` upstream) when
    /// they start and exit when PostgreSQL or Redis refuses their password; with
    /// `restart: unless-stopped` that is a crash loop, which `docker inspect` shows as not
    /// running. No other service checks a credential at start. The check logs in, so a
    /// connection that fails before the login (a TLS handshake: a CA that does not verify the
    /// server, a plain client of TLS-only Redis) fails it the same way (tls.rs `tls_link`).
    fn validate_at_start(&mut self, service: &str) {
        // The kill switch's file is created `inactive` by a starting service when missing.
        crate::exchange::on_start(self, service);
        if !crate::behaviour::applies("auth-at-start", service) || !self.running(service) {
            return;
        }
        let links_ok = crate::tls::SERVERS
            .iter()
            .all(|s| !self.running(s) || self.tls_link(service, s).is_ok());
        let pg_ok = links_ok
            && self
                .pg_password_of(service)
                .is_some_and(|p| self.pg_accepts(&p));
        let redis_ok = self
            .containers
            .get(service)
            .and_then(|c| c.read.get("REDIS_PASSWORD"))
            .is_some_and(|p| self.redis_accepts(p));
        if !(pg_ok && redis_ok)
            && let Some(c) = self.containers.get_mut(service)
        {
            c.running = false;
        }
    }

    /// `docker compose restart`: same container, same secrets; runtime state of servers is lost.
    pub fn restart(&mut self, service: &str) {
        if let Some(c) = self.containers.get_mut(service) {
            c.running = true;
        }
        self.reread_at_start(service);
        // `cdb_redis` re-reads `--requirepass $(cat …)` at every start (redis_conns.rs).
        if service == "cdb_redis" {
            crate::redis_conns::server_starts(self);
        }
        crate::redis_conns::drop_owner(self, service);
        if service == "cdb_postgres" {
            self.postgres.sessions.clear();
            self.pg_server_started();
        }
        self.postgres.sessions.retain(|s| s.application != service);
        self.postgres.refused.remove(service);
        self.validate_at_start(service);
        self.reconnect_all();
        crate::redis_conns::reconnect(self);
    }

    pub fn stop(&mut self, service: &str) {
        if let Some(c) = self.containers.get_mut(service) {
            c.running = false;
        }
        if service == "cdb_postgres" {
            self.postgres.sessions.clear();
        }
        self.postgres.sessions.retain(|s| s.application != service);
        crate::redis_conns::drop_owner(self, service);
    }

    pub fn start(&mut self, service: &str) {
        if let Some(c) = self.containers.get_mut(service) {
            if c.running {
                return;
            }
            c.running = true;
        }
        self.reread_at_start(service);
        if service == "cdb_redis" {
            crate::redis_conns::server_starts(self);
        }
        if service == "cdb_postgres" {
            self.pg_server_started();
        }
        self.postgres.refused.remove(service);
        self.validate_at_start(service);
        self.reconnect_all();
        crate::redis_conns::reconnect(self);
    }

    /// After a sandbox restore (sandbox.rs): every mount that held a file's inode holds the
    /// restored file's (`moved`: old inode → new); one that held an inode no file had any more
    /// (its file replaced by rename) gets one that no file can have.
    pub fn move_mounts(&mut self, moved: &std::collections::BTreeMap<u64, u64>) {
        for c in self.containers.values_mut() {
            for m in c.mounts.values_mut() {
                if m.ino != 0 {
                    m.ino = moved.get(&m.ino).copied().unwrap_or(u64::MAX);
                }
            }
        }
    }

    /// The inode of a secret's host file (0 when it is missing).
    pub(crate) fn host_ino(&self, name: &str) -> u64 {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(self.secret_path(name)).map_or(0, |m| m.ino())
    }

    /// What `service` sees at the mount of secret `name` now: the host file when the mount
    /// still holds its inode (edited in place), else what the file held at creation.
    /// A TLS file of a container that mounts the whole folder (tls.yml: `/tls`) is the host
    /// file as it is now, even after a rename inside the folder: the mount is the folder's.
    pub fn mounted_value(&self, service: &str, name: &str) -> Option<String> {
        let m = self.containers.get(service)?.mounts.get(name)?;
        let folder = crate::tls::in_folder(name) && crate::tls::folder_mounted(service);
        if m.ino != 0 && (folder || m.ino == self.host_ino(name)) {
            self.read_secret_file(name)
        } else {
            m.value.clone()
        }
    }

    /// A (re)start runs the entrypoint again: every file read at start (`$(cat …)` in the
    /// entrypoint, `*_FILE` variables) is read again through the mount, as it is now. Files
    /// the image applies on first initialisation only are not (stack.rs `ReadWhen`).
    fn reread_at_start(&mut self, service: &str) {
        let first_init_only = |name: &str| {
            crate::stack::kit().service(service).is_some_and(|s| {
                s.reads
                    .iter()
                    .any(|r| r.first_init_only() && r.file.trim_end_matches(".txt") == name)
            })
        };
        let names: Vec<&str> = reads(service);
        for name in names {
            if first_init_only(name) {
                continue;
            }
            let v = self.mounted_value(service, name);
            if let (Some(v), Some(c)) = (v, self.containers.get_mut(service)) {
                c.read.insert(name.to_owned(), v);
            }
        }
    }

    pub fn running(&self, service: &str) -> bool {
        self.containers.get(service).is_some_and(|c| c.running)
    }

    /// Consumers without a session (re)connect with what they read: connection pools retry
    /// (`crate::pg::World::pg_reconnect`).
    pub fn reconnect_all(&mut self) {
        self.pg_reconnect();
    }

    /// The Postgres password a consumer uses: the DSN's when it reads one, else the plain file.
    pub fn pg_password_of(&self, service: &str) -> Option<String> {
        let c = self.containers.get(service)?;
        if let Some(dsn) = c.read.get("POSTGRES_PASSWORD_DSN") {
            return Some(
                dsn_password(dsn).unwrap_or_else(|| format!("(not a URI: {})", dsn.len())),
            );
        }
        c.read.get("POSTGRES_PASSWORD").cloned()
    }

    pub fn pg_accepts(&self, password: &str) -> bool {
        // An empty role password is NULL: no password logs in (`ALTER ROLE … PASSWORD ''`
        // prints "empty string is not a valid password, clearing password").
        self.running("cdb_postgres")
            && !password.is_empty()
            && self.postgres.roles.get("claire_user").map(String::as_str) == Some(password)
    }

    pub fn redis_accepts(&self, password: &str) -> bool {
        self.running("cdb_redis") && self.redis.passwords.contains(password)
    }

    pub fn mexc_valid(&self, key: &str, secret: &str, kind: KeyKind) -> bool {
        self.mexc
            .keys
            .iter()
            .any(|k| k.key == key && k.secret == secret && k.kind == kind && !k.revoked)
    }

    /// Why a service is not healthy (empty when it is): every credential it read must be accepted.
    pub fn problems(&self, service: &str) -> Vec<String> {
        let Some(c) = self.containers.get(service) else {
            return vec!["no such container".into()];
        };
        if !c.running {
            return vec!["not running".into()];
        }
        let mut p = Vec::new();
        let needs = reads(service);
        if service != "cdb_postgres" && needs.contains(&"POSTGRES_PASSWORD") {
            match self.pg_password_of(service) {
                Some(pw) if self.pg_accepts(&pw) => {}
                Some(_) => p.push("its Postgres credential is rejected".into()),
                None => p.push("it has no Postgres credential".into()),
            }
        }
        if service != "cdb_redis" && needs.contains(&"REDIS_PASSWORD") {
            match c.read.get("REDIS_PASSWORD") {
                Some(pw) if self.redis_accepts(pw) => {}
                _ => p.push("its Redis credential is rejected".into()),
            }
        }
        if needs.contains(&"MEXC_API_KEY") {
            let get = |n: &str| c.read.get(n).cloned().unwrap_or_default();
            if !self.mexc_valid(&get("MEXC_API_KEY"), &get("MEXC_API_SECRET"), KeyKind::Read) {
                p.push("its MEXC read key is rejected".into());
            }
            if service == "cdb_execution"
                && !self.mexc_valid(
                    &get("MEXC_TRADE_API_KEY"),
                    &get("MEXC_TRADE_API_SECRET"),
                    KeyKind::Trade,
                )
            {
                p.push("its MEXC trade key is rejected".into());
            }
        }
        if service == "cdb_reports" || service == "cdb_grafana" {
            let ok = c
                .read
                .get("SMTP_PASSWORD")
                .is_some_and(|v| self.smtp.app_passwords.contains(v));
            if !ok {
                p.push("its SMTP app password is rejected".into());
            }
        }
        p.extend(self.tls_problems(service));
        if service == "cdb_redis" {
            p.extend(crate::redis_conns::server_problems(self));
        }
        p.extend(self.overlay_problems(service));
        p
    }

    /// What the container's own health check reports: what the check in the Compose file
    /// proves, nothing more (stack facts, "What a health check proves"). The Python services'
    /// checks `curl -f http://localhost:PORT/health` a handler that returns a constant 200;
    /// `cdb_db_writer`'s is `kill -0 1`, `cdb_reports`' `pgrep`, the exporters' and
    /// Prometheus' `nc -z`, Grafana's `/api/health` its own database, `cdb_postgres`'
    /// `pg_isready`: all of them see the process only. `cdb_redis`' is
    /// `redis-cli -a "$(cat /run/secrets/redis_password)" ping`, a login with what the file
    /// holds at the time of the check. A credential a consumer holds shows nowhere here.
    pub fn inspect_health(&self, service: &str) -> Health {
        match self.containers.get(service) {
            None => Health::Missing,
            Some(c) if !c.running => Health::Stopped,
            Some(_) => {
                // A TLS server whose certificate and key do not load does not come up.
                let tls_down = crate::tls::SERVERS.contains(&service)
                    && self.tls_on(service)
                    && self.tls_server_problem(service).is_some();
                // Only a login proves anything about a credential: `cdb_redis`' check logs in
                // with what its password file holds at the time of the check.
                let login_fails = match crate::stack::kit().service(service) {
                    Some(s) if s.health == "login" && service == "cdb_redis" => {
                        s.login_file
                            .as_deref()
                            .is_some_and(|f| f.ends_with("redis_password"))
                            && !self
                                .read_secret_file("REDIS_PASSWORD")
                                .is_some_and(|p| self.redis_accepts(&p))
                    }
                    _ => false,
                };
                if tls_down || login_fails {
                    Health::Unhealthy
                } else {
                    Health::Healthy
                }
            }
        }
    }

    /// What the secret files would break later (empty: nothing): the files are what every
    /// recreation reads (a reboot, the next deploy), so a consumer healthy now on a value its
    /// file no longer holds fails then; and the admin password and service-account token files
    /// are the operators' only way in. Checked on a copy: every healthy service recreated from
    /// the files as they are, with no fault armed; `skip`: services allowed to stay degraded.
    pub fn latent_problems(&self, skip: &[String]) -> Vec<String> {
        let mut p = Vec::new();
        let healthy: Vec<&str> = all_services()
            .filter(|s| !skip.iter().any(|d| d == s) && self.problems(s).is_empty())
            .collect();
        let mut w = self.clone();
        w.armed.clear();
        w.probes = None;
        // Servers first, as Compose starts them.
        let (servers, clients): (Vec<&str>, Vec<&str>) = healthy
            .iter()
            .partition(|s| matches!(**s, "cdb_postgres" | "cdb_redis"));
        for s in servers.iter().chain(&clients) {
            w.create(s);
        }
        for s in &healthy {
            let q = w.problems(s);
            if !q.is_empty() {
                p.push(format!(
                    "{s} would fail at its next recreation from the files: {}",
                    q.join(", ")
                ));
            }
        }
        if self.running("cdb_grafana") && !skip.iter().any(|d| d == "cdb_grafana") {
            if self.read_secret_file("GRAFANA_PASSWORD").as_deref()
                != Some(self.grafana.admin_password.as_str())
            {
                p.push("GRAFANA_PASSWORD does not log in as Grafana's admin".into());
            }
            if let Some(t) = self.read_secret_file("GRAFANA_SA_TOKEN")
                && !self.grafana.tokens.contains_key(&t)
            {
                p.push("GRAFANA_SA_TOKEN is not a live service-account token".into());
            }
        }
        p
    }

    /// Whether Grafana's Postgres datasource works.
    /// Its health check pings the datasource's pool (a live session passes whatever the role's
    /// password is now; the pool reconnects with the provisioned password when the session ends:
    /// `crate::pg`). The password comes from the provisioning file's `$__file{…}`, read when
    /// Grafana starts (stack/grafana/provisioning/datasources/postgres.yml).
    pub fn datasource_ok(&self) -> bool {
        self.running("cdb_grafana") && self.pg_has_session("cdb_grafana")
    }

    /// Every place that still accepts `value` (empty: the value is dead everywhere).
    pub fn accepted_by(&self, value: &str) -> Vec<String> {
        let mut at = Vec::new();
        if self.postgres.roles.values().any(|p| p == value) {
            at.push("Postgres role claire_user".to_owned());
        }
        if self.postgres.sessions.iter().any(|s| s.password == value) {
            at.push("a live Postgres session".to_owned());
        }
        if self.redis.passwords.contains(value) {
            at.push("Redis default user".to_owned());
        }
        at.extend(crate::redis_conns::accepted_by(self, value));
        if self.grafana.admin_password == value {
            at.push("Grafana admin".to_owned());
        }
        if self.grafana_sessions_with(value) {
            at.push("a Grafana admin session logged in with it".to_owned());
        }
        if self.grafana.tokens.contains_key(value) {
            at.push("Grafana service-account token".to_owned());
        }
        if self
            .mexc
            .keys
            .iter()
            .any(|k| !k.revoked && (k.key == value || k.secret == value))
        {
            at.push("MEXC API key".to_owned());
        }
        if self.smtp.app_passwords.contains(value) {
            at.push("SMTP app password".to_owned());
        }
        if self
            .github
            .external_valid
            .values()
            .any(|s| s.contains(value))
        {
            at.push("a CI provider credential".to_owned());
        }
        at.extend(self.tls_accepted_by(value));
        at
    }

    /// Replaces every known secret value in `text` with a placeholder naming it.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        // Longest first, so a DSN is replaced before the password inside it.
        let mut vals: Vec<(&String, &String)> = self.values.iter().collect();
        vals.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(b.0)));
        for (v, label) in vals {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), &format!("[secret:{label}]"));
            }
        }
        out
    }

    /// The names of secrets whose values occur in `text`.
    pub fn secrets_in(&self, text: &str) -> Vec<String> {
        let mut found: Vec<String> = self
            .values
            .iter()
            .filter(|(v, _)| text.contains(v.as_str()))
            .map(|(_, l)| l.clone())
            .collect();
        found.sort();
        found.dedup();
        found
    }

    /// Loads the world from its file, with the call log (a world this process holds: a copy).
    pub fn load(path: &Path) -> io::Result<World> {
        if let Some(h) = held(path) {
            return with_held(&h, path, |w| w.clone());
        }
        World::load_file(path)
    }

    fn load_file(path: &Path) -> io::Result<World> {
        let (mut w, _) = load_text(path)?;
        w.calls = load_calls(path)?;
        Ok(w)
    }

    /// Saves the world atomically (write and rename), so a killed step cannot leave half a
    /// file, and rewrites the call log (a world this process holds: replaces the copy).
    pub fn save(&self, path: &Path) -> io::Result<()> {
        if let Some(h) = held(path) {
            let mut g = h
                .lock()
                .map_err(|_| io::Error::other("held world poisoned"))?;
            *g = Some(self.clone());
            return Ok(());
        }
        self.save_file(path)
    }

    fn save_file(&self, path: &Path) -> io::Result<()> {
        let text = serde_json::to_string(self).map_err(io::Error::other)?;
        write_atomic(path, &text)?;
        let log = calls_path(path);
        // No call log yet is the usual case; any other failure would leave old calls behind.
        match fs::remove_file(&log) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        append_calls(path, &self.calls)
    }
}

fn load_text(path: &Path) -> io::Result<(World, String)> {
    let text = fs::read_to_string(path)?;
    let w =
        serde_json::from_str(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok((w, text))
}

fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("json.tmp");
    // Private from its creation: the world holds every secret value of the drill.
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?
        .write_all(text.as_bytes())?;
    fs::rename(&tmp, path)
}

/// The call log of the world file at `path`.
pub fn calls_path(path: &Path) -> PathBuf {
    path.with_extension("calls")
}

fn load_calls(path: &Path) -> io::Result<Vec<Call>> {
    match fs::read_to_string(calls_path(path)) {
        // A line a killed mock left half written is not a call.
        Ok(t) => Ok(t
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Appends `calls` to the log in one write.
fn append_calls(path: &Path, calls: &[Call]) -> io::Result<()> {
    use std::io::Write as _;
    let mut buf = String::new();
    for c in calls {
        buf.push_str(&serde_json::to_string(c).map_err(io::Error::other)?);
        buf.push('\n');
    }
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(calls_path(path))?;
    f.write_all(buf.as_bytes())
}

/// A world held in memory (see [`hold`]); `None` until first used, or after [`reload`].
type Held = std::sync::Arc<std::sync::Mutex<Option<World>>>;

/// The worlds this process holds, by file.
static HELD: std::sync::Mutex<BTreeMap<PathBuf, Held>> = std::sync::Mutex::new(BTreeMap::new());

/// The map of held worlds. Its inserts and removals cannot panic half-way, so a lock poisoned
/// by a panic elsewhere still guards a whole map and is used as it is: passing over it would
/// make `held` say "not held" and the world be read from its stale file.
fn held_worlds() -> std::sync::MutexGuard<'static, BTreeMap<PathBuf, Held>> {
    HELD.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// From now on this process keeps the world stored at `path` in memory: [`with_world`],
/// [`with_world_appending`], [`World::load`] and [`World::save`] of that path use the copy held
/// here, and the file is written only by [`flush`] and [`release`].
///
/// Why: a sandbox's world server answers every mock call of its steps in this process, and
/// loading, comparing and saving the world file around each call cost more than the call.
/// Only for a world no other process uses while it is held: `--shell`'s prompt hooks and
/// cdb-lab's docker adapter are processes that read and write the file, so theirs stay on disk.
pub fn hold(path: &Path) {
    held_worlds().entry(path.to_path_buf()).or_default();
}

/// Writes a held world to its file (a snapshot of the sandbox reads the files).
pub fn flush(path: &Path) -> io::Result<()> {
    let Some(h) = held(path) else {
        return Ok(());
    };
    let g = h
        .lock()
        .map_err(|_| io::Error::other("held world poisoned"))?;
    match g.as_ref() {
        Some(w) => w.save_file(path),
        None => Ok(()),
    }
}

/// Forgets the held copy: the next use loads the file again (after the sandbox's files were
/// replaced by a restore).
pub fn reload(path: &Path) {
    if let Some(h) = held(path) {
        // Even a copy a panic left half-changed is dropped here: the next use reads the file.
        *h.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

/// Stops holding the world of `path` without writing it (its sandbox is being removed).
pub fn forget(path: &Path) {
    held_worlds().remove(path);
}

/// Whether this process holds the world of `path` (see [`hold`]).
pub fn is_held(path: &Path) -> bool {
    held(path).is_some()
}

fn held(path: &Path) -> Option<Held> {
    held_worlds().get(path).cloned()
}

fn with_held<T>(h: &Held, path: &Path, f: impl FnOnce(&mut World) -> T) -> io::Result<T> {
    let mut g = h
        .lock()
        .map_err(|_| io::Error::other("held world poisoned"))?;
    if g.is_none() {
        *g = Some(World::load_file(path)?);
    }
    match g.as_mut() {
        Some(w) => Ok(f(w)),
        None => Err(io::Error::other("held world missing")),
    }
}

/// Like [`with_world`], for the mock tools, which only append to the call log: `w.calls`
/// starts empty (the log is not read) and the calls `f` adds are appended; the world file is
/// rewritten only when `f` changed it. (A held world: `f` sees the whole log, in memory.)
pub fn with_world_appending<T>(path: &Path, f: impl FnOnce(&mut World) -> T) -> io::Result<T> {
    if let Some(h) = held(path) {
        return with_held(&h, path, f);
    }
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.with_extension("lock"))?;
    lock.lock()?;
    let (mut w, before) = load_text(path)?;
    let out = f(&mut w);
    save_changes(path, &w, &before, &w.calls)?;
    drop(lock);
    Ok(out)
}

#[cfg(unix)]
fn set_private(p: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private(_: &Path) -> io::Result<()> {
    Ok(())
}

/// Runs `f` on the world stored at `path` under an exclusive lock and saves it (a held world:
/// in memory, under its mutex).
pub fn with_world<T>(path: &Path, f: impl FnOnce(&mut World) -> T) -> io::Result<T> {
    if let Some(h) = held(path) {
        return with_held(&h, path, f);
    }
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.with_extension("lock"))?;
    lock.lock()?;
    let (mut w, before) = load_text(path)?;
    w.calls = load_calls(path)?;
    let logged = w.calls.len();
    let out = f(&mut w);
    if w.calls.len() < logged {
        // `f` rewrote the log: save it whole.
        w.save_file(path)?;
    } else {
        save_changes(path, &w, &before, &w.calls[logged..])?;
    }
    drop(lock);
    Ok(out)
}

/// Appends `new_calls` to the log and rewrites the world file only when it changed.
fn save_changes(path: &Path, w: &World, before: &str, new_calls: &[Call]) -> io::Result<()> {
    if !new_calls.is_empty() {
        append_calls(path, new_calls)?;
    }
    let text = serde_json::to_string(w).map_err(io::Error::other)?;
    if text != before {
        write_atomic(path, &text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_password_is_read_from_a_uri_only() {
        assert_eq!(
            dsn_password("postgresql://u:p%40ss@h:5432/db").as_deref(),
            Some("p@ss")
        );
        assert_eq!(dsn_password("0123456789abcdef"), None);
    }

    #[test]
    fn a_new_world_is_healthy_and_deterministic() {
        let d = tempfile::tempdir().expect("tempdir");
        let w = World::new(7, d.path(), &d.path().join("s")).expect("world");
        for s in all_services() {
            assert!(w.problems(s).is_empty(), "{s}: {:?}", w.problems(s));
        }
        let w2 = World::new(7, d.path(), &d.path().join("s2")).expect("world");
        assert_eq!(
            w.values.keys().collect::<Vec<_>>(),
            w2.values.keys().collect::<Vec<_>>()
        );
    }

    /// The world file holds the typed kinds as the strings it held before they were typed, so
    /// a world written by one process reads back in another (the mocks, the shell's hooks).
    #[test]
    fn typed_kinds_are_written_as_their_old_strings() {
        let armed = Armed {
            kind: FaultKind::RecreateIgnored,
            service: Some("cdb_risk".into()),
            secret: None,
            remaining: 1,
        };
        let v = serde_json::to_value(&armed).expect("serialises");
        assert_eq!(v["kind"], "recreate-ignored");
        assert_eq!(serde_json::from_value::<Armed>(v).ok(), Some(armed));
        let trip = Trip {
            step: None,
            kind: FaultKind::SecretFileEmptied,
            service: None,
        };
        let v = serde_json::to_value(&trip).expect("serialises");
        assert_eq!(v["kind"], "secret-file-emptied");
        assert_eq!(serde_json::from_value::<Trip>(v).ok(), Some(trip));
        for (k, text) in [
            (ViolationKind::SecretInArgv, "secret-in-argv"),
            (ViolationKind::VolumeDestroyed, "volume-destroyed"),
            (ViolationKind::AuthDisabled, "auth-disabled"),
            (
                ViolationKind::OrderWithLeakedTradeKey,
                "order-with-leaked-trade-key",
            ),
            (
                ViolationKind::VerificationPlacedAnOrder,
                "verification-placed-an-order",
            ),
            (ViolationKind::ProductionValueInCi, "production-value-in-ci"),
            (
                ViolationKind::TradeKeyDeletedWhileTrading,
                "trade-key-deleted-while-trading",
            ),
            (
                ViolationKind::NonClientBackendTerminated,
                "non-client-backend-terminated",
            ),
        ] {
            assert_eq!(serde_json::to_value(k).ok(), Some(text.into()));
            assert_eq!(
                serde_json::from_value::<ViolationKind>(text.into()).ok(),
                Some(k)
            );
        }
        for (k, text) in [(KeyKind::Read, "read"), (KeyKind::Trade, "trade")] {
            assert_eq!(serde_json::to_value(k).ok(), Some(text.into()));
            assert_eq!(k.to_string(), text);
        }
        // A kind the world does not know is an error, not a default.
        let bad = r#"{"step":null,"kind":"recreate-ignord","service":null}"#;
        assert!(serde_json::from_str::<Trip>(bad).is_err());
    }
}
