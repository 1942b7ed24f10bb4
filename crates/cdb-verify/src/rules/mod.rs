//! The rule registry: one module per rule, all listed in [`registry`].

use crate::finding::{Finding, Severity, fnv1a};
use cdb_docs::{Doc, Hub, Matrix};

mod file_unreadable;
mod freshness;
mod links;
mod matrix_inventory;
mod matrix_owners;
mod matrix_parse;
mod matrix_runbook;
mod matrix_scope;
mod matrix_values;
mod playbook_sections;
mod runbook_classes;
mod runbook_first_step;
pub mod secrets;
mod security_issues_links;
mod stack_drift;
mod stack_inventory;
mod stack_parse;
mod stack_scope;
mod step_confinement;
mod step_paste;
mod step_unexercised;
pub mod step_verdict;
mod steps;

/// What every rule declares about itself.
#[derive(Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub group: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
}

/// How a rule runs.
#[derive(Clone, Copy)]
pub enum Check {
    /// A check over the hub model.
    Hub(fn(&Ctx<'_>, &mut Sink<'_>)),
    /// A detector of `cdb-secrets`; all selected detectors share one scan of every text file.
    Secret,
}

/// A rule: its metadata and its check.
pub struct Rule {
    pub meta: &'static RuleMeta,
    pub check: Check,
}

impl Rule {
    const fn hub(meta: &'static RuleMeta, check: fn(&Ctx<'_>, &mut Sink<'_>)) -> Rule {
        Rule {
            meta,
            check: Check::Hub(check),
        }
    }
}

/// Every rule, in the order they run and are listed: the hub rules below, then
/// one rule per secret detector. Ids are stable: tools and baselines refer to them.
pub fn registry() -> &'static [Rule] {
    static ALL: std::sync::OnceLock<Vec<Rule>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<Rule> = HUB_RULES
            .iter()
            .map(|r| Rule {
                meta: r.meta,
                check: r.check,
            })
            .collect();
        all.extend(secrets::metas().iter().map(|meta| Rule {
            meta,
            check: Check::Secret,
        }));
        all
    })
}

static HUB_RULES: &[Rule] = &[
    file_unreadable::RULE,
    file_unreadable::SPECIAL,
    links::MISSING_FILE,
    links::MISSING_ANCHOR,
    links::ESCAPES_ROOT,
    runbook_classes::RULE,
    runbook_first_step::RULE,
    playbook_sections::RULE,
    security_issues_links::RULE,
    matrix_parse::RULE,
    matrix_runbook::RULE,
    matrix_owners::RULE,
    matrix_inventory::RULE,
    matrix_scope::RULE,
    matrix_values::RULE,
    freshness::OVERDUE,
    freshness::NEVER,
    freshness::REVIEW,
    steps::FORMAT,
    steps::DUPLICATE,
    steps::UNKNOWN_CLASS,
    steps::PROVEN_BY,
    step_paste::RULE,
    step_verdict::RULE,
    step_confinement::ABSOLUTE,
    step_confinement::SOCKET,
    step_confinement::PROC,
    step_confinement::BACKGROUND,
    step_confinement::WRITE,
    step_unexercised::RULE,
    stack_parse::RULE,
    stack_inventory::SECRET_RULE,
    stack_inventory::CONSUMER_RULE,
    stack_scope::RULE,
    stack_drift::RULE,
];

/// What rules read: the hub, the date and facts derived once for all rules.
pub struct Ctx<'a> {
    pub hub: &'a Hub,
    pub today: jiff::civil::Date,
    /// Secret names declared in the inventory (`### \`NAME\`` headings), with their offsets.
    pub inventory_names: Vec<(String, usize)>,
    /// The real Compose folder of `--stack DIR`, if given (rule `stack-drift`).
    pub external_stack: Option<&'a ExternalStack>,
    /// The confinement problems of every step, found once for the five rules that report them.
    pub(crate) confinement: std::sync::OnceLock<Vec<step_confinement::Found>>,
}

pub use stack_drift::{ExternalStack, kit_file_names};

impl<'a> Ctx<'a> {
    pub fn new(hub: &'a Hub, today: jiff::civil::Date) -> Ctx<'a> {
        let inventory_names = hub
            .doc(&hub.layout.inventory)
            .map(|doc| {
                doc.md
                    .headings
                    .iter()
                    .filter(|h| h.level >= 3)
                    .filter_map(|h| {
                        inventory_name(&doc.text[h.span.clone()]).map(|n| (n, h.span.start))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ctx {
            hub,
            today,
            inventory_names,
            external_stack: None,
            confinement: std::sync::OnceLock::new(),
        }
    }

    pub fn matrix(&self) -> Option<&'a Matrix> {
        self.hub.matrix()
    }

    pub fn matrix_path(&self) -> &'a str {
        &self.hub.layout.matrix
    }

    pub fn doc(&self, path: &str) -> Option<&'a Doc> {
        self.hub.doc(path)
    }
}

/// A heading of the form `### \`NAME\`` names one secret.
fn inventory_name(heading_src: &str) -> Option<String> {
    let t = heading_src.trim().trim_start_matches('#').trim();
    let t = t.split('{').next().unwrap_or(t).trim();
    let inner = t.strip_prefix('`')?.strip_suffix('`')?;
    (!inner.is_empty() && !inner.contains('`')).then(|| inner.to_owned())
}

/// Where a rule writes its findings; it stamps the rule's id, group and severity.
pub struct Sink<'o> {
    meta: &'static RuleMeta,
    out: &'o mut Vec<Finding>,
}

impl<'o> Sink<'o> {
    pub fn new(meta: &'static RuleMeta, out: &'o mut Vec<Finding>) -> Sink<'o> {
        Sink { meta, out }
    }

    /// Reports at a 1-based line and column. The fingerprint is keyed on the
    /// message, not the line, so it survives edits elsewhere in the file; it
    /// hashes the masked message, so it is never a hash of a secret value.
    pub fn at(&mut self, path: &str, line: usize, column: usize, message: impl Into<String>) {
        let message = message.into();
        let fingerprint = fnv1a(&[
            self.meta.id,
            &cdb_secrets::mask(path),
            &cdb_secrets::mask(&message),
        ]);
        self.push(path, line, column, message, fingerprint);
    }

    /// Reports like [`Sink::at`], with the fingerprint keyed on `key` instead of the message:
    /// for a message that changes while the finding stays the same ("N days ago" grows every
    /// day), so code scanning keeps one alert instead of opening a new one each day.
    pub fn at_keyed(
        &mut self,
        path: &str,
        line: usize,
        column: usize,
        message: impl Into<String>,
        key: &str,
    ) {
        let fingerprint = fnv1a(&[
            self.meta.id,
            &cdb_secrets::mask(path),
            &cdb_secrets::mask(key),
        ]);
        self.push(path, line, column, message.into(), fingerprint);
    }

    /// Reports at a byte offset of a markdown document.
    pub fn at_offset(&mut self, doc: &Doc, offset: usize, message: impl Into<String>) {
        let lc = doc.lines.line_col(&doc.text, offset);
        self.at(&doc.path, lc.line, lc.column, message);
    }

    /// Reports with an explicit fingerprint. This is the one place a [`Finding`]
    /// is built: the path and the message (which quote link targets, step ids,
    /// matrix strings, …) pass through `cdb_secrets::mask` here, so no rule and
    /// no report format can show a value the scanner flags.
    pub fn push(
        &mut self,
        path: &str,
        line: usize,
        column: usize,
        message: String,
        fingerprint: String,
    ) {
        self.out.push(Finding {
            rule: self.meta.id.to_owned(),
            group: self.meta.group.to_owned(),
            severity: self.meta.severity,
            path: cdb_secrets::mask(path).into_owned(),
            line: line.max(1),
            column: column.max(1),
            message: cdb_secrets::mask(&message).into_owned(),
            fingerprint,
            mask_chars: None,
        });
    }
}

/// A 1-based position of a spanned matrix value.
pub(crate) fn mpos<T>(s: &cdb_docs::matrix::Spanned<T>) -> (usize, usize) {
    cdb_docs::matrix::pos(s)
}
