//! The stack as the kit describes it: the kit's Compose files (`stack/compose/`), compiled in
//! and parsed once by `cdb-stack` into what the drill world and the scenario checks need.
//!
//! Services, projects, the secret files each service mounts and when it reads them, published
//! ports and what each health check proves all come from those files, so the day the kit's
//! description follows an upstream change (and `verify --stack` shows the drift), the world
//! follows too. What Compose cannot say is in `cdb-drill`'s `behaviour` module.

use cdb_stack::{Description, HealthProof, ReadWhen, Source};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The kit's Compose files, as `verify`'s `stack` group reads them.
const SOURCES: &[(&str, &str)] = &[
    (
        "stack/compose/compose.blue.yml",
        include_str!("../../../stack/compose/compose.blue.yml"),
    ),
    (
        "stack/compose/compose.red.yml",
        include_str!("../../../stack/compose/compose.red.yml"),
    ),
    (
        "stack/compose/tls.yml",
        include_str!("../../../stack/compose/tls.yml"),
    ),
    (
        "stack/compose/rollback.yml",
        include_str!("../../../stack/compose/rollback.yml"),
    ),
];

/// One Compose project of the kit's description.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KitProject {
    /// `cdb-blue`.
    pub name: String,
    /// `compose.blue.yml`.
    pub file: String,
    pub services: Vec<String>,
}

/// One secret file a service reads, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KitRead {
    /// The host file's name in `SECRETS_PATH` (`MEXC_API_KEY.txt`).
    pub file: String,
    /// `ReadWhen::as_str`: `every start`, `at start`, `first initialisation only`, …
    pub when: String,
}

impl KitRead {
    pub fn first_init_only(&self) -> bool {
        self.when == ReadWhen::FirstInitOnly.as_str()
    }
}

/// One service as the world needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KitService {
    pub name: String,
    pub project: String,
    pub reads: Vec<KitRead>,
    /// Host ports published on 127.0.0.1.
    pub ports: Vec<u16>,
    /// `HealthProof::name`: what its health check proves.
    pub health: String,
    /// For a `login` check: the mounted file it logs in with.
    #[serde(default)]
    pub login_file: Option<String>,
    /// The image its project's file creates it from, as written (`postgres:18.4-alpine`), or
    /// the name Compose builds it under (`cdb-blue-cdb_risk`).
    #[serde(default)]
    pub image: String,
}

/// An `image:` an overlay sets for a service (`rollback.yml`'s pins), as written: `${…}` is
/// resolved when `docker compose` runs, with the caller's environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KitPin {
    /// The overlay's file name (`rollback.yml`).
    pub overlay: String,
    pub service: String,
    pub image: String,
}

/// What the world derives from the description.
#[derive(Debug, Serialize, Deserialize)]
pub struct Kit {
    pub projects: Vec<KitProject>,
    pub services: Vec<KitService>,
    /// Every image an overlay pins, in file order.
    #[serde(default)]
    pub pins: Vec<KitPin>,
}

/// The kit's description, parsed on first use. The files are compiled in, and `verify`'s
/// `stack-parse` rule and this module's tests reject a broken one before it can ship.
pub fn kit() -> &'static Kit {
    static KIT: OnceLock<Kit> = OnceLock::new();
    KIT.get_or_init(|| build().unwrap_or_else(|e| panic!("the kit's Compose files: {e}")))
}

/// Every service of every project, in the order of the Compose files.
pub fn all_services() -> impl Iterator<Item = &'static str> {
    kit()
        .projects
        .iter()
        .flat_map(|p| p.services.iter().map(String::as_str))
}

/// Parses the compiled-in Compose files.
pub fn build() -> Result<Kit, String> {
    let sources: Vec<Source> = SOURCES
        .iter()
        .map(|(path, text)| Source {
            path: (*path).to_owned(),
            text: (*text).to_owned(),
        })
        .collect();
    let description = Description::parse(&sources).map_err(|errs| {
        errs.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let mut projects = Vec::new();
    let mut services = Vec::new();
    for p in &description.projects {
        let file = p.files.first().map_or("", |f| file_name(f)).to_owned();
        let name = p.name.clone().unwrap_or_default();
        projects.push(KitProject {
            name: name.clone(),
            file,
            services: p.services.iter().map(|s| s.name.value.clone()).collect(),
        });
        for s in &p.services {
            let mut reads: Vec<(String, ReadWhen)> = Vec::new();
            for r in cdb_stack::secret_reads(p, s) {
                let Some(file) = r.file else { continue };
                // One entry per file: the earliest reader decides (every start beats once).
                match reads.iter_mut().find(|k| k.0 == file) {
                    Some(k) if rank(r.when) < rank(k.1) => k.1 = r.when,
                    Some(_) => {}
                    None => reads.push((file, r.when)),
                }
            }
            let ports = s
                .ports
                .iter()
                .filter(|p| p.value.host_ip.as_deref() == Some("127.0.0.1"))
                // Only single ports are modelled: a range (`8080-8081`) is none the world's
                // clients connect to, and the kit publishes none.
                .filter_map(|p| p.value.published.as_deref()?.parse().ok())
                .collect();
            let health = cdb_stack::classify(s).value;
            let login_file = match &health {
                HealthProof::Login { secret_file, .. } => secret_file.clone(),
                _ => None,
            };
            services.push(KitService {
                name: s.name.value.clone(),
                project: name.clone(),
                reads: reads
                    .into_iter()
                    .map(|(file, when)| KitRead {
                        file,
                        when: when.as_str().to_owned(),
                    })
                    .collect(),
                ports,
                health: health.name().to_owned(),
                login_file,
                image: s.image_or_default(&name),
            });
        }
    }
    let pins = description
        .files
        .iter()
        .filter(|f| f.name.is_none())
        .flat_map(|f| {
            f.services.iter().filter_map(|s| {
                Some(KitPin {
                    overlay: file_name(&f.path).to_owned(),
                    service: s.name.value.clone(),
                    image: s.image.as_ref()?.value.clone(),
                })
            })
        })
        .collect();
    Ok(Kit {
        projects,
        services,
        pins,
    })
}

fn rank(w: ReadWhen) -> u8 {
    match w {
        ReadWhen::EveryStart => 0,
        ReadWhen::AtStart => 1,
        ReadWhen::FirstInitOnly => 2,
        ReadWhen::Unsaid => 3,
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

impl Kit {
    pub fn service(&self, name: &str) -> Option<&KitService> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The image `overlay` pins `service` to, as written (None: it pins none).
    pub fn pin(&self, overlay: &str, service: &str) -> Option<&str> {
        self.pins
            .iter()
            .find(|p| p.overlay == overlay && p.service == service)
            .map(|p| p.image.as_str())
    }

    /// The project and base file of `service`.
    pub fn project_of(&self, service: &str) -> Option<&KitProject> {
        self.projects
            .iter()
            .find(|p| p.services.iter().any(|s| s == service))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kit_parses_and_names_both_projects() {
        let k = kit();
        let names: Vec<_> = k.projects.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["cdb-blue", "cdb-red"]);
        assert_eq!(k.projects[0].file, "compose.blue.yml");
        assert_eq!(k.services.len(), 18);
    }

    #[test]
    fn images_and_pins_come_from_the_files() {
        let k = kit();
        let image = |s: &str| k.service(s).map(|x| x.image.as_str());
        assert_eq!(image("cdb_redis"), Some("redis:8.8.0-alpine"));
        assert_eq!(image("cdb_risk"), Some("cdb-blue-cdb_risk"));
        assert_eq!(image("cdb_ws"), Some("cdb-red-cdb_ws"));
        assert_eq!(
            k.pin("rollback.yml", "cdb_ws"),
            Some("${COMPOSE_PROJECT_NAME:-claire_de_binare}_cdb_ws:${ROLLBACK_TAG:-latest}")
        );
        assert_eq!(k.pin("rollback.yml", "cdb_candles"), None);
        assert_eq!(k.pin("tls.yml", "cdb_redis"), None);
        assert_eq!(k.pins.len(), 9);
    }

    #[test]
    fn reads_and_health_come_from_the_files() {
        let k = kit();
        let market = k.service("cdb_market").expect("a kit service");
        assert_eq!(
            market.reads,
            [KitRead {
                file: "REDIS_PASSWORD".into(),
                when: ReadWhen::EveryStart.as_str().into()
            }]
        );
        assert_eq!(market.ports, [8009]);
        assert_eq!(market.health, "http-constant");
        let execution = k.service("cdb_execution").expect("a kit service");
        assert!(execution.reads.iter().any(|r| r.file == "MEXC_API_KEY.txt"));
        assert_eq!(
            k.service("cdb_db_writer").expect("a kit service").health,
            "process"
        );
        assert_eq!(
            k.service("cdb_postgres").expect("a kit service").health,
            "server-up"
        );
        assert_eq!(
            k.service("cdb_redis").expect("a kit service").health,
            "login"
        );
        assert_eq!(
            k.service("cdb_redis")
                .expect("a kit service")
                .login_file
                .as_deref(),
            Some("/run/secrets/redis_password")
        );
    }
}
