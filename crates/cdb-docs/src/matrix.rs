//! The rotation matrix (`data/secret-rotation-matrix.yaml`): typed schema, parsing and source locations.
//!
//! Unknown fields are rejected so that a typo (`last_rotaded`) is an error, not
//! a silently ignored key. Every value a check may point at is wrapped in
//! [`Spanned`] so findings carry the YAML line and column.

use crate::duration::Duration;
use serde::Deserialize;
use std::collections::BTreeMap;

pub use crate::yaml::{Spanned, pos};

/// The whole matrix file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    pub version: u32,
    pub review: Review,
    /// Known consumers: Compose project (or `external`) to service names.
    pub services: BTreeMap<String, Vec<Spanned<String>>>,
    pub owners: Vec<Owner>,
    pub classes: Vec<Class>,
}

/// The hub's own review block.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub last_reviewed: Spanned<String>,
    pub cadence: Spanned<String>,
    pub reviewer: Spanned<String>,
    pub procedure: Spanned<String>,
}

/// A role or team that owns secrets. Never a person's e-mail or phone number.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    pub id: Spanned<String>,
    pub role: String,
    pub contact: Spanned<String>,
    pub escalation: Option<Spanned<String>>,
    /// How to page this role when chat is not enough (a person asleep during an S1): a
    /// reference to a private on-call entry kept outside the repository, never a number.
    #[serde(default)]
    pub paging: Option<Spanned<String>>,
}

/// One secret class.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Class {
    pub id: Spanned<String>,
    pub title: String,
    pub owner: Spanned<String>,
    pub backup_owner: Spanned<String>,
    pub cadence: Spanned<String>,
    pub scope: Vec<Spanned<String>>,
    pub secrets: Vec<Spanned<String>>,
    pub last_rotated: Option<Spanned<String>>,
    pub runbook: Spanned<String>,
    pub inventory: Spanned<String>,
    pub rto: Spanned<String>,
    pub approvals: Approvals,
}

/// Who must approve a rotation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approvals {
    pub routine: Vec<Spanned<String>>,
    pub emergency: Vec<Spanned<String>>,
}

/// Why the matrix could not be read.
pub type MatrixError = crate::yaml::YamlError;

impl Matrix {
    /// Parses the matrix. The parser's default budgets bound alias expansion,
    /// depth and size, so an alias bomb is an error, not a hang.
    pub fn parse(text: &str) -> Result<Matrix, MatrixError> {
        crate::yaml::from_str(text)
    }

    pub fn class(&self, id: &str) -> Option<&Class> {
        self.classes.iter().find(|c| c.id.value == id)
    }

    pub fn owner(&self, id: &str) -> Option<&Owner> {
        self.owners.iter().find(|o| o.id.value == id)
    }

    /// Every known consumer name.
    pub fn known_services(&self) -> impl Iterator<Item = &str> {
        self.services.values().flatten().map(|s| s.value.as_str())
    }
}

/// Parses a rotation or review cadence: a duration of at least one day. A
/// cadence of `0d` (or `12h`, zero whole days) would make every rotation overdue
/// the day it is done, so it is an error, not a schedule.
pub fn parse_cadence(s: &str) -> Result<Duration, String> {
    let d: Duration = s.parse().map_err(|e: crate::duration::DurationError| e.0)?;
    if d.days() == 0 {
        return Err(format!(
            "`{}` is shorter than a day; a cadence is at least `1d`",
            s.trim()
        ));
    }
    Ok(d)
}

impl Review {
    /// The review cadence, checked as [`parse_cadence`] does.
    pub fn cadence(&self) -> Result<Duration, String> {
        parse_cadence(&self.cadence.value)
    }
}

impl Class {
    /// The rotation cadence, checked as [`parse_cadence`] does.
    pub fn cadence(&self) -> Result<Duration, String> {
        parse_cadence(&self.cadence.value)
    }
    pub fn rto(&self) -> Result<Duration, String> {
        self.rto
            .value
            .parse()
            .map_err(|e: crate::duration::DurationError| e.0)
    }
}

/// A `path#fragment` reference relative to the hub directory.
pub fn split_ref(r: &str) -> (&str, Option<&str>) {
    match r.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (r, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SAMPLE: &str = "version: 1
review:
  last_reviewed: 2026-11-01
  cadence: quarterly
  reviewer: owner-operator
  procedure: docs/r.md#quarterly-review
services:
  cdb-blue: [cdb_postgres]
owners:
  - id: owner-operator
    role: Owner
    contact: '@org/team'
    escalation: null
classes:
  - id: database
    title: Database
    owner: owner-operator
    backup_owner: owner-operator
    cadence: 90d
    scope: [cdb_postgres]
    secrets: [POSTGRES_PASSWORD]
    last_rotated: null
    runbook: docs/r.md#database
    inventory: docs/i.md#database
    rto: 30m
    approvals:
      routine: [owner-operator]
      emergency: [owner-operator]
";

    #[test]
    fn parses_with_locations() {
        let m = Matrix::parse(SAMPLE).expect("sample parses");
        let c = m.class("database").expect("class");
        assert_eq!(pos(&c.id), (15, 9));
        assert!(c.last_rotated.is_none());
        assert_eq!(c.cadence().map(|d| d.days()), Ok(90));
        assert_eq!(m.review.last_reviewed.value, "2026-11-01");
    }

    #[test]
    fn rejects_unknown_fields_with_a_line() {
        let bad = SAMPLE.replace("    rto: 30m\n", "    rto: 30m\n    colour: red\n");
        let e = Matrix::parse(&bad).expect_err("unknown field");
        assert!(e.message.contains("colour"), "{e}");
        assert_eq!(e.line, 26);
    }

    #[test]
    fn survives_an_alias_bomb() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..20 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            bomb.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(Matrix::parse(&bomb).is_err());
    }
}
