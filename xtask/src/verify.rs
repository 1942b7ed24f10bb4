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
}

pub fn run(args: VerifyArgs) -> u8 {
    if args.list_rules {
        let mut out = String::new();
        for r in registry() {
            out.push_str(&format!(
                "{:<28} {:<10} {:<8} {}\n",
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
            Ok(b) => Some(b),
            Err(e) => return usage(&for_human(&format!("{shown}:{}: {e}", e.line()))),
        },
        Err(ReadError::NotFound) => None,
        Err(e) => return usage(&for_human(&format!("{shown}: {e}"))),
    };
    let config = Config {
        today,
        selection,
        baseline,
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
