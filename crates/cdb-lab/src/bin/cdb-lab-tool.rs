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
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some((first, rest)) = args.split_first()
        && first == "__cdb-lab-conformance"
    {
        return conformance(rest);
    }
    if let Some((first, rest)) = args.split_first()
        && first == "drill"
    {
        return ExitCode::from(lab_drill(rest));
    }
    // `cargo xtask rotate … --world W --lab`: the guided rotation on the real servers.
    if let Some((first, rest)) = args.split_first()
        && first == "rotate"
    {
        return match std::env::current_exe() {
            Ok(exe) => ExitCode::from(cdb_lab::rotate_lab::main(rest, &exe)),
            Err(e) => {
                eprintln!("error: cannot find this executable for the lab's tools: {e}");
                ExitCode::from(2)
            }
        };
    }
    eprintln!("cdb-lab-tool: run by the lab as `docker` or a mock tool, not by hand");
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

/// The arguments of `cargo xtask drill <scenario>… --lab` (xtask checked them with clap and
/// forwards them with `--flag value` spaced and `--root` set).
#[cfg(unix)]
struct LabArgs {
    scenarios: Vec<String>,
    root: std::path::PathBuf,
    seed: u64,
    timeout: u64,
    json: bool,
    journal: Option<std::path::PathBuf>,
}

#[cfg(unix)]
fn lab_args(args: &[String]) -> Result<LabArgs, String> {
    let mut a = LabArgs {
        scenarios: Vec::new(),
        root: std::path::PathBuf::from("."),
        seed: 1,
        timeout: 10,
        json: false,
        journal: None,
    };
    let mut it = args.iter();
    while let Some(x) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{x} needs a value"));
        match x.as_str() {
            "--lab" => {}
            "--root" => a.root = val()?.into(),
            "--seed" => a.seed = val()?.parse().map_err(|_| "--seed needs a number")?,
            "--timeout" => {
                a.timeout = val()?
                    .parse()
                    .map_err(|_| "--timeout needs whole seconds")?;
            }
            "--format" => a.json = val()? == "json",
            "--journal" => a.journal = Some(val()?.into()),
            s if s.starts_with('-') => return Err(format!("{s} does not apply to --lab")),
            s => a.scenarios.push(s.to_owned()),
        }
    }
    Ok(a)
}

/// `drill <scenario>… --lab`: each scenario in the mock and in the lab; exit 1 when a step's
/// verdict differs (the step and both outputs are printed) or a drill fails, 2 when the lab cannot
/// run. Without the servers: skipped (exit 0) naming the install command, unless `CI=true`.
#[cfg(unix)]
fn lab_drill(args: &[String]) -> u8 {
    let args = match lab_args(args) {
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
