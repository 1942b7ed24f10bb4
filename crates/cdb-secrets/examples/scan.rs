//! Scans files or directories given on the command line and prints redacted hits.
//!
//! Run: `cargo run -p cdb-secrets --example scan -- PATH...`. Directories are walked, skipping
//! `target` and dot-directories; files that are not UTF-8 are skipped. Exit code 1 when a hit
//! is found.

use cdb_secrets::Scanner;
use std::path::{Path, PathBuf};

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name == "target" || (name.starts_with('.') && name.len() > 1) {
            return;
        }
        let Ok(rd) = std::fs::read_dir(p) else { return };
        let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for e in entries {
            walk(&e, out);
        }
    } else {
        out.push(p.to_path_buf());
    }
}

fn main() {
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        walk(Path::new(&arg), &mut files);
    }
    let scanner = Scanner::new();
    let mut found = 0;
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for h in scanner.scan(&text) {
            found += 1;
            println!(
                "{}:{}:{}: {} {} [{}]",
                f.display(),
                h.line,
                h.column,
                h.rule,
                h.redacted(&text),
                h.fingerprint
            );
        }
    }
    eprintln!("{} files, {found} hits", files.len());
    if found > 0 {
        std::process::exit(1);
    }
}
