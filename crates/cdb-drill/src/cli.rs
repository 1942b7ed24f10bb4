//! The drill command line, shared by `cargo xtask drill` and the `cdb-mock drill` test binary.
//!
//! Exit codes: 0 every drill handled as expected, 1 a drill failed, 2 usage or scenario errors,
//! an unwritable `--journal`/`--report` path (checked before anything runs) or standard output
//! that cannot be written (`> /dev/full`).
//!
//! An existing journal or report file is replaced, as CI report paths are (`gitleaks
//! --report-path`, `pytest --junitxml`), with a note on stderr naming it; the new file is
//! written beside it and renamed over it, so a failed write never leaves half a journal.
//! Every user-derived string printed for a person passes through `cdb_secrets::escape_controls`
//! (the texts themselves were masked in the journal, scan.rs).
//!
//! Writes to `out` and `err` drop their results (`let _ = writeln!(…)`): `out` is `Checked`,
//! which keeps its first write error and turns it into exit 2 with a message, and a closed
//! standard error has no one left to tell; the exit code says it either way.

use crate::engine::{self, Config, DrillError};
use crate::report;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The flags as parsed, one struct with `cargo xtask drill` and `cdb-lab-tool drill`; and the
/// output format, which the engine's renderers take as it is.
pub use cdb_cli::{DrillArgs, Format};

/// How this binary names itself in clap's usage line and help.
const BIN: &str = "cdb-mock drill";

/// The drill's options, resolved from [`DrillArgs`]: defaults filled in, the time limit a
/// `Duration`, `--script` implying `--shell`. What the engine, the sweep and the shell take.
#[derive(Clone, Debug)]
pub struct Options {
    pub scenarios: Vec<String>,
    pub root: PathBuf,
    pub seed: u64,
    pub format: Format,
    pub journal: Option<PathBuf>,
    pub report: Option<PathBuf>,
    pub all: bool,
    pub list: bool,
    /// `--sweep`: every class × catalogue fault × injection point (sweep.rs).
    pub sweep: bool,
    /// `--mutate`: remove each verify step in turn and re-run the sweep cases it caught (mutate.rs).
    pub mutate: bool,
    /// `--class C`: limit `--sweep` / `--mutate` to one class.
    pub class: Option<String>,
    pub step_timeout: Duration,
    /// `--shell`: open an interactive shell in the scenario's sandbox (shell.rs).
    pub shell: bool,
    /// `--script FILE`: the shell reads its commands from FILE (implies `--shell`).
    pub script: Option<PathBuf>,
    /// The GitHub job summary file to append to (`cli::main` takes it from `GITHUB_STEP_SUMMARY`).
    pub summary: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            scenarios: Vec::new(),
            root: engine::default_root(),
            seed: 1,
            format: Format::Human,
            journal: None,
            report: None,
            all: false,
            list: false,
            sweep: false,
            mutate: false,
            class: None,
            step_timeout: Duration::from_secs(10),
            shell: false,
            script: None,
            summary: None,
        }
    }
}

pub const USAGE: &str = "usage: drill <scenario>… [--root DIR] [--seed N] [--format human|json] [--journal FILE] [--report FILE] [--timeout SECS] | <scenario> --shell [--script FILE] [--report FILE] | --all | --list | --sweep [--class C] [--format human|json|html] [--report FILE] | --mutate [--class C]";

impl TryFrom<DrillArgs> for Options {
    type Error = String;

    /// Refuses what this binary cannot do (`--lab`, or nothing to run), with the message the
    /// drill prints after `error: `.
    fn try_from(a: DrillArgs) -> Result<Options, String> {
        a.check_something_to_do()?;
        // Destructured without `..`: a flag added to the struct does not compile until it is
        // resolved here too.
        let DrillArgs {
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
            lab,
        } = a;
        if lab {
            // The real servers' harness is cdb-lab's, which this simulator does not link;
            // `cargo xtask drill … --lab` runs `cdb-lab-tool drill` instead of this binary.
            return Err(
                "--lab runs in cdb-lab-tool: use `cargo xtask drill <scenario>… --lab`".into(),
            );
        }
        Ok(Options {
            scenarios: scenario,
            root: root.unwrap_or_else(engine::default_root),
            seed,
            format,
            journal,
            report,
            all,
            list,
            sweep,
            mutate,
            class,
            // A step gets at least a second: a zero limit would fail every step unrun.
            step_timeout: Duration::from_secs(timeout.max(1)),
            shell: shell || script.is_some(),
            script,
            summary: None,
        })
    }
}

/// Parses `drill` arguments (without the subcommand word). `Err` is the message to print after
/// `error: ` (a request for `--help` is an `Err` here too; [`main`] prints the help instead).
pub fn parse_args(args: &[String]) -> Result<Options, String> {
    let a = DrillArgs::parse_from(BIN, args).map_err(|e| cdb_cli::message(&e))?;
    Options::try_from(a)
}

/// Parses and runs, printing to stdout and stderr. A usage error is one line naming what is
/// wrong and the usage line, exit 2; `--help` prints the help on stdout, exit 0.
pub fn main(args: &[OsString], exe: &Path) -> u8 {
    let parsed = match DrillArgs::parse_from(BIN, args) {
        Ok(a) => Options::try_from(a),
        Err(e) if !e.use_stderr() => {
            // The help, on stdout; when even that cannot be written there is nothing to say.
            return match e.print() {
                Ok(()) => 0,
                Err(_) => 2,
            };
        }
        Err(e) => Err(cdb_cli::message(&e)),
    };
    match parsed {
        Ok(mut o) => {
            o.summary = crate::summary::from_env();
            run(&o, exe, &mut std::io::stdout(), &mut std::io::stderr())
        }
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            2
        }
    }
}

fn out_path(base: &Path, id: &str, many: bool, ext: &str) -> PathBuf {
    if many {
        base.join(format!("{id}.{ext}"))
    } else {
        base.to_path_buf()
    }
}

/// `--shell`: one scenario, by hand (or from `--script`); exit 0 pass, 1 fail, 2 errors.
fn run_shell(o: &Options, exe: &Path, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let [id] = o.scenarios.as_slice() else {
        let _ = writeln!(err, "error: --shell takes exactly one scenario");
        return 2;
    };
    let so = crate::shell::Options {
        root: o.root.clone(),
        scenario: id.clone(),
        seed: o.seed,
        mock_exe: exe.to_path_buf(),
        script: o.script.clone(),
        report: o.report.clone(),
        step_timeout: o.step_timeout,
    };
    match crate::shell::run(&so, out, err) {
        Ok(f) => u8::from(!f.passed),
        Err(e) => {
            let _ = writeln!(err, "error: {}", cdb_secrets::for_human(&e.to_string()));
            2
        }
    }
}

/// Standard output that remembers its first write error (then a drill must not exit 0).
struct Checked<'a> {
    inner: &'a mut dyn Write,
    error: Option<std::io::Error>,
}

impl Write for Checked<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| {
            if self.error.is_none() {
                self.error = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| {
            if self.error.is_none() {
                self.error = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        })
    }
}

/// Runs the drills the options name. `exe` answers the mock tools. Output that could not be
/// written makes the exit code at least 2, with a message on `err`.
pub fn run(o: &Options, exe: &Path, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let mut checked = Checked {
        inner: out,
        error: None,
    };
    let code = run_unchecked(o, exe, &mut checked, err);
    // A failed flush is kept in `checked.error`, read below.
    let _ = checked.flush();
    match checked.error {
        Some(e) => {
            let _ = writeln!(err, "error: cannot write to standard output: {e}");
            code.max(2)
        }
        None => code,
    }
}

/// Standard output that writes a pending line before its first byte.
struct Banner<'a> {
    inner: &'a mut dyn Write,
    line: Option<String>,
}

impl Write for Banner<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(line) = self.line.take() {
            self.inner.write_all(line.as_bytes())?;
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `text` to `p` through a temp file beside it; says so when it replaces a file.
fn write_out_file(p: &Path, what: &str, text: &str, err: &mut dyn Write) -> Result<(), String> {
    let shown = cdb_secrets::escape_controls(&p.display().to_string()).into_owned();
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let existed = p.is_file();
    let mut f = tempfile::NamedTempFile::new_in(parent)
        .map_err(|e| format!("cannot write the {what} {shown}: {e}"))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write the {what} {shown}: {e}"))?;
    f.persist(p)
        .map_err(|e| format!("cannot write the {what} {shown}: {}", e.error))?;
    if existed {
        let _ = writeln!(err, "note: replaced the existing {what} {shown}");
    }
    Ok(())
}

fn run_unchecked(o: &Options, exe: &Path, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    if o.format == Format::Html && (!o.sweep || o.mutate || o.shell) {
        let _ = writeln!(err, "error: --format html is for --sweep");
        return 2;
    }
    // What confines the steps. In human output it heads stdout, written with the first output
    // (so a run refused by an argument or path check prints nothing on stdout); json and html
    // keep stdout one document, so the line goes to stderr.
    let mut banner = Banner {
        inner: out,
        line: None,
    };
    if !o.list {
        let line = crate::jail::probe(exe).line();
        match o.format {
            Format::Human => banner.line = Some(line + "\n"),
            Format::Json | Format::Html => {
                let _ = writeln!(err, "{line}");
            }
        }
    }
    let out: &mut dyn Write = &mut banner;
    if o.shell {
        if let Some(p) = &o.report
            && let Err(e) = crate::summary::check_file(p, "the report")
        {
            let _ = writeln!(err, "error: {e}");
            return 2;
        }
        return run_shell(o, exe, out, err);
    }
    if o.sweep || o.mutate {
        return crate::sweep::main(o, exe, out, err);
    }
    let drills = o.root.join("drills");
    if !drills.is_dir() {
        let _ = writeln!(
            err,
            "error: {} is not a folder: no drill scenarios under --root {}",
            cdb_secrets::escape_controls(&drills.display().to_string()),
            cdb_secrets::escape_controls(&o.root.display().to_string())
        );
        return 2;
    }
    let known = cdb_model::scenario::list(&o.root);
    if o.list {
        for id in &known {
            let line = match cdb_model::scenario::load(&o.root, id) {
                // The file's text as written: a listing shows invalid scenarios too.
                Ok(s) => format!("{id}\t{}\t{}\t{}", s.class.value, s.trigger.value, s.title),
                Err(e) => format!("{id}\t(invalid: {e})"),
            };
            let _ = writeln!(out, "{}", cdb_secrets::for_human(&line));
        }
        return 0;
    }
    let ids: Vec<String> = if o.all { known } else { o.scenarios.clone() };
    if ids.is_empty() {
        let _ = writeln!(
            err,
            "error: no scenarios in {}",
            o.root.join("drills").display()
        );
        return 2;
    }
    let many = ids.len() > 1;
    for (what, p) in [("journal", &o.journal), ("report", &o.report)] {
        let Some(p) = p else { continue };
        let checked = if many {
            std::fs::create_dir_all(p).map_err(|e| {
                format!(
                    "cannot create the {what} directory {}: {e}",
                    cdb_secrets::escape_controls(&p.display().to_string())
                )
            })
        } else {
            crate::summary::check_file(p, &format!("the {what}"))
        };
        if let Err(e) = checked {
            let _ = writeln!(err, "error: {e}");
            return 2;
        }
    }
    if let Err(e) = crate::summary::check_outputs(o.report.as_deref(), many, o.summary.as_deref()) {
        let _ = writeln!(err, "error: {e}");
        return 2;
    }
    let cfg = Config {
        root: o.root.clone(),
        seed: o.seed,
        step_timeout: o.step_timeout,
        mock_exe: exe.to_path_buf(),
    };
    let mut code = 0u8;
    let mut jsons = Vec::new();
    let mut done = Vec::new();
    let mut errors = Vec::new();
    for id in &ids {
        let j = match engine::run(&cfg, id) {
            Ok(j) => j,
            Err(e) => {
                let _ = writeln!(err, "error: {}", cdb_secrets::for_human(&e.to_string()));
                errors.push(format!("{id}: {e}"));
                code = code.max(2);
                if matches!(e, DrillError::Io(_)) {
                    return 2;
                }
                continue;
            }
        };
        if let Some(p) = &o.journal
            && let Err(e) = write_out_file(
                &out_path(p, id, many, "json"),
                "journal",
                &(j.to_json() + "\n"),
                err,
            )
        {
            let _ = writeln!(err, "error: {e}");
            code = code.max(2);
        }
        if let Some(p) = &o.report
            && let Err(e) = write_out_file(
                &out_path(p, id, many, "md"),
                "report",
                &report::markdown(&j),
                err,
            )
        {
            let _ = writeln!(err, "error: {e}");
            code = code.max(2);
        }
        match o.format {
            Format::Human => {
                let _ = write!(out, "{}", cdb_secrets::escape_controls(&report::human(&j)));
                if many {
                    let _ = writeln!(out);
                }
            }
            Format::Json | Format::Html => jsons.push(j.to_json()),
        }
        if !j.verdict.passed {
            code = code.max(1);
            let _ = writeln!(
                err,
                "drill {} failed: {}",
                cdb_secrets::escape_controls(id),
                cdb_secrets::escape_controls(j.verdict.reasons.first().map_or("", String::as_str))
            );
        }
        done.push(j);
    }
    if let Some(p) = &o.summary
        && let Err(e) = crate::summary::append(p, &crate::summary::drills(&done, &errors))
    {
        let _ = writeln!(err, "error: {e}");
        code = code.max(2);
    }
    if o.format == Format::Json {
        let body = if many {
            format!("[{}]", jsons.join(",\n"))
        } else {
            jsons.concat()
        };
        let _ = writeln!(out, "{body}");
    }
    if many && o.format == Format::Human {
        let _ = writeln!(out, "{} drill(s) run, exit {code}", ids.len());
    }
    code
}
