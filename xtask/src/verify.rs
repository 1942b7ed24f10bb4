//! `cargo xtask verify`: argument parsing and wiring for the checks in `cdb-verify`.

use crate::output::{emit, usage};
use cdb_docs::fsio::{MAX_FILE_BYTES, ReadError, read_text};
use cdb_docs::hub::LoadOptions;
use cdb_docs::{Hub, Layout, LineIndex};
use cdb_verify::for_human;
use cdb_verify::report::{Format, Report};
use cdb_verify::{Baseline, Config, Selection, Severity, registry};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args)]
pub struct VerifyArgs {
    /// The tree to check (default: the workspace root). Any tree of the same layout works.
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Run only these rules or groups (comma-separated ids or group names).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules or groups.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Pin today's date (YYYY-MM-DD) so freshness findings reproduce.
    #[arg(long)]
    pub today: Option<String>,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = ["human", "json", "sarif", "github"])]
    pub format: String,
    /// Print the rule registry (id, group, default severity, summary) and exit.
    #[arg(long)]
    pub list_rules: bool,
    /// A real Compose folder (e.g. upstream's `infrastructure/compose`) to compare
    /// with the kit's description in `stack/compose` (rule `stack-drift`).
    #[arg(long, value_name = "DIR")]
    pub stack: Option<PathBuf>,
}

pub fn run(args: VerifyArgs) -> u8 {
    if args.list_rules {
        let mut out = String::new();
        for r in registry() {
            out.push_str(&format!(
                "{:<32} {:<10} {:<8} {}\n",
                r.meta.id, r.meta.group, r.meta.severity, r.meta.summary
            ));
        }
        return emit(&out);
    }
    let selection = match Selection::new(&args.select, &args.ignore) {
        Ok(s) => s,
        Err(e) => return usage(&for_human(&e.to_string())),
    };
    let today = match &args.today {
        Some(t) => match t.parse::<jiff::civil::Date>() {
            Ok(d) => d,
            Err(e) => return usage(&for_human(&format!("--today `{t}`: {e}"))),
        },
        None => jiff::ZonedDateTime::now().date(),
    };
    let format: Format = match args.format.parse() {
        Ok(f) => f,
        Err(e) => return usage(&e),
    };
    let root = args.root.unwrap_or_else(crate::workspace_root);
    let opts = LoadOptions {
        text_files: selection.wants_group("secrets"),
        // Only the io and secrets groups can do without the markdown model.
        parse_markdown: selection.wants_any_group_but(&["io", "secrets"]),
    };
    let hub = match Hub::load(&root, Layout::default(), opts) {
        Ok(h) => h,
        Err(e) => {
            return usage(&for_human(&format!(
                "cannot read root `{}`: {e}",
                root.display()
            )));
        }
    };
    let baseline_path = root.join(cdb_verify::rules::secrets::BASELINE_FILE);
    let shown = baseline_path.display();
    let baseline = match read_text(&baseline_path, Some(&root), MAX_FILE_BYTES) {
        Ok(text) => match Baseline::parse(&text) {
            Ok(b) => {
                if let Some(note) = b.migration_note() {
                    eprintln!("warning: {}", for_human(&format!("{shown}: {note}")));
                }
                Some(b)
            }
            Err(e) => return usage(&for_human(&format!("{shown}:{}: {e}", e.line()))),
        },
        Err(ReadError::NotFound) => None,
        Err(e) => return usage(&for_human(&format!("{shown}: {e}"))),
    };
    let stack = match &args.stack {
        Some(dir) => match read_stack(dir, &cdb_verify::rules::kit_file_names(&hub)) {
            Ok(s) => Some(s),
            Err(code) => return code,
        },
        None => None,
    };
    let config = Config {
        today,
        selection,
        baseline,
        stack,
    };
    let findings = cdb_verify::check(&hub, &config);
    let source = |path: &str| -> Option<(&str, &LineIndex)> {
        hub.doc(path)
            .map(|d| (d.text.as_str(), &d.lines))
            .or_else(|| hub.text_file(path).map(|f| (f.text.as_str(), &f.lines)))
    };
    let color = format == Format::Human
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let report = Report {
        findings: &findings,
        source: &source,
        files_checked: hub.docs.len() + hub.files.len(),
        color,
    };
    let code = emit(&report.render(format));
    if code != 0 {
        return code;
    }
    u8::from(findings.iter().any(|f| f.severity == Severity::Error))
}

/// Reads and parses, from `dir`, the files named like the kit's Compose files.
/// Unreadable or unparsable files are errors of the argument (exit 2), each
/// printed with its file, line and column; a missing one is left to `stack-drift`.
fn read_stack(dir: &std::path::Path, names: &[String]) -> Result<cdb_verify::ExternalStack, u8> {
    if !dir.is_dir() {
        eprintln!("error: --stack `{}` is not a directory", dir.display());
        return Err(2);
    }
    let shown = dir.display().to_string();
    let mut sources = Vec::new();
    let mut missing = Vec::new();
    let mut failed = false;
    for name in names {
        let path = dir.join(name);
        let label = format!("{}/{name}", shown.trim_end_matches(['/', '\\']));
        match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                missing.push(name.clone());
                continue;
            }
            Err(e) => {
                eprintln!("error: cannot read {label}: {e}");
                failed = true;
                continue;
            }
            Ok(m) if m.len() > cdb_docs::hub::MAX_FILE_BYTES => {
                eprintln!(
                    "error: {label}: {} bytes, over the {} byte limit",
                    m.len(),
                    cdb_docs::hub::MAX_FILE_BYTES
                );
                failed = true;
                continue;
            }
            Ok(_) => {}
        }
        match std::fs::read(&path).map(String::from_utf8) {
            Ok(Ok(text)) => sources.push(cdb_stack::Source { path: label, text }),
            Ok(Err(_)) => {
                eprintln!("error: {label}: not valid UTF-8");
                failed = true;
            }
            Err(e) => {
                eprintln!("error: cannot read {label}: {e}");
                failed = true;
            }
        }
    }
    // With every file present, the project checks apply too (an undeclared
    // secret, an overlay naming no service); with some missing, the files are
    // compared one by one and the missing ones reported by `stack-drift`.
    let parsed = if missing.is_empty() {
        cdb_stack::Description::parse(&sources).map(|d| d.files)
    } else {
        let (ok, errors): (Vec<_>, Vec<_>) = sources
            .iter()
            .map(|s| cdb_stack::parse_file(&s.path, &s.text))
            .partition(Result::is_ok);
        if errors.is_empty() {
            Ok(ok.into_iter().filter_map(Result::ok).collect())
        } else {
            Err(errors.into_iter().filter_map(Result::err).collect())
        }
    };
    let files = match parsed {
        Ok(files) => files,
        Err(errors) => {
            for e in errors {
                eprintln!("error: {e}");
            }
            return Err(2);
        }
    };
    if failed {
        return Err(2);
    }
    Ok(cdb_verify::ExternalStack {
        dir: shown,
        files,
        missing,
    })
}
