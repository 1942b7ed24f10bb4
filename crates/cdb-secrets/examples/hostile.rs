//! Hostile-shape benchmark: inputs built to make a scanner slow. Each must scan well under a
//! second in release.
//!
//! Run: `cargo run --release -p cdb-secrets --example hostile`
//! Options: `--n N` repetitions per shape (default 350000).
//! It prints, per shape, the input size, the hits and the seconds (wall and CPU) that
//! `Scanner::scan` and `mask` took.

mod shared;

use cdb_secrets::{Scanner, mask};
use shared::{arg, cpu_seconds};
use std::time::Instant;

/// A fake value the generic rule flags, different for every `i`.
fn fake(i: usize) -> String {
    format!("Fk{i:07}q7Zx{}", i % 97)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = arg(&args, "--n", 350_000);
    let shapes: Vec<(&str, String)> = vec![
        ("password= x n, one line", "password=".repeat(n)),
        (
            "password=FAKE x n, one line",
            (0..n).map(|i| format!("password={} ", fake(i))).collect(),
        ),
        (
            "password: FAKE x n, one line per value",
            (0..n).map(|i| format!("password: {}\n", fake(i))).collect(),
        ),
        ("pass x n, one line", "pass".repeat(n)),
        ("secret_token_ x n, one line", "secret_token_".repeat(n)),
        ("a= x n", "a=".repeat(n)),
        (
            "BEGIN PRIVATE KEY x n",
            format!("-----{} PRIVATE KEY-----\n", "BEGIN").repeat(n / 10),
        ),
        ("mexc x n, one line", "mexc_secret=".repeat(n)),
        ("base64 run, one line", "QUJD".repeat(n)),
        ("backslash continuations", "password=\\\n".repeat(n / 10)),
        ("smtp app password context", "smtp password ".repeat(n / 2)),
        ("# comment markers", "# # # -- // ".repeat(n / 4)),
    ];
    let scanner = Scanner::new();
    let mut worst = 0f64;
    for (name, text) in &shapes {
        let (t, c) = (Instant::now(), cpu_seconds());
        let hits = scanner.scan(text).len();
        let (scan, scan_cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
        let (t, c) = (Instant::now(), cpu_seconds());
        let masked = mask(text).len();
        let (m, m_cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
        worst = worst.max(scan_cpu).max(m_cpu);
        println!(
            "{name:<40} {:>8.1} KB  hits {hits:>7}  scan {scan:>6.3}s (cpu {scan_cpu:.2}s)  mask {m:>6.3}s (cpu {m_cpu:.2}s, {masked} B out)",
            text.len() as f64 / 1024.0,
        );
    }
    println!("worst: {worst:.2} CPU seconds");
}
