//! Benchmark of `verify` on hostile input shapes: each must finish well under a second in release.
//!
//! Run: `cargo run --release -p cdb-verify --example hostile_bench [-- --keep DIR] [--only NAME]`.
//! For each shape it writes one runbook into a fresh root (or `DIR/<shape>` with
//! `--keep`, so `target/release/xtask verify --root DIR/<shape>` can be timed
//! too) and times what `cargo xtask verify` does: load, every rule (the secret
//! scan included), and the human report, whose size it prints as well. The
//! shapes are those that once ran for minutes: repeated headings (numbered
//! quadratically), many links on one line (columns counted from the line
//! start), many broken links on one line (the whole line repeated per
//! finding), a huge table, deep nesting, and one step of 100,000 commands or
//! 100,000 nested command substitutions for the step rules' shell lexer.

use cdb_docs::hub::LoadOptions;
use cdb_docs::{Hub, Layout};
use cdb_verify::report::{Format, Report};
use cdb_verify::{Config, Selection, check};
use std::path::Path;
use std::time::Instant;

/// One generated shape: a name and the runbook text.
fn shapes() -> Vec<(&'static str, String)> {
    let headings = |n: usize| "# a\n\n".repeat(n);
    let mut table =
        String::from("| a | b | c | d | e | f | g | h |\n|---|---|---|---|---|---|---|---|\n");
    for i in 0..40_000 {
        table.push_str(&format!("| {i} | x | [l](#a) | y | z | w | v | u |\n"));
    }
    let mut lists = String::new();
    for depth in 0..2_000 {
        lists.push_str(&" ".repeat(depth * 2));
        lists.push_str("- item\n");
    }
    vec![
        ("headings-8000", headings(8_000)),
        ("headings-20000", headings(20_000)),
        (
            "links-500000-one-line",
            format!("# a\n\n{}\n", "[link](#a) ".repeat(500_000)),
        ),
        ("broken-links-3000-one-line", {
            // Distinct targets, so no two findings are the same and none is merged away.
            let links: String = (0..3_000)
                .map(|i| format!("[l](missing-{i}.md) "))
                .collect();
            format!("# a\n\n{links}\n")
        }),
        ("table-40000-rows", table),
        (
            "blockquotes-5000-deep",
            format!("{} deep\n", ">".repeat(5_000)),
        ),
        ("lists-2000-deep", lists),
        (
            "assignments-350000-one-line",
            format!("# a\n\n{}\n", "password=x ".repeat(350_000)),
        ),
        ("step-100000-commands", {
            let body = "d=\"$SECRETS_PATH\"; cp \"$d/A\" \"$d/B\" && echo \"$(cat \"$d/A\")\" > /dev/null\n".repeat(100_000);
            format!(
                "## Database\n\n```bash {{#database-verify-big .step class=database phase=verify}}\n{body}```\n"
            )
        }),
        ("step-nesting-100000", {
            let body = format!(
                "echo \"{}x{}\"\n",
                "$(echo \"".repeat(100_000),
                "\")".repeat(100_000)
            );
            format!(
                "## Database\n\n```bash {{#database-verify-deep .step class=database phase=verify}}\n{body}```\n"
            )
        }),
        (
            "brackets-100000-open",
            format!("# a\n\n{}\n", "[".repeat(100_000)),
        ),
    ]
}

fn time_one(root: &Path, today: jiff::civil::Date) -> std::io::Result<(f64, usize, usize)> {
    let start = Instant::now();
    let hub = Hub::load(
        root,
        Layout::default(),
        LoadOptions {
            text_files: true,
            parse_markdown: true,
        },
    )?;
    let findings = check(&hub, &Config::new(today, Selection::default()));
    let source = |path: &str| {
        hub.doc(path)
            .map(|d| (d.text.as_str(), &d.lines))
            .or_else(|| hub.text_file(path).map(|f| (f.text.as_str(), &f.lines)))
    };
    let report = Report {
        findings: &findings,
        source: &source,
        files_checked: hub.docs.len() + hub.files.len(),
        color: false,
    };
    let out = report.render(Format::Human);
    Ok((start.elapsed().as_secs_f64(), findings.len(), out.len()))
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let keep = flag("--keep");
    let only = flag("--only");
    let tmp = tempfile::tempdir()?;
    let base = keep.map_or_else(|| tmp.path().to_path_buf(), std::path::PathBuf::from);
    let today = jiff::civil::date(2026, 11, 28);
    let layout = Layout::default();
    println!(
        "{:<28} {:>10} {:>9} {:>9} {:>12}",
        "shape", "input", "median", "findings", "human out"
    );
    for (name, text) in shapes() {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let root = base.join(name);
        let runbook = root.join(&layout.runbook);
        if let Some(dir) = runbook.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&runbook, &text)?;
        let mut times = Vec::new();
        let mut last = (0, 0);
        for _ in 0..3 {
            let (t, n, bytes) = time_one(&root, today)?;
            times.push(t);
            last = (n, bytes);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name:<28} {:>8.1}MB {:>8.3}s {:>9} {:>10}KB",
            text.len() as f64 / 1e6,
            times[times.len() / 2],
            last.0,
            last.1 / 1024
        );
    }
    Ok(())
}
