//! Benchmark of `verify --select links` over a generated tree of 5,000 markdown files and 35,000 cross-file links.
//!
//! Run: `cargo run --release -p cdb-verify --example links_bench [-- --keep DIR]`.
//! It generates the tree (into a temp dir, or DIR with `--keep`), then times the
//! same path `cargo xtask verify --select links` takes: load, parse, check.
//! With `--keep DIR` the tree stays, so the real binary can be timed too:
//! `target/release/xtask verify --root DIR --select links`.

use cdb_docs::hub::LoadOptions;
use cdb_docs::{Hub, Layout};
use cdb_verify::{Config, Selection, check};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

const FILES: usize = 5_000;
const DIRS: usize = 50;
const HEADINGS: usize = 10;
const LINKS_PER_FILE: usize = 7;

fn generate(root: &Path) -> std::io::Result<usize> {
    let per_dir = FILES / DIRS;
    let mut links = 0;
    // A small linear congruential generator keeps the tree the same on every run.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as usize) % n
    };
    for d in 0..DIRS {
        let dir = root.join(format!("d{d:02}"));
        std::fs::create_dir_all(&dir)?;
        for f in 0..per_dir {
            let mut text = format!("# Page {d}-{f}\n\nIntro text for the page.\n\n");
            for h in 0..HEADINGS {
                let _ = write!(
                    text,
                    "## Section {h} of page {f}\n\nSome prose about rotation step {h}.\n\n"
                );
            }
            text.push_str("## See also\n\n");
            for _ in 0..LINKS_PER_FILE {
                let (td, tf, th) = (next(DIRS), next(per_dir), next(HEADINGS));
                let target = if td == d {
                    format!("f{tf:03}.md")
                } else {
                    format!("../d{td:02}/f{tf:03}.md")
                };
                let _ = writeln!(
                    text,
                    "- [page {td}-{tf}]({target}#section-{th}-of-page-{tf})"
                );
                links += 1;
            }
            std::fs::write(dir.join(format!("f{f:03}.md")), text)?;
        }
    }
    Ok(links)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let keep = args
        .iter()
        .position(|a| a == "--keep")
        .and_then(|i| args.get(i + 1));
    let tmp = tempfile::tempdir()?;
    let root = keep.map_or_else(|| tmp.path().to_path_buf(), std::path::PathBuf::from);
    let links = generate(&root)?;
    let selection = Selection::new(&["links".to_owned()], &[]).map_err(std::io::Error::other)?;
    let config = Config::new(jiff::civil::date(2026, 11, 28), selection);
    let mut times = Vec::new();
    let mut findings = 0;
    for _ in 0..7 {
        let start = Instant::now();
        let hub = Hub::load(
            &root,
            Layout::default(),
            LoadOptions {
                text_files: false,
                parse_markdown: true,
            },
        )?;
        findings = check(&hub, &config).len();
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "files={FILES} links={links} findings={findings} min={:.3}s median={:.3}s (load+parse+check, {} threads)",
        times[0],
        times[times.len() / 2],
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(())
}
