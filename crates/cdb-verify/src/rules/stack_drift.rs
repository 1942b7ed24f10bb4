//! Rule `stack-drift` (with `--stack DIR`): a real Compose folder against the kit's description, file by file.
//!
//! Each Compose file of the kit's description is compared with the file of
//! the same name in DIR (other files there are not read). Reported, at the
//! line in DIR's file: services added or gone, secrets a service mounts that
//! the description does not (or no longer does), a secret read from a file
//! of another name, a secret read at another time, and a health check that
//! proves something else; in an overlay (a file without `name:`), an image it
//! pins otherwise (`rollback.yml`: the drill world runs those pins). So a
//! contributor sees the day upstream adds a secret, renames a file, changes a
//! health check or a pin.

use super::stack_parse::{at_pos as at, kit_ok};
use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;
use cdb_stack::{
    ComposeFile, Project, ReadWhen, Service, classify, compose::file_name, secret_reads,
};
use std::collections::BTreeSet;

pub static META: RuleMeta = RuleMeta {
    id: "stack-drift",
    group: "stack",
    severity: Severity::Error,
    summary: "with --stack DIR: DIR's Compose files match the kit's description (services, mounted secrets, secret files, when each is read, what each health check proves, the images an overlay pins)",
};

pub const RULE: Rule = Rule::hub(&META, check);

/// A real Compose folder read for `--stack DIR`: the files named like the kit's, parsed.
#[derive(Clone, Debug)]
pub struct ExternalStack {
    /// DIR as given, for messages.
    pub dir: String,
    /// The parsed files; each `path` is DIR joined with the file's name.
    pub files: Vec<ComposeFile>,
    /// Names of the kit's files that DIR lacks.
    pub missing: Vec<String>,
}

/// The file names (`compose.blue.yml`, …) of the kit's description, which `--stack DIR` reads from DIR.
pub fn kit_file_names(hub: &cdb_docs::Hub) -> Vec<String> {
    super::stack_parse::kit_sources(hub)
        .iter()
        .map(|s| file_name(&s.path).to_owned())
        .collect()
}

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let Some(ext) = ctx.external_stack else {
        return;
    };
    let Some(kit) = kit_ok(ctx) else { return };
    for name in &ext.missing {
        sink.at(
            &format!("{}/{name}", ext.dir.trim_end_matches('/')),
            1,
            1,
            format!(
                "the kit's description has `{name}`; `{}` has no such file",
                ext.dir
            ),
        );
    }
    for real in &ext.files {
        let name = file_name(&real.path);
        if let Some(desc) = kit.files.iter().find(|f| file_name(&f.path) == name) {
            compare(desc, real, sink);
        }
    }
}

/// A project of one file alone, for the file names and read rules of its own secrets.
fn alone(f: &ComposeFile) -> Project {
    Project {
        name: f.name.as_ref().map(|n| n.value.clone()),
        files: vec![f.path.clone()],
        services: f.services.clone(),
        secrets: f.secrets.clone(),
        volumes: f.volumes.clone(),
        networks: f.networks.clone(),
    }
}

fn compare(desc: &ComposeFile, real: &ComposeFile, sink: &mut Sink<'_>) {
    for s in &real.services {
        if desc.service(&s.name.value).is_none() {
            at(
                sink,
                &s.name.at,
                format!(
                    "service `{}` is not in the kit's description (`{}`)",
                    s.name.value, desc.path
                ),
            );
        }
    }
    for s in &desc.services {
        match real.service(&s.name.value) {
            None => at(
                sink,
                &real.services_at,
                format!(
                    "service `{}` of the kit's description (`{}`) is gone",
                    s.name.value, desc.path
                ),
            ),
            Some(r) => compare_service(desc, real, s, r, sink),
        }
    }
    let used: BTreeSet<&str> = real
        .services
        .iter()
        .flat_map(|s| s.secrets.iter().map(|u| u.source.value.as_str()))
        .collect();
    for r in &real.secrets {
        match desc.secret(&r.name.value) {
            Some(d) if d.file_name() != r.file_name() => at(
                sink,
                &r.file.at,
                format!(
                    "secret `{}` is read from file `{}`; the kit's description says `{}`",
                    r.name.value,
                    r.file_name(),
                    d.file_name()
                ),
            ),
            None if !used.contains(r.name.value.as_str()) => at(
                sink,
                &r.name.at,
                format!(
                    "secret `{}` (file `{}`) is not in the kit's description",
                    r.name.value,
                    r.file_name()
                ),
            ),
            _ => {}
        }
    }
}

fn compare_service(
    desc: &ComposeFile,
    real: &ComposeFile,
    d: &Service,
    r: &Service,
    sink: &mut Sink<'_>,
) {
    let name = &r.name.value;
    for u in &r.secrets {
        if !d.secrets.iter().any(|x| x.source.value == u.source.value) {
            at(
                sink,
                &u.source.at,
                format!(
                    "service `{name}` mounts secret `{}`, which the kit's description does not",
                    u.source.value
                ),
            );
        }
    }
    for u in &d.secrets {
        if !r.secrets.iter().any(|x| x.source.value == u.source.value) {
            at(
                sink,
                &r.name.at,
                format!(
                    "service `{name}` no longer mounts secret `{}` (the kit's description does)",
                    u.source.value
                ),
            );
        }
    }
    let when = |f: &ComposeFile, s: &Service, secret: &str| -> BTreeSet<ReadWhen> {
        secret_reads(&alone(f), s)
            .into_iter()
            .filter(|x| x.secret == secret)
            .map(|x| x.when)
            .collect()
    };
    for u in &r.secrets {
        if !d.secrets.iter().any(|x| x.source.value == u.source.value) {
            continue;
        }
        let (rw, dw) = (
            when(real, r, &u.source.value),
            when(desc, d, &u.source.value),
        );
        if rw != dw {
            let read = secret_reads(&alone(real), r)
                .into_iter()
                .find(|x| x.secret == u.source.value);
            let p = read.map_or_else(|| u.source.at.clone(), |x| x.at);
            let list = |w: &BTreeSet<ReadWhen>| {
                w.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ")
            };
            at(
                sink,
                &p,
                format!(
                    "service `{name}` reads secret `{}` {}; the kit's description says {}",
                    u.source.value,
                    list(&rw),
                    list(&dw)
                ),
            );
        }
    }
    // An overlay's `image:` is a pin the drill world runs (rollback.yml); the base files'
    // images are left out of the description on purpose (digests, versions).
    if desc.name.is_none() {
        let (ri, di) = (r.image.as_ref(), d.image.as_ref());
        if ri.map(|x| &x.value) != di.map(|x| &x.value) {
            let shown = |i: Option<&cdb_stack::Located<String>>| {
                i.map_or_else(|| "no image".to_owned(), |x| format!("`{}`", x.value))
            };
            at(
                sink,
                &ri.map_or_else(|| r.name.at.clone(), |x| x.at.clone()),
                format!(
                    "overlay service `{name}` pins {}; the kit's description pins {}",
                    shown(ri),
                    shown(di)
                ),
            );
        }
    }
    let (rh, dh) = (classify(r), classify(d));
    if rh.value.name() != dh.value.name() {
        at(
            sink,
            &rh.at,
            format!(
                "the health check of `{name}` proves `{}`; in the kit's description it proves `{}`",
                rh.value.name(),
                dh.value.name()
            ),
        );
    }
}
