//! `--select` and `--ignore`: which rules run, by rule id or group name.

use crate::rules::{RuleMeta, registry};
use std::fmt;

/// The group of the rules about files that could not be read.
pub const IO_GROUP: &str = "io";

/// The rules chosen for one run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    select: Vec<String>,
    ignore: Vec<String>,
}

/// A name that is neither a rule id nor a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectionError(pub String);

impl fmt::Display for SelectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown rule or group `{}` (see --list-rules)", self.0)
    }
}

impl std::error::Error for SelectionError {}

impl Selection {
    /// Builds a selection from comma-separated lists; empty `select` means every rule.
    pub fn new(select: &[String], ignore: &[String]) -> Result<Selection, SelectionError> {
        let split = |v: &[String]| -> Result<Vec<String>, SelectionError> {
            let mut out = Vec::new();
            for name in v
                .iter()
                .flat_map(|s| s.split(','))
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                let known = registry()
                    .iter()
                    .any(|r| r.meta.id == name || r.meta.group == name);
                if !known {
                    return Err(SelectionError(name.to_owned()));
                }
                out.push(name.to_owned());
            }
            Ok(out)
        };
        Ok(Selection {
            select: split(select)?,
            ignore: split(ignore)?,
        })
    }

    /// Whether a rule runs. The `io` group (files that could not be read) runs
    /// whatever `--select` says, unless `--ignore` names it: a file over the size
    /// limit was checked by no rule, and `--select links` must not turn that into a
    /// clean exit.
    pub fn includes(&self, meta: &RuleMeta) -> bool {
        let hit = |names: &[String]| names.iter().any(|n| n == meta.id || n == meta.group);
        (self.select.is_empty() || hit(&self.select) || meta.group == IO_GROUP)
            && !hit(&self.ignore)
    }

    /// Whether any selected rule belongs to `group`.
    /// Whether some selected rule belongs to a group other than `groups`.
    pub fn wants_any_group_but(&self, groups: &[&str]) -> bool {
        registry()
            .iter()
            .any(|r| !groups.contains(&r.meta.group) && self.includes(r.meta))
    }

    pub fn wants_group(&self, group: &str) -> bool {
        registry()
            .iter()
            .any(|r| r.meta.group == group && self.includes(r.meta))
    }
}
