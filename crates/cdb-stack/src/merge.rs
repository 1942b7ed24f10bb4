//! Overlays: Compose files applied in `-f` order into one project, as Compose merges them.
//!
//! The rules are those of the Compose specification's "Merge" page
//! (docs.docker.com/reference/compose-file/merge/), for the keys the model reads:
//! - mappings merge key by key, a later scalar replaces an earlier one
//!   (`image`, `name`, each environment variable, each top-level secret,
//!   volume and network);
//! - `command`, `entrypoint` and `healthcheck.test` are replaced, not appended;
//! - sequences append, except the "unique resources": `volumes` are unique by
//!   target, `secrets` by target, `ports` by host IP, target, published port and
//!   protocol; a later entry with the same key replaces the earlier one in place;
//! - `networks` of a service are a set.
//!
//! After merging, every secret a service mounts must be declared by some file
//! of the project, and every named volume too, as Compose requires.

use crate::compose::{ComposeFile, MountKind, NetworkDef, SecretDef, Service};
use crate::{Located, Pos, StackError};

/// The services, secrets, volumes and networks of one project after its `-f` files are merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// `name:` of the last file that sets it.
    pub name: Option<String>,
    /// The files in `-f` order.
    pub files: Vec<String>,
    pub services: Vec<Service>,
    pub secrets: Vec<SecretDef>,
    pub volumes: Vec<Located<String>>,
    pub networks: Vec<NetworkDef>,
}

impl Project {
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name.value == name)
    }

    pub fn secret(&self, name: &str) -> Option<&SecretDef> {
        self.secrets.iter().find(|s| s.name.value == name)
    }
}

/// Merges `files` in `-f` order and checks the references of the result.
pub fn merge(files: &[&ComposeFile]) -> Result<Project, StackError> {
    let mut p = Project {
        name: None,
        files: Vec::new(),
        services: Vec::new(),
        secrets: Vec::new(),
        volumes: Vec::new(),
        networks: Vec::new(),
    };
    for f in files {
        p.files.push(f.path.clone());
        if let Some(n) = &f.name {
            p.name = Some(n.value.clone());
        }
        for s in &f.services {
            match p.services.iter_mut().find(|e| e.name.value == s.name.value) {
                Some(base) => merge_service(base, s),
                None => p.services.push(s.clone()),
            }
        }
        upsert(&mut p.secrets, &f.secrets, |d| &d.name.value);
        upsert(&mut p.volumes, &f.volumes, |v| &v.value);
        upsert(&mut p.networks, &f.networks, |n| &n.name.value);
    }
    check_references(&p)?;
    Ok(p)
}

/// Replaces entries with the same key in place and appends the others.
fn upsert<T: Clone>(into: &mut Vec<T>, from: &[T], key: impl Fn(&T) -> &String) {
    for item in from {
        match into.iter().position(|e| key(e) == key(item)) {
            Some(i) => into[i] = item.clone(),
            None => into.push(item.clone()),
        }
    }
}

fn merge_service(base: &mut Service, over: &Service) {
    if over.image.is_some() {
        base.image.clone_from(&over.image);
    }
    base.build |= over.build;
    if over.entrypoint.is_some() {
        base.entrypoint.clone_from(&over.entrypoint);
    }
    if over.command.is_some() {
        base.command.clone_from(&over.command);
    }
    if let Some(hc) = &over.healthcheck {
        match &mut base.healthcheck {
            Some(b) => {
                if hc.test.is_some() {
                    b.test.clone_from(&hc.test);
                }
                b.disable |= hc.disable;
                b.at = hc.at.clone();
            }
            None => base.healthcheck = Some(hc.clone()),
        }
    }
    upsert(&mut base.environment, &over.environment, |e| &e.name.value);
    upsert(&mut base.secrets, &over.secrets, |s| &s.mount_path);
    upsert(&mut base.volumes, &over.volumes, |v| &v.value.target);
    for port in &over.ports {
        let same = |e: &Located<crate::Port>| {
            let (a, b) = (&e.value, &port.value);
            a.host_ip == b.host_ip
                && a.target == b.target
                && a.published == b.published
                && a.protocol == b.protocol
        };
        match base.ports.iter().position(same) {
            Some(i) => base.ports[i] = port.clone(),
            None => base.ports.push(port.clone()),
        }
    }
    for n in &over.networks {
        if !base.networks.iter().any(|b| b.value == n.value) {
            base.networks.push(n.clone());
        }
    }
}

fn check_references(p: &Project) -> Result<(), StackError> {
    for s in &p.services {
        for u in &s.secrets {
            if p.secret(&u.source.value).is_none() {
                return Err(StackError::new(
                    &u.source.at,
                    format!(
                        "service `{}` mounts secret `{}`, which no file of the project declares under `secrets:`",
                        s.name.value, u.source.value
                    ),
                ));
            }
        }
        for m in &s.volumes {
            if let MountKind::Volume(v) = &m.value.kind
                && !p.volumes.iter().any(|d| &d.value == v)
            {
                return Err(StackError::new(
                    &m.at,
                    format!(
                        "service `{}` mounts volume `{v}`, which no file of the project declares under `volumes:`",
                        s.name.value
                    ),
                ));
            }
        }
        for n in &s.networks {
            if n.value != "default" && !p.networks.iter().any(|d| d.name.value == n.value) {
                return Err(StackError::new(
                    &n.at,
                    format!(
                        "service `{}` joins network `{}`, which no file of the project declares under `networks:`",
                        s.name.value, n.value
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Where a project's first file starts, for findings about the project as a whole.
pub fn project_pos(p: &Project) -> Pos {
    Pos {
        file: p.files.first().cloned().unwrap_or_default(),
        line: 1,
        column: 1,
    }
}
