//! A folder of Compose files as one description of the stack: projects and their overlays.
//!
//! A file with a top-level `name:` is a project's base file (`compose.blue.yml`
//! is project `cdb-blue`); a file without one is an overlay (`tls.yml`), used
//! as an extra `-f` file on top of a base. Every service an overlay names must
//! exist in some project: an overlay that names a missing service would make
//! Compose create a half-defined one.

use crate::compose::{ComposeFile, Service, parse_file};
use crate::merge::{Project, merge};
use crate::reads::{SecretRead, secret_reads};
use crate::{Pos, StackError};

/// One file's path (as it should appear in messages) and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub path: String,
    pub text: String,
}

/// The parsed files and the projects of their base files.
#[derive(Clone, Debug)]
pub struct Description {
    /// Every file, in the order given.
    pub files: Vec<ComposeFile>,
    /// One project per base file, that file alone (`docker compose -f BASE`).
    pub projects: Vec<Project>,
}

impl Description {
    /// Parses every source; returns every error found (each file is parsed even when another fails).
    pub fn parse(sources: &[Source]) -> Result<Description, Vec<StackError>> {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for s in sources {
            match parse_file(&s.path, &s.text) {
                Ok(f) => files.push(f),
                Err(e) => errors.push(e),
            }
        }
        let mut projects = Vec::new();
        for f in files.iter().filter(|f| f.name.is_some()) {
            match merge(&[f]) {
                Ok(p) => projects.push(p),
                Err(e) => errors.push(e),
            }
        }
        // An overlay is checked against the projects only when every file parsed:
        // a base file with an error would make each of its services look missing.
        let all_parsed = errors.is_empty() && files.len() == sources.len();
        for f in files.iter().filter(|f| all_parsed && f.name.is_none()) {
            for s in &f.services {
                if !projects.iter().any(|p| p.service(&s.name.value).is_some()) {
                    errors.push(StackError::new(
                        &s.name.at,
                        format!(
                            "overlay service `{}` is defined by no base file (a file with `name:`)",
                            s.name.value
                        ),
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(Description { files, projects })
        } else {
            errors.sort_by(|a, b| a.at.cmp(&b.at));
            Err(errors)
        }
    }

    pub fn file(&self, path: &str) -> Option<&ComposeFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The project of base file `base` with `overlays` applied in `-f` order
    /// (`docker compose -f BASE -f OVERLAY…`). An overlay's services that the
    /// base lacks are added, as Compose adds them.
    pub fn with_overlays(&self, base: &str, overlays: &[&str]) -> Result<Project, StackError> {
        let first = Pos {
            file: base.to_owned(),
            line: 1,
            column: 1,
        };
        let mut list = Vec::new();
        for path in std::iter::once(&base).chain(overlays) {
            match self.file(path) {
                Some(f) => list.push(f),
                None => return Err(StackError::new(&first, format!("no Compose file `{path}`"))),
            }
        }
        merge(&list)
    }

    /// Every service of every project, with its project.
    pub fn services(&self) -> impl Iterator<Item = (&Project, &Service)> {
        self.projects
            .iter()
            .flat_map(|p| p.services.iter().map(move |s| (p, s)))
    }

    /// The project that defines service `name`.
    pub fn project_of(&self, name: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.service(name).is_some())
    }

    /// Every secret read of every service of every project (base files alone).
    pub fn reads(&self) -> Vec<SecretRead> {
        self.services()
            .flat_map(|(p, s)| secret_reads(p, s))
            .collect()
    }
}
