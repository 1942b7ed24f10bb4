//! The drill's command line as one clap struct, shared by the three programs that take it.
//!
//! `cargo xtask drill` checks the flags and forwards them, `cdb-mock drill` (cdb-drill's binary)
//! runs the drill, and `cdb-lab-tool drill` runs it on real servers. The three do not link each
//! other: xtask must build on Windows and from a fresh clone without the simulator
//! (ARCHITECTURE.md, "Crates"), and the lab's harness stays out of the simulator. So the flags
//! live here, in a crate that depends on clap alone, and each program parses the same struct:
//! a flag added here is accepted by all three, with the same defaults, help and errors.

use clap::{Args, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

/// What a drill prints on standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    // A timeline for a person.
    Human,
    // The journal (a drill) or the cases (a sweep), as JSON.
    Json,
    // One self-contained HTML page (`--sweep` only; the drill refuses it elsewhere). These are
    // plain comments, not doc comments: clap would list doc comments under `--help`, whose
    // text must stay as it was.
    Html,
}

impl Format {
    /// The word on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Html => "html",
        }
    }
}

/// The flags of `drill`, after the `drill` word.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct DrillArgs {
    /// Scenario ids (files `drills/<id>.yaml`).
    pub scenario: Vec<String>,
    /// The workspace root holding `Claire_de_Binare_Docs/` and `drills/` (default: this workspace).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Seed of every random value in the world (same seed, same journal).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output on stdout: `human` (a timeline) or `json` (the journal); with --sweep also `html`
    /// (one self-contained page).
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Write the JSON journal here (a directory with --all).
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Write the markdown after-action report here (a directory with --all); with --sweep, the
    /// sweep's output goes to this file instead of stdout.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Wall-time limit of one step, in seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Run every scenario under `drills/`.
    #[arg(long)]
    pub all: bool,
    /// Open an interactive shell in the scenario's sandbox and work through the runbook by hand.
    #[arg(long)]
    pub shell: bool,
    /// Feed the shell's commands from FILE instead of standard input (implies --shell).
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// List the scenarios.
    #[arg(long)]
    pub list: bool,
    /// Sweep the fault catalogue: every class × fault × injection point (exit 1 on any gap).
    #[arg(long)]
    pub sweep: bool,
    /// Remove each verify step in turn and show that some sweep case then fails (exit 1 on dead steps).
    #[arg(long)]
    pub mutate: bool,
    /// Limit --sweep or --mutate to one class.
    #[arg(long, value_name = "C")]
    pub class: Option<String>,
    /// Run the scenarios twice, in the mock world and with real PostgreSQL and Redis and
    /// stand-in consumers (crates/cdb-lab), and fail when a step's verdict differs.
    #[arg(long)]
    pub lab: bool,
}

/// The message when a drill is told to do nothing.
pub const NOTHING_TO_DO: &str = "name a scenario, or use --all or --list";

impl DrillArgs {
    /// Parses the words after `drill`. `bin` is how the program names itself in usage lines and
    /// help (`cdb-mock drill`). A request for help is an `Err` too, whose
    /// [`clap::Error::use_stderr`] is false: print it to standard output and exit 0.
    pub fn parse_from<I, T>(bin: &'static str, words: I) -> Result<DrillArgs, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        use clap::FromArgMatches;
        let matches = command(bin).try_get_matches_from(words)?;
        DrillArgs::from_arg_matches(&matches)
    }

    /// Whether the flags name something to run: a scenario, `--all`, `--list`, `--sweep` or
    /// `--mutate` (`Err` holds [`NOTHING_TO_DO`]).
    pub fn check_something_to_do(&self) -> Result<(), &'static str> {
        if self.all || self.list || self.sweep || self.mutate || !self.scenario.is_empty() {
            Ok(())
        } else {
            Err(NOTHING_TO_DO)
        }
    }

    /// The words that parse back to these flags: what `cargo xtask drill` forwards to the drill
    /// binary, so that binary sees exactly what xtask checked (`--flag=value` spelt in two words,
    /// every value flag written out, switches only when on).
    pub fn to_argv(&self) -> Vec<OsString> {
        // Destructured without `..`: a field added to the struct does not compile until it is
        // forwarded here too.
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
        } = self;
        let mut out: Vec<OsString> = Vec::new();
        let mut value = |flag: &str, v: OsString| {
            out.push(flag.into());
            out.push(v);
        };
        if let Some(p) = root {
            value("--root", p.into());
        }
        value("--seed", seed.to_string().into());
        value("--format", format.as_str().into());
        if let Some(p) = journal {
            value("--journal", p.into());
        }
        if let Some(p) = report {
            value("--report", p.into());
        }
        value("--timeout", timeout.to_string().into());
        if let Some(p) = script {
            value("--script", p.into());
        }
        if let Some(c) = class {
            value("--class", c.into());
        }
        for (on, flag) in [
            (*all, "--all"),
            (*shell, "--shell"),
            (*list, "--list"),
            (*sweep, "--sweep"),
            (*mutate, "--mutate"),
            (*lab, "--lab"),
        ] {
            if on {
                out.push(flag.into());
            }
        }
        // Scenario ids last, after `--`, so an id can never be read as a flag.
        if !scenario.is_empty() {
            out.push("--".into());
            out.extend(scenario.iter().map(OsString::from));
        }
        out
    }
}

/// The clap command of `drill` on its own (the words after `drill`, no program name), named
/// `bin` in its usage line and help.
pub fn command(bin: &'static str) -> clap::Command {
    DrillArgs::augment_args(clap::Command::new(bin).bin_name(bin).no_binary_name(true))
        // Else the struct's doc comment, which speaks to the programmer, heads the help.
        .about("Run scripted tabletop drills (the flags of `cargo xtask drill`)")
        // The drill binaries, run by hand, take the current directory (xtask passes its
        // workspace).
        .mut_arg("root", |a| a.help(ROOT_HELP_HERE))
}

/// `--root`'s help in the drill binaries themselves (`cargo xtask drill` says "this workspace").
pub const ROOT_HELP_HERE: &str = "The workspace root holding `Claire_de_Binare_Docs/` and `drills/` (default: the current directory)";

/// A clap error as one line (`error: unexpected argument '--sed' found (a similar flag:
/// --seed)`): what a drill binary prints for a usage error before its usage line. Clap's own
/// rendering spreads it over several (a tip, the usage, a pointer to `--help`); here the first
/// paragraph is joined (an invalid value keeps its possible values) and a suggested flag kept.
pub fn one_line(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    let text = e.render().to_string();
    let mut line = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(ContextValue::String(flag)) = e.get(ContextKind::SuggestedArg) {
        line.push_str(&format!(" (a similar flag: {flag})"));
    }
    line
}

/// For every flag of [`DrillArgs`], as clap knows them (so a flag added later is covered without
/// editing any test): its id and the words that set it to a value other than its default. For
/// the tests of the programs that parse the struct: each must accept every one of these.
pub fn every_flag_set() -> Vec<(String, Vec<OsString>)> {
    let cmd = command("drill");
    let mut out = Vec::new();
    for arg in cmd.get_arguments() {
        let id = arg.get_id().to_string();
        if id == "help" {
            continue;
        }
        // "7" is a number, a path, a class and a scenario id alike; an enum takes its last
        // possible value, which is not its default.
        let v: OsString = match arg.get_possible_values().last() {
            Some(p) => p.get_name().into(),
            None => "7".into(),
        };
        let words = match (arg.get_long(), arg.get_action().takes_values()) {
            (None, _) => vec![v],
            (Some(l), true) => vec![format!("--{l}").into(), v],
            (Some(l), false) => vec![format!("--{l}").into()],
        };
        out.push((id, words));
    }
    out
}

/// [`one_line`] without its `error: ` prefix, for a program that prints its own.
pub fn message(e: &clap::Error) -> String {
    let line = one_line(e);
    match line.strip_prefix("error: ") {
        Some(rest) => rest.to_owned(),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[OsString]) -> DrillArgs {
        match DrillArgs::parse_from("drill", words) {
            Ok(a) => a,
            Err(e) => panic!("{words:?}: {e}"),
        }
    }

    #[test]
    fn every_flag_changes_the_args_and_is_forwarded_unchanged() {
        let default = parse(&[]);
        let all = every_flag_set();
        assert!(all.len() >= 15, "{all:?}");
        for (id, words) in &all {
            let a = parse(words);
            assert_ne!(a, default, "{id}: {words:?} changed nothing");
            assert_eq!(parse(&a.to_argv()), a, "{id}: to_argv lost it");
        }
        let every: Vec<OsString> = all.into_iter().flat_map(|(_, w)| w).collect();
        let a = parse(&every);
        assert_eq!(parse(&a.to_argv()), a);
    }

    #[test]
    fn defaults_are_the_drills_defaults() {
        let a = parse(&[]);
        assert_eq!((a.seed, a.timeout, a.format), (1, 10, Format::Human));
        assert_eq!(a.root, None);
        assert_eq!(a.check_something_to_do(), Err(NOTHING_TO_DO));
        let a = parse(&["--list".into()]);
        assert_eq!(a.check_something_to_do(), Ok(()));
    }

    #[test]
    fn equals_and_spaced_values_parse_alike_and_ids_are_never_flags() {
        let spaced = parse(&["leak-db".into(), "--seed".into(), "7".into()]);
        let joined = parse(&["--seed=7".into(), "leak-db".into()]);
        assert_eq!(spaced, joined);
        let odd = parse(&["--".into(), "--list".into()]);
        assert_eq!(odd.scenario, ["--list"]);
        assert!(!odd.list);
        assert_eq!(parse(&odd.to_argv()), odd);
    }

    #[test]
    fn a_bad_flag_or_value_is_one_clear_line() {
        for (words, want) in [
            (
                vec!["--bogus"],
                "error: unexpected argument '--bogus' found",
            ),
            (
                vec!["--seed", "x"],
                "error: invalid value 'x' for '--seed <SEED>': invalid digit found in string",
            ),
            (
                vec!["--format", "xml"],
                "error: invalid value 'xml' for '--format <FORMAT>' [possible values: human, json, html]",
            ),
            (
                vec!["--sed", "3"],
                "error: unexpected argument '--sed' found (a similar flag: --seed)",
            ),
            (
                vec!["--seed"],
                "error: a value is required for '--seed <SEED>' but none was supplied",
            ),
        ] {
            let e = DrillArgs::parse_from("drill", &words).err();
            let Some(e) = e else {
                panic!("{words:?} parsed")
            };
            assert!(e.use_stderr());
            assert_eq!(one_line(&e), want, "{words:?}");
        }
        let help = DrillArgs::parse_from("cdb-mock drill", ["--help"]).err();
        assert!(help.is_some_and(|e| !e.use_stderr()));
    }
}
