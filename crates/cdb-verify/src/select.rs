//! `--select` and `--ignore`: which rules run, by rule id or group name.

use crate::rules::{RuleMeta, registry};

/// The group of the rules about files that could not be read.
pub const IO_GROUP: &str = "io";

/// The rules chosen for one run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    select: Vec<String>,
    ignore: Vec<String>,
}

/// A name that is neither a rule id nor a group.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule or group `{0}` (see --list-rules)")]
pub struct SelectionError(pub String);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_name_is_refused_with_a_pointer_to_the_list() {
        let e = Selection::new(&["nope".to_owned()], &[]).expect_err("no rule `nope`");
        assert_eq!(e, SelectionError("nope".into()));
        assert_eq!(
            e.to_string(),
            "unknown rule or group `nope` (see --list-rules)"
        );
    }
}
