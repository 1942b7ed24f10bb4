//! The `rotate` command line shared by `cargo xtask rotate` (the real stack) and
//! `cdb-mock rotate` (the mock world): one parser, so both take the same words.

use std::path::PathBuf;

pub const USAGE: &str = "usage: rotate <class> [--leak] [--incident ID] [--resume [--journal FILE]] [--yes] [--bash PATH] [--compose DIR] [--root DIR] [--world SCENARIO [--seed N]] | <class> --timeline [--journal FILE]";

/// `--timeline`: the journal (`--journal`, else the class's newest in the journal folder) as
/// the incident timeline on standard output; nothing runs. Exit 2 when there is none or it
/// cannot be read.
pub fn print_timeline(a: &Args) -> u8 {
    let path = match &a.journal {
        Some(p) => p.clone(),
        None => match crate::journal::home().and_then(|h| crate::journal::newest(&h, &a.class)) {
            Ok(Some(p)) => p,
            Ok(None) => {
                eprintln!("error: no journal of `{}` in the journal folder", a.class);
                return 2;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        },
    };
    match crate::journal::read(&path) {
        Ok(recs) => {
            print!("{}", crate::report::timeline(&recs));
            0
        }
        Err(e) => {
            eprintln!("error: {}", cdb_secrets::for_human(&e.to_string()));
            2
        }
    }
}

/// The parsed words.
#[derive(Clone, Debug, Default)]
pub struct Args {
    pub class: String,
    pub leak: bool,
    pub incident: Option<String>,
    pub resume: bool,
    pub journal: Option<PathBuf>,
    pub yes: bool,
    pub bash: Option<PathBuf>,
    /// The Compose folder (default: the current directory).
    pub compose: Option<PathBuf>,
    pub root: Option<PathBuf>,
    /// Run against the mock world of this drill scenario instead of the real stack.
    pub world: Option<String>,
    pub seed: u64,
    pub dry_run: bool,
    /// Print a journal as the incident timeline and run nothing.
    pub timeline: bool,
}

/// Parses the words after `rotate`.
pub fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        seed: 1,
        ..Args::default()
    };
    let mut i = 0;
    let mut class = None;
    let val = |i: usize, name: &str| {
        args.get(i + 1)
            .cloned()
            .ok_or_else(|| format!("{name} needs a value"))
    };
    while i < args.len() {
        let w = args[i].as_str();
        let (w, inline) = match w.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (w, None),
        };
        let take = |i: &mut usize| -> Result<String, String> {
            if let Some(v) = &inline {
                return Ok(v.clone());
            }
            let v = val(*i, w)?;
            *i += 1;
            Ok(v)
        };
        match w {
            "--leak" => a.leak = true,
            "--resume" => a.resume = true,
            "--yes" => a.yes = true,
            "--dry-run" => a.dry_run = true,
            "--timeline" => a.timeline = true,
            "--incident" => a.incident = Some(take(&mut i)?),
            "--journal" => a.journal = Some(PathBuf::from(take(&mut i)?)),
            "--bash" => a.bash = Some(PathBuf::from(take(&mut i)?)),
            "--compose" => a.compose = Some(PathBuf::from(take(&mut i)?)),
            "--root" => a.root = Some(PathBuf::from(take(&mut i)?)),
            "--world" => a.world = Some(take(&mut i)?),
            "--seed" => {
                a.seed = take(&mut i)?
                    .parse()
                    .map_err(|_| "--seed needs a number".to_owned())?;
            }
            s if s.starts_with('-') => return Err(format!("unknown option `{s}`")),
            s if class.is_none() => class = Some(s.to_owned()),
            s => return Err(format!("one class only (got `{s}` too)")),
        }
        i += 1;
    }
    a.class = class.ok_or("name the class to rotate")?;
    if a.journal.is_some() && !a.resume && !a.timeline {
        return Err("--journal is for --resume or --timeline".into());
    }
    Ok(a)
}

/// The runner's options from the parsed words.
pub fn options(a: &Args, default_root: PathBuf) -> crate::Options {
    crate::Options {
        class: a.class.clone(),
        leak: a.leak,
        incident: a.incident.clone(),
        yes: a.yes,
        resume: a.resume,
        journal: a.journal.clone(),
        root: a.root.clone().unwrap_or(default_root),
        home: None,
        rehearsal: a.world.is_some(),
    }
}

/// `rotate` against the real stack: bash found, `SECRETS_PATH` from the environment, the
/// Compose folder from `--compose` or the current directory, answers from standard input.
pub fn main_real(a: &Args, default_root: PathBuf) -> u8 {
    if a.timeline {
        return print_timeline(a);
    }
    let bash = match crate::exec::find_bash(a.bash.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // Steps run in the Compose folder: a relative SECRETS_PATH is made absolute from here first.
    let secrets = match std::env::var_os("SECRETS_PATH").map(PathBuf::from) {
        Some(p) if p.is_relative() && !p.as_os_str().is_empty() => {
            std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
        }
        Some(p) => p,
        None => PathBuf::new(),
    };
    let compose = a
        .compose
        .clone()
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    let scratch = match crate::journal::home() {
        Ok(h) => h.join("scratch"),
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let mut exec = crate::exec::BashExecutor {
        bash,
        secrets,
        compose,
        scratch,
        counter: 0,
        incident: a.incident.clone(),
    };
    let stdin = std::io::stdin();
    let mut prompt = crate::LinePrompter {
        input: stdin.lock(),
    };
    crate::run(
        &options(a, default_root),
        &mut exec,
        &mut prompt,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    )
}
