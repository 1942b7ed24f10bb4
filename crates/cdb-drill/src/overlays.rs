//! Compose overlays: the `-f` files each container was created from.
//!
//! Stack facts, "The TLS overlay": `tls.yml` is an extra `-f` file; "a recreate with only
//! `-f compose.blue.yml` drops every overlay (TLS, logging, strict health checks, a rollback
//! tag pin) from the recreated service. The files a running container was created from are in
//! its label `com.docker.compose.project.config_files`." Compose writes that label (absolute
//! paths, comma-separated, in `-f` order) and `com.docker.compose.project` on every container
//! it creates (compose-spec, `api.ConfigFilesLabel` / `api.ProjectLabel` in docker/compose).
//!
//! The world keeps, per service, the files of its current container (`World::config_files`)
//! and the overlays the stack was started with (`World::start_overlays`): a drill of the
//! `tls` class starts with `tls.yml` on (its scope is the overlay), every other class without
//! it, and a scenario's `overlays:` key overrides that. A container created without an
//! overlay the stack was started with runs without it: for `tls.yml`, TLS is off for that
//! service (`World::tls_on`), and the final invariant names it.
//!
//! Images: each container runs the image reference of the files it was created from
//! (`World::images`, `docker inspect`'s `.Config.Image`): its project file's `image:`, or the
//! name Compose builds it under (`cdb-blue-cdb_risk`), unless an overlay pins another:
//! `rollback.yml` pins nine built services to
//! `${COMPOSE_PROJECT_NAME:-claire_de_binare}_SERVICE:${ROLLBACK_TAG:-latest}`
//! (stack/compose/rollback.yml, upstream commit named there). Compose resolves that when
//! `docker compose` runs, from the caller's environment (compose-spec "Interpolation"; the
//! project's `name:` is exposed as `COMPOSE_PROJECT_NAME`), so the label keeps the files and
//! not the tag: a recreate from the label in a shell without `ROLLBACK_TAG` pins `latest`,
//! and one with fewer `-f` files runs the base file's image. A stack started with
//! `rollback.yml` runs pinned to [`START_ROLLBACK_TAG`]; the final invariant names a pinned
//! service that runs another image.

use crate::mock::{Ctx, Loc};
use crate::world::{World, all_services, project_of};
use cdb_model::faults::FaultKind;

// The overlay names, shared with scenario validation, live in the model crate.
pub use cdb_model::overlays::{
    OVERLAY_FILES, ROLLBACK_OVERLAY, START_ROLLBACK_TAG, TLS_OVERLAY, default_overlays,
};

/// The label Compose writes with the `-f` files a container was created from.
pub const CONFIG_FILES_LABEL: &str = "com.docker.compose.project.config_files";
/// The label with the project name.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";
/// The label with the service name.
pub const SERVICE_LABEL: &str = "com.docker.compose.service";
/// The label with the working directory of the `docker compose` call.
pub const WORKDIR_LABEL: &str = "com.docker.compose.project.working_dir";

/// The file name of a path (`/a/b/tls.yml` → `tls.yml`).
pub fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl World {
    /// The Compose folder of the drill (`$SANDBOX/stack`, where the steps run).
    pub fn stack_dir(&self) -> String {
        format!("{}/stack", self.sandbox)
    }

    /// The files a stack started with `overlays` creates `service` from: its project's file,
    /// then each overlay, as absolute paths (what Compose writes in the label).
    pub fn start_files(&self, service: &str, overlays: &[String]) -> Vec<String> {
        let Some((_, file)) = project_of(service) else {
            return Vec::new();
        };
        let dir = self.stack_dir();
        std::iter::once(file.to_owned())
            .chain(overlays.iter().cloned())
            .map(|f| format!("{dir}/{f}"))
            .collect()
    }

    /// The `-f` files the current container of `service` was created from.
    pub fn files_of(&self, service: &str) -> Vec<String> {
        match self.config_files.get(service) {
            Some(f) => f.clone(),
            None => self.start_files(service, &self.start_overlays),
        }
    }

    /// Whether `service`'s container was created with the overlay `name`.
    pub fn has_overlay(&self, service: &str, name: &str) -> bool {
        self.files_of(service).iter().any(|f| base_name(f) == name)
    }

    /// Whether TLS is on for `service`: its container was created with `tls.yml`.
    pub fn tls_on(&self, service: &str) -> bool {
        self.has_overlay(service, TLS_OVERLAY)
    }

    /// The value of a Compose label of `service`'s container (None: no such label).
    pub fn label(&self, service: &str, label: &str) -> Option<String> {
        let (project, _) = project_of(service)?;
        match label {
            CONFIG_FILES_LABEL => Some(self.files_of(service).join(",")),
            PROJECT_LABEL => Some(project.to_owned()),
            SERVICE_LABEL => Some(service.to_owned()),
            WORKDIR_LABEL => Some(self.stack_dir()),
            _ => None,
        }
    }

    /// The image ID of `service`'s container (`docker inspect -f '{{.Image}}'`): the ID of the
    /// image reference it was created from, the same for every recreation from the same
    /// reference, as `--pull never --no-build` keeps it.
    pub fn image_id(&self, service: &str) -> String {
        image_id_of(&self.image_ref(service))
    }

    /// The image reference `service`'s container was created from (`.Config.Image`).
    pub fn image_ref(&self, service: &str) -> String {
        match self.images.get(service) {
            Some(i) => i.clone(),
            None => self.resolve_image(service, &self.files_of(service), self.start_rollback_tag()),
        }
    }

    /// The `ROLLBACK_TAG` the stack was started with: [`START_ROLLBACK_TAG`] when it started
    /// with `rollback.yml`, else none.
    pub fn start_rollback_tag(&self) -> Option<&'static str> {
        self.start_overlays
            .iter()
            .any(|o| o == ROLLBACK_OVERLAY)
            .then_some(START_ROLLBACK_TAG)
    }

    /// The image a container of `service` created from `files` runs, `docker compose` running
    /// with `ROLLBACK_TAG` set to `rollback_tag` (None: unset): the last file's `image:` wins
    /// (Compose's merge), `${…}` resolved as Compose does with the project's name as
    /// `COMPOSE_PROJECT_NAME`.
    pub fn resolve_image(
        &self,
        service: &str,
        files: &[String],
        rollback_tag: Option<&str>,
    ) -> String {
        let kit = crate::stack::kit();
        let Some(project) = kit.project_of(service) else {
            return String::new();
        };
        let mut image = kit
            .service(service)
            .map(|s| s.image.clone())
            .unwrap_or_default();
        for f in files {
            if let Some(pin) = kit.pin(base_name(f), service) {
                pin.clone_into(&mut image);
            }
        }
        let lookup = |k: &str| match k {
            "COMPOSE_PROJECT_NAME" => Some(project.name.clone()),
            "ROLLBACK_TAG" => rollback_tag.map(str::to_owned),
            _ => None,
        };
        // The kit's files are checked by cdb-stack's tests; a form it cannot resolve stays as
        // written, which names no local image.
        cdb_stack::interpolate(&image, &lookup).unwrap_or(image)
    }

    /// The images the Docker host holds when the drill starts: every service's base image (the
    /// stack was built and pulled before it was pinned) and the images it started from.
    pub fn start_images(&self) -> std::collections::BTreeSet<String> {
        all_services()
            .flat_map(|s| {
                let start = self.start_files(s, &self.start_overlays);
                [
                    self.resolve_image(s, &[], None),
                    self.resolve_image(s, &start, self.start_rollback_tag()),
                ]
            })
            .map(|i| normalize_image(&i))
            .collect()
    }

    /// Whether the host holds the image `service` would be created from with `files` and
    /// `rollback_tag` (`--pull never --no-build` creates nothing from a missing one).
    pub fn has_image_for(
        &self,
        service: &str,
        files: &[String],
        rollback_tag: Option<&str>,
    ) -> bool {
        let i = self.resolve_image(service, files, rollback_tag);
        self.local_images.contains(&normalize_image(&i))
    }

    /// (Re)creates `service` from the `-f` files `files` (absolute paths), `docker compose`
    /// running without `ROLLBACK_TAG` in its environment.
    pub fn create_from(&mut self, service: &str, files: Vec<String>) {
        self.create_from_env(service, files, None);
    }

    /// (Re)creates `service` from the `-f` files `files` (absolute paths) with `ROLLBACK_TAG`
    /// set to `rollback_tag` (None: unset): the container then carries the files in its label,
    /// runs with exactly those overlays and the image they name.
    pub fn create_from_env(
        &mut self,
        service: &str,
        files: Vec<String>,
        rollback_tag: Option<&str>,
    ) {
        // Fault `overlay-dropped`: the recreation runs with the project's file only (an
        // operator's command with one `-f`, stack facts "The TLS overlay").
        let files = if self.trip(FaultKind::OverlayDropped, Some(service)) {
            files
                .into_iter()
                .filter(|f| !OVERLAY_FILES.contains(&base_name(f)))
                .collect()
        } else {
            files
        };
        let image = self.resolve_image(service, &files, rollback_tag);
        // An image built or pulled for this recreation stays on the host.
        self.local_images.insert(normalize_image(&image));
        self.images.insert(service.to_owned(), image);
        self.config_files.insert(service.to_owned(), files);
        self.create(service);
    }

    /// The text of a TLS file at `path` in `service`'s container (tls.yml: the folder at
    /// `/tls` for Redis and the clients, single files under `/var/lib/postgresql/` for
    /// PostgreSQL; tls.rs `container_file`): the one mount model (`World::mounted_value`): a
    /// folder mount shows the host folder now, a single-file mount the host file while it
    /// holds its inode (edited in place, byte for byte as `cat` shows it), else what the
    /// container loaded; a stale mount (faults `keeps-old-ca`, `keeps-old-secret`) shows what
    /// it loaded. None: no such file (no overlay, not a file of the set, or missing on the host).
    pub fn tls_mount_text(&self, service: &str, path: &str) -> Option<String> {
        if !self.tls_on(service) {
            return None;
        }
        let name = crate::tls::container_file(service, path)?;
        let host = || std::fs::read_to_string(self.secret_path(name)).ok();
        match self.containers.get(service)?.mounts.get(name) {
            Some(m)
                if m.ino != 0
                    && (crate::tls::folder_mounted(service) || m.ino == self.host_ino(name)) =>
            {
                host()
            }
            // The world keeps what a container loaded trimmed; the PEM file it was ends with a
            // newline, as `openssl` writes every PEM file.
            Some(m) => m.value.clone().map(|v| {
                if v.is_empty() || v.ends_with('\n') {
                    v
                } else {
                    format!("{v}\n")
                }
            }),
            // A file of the folder the service does not load (`ca.key`, another side's key).
            None if crate::tls::folder_mounted(service) => host(),
            None => None,
        }
    }

    /// Why `service` does not run as the stack was started (empty: it does): an overlay the
    /// stack was started with that its container was not created from.
    pub fn overlay_problems(&self, service: &str) -> Vec<String> {
        if !self.containers.contains_key(service) {
            return Vec::new();
        }
        let mut p: Vec<String> = self
            .start_overlays
            .iter()
            .filter(|o| !self.has_overlay(service, o))
            .filter(|o| o.as_str() != TLS_OVERLAY || !crate::tls::reads(service).is_empty())
            // What losing rollback.yml does is run another image, said below.
            .filter(|o| o.as_str() != ROLLBACK_OVERLAY)
            .map(|o| format!("it was recreated without the overlay {o} the stack runs with"))
            .collect();
        // A pinned service on another image than the stack was pinned to: a recreate with
        // fewer `-f` files (the base file's image) or without the tag (`…:latest`) brought back
        // the release the rollback was for.
        if let Some(tag) = self.start_rollback_tag()
            && crate::stack::kit().pin(ROLLBACK_OVERLAY, service).is_some()
        {
            let want = self.resolve_image(
                service,
                &self.start_files(service, &self.start_overlays),
                Some(tag),
            );
            let have = self.image_ref(service);
            if normalize_image(&have) != normalize_image(&want) {
                p.push(format!(
                    "it runs image {have}, not {want}, the tag the stack is pinned to (rollback.yml)"
                ));
            }
        }
        p
    }
}

/// An image reference with Docker's implied tag (`cdb-blue-cdb_risk` → `…:latest`); a `:` before
/// the last `/` is a registry's port, not a tag.
pub fn normalize_image(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') || last.contains('@') || image.is_empty() {
        image.to_owned()
    } else {
        format!("{image}:latest")
    }
}

/// The ID of the image a reference names: one image per reference (a modelling choice: each
/// tag names its own build, as `stack_tag.ps1` tags the build that ran when it was called).
pub fn image_id_of(image: &str) -> String {
    let d = crate::tls::digest(&format!("image:{}", normalize_image(image)), 32);
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// `redis-cli`'s TLS options (`--tls --cacert F [--cert F --key F]`, `--insecure`).
#[derive(Debug, Default)]
pub struct RedisTls {
    pub on: bool,
    pub insecure: bool,
    pub cacert: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
}

/// Whether `path` is where the overlay mounts a TLS file in some container (tls.rs).
pub fn is_tls_mount(path: &str) -> bool {
    crate::tls::is_mount_path(path)
}

impl RedisTls {
    /// Takes one TLS option at `args[*i]`; false when it is not one.
    pub fn option(&mut self, args: &[String], i: &mut usize) -> bool {
        let a = args[*i].as_str();
        let value = |i: &mut usize| {
            *i += 2;
            args.get(*i - 1).cloned()
        };
        match a {
            "--tls" => {
                self.on = true;
                *i += 1;
            }
            "--insecure" => {
                self.insecure = true;
                *i += 1;
            }
            "--cacert" => self.cacert = value(i),
            "--cert" => self.cert = value(i),
            "--key" => self.key = value(i),
            "--cacertdir" | "--sni" | "--tls-ciphers" | "--tls-ciphersuites" => {
                value(i);
            }
            _ => return false,
        }
        true
    }

    /// The text of a file the tool names: in a container under the overlay, the mounted TLS
    /// folder (a bind mount: the host file as it is now, stack facts); else a host path.
    fn file(w: &World, ctx: &Ctx, path: &str) -> Option<String> {
        if let Loc::Container(c) = &ctx.loc {
            return w.tls_mount_text(c, path);
        }
        ctx.read_text(path).ok()
    }

    /// Whether the connection to `cdb_redis` opens: Redis under `tls.yml` listens on TLS only
    /// (`--port 0 --tls-port 6379 --tls-auth-clients optional`, the kit's tls.yml). Messages
    /// as redis-cli 8 prints them (hiredis, OpenSSL 3).
    pub fn connect(&self, w: &World, ctx: &Ctx) -> Result<(), String> {
        let server_tls = w.tls_on("cdb_redis");
        if !self.on {
            return if server_tls {
                // A plain client on the TLS port: the server drops the failed handshake.
                Err("Error: Connection reset by peer".into())
            } else {
                Ok(())
            };
        }
        if !server_tls {
            return Err(
                "Could not negotiate a TLS connection: SSL_connect failed: wrong version number"
                    .into(),
            );
        }
        if w.tls_server_problem("cdb_redis").is_some() {
            return Err("Error: Connection reset by peer".into());
        }
        let server_cert = w
            .tls
            .cert_ids(
                &w.containers
                    .get("cdb_redis")
                    .and_then(|c| c.read.get("redis.crt").cloned())
                    .unwrap_or_default(),
            )
            .into_iter()
            .next()
            .unwrap_or_default();
        if !self.insecure {
            let Some(ca) = self.cacert.as_deref() else {
                // No --cacert: the system store, which does not hold the stack's own CA.
                return Err("Could not negotiate a TLS connection: SSL_connect failed: certificate verify failed".into());
            };
            let Some(text) = Self::file(w, ctx, ca) else {
                return Err(
                    "Could not negotiate a TLS connection: Invalid CA Certificate File/Directory"
                        .into(),
                );
            };
            let bundle = w.tls.cert_ids(&text);
            if w.tls.verify(&server_cert, &bundle, w.now_unix()).is_err() {
                return Err("Could not negotiate a TLS connection: SSL_connect failed: certificate verify failed".into());
            }
        }
        match (&self.cert, &self.key) {
            (None, None) => Ok(()),
            (Some(c), Some(k)) => {
                let (Some(ct), Some(kt)) = (Self::file(w, ctx, c), Self::file(w, ctx, k)) else {
                    return Err("Could not negotiate a TLS connection: Invalid client certificate and/or key".into());
                };
                let cert = w.tls.cert_ids(&ct).into_iter().next();
                let key = w.tls.key_id(&kt);
                let matches = cert
                    .as_ref()
                    .and_then(|id| w.tls.certs.get(id))
                    .is_some_and(|c| Some(&c.key) == key.as_ref());
                if !matches {
                    return Err("Could not negotiate a TLS connection: Invalid client certificate and/or key".into());
                }
                // `--tls-auth-clients optional`: a certificate that is sent must verify.
                let server_ca = w.tls.cert_ids(
                    &w.containers
                        .get("cdb_redis")
                        .and_then(|c| c.read.get("ca.crt").cloned())
                        .unwrap_or_default(),
                );
                let id = cert.unwrap_or_default();
                if w.tls.verify(&id, &server_ca, w.now_unix()).is_err() {
                    return Err("Error: Connection reset by peer".into());
                }
                Ok(())
            }
            _ => Err(
                "Could not negotiate a TLS connection: Invalid client certificate and/or key"
                    .into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11, divergence 5 and the 8 TLS gaps of the lead's sweep: `cdb_risk` recreated
    /// with a CA that does not verify the servers exits at start (its `validate_all_auth` never
    /// logs in); the old world kept it running with the failure visible nowhere.
    #[test]
    fn risk_exits_at_start_when_its_tls_link_fails() {
        let d = tempfile::tempdir().expect("tempdir");
        let mut w = World::new_with(7, d.path(), &d.path().join("s"), &["tls.yml".to_owned()])
            .expect("world");
        assert!(w.running("cdb_risk"));
        // A whole new set on disk; only cdb_risk is recreated from it.
        w.tls_initial_set().expect("new set");
        let files = w.files_of("cdb_risk");
        w.create_from("cdb_risk", files);
        assert!(!w.running("cdb_risk"), "{:?}", w.problems("cdb_risk"));
        // Without the overlay the same files are not read at all: it starts.
        let mut plain = World::new(7, d.path(), &d.path().join("s2")).expect("world");
        plain.tls_initial_set().expect("new set");
        let files = plain.files_of("cdb_risk");
        plain.create_from("cdb_risk", files);
        assert!(plain.running("cdb_risk"));
    }

    /// A stack started with rollback.yml runs the nine pins with the start tag; the same files
    /// resolved without `ROLLBACK_TAG` ask for `latest`, without the overlay the project's
    /// build; a registry port is no tag.
    #[test]
    fn pins_resolve_with_the_callers_tag() {
        let d = tempfile::tempdir().expect("tempdir");
        let w = World::new_with(
            7,
            d.path(),
            &d.path().join("s"),
            &["rollback.yml".to_owned()],
        )
        .expect("world");
        let pinned: Vec<&str> = all_services()
            .filter(|s| w.image_ref(s).ends_with(&format!(":{START_ROLLBACK_TAG}")))
            .collect();
        assert_eq!(pinned.len(), 9, "{pinned:?}");
        let files = w.files_of("cdb_risk");
        assert_eq!(
            w.resolve_image("cdb_risk", &files, None),
            "cdb-blue_cdb_risk:latest"
        );
        assert!(!w.has_image_for("cdb_risk", &files, None));
        assert!(w.has_image_for("cdb_risk", &files[..1], None));
        assert_eq!(w.image_ref("cdb_candles"), "cdb-blue-cdb_candles");
        assert!(w.overlay_problems("cdb_risk").is_empty());
        assert_eq!(
            normalize_image("cdb-blue-cdb_risk"),
            "cdb-blue-cdb_risk:latest"
        );
        assert_eq!(normalize_image("host:5000/x"), "host:5000/x:latest");
        assert_eq!(normalize_image("redis:8.8.0-alpine"), "redis:8.8.0-alpine");
        assert_ne!(
            image_id_of("cdb-blue-cdb_risk"),
            image_id_of("cdb-blue_cdb_risk:latest")
        );
        assert_eq!(image_id_of("a"), image_id_of("a:latest"));
    }

    #[test]
    fn labels_name_the_files_in_f_order() {
        let d = tempfile::tempdir().expect("tempdir");
        let w = World::new_with(7, d.path(), &d.path().join("s"), &["tls.yml".to_owned()])
            .expect("world");
        let files = w.label("cdb_redis", CONFIG_FILES_LABEL).expect("label");
        let dir = w.stack_dir();
        assert_eq!(files, format!("{dir}/compose.blue.yml,{dir}/tls.yml"));
        assert_eq!(
            w.label("cdb_grafana", PROJECT_LABEL).as_deref(),
            Some("cdb-red")
        );
        assert!(w.tls_on("cdb_redis"));
        let plain = World::new(7, d.path(), &d.path().join("s2")).expect("world");
        assert!(!plain.tls_on("cdb_redis"));
    }
}
