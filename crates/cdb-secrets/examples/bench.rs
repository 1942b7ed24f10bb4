//! Throughput benchmark: scans a generated corpus of markdown and YAML with planted fakes.
//!
//! Run: `cargo run --release -p cdb-secrets --example bench -- --mb 200`
//! Options: `--mb N` corpus size (default 200), `--threads N` (default: all cores),
//! `--file-kb N` size of one generated file (default 256).
//! It prints MB/s, files, hits, planted-fake recall (found/planted) and false positives.
//!
//! End to end (walk, read, scan, report): `--out DIR` writes the same corpus as files
//! (`docs/NNNNN.md`, `compose/NNNNN.yaml`) into DIR and exits; then time the release verify:
//!
//! ```text
//! cargo run --release -p cdb-secrets --example bench -- --mb 200 --out /tmp/corpus
//! cargo build --release -p xtask
//! time target/release/xtask verify --select secrets --root /tmp/corpus --format json > /dev/null
//! ```

mod shared;

use cdb_secrets::{DetectorKind, Hit, Scanner, detectors};
use shared::{arg, cpu_seconds};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// A fixed xorshift generator, so every run scans the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16)]))
            .collect()
    }
}

const SERVICES: &[&str] = &[
    "cdb_postgres",
    "cdb_redis",
    "grafana",
    "prometheus",
    "cdb_ws",
    "cdb_core",
    "cdb_risk",
    "loki",
];
const WORDS: &[&str] = &[
    "the",
    "stack",
    "rotation",
    "check",
    "service",
    "before",
    "after",
    "restart",
    "health",
    "drill",
    "secret",
    "file",
    "container",
    "value",
    "operator",
    "window",
    "traffic",
    "consumer",
    "old",
    "new",
    "verify",
    "dashboard",
    "alert",
    "incident",
    "runbook",
    "step",
    "and",
    "with",
    "until",
    "green",
];

fn prose(rng: &mut Rng, out: &mut String) {
    let n = 8 + rng.below(14);
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(rng.pick(WORDS));
    }
    out.push_str(".\n");
}

fn markdown_line(rng: &mut Rng, out: &mut String) {
    let svc = rng.pick(SERVICES);
    let up = svc.trim_start_matches("cdb_").to_ascii_uppercase();
    match rng.below(16) {
        0 => out.push_str(&format!("## Rotate the {svc} credentials ({})\n", rng.below(90) + 10)),
        1 => out.push_str(&format!("Rotate the {up}_PASSWORD before the drill; the old value stays valid for {}m.\n", rng.below(60))),
        2 => out.push_str(&format!("{}. Run `docker compose -f compose.blue.yml up -d --force-recreate {svc}` and wait {}s.\n", rng.below(12) + 1, rng.below(50))),
        3 => out.push_str(&format!("The dashboard is at http://127.0.0.1:3000/d/{}/overview?orgId=1 .\n", rng.hex(8))),
        4 => out.push_str(&format!("export REDISCLI_AUTH=\"$(cat \"$SECRETS_PATH/{up}_PASSWORD\")\"\n")),
        5 => out.push_str("Ask ops@example.com or security@example.org when the check stays red.\n"),
        6 => out.push_str(&format!("| {svc} | v{}.{}.{} | 2026-0{}-1{}T10:00:00Z | healthy |\n", rng.below(9), rng.below(20), rng.below(9), rng.below(9) + 1, rng.below(9))),
        7 => out.push_str(&format!("DATABASE_URL=postgresql://claire_user:${{PW}}@cdb_postgres:5432/claire?{}\n", rng.below(9))),
        8 => out.push_str(&format!("Fixed in commit {} (see the drill log).\n", rng.hex(40))),
        9 => out.push_str("Set `password: <new-password>` in the form, never a real value.\n"),
        10 => out.push_str("```sh\n"),
        11 => out.push_str("```\n"),
        _ => prose(rng, out),
    }
}

fn yaml_line(rng: &mut Rng, out: &mut String) {
    let svc = rng.pick(SERVICES);
    let up = svc.trim_start_matches("cdb_").to_ascii_uppercase();
    match rng.below(12) {
        0 => out.push_str(&format!("  {svc}:\n")),
        1 => out.push_str(&format!("    image: {svc}:{}.{}-alpine\n", rng.below(20), rng.below(9))),
        2 => out.push_str("    environment:\n"),
        3 => out.push_str(&format!("      {up}_PASSWORD_FILE: /run/secrets/{up}_PASSWORD\n")),
        4 => {
            let port = 3000 + rng.below(6000);
            out.push_str(&format!("    ports: [\"127.0.0.1:{port}:{port}\"]\n"));
        }
        5 => out.push_str("    healthcheck: { test: [\"CMD\", \"pg_isready\"], interval: 10s, timeout: 5s, retries: 5 }\n"),
        6 => out.push_str("      token: ${{ secrets.GH_TOKEN }}\n"),
        7 => out.push_str("    restart: unless-stopped\n"),
        8 => out.push_str(&format!("    secrets: [{up}_PASSWORD]\n")),
        9 => out.push_str(&format!("    labels: {{ team: ops, tier: \"{}\" }}\n", rng.below(4))),
        10 => out.push_str(&format!("    # {}\n", rng.pick(WORDS))),
        _ => out.push_str(&format!("    command: [\"--max-connections={}\", \"--log-level=info\"]\n", rng.below(500))),
    }
}

struct Planted {
    file: usize,
    start: usize,
    end: usize,
    rule: &'static str,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mb = arg(&args, "--mb", 200);
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let threads = arg(&args, "--threads", cores).max(1);
    let file_bytes = arg(&args, "--file-kb", 256) * 1024;
    let total = mb * 1024 * 1024;

    // Build the corpus.
    let t0 = Instant::now();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut files: Vec<String> = Vec::new();
    let mut size = 0;
    while size < total {
        let yaml = files.len() % 2 == 1;
        let mut text = String::with_capacity(file_bytes + 256);
        while text.len() < file_bytes {
            if yaml {
                yaml_line(&mut rng, &mut text)
            } else {
                markdown_line(&mut rng, &mut text)
            }
        }
        size += text.len();
        files.push(text);
    }
    // Plant one fake per provider detector, each in its own file at a random line start.
    let mut planted = Vec::new();
    for (i, d) in detectors()
        .iter()
        .filter(|d| d.kind == DetectorKind::Provider)
        .enumerate()
    {
        let Some(fake) = d.examples().positives.into_iter().next() else {
            continue;
        };
        let file = (i * 7919 + 13) % files.len();
        let text = &mut files[file];
        let at = text[..rng.below(text.len())]
            .rfind('\n')
            .map_or(0, |p| p + 1);
        let line = format!("{fake}\n");
        text.insert_str(at, &line);
        size += line.len();
        for p in planted.iter_mut() {
            let p: &mut Planted = p;
            if p.file == file && p.start >= at {
                p.start += line.len();
                p.end += line.len();
            }
        }
        planted.push(Planted {
            file,
            start: at,
            end: at + line.len(),
            rule: d.id,
        });
    }
    let gen_secs = t0.elapsed().as_secs_f64();
    if let Some(dir) = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
    {
        write_corpus(std::path::Path::new(dir), &files, size);
        return;
    }

    // Scan in parallel: threads pull files from a shared counter.
    let scanner = Scanner::new();
    let next = AtomicUsize::new(0);
    let cpu0 = cpu_seconds();
    let t1 = Instant::now();
    let results: Vec<Vec<(usize, Vec<Hit>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(text) = files.get(i) else { break };
                        let hits = scanner.scan(text);
                        if !hits.is_empty() {
                            mine.push((i, hits));
                        }
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let secs = t1.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;

    let all: Vec<(usize, Hit)> = results
        .into_iter()
        .flatten()
        .flat_map(|(f, hs)| hs.into_iter().map(move |h| (f, h)))
        .collect();
    let found = planted
        .iter()
        .filter(|p| {
            all.iter().any(|(f, h)| {
                *f == p.file && h.rule == p.rule && h.start >= p.start && h.end <= p.end
            })
        })
        .count();
    let false_pos: Vec<&(usize, Hit)> = all
        .iter()
        .filter(|(f, h)| {
            !planted
                .iter()
                .any(|p| p.file == *f && h.start >= p.start && h.end <= p.end)
        })
        .collect();
    let mbytes = size as f64 / (1024.0 * 1024.0);
    println!(
        "corpus: {mbytes:.1} MB in {} files (generated in {gen_secs:.1}s)",
        files.len()
    );
    println!(
        "scan: {secs:.3}s with {threads} threads = {:.0} MB/s",
        mbytes / secs
    );
    // On a shared machine the wall clock depends on the neighbours; CPU seconds do not.
    println!(
        "scan cpu: {cpu:.2}s = {:.0} MB per CPU-second (the rate on N idle cores is about N times that)",
        mbytes / cpu.max(1e-9)
    );
    println!("hits: {}", all.len());
    println!("planted-fake recall: {found}/{}", planted.len());
    println!("false positives: {}", false_pos.len());
    for (f, h) in false_pos.iter().take(10) {
        println!(
            "  file {f} line {} {} {}",
            h.line,
            h.rule,
            h.redacted(&files[*f])
        );
    }
}

/// Writes the corpus as files under `dir`, markdown and YAML in their own folders.
fn write_corpus(dir: &std::path::Path, files: &[String], size: usize) {
    for sub in ["docs", "compose"] {
        if let Err(e) = std::fs::create_dir_all(dir.join(sub)) {
            eprintln!("error: cannot create {}: {e}", dir.join(sub).display());
            std::process::exit(2);
        }
    }
    for (i, text) in files.iter().enumerate() {
        let rel = if i % 2 == 1 {
            format!("compose/{i:05}.yaml")
        } else {
            format!("docs/{i:05}.md")
        };
        if let Err(e) = std::fs::write(dir.join(&rel), text) {
            eprintln!("error: cannot write {}: {e}", dir.join(&rel).display());
            std::process::exit(2);
        }
    }
    println!(
        "wrote {} files, {:.1} MB, to {}",
        files.len(),
        size as f64 / (1024.0 * 1024.0),
        dir.display()
    );
}
