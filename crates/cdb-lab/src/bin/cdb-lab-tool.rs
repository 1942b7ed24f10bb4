//! The lab's one executable for steps: the `docker` adapter (called as `docker` with
//! `CDB_LAB_ADAPTER` set) and, otherwise, the drill's mock tools (the conformance suite's
//! sandboxes link their tools to it, as drills link theirs to `xtask`).

use std::process::ExitCode;

#[cfg(unix)]
fn main() -> ExitCode {
    if let Some(code) = cdb_lab::adapter::entry() {
        return code;
    }
    if let Some(code) = cdb_lab::standin::entry() {
        return code;
    }
    if let Some(code) = cdb_drill::mock::entry() {
        return ExitCode::from(code);
    }
    // As `OsString`s: `std::env::args` panics on an argument that is not UTF-8.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let Some((first, rest)) = args.split_first() else {
        eprintln!("cdb-lab-tool: run by the lab as `docker` or a mock tool, not by hand");
        return ExitCode::from(2);
    };
    if first == "drill" {
        return ExitCode::from(lab_drill(rest));
    }
    // The other words' parsers take UTF-8 words.
    let words: Option<Vec<String>> = rest.iter().map(|w| w.to_str().map(str::to_owned)).collect();
    if first == "__cdb-lab-conformance" {
        return match words {
            Some(w) => conformance(&w),
            None => not_utf8(first),
        };
    }
    // `cargo xtask rotate … --world W --lab`: the guided rotation on the real servers.
    if first == "rotate" {
        let Some(words) = words else {
            return not_utf8(first);
        };
        return match std::env::current_exe() {
            Ok(exe) => ExitCode::from(cdb_lab::rotate_lab::main(&words, &exe)),
            Err(e) => {
                eprintln!("error: cannot find this executable for the lab's tools: {e}");
                ExitCode::from(2)
            }
        };
    }
    eprintln!("cdb-lab-tool: run by the lab as `docker` or a mock tool, not by hand");
    ExitCode::from(2)
}

/// A word whose arguments must be UTF-8 got one that is not.
#[cfg(unix)]
fn not_utf8(word: &std::ffi::OsStr) -> ExitCode {
    eprintln!(
        "error: an argument of `{}` is not UTF-8",
        word.to_string_lossy()
    );
    ExitCode::from(2)
}

/// `cdb-lab-tool __cdb-lab-conformance ROOT [STEP…]`: the suite in a process of its own (the
/// no-leftovers test kills it midway).
#[cfg(unix)]
fn conformance(args: &[String]) -> ExitCode {
    let Some((root, only)) = args.split_first() else {
        eprintln!("usage: cdb-lab-tool __cdb-lab-conformance ROOT [STEP…]");
        return ExitCode::from(2);
    };
    let tool = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = cdb_lab::conformance::Config {
        root: root.into(),
        tool,
        seed: 1,
        variant: cdb_lab::conformance::Variant::Faithful,
        only: only.to_vec(),
        scenarios: Vec::new(),
        step_timeout: std::time::Duration::from_secs(60),
    };
    match cdb_lab::conformance::run(&cfg) {
        Ok(r) => {
            print!("{r}");
            ExitCode::from(u8::from(r.failed().count() > 0))
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// What `cargo xtask drill <scenario>… --lab` asks of the lab: the scenarios and the flags that
/// apply to a lab run.
#[cfg(unix)]
struct LabArgs {
    scenarios: Vec<String>,
    root: std::path::PathBuf,
    seed: u64,
    timeout: u64,
    json: bool,
    journal: Option<std::path::PathBuf>,
}

/// How this binary names itself in clap's usage line and help.
#[cfg(unix)]
const BIN: &str = "cdb-lab-tool drill";

/// The lab's reading of the drill's flags (`cdb_cli::DrillArgs`, the struct `cargo xtask drill`
/// parsed and forwards): a flag that does not apply to a lab run is an error naming it.
#[cfg(unix)]
fn lab_args(a: cdb_cli::DrillArgs) -> Result<LabArgs, String> {
    // Destructured without `..`: a flag added to the struct does not compile until the lab
    // either takes it or refuses it here.
    let cdb_cli::DrillArgs {
        scenario,
        root,
        seed,
        format,
        journal,
        report,
        timeout,
        all,
        shell,
        script,
        list,
        sweep,
        mutate,
        class,
        // The lab's own word: whether it was given changes nothing here.
        lab: _,
    } = a;
    for (given, flag) in [
        (report.is_some(), "--report"),
        (script.is_some(), "--script"),
        (class.is_some(), "--class"),
        (all, "--all"),
        (shell, "--shell"),
        (list, "--list"),
        (sweep, "--sweep"),
        (mutate, "--mutate"),
    ] {
        if given {
            return Err(format!("{flag} does not apply to --lab"));
        }
    }
    Ok(LabArgs {
        scenarios: scenario,
        root: root.unwrap_or_else(|| ".".into()),
        seed,
        timeout,
        json: format == cdb_cli::Format::Json,
        journal,
    })
}

/// `drill <scenario>… --lab`: each scenario in the mock and in the lab; exit 1 when a step's
/// verdict differs (the step and both outputs are printed) or a drill fails, 2 when the lab cannot
/// run. Without the servers: skipped (exit 0) naming the install command, unless `CI=true`.
#[cfg(unix)]
fn lab_drill(words: &[std::ffi::OsString]) -> u8 {
    let parsed = match cdb_cli::DrillArgs::parse_from(BIN, words) {
        Ok(a) => lab_args(a),
        Err(e) if !e.use_stderr() => {
            // The help, on stdout; when even that cannot be written there is nothing to say.
            return match e.print() {
                Ok(()) => 0,
                Err(_) => 2,
            };
        }
        Err(e) => Err(cdb_cli::message(&e)),
    };
    let args = match parsed {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if args.scenarios.is_empty() {
        eprintln!(
            "error: --lab needs scenario ids (one of {:?})",
            cdb_lab::lab::SCENARIOS
        );
        return 2;
    }
    // This executable is also the sandbox's tools: the mocks, the `docker` adapter and the
    // stand-in consumers (main's dispatch above).
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot find this executable for the lab's tools: {e}");
            return 2;
        }
    };
    let cfg = cdb_drill::Config {
        root: args.root.clone(),
        seed: args.seed,
        step_timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        mock_exe: exe,
    };
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let mut code = 0;
    for id in &args.scenarios {
        let t = std::time::Instant::now();
        let o = match cdb_lab::lab::run(&cfg, id) {
            Ok(o) => o,
            Err(cdb_lab::conformance::SuiteError::Lab(e)) if e.is_missing() && !ci => {
                println!("skipped: drill {id} --lab: {e} (or run .ci/install-servers)");
                continue;
            }
            Err(e) => {
                eprintln!("error: drill {id} --lab: {e}");
                return 2;
            }
        };
        if let Some(p) = &args.journal {
            // One scenario: the file; several: `<dir>/<id>.lab.json`.
            let path = if args.scenarios.len() > 1 {
                p.join(format!("{id}.lab.json"))
            } else {
                p.clone()
            };
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&path, o.lab.to_json() + "\n"));
            if let Err(e) = written {
                eprintln!(
                    "error: cannot write the lab journal {}: {e}",
                    path.display()
                );
                return 2;
            }
        }
        if args.json {
            println!("{}", o.lab.to_json());
        } else {
            print!(
                "{}",
                cdb_secrets::escape_controls(&cdb_drill::report::human(&o.lab))
            );
        }
        let secs = t.elapsed().as_secs_f64();
        if o.differences.is_empty() {
            let procs: Vec<String> = o
                .process_calls
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            println!(
                "lab: {id}: every step reached the mock's verdict on PostgreSQL {} and Redis {} ({} server calls; answered by the lab's processes: {}; {secs:.1} s)",
                o.pg_version,
                o.redis_version,
                o.server_calls,
                if procs.is_empty() {
                    "none".to_owned()
                } else {
                    procs.join(", ")
                }
            );
        } else {
            code = 1;
            for d in &o.differences {
                eprintln!(
                    "lab: {id}: step {} (#{}) reached another verdict than in the mock\n--- mock:\n{}\n--- lab:\n{}",
                    d.step,
                    d.index + 1,
                    cdb_secrets::escape_controls(d.mock.trim_end()),
                    cdb_secrets::escape_controls(d.lab.trim_end())
                );
            }
        }
        if !o.lab.verdict.passed {
            code = 1;
            eprintln!(
                "drill {id} --lab failed: {}",
                o.lab.verdict.reasons.join("; ")
            );
        }
    }
    code
}

#[cfg(not(unix))]
fn main() -> ExitCode {
    eprintln!("cdb-lab-tool: the lab needs Linux");
    ExitCode::from(2)
}
