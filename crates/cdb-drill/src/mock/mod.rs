//! The mock tools: `docker`, `psql`, `redis-cli`, `curl`, `grafana`, `openssl`, `gh` and a few
//! deterministic stand-ins (`date`, `mktemp`, `sleep`), all backed by the world file.
//!
//! A shim in the sandbox runs `EXE __cdb-mock TOOL ARGS…`; [`entry`] detects the
//! marker, loads the world named by `CDB_DRILL_STATE` under a lock, records the
//! call (flagging any secret value in its arguments), runs the tool and saves.

pub mod curl;
pub mod docker;
pub mod gh;
pub mod grafana;
pub mod openssl;
pub mod psql;
pub mod redis;
pub mod util;

use crate::world::{Call, World, with_world_appending};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;

/// argv[1] of a mock invocation.
pub const MARKER: &str = "__cdb-mock";

/// The environment variable naming the world file.
pub const STATE_VAR: &str = "CDB_DRILL_STATE";

/// Tools the sandbox provides as mocks (shim name → tool).
pub const SHIMS: &[&str] = &[
    "docker",
    "psql",
    "redis-cli",
    "curl",
    "grafana",
    "grafana-cli",
    "openssl",
    "gh",
    "date",
    "mktemp",
    "sleep",
];

/// Where a command runs: on the operator's host or inside a container (`docker exec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loc {
    Host,
    Container(String),
}

/// One invocation's input and output.
#[derive(Debug)]
pub struct Ctx {
    /// The environment the tool sees (inside a container: only what `-e` passed).
    pub env: BTreeMap<String, String>,
    pub stdin: String,
    pub out: Vec<u8>,
    pub err: Vec<u8>,
    pub loc: Loc,
    pub cwd: PathBuf,
}

impl Ctx {
    pub fn out(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }
    pub fn outln(&mut self, s: &str) {
        self.out(s);
        self.out.push(b'\n');
    }
    pub fn errln(&mut self, s: &str) {
        self.err.extend_from_slice(s.as_bytes());
        self.err.push(b'\n');
    }
}

/// When this process is a mock tool, runs it and returns its exit code.
pub fn entry() -> Option<u8> {
    // The drill jail's helper (jail.rs) shares the executable too.
    if let Some(code) = crate::jail::entry() {
        return Some(code);
    }
    // The sandbox links each tool's name to this executable (no shell shim per call): a process
    // named like a mock tool inside a drill sandbox is that tool.
    if let Some(tool) = std::env::args_os()
        .next()
        .and_then(|a0| {
            std::path::Path::new(&a0)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .filter(|n| SHIMS.contains(&n.as_str()))
        && std::env::var_os(STATE_VAR).is_some()
    {
        let mut args = vec![tool];
        args.extend(
            std::env::args_os()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned()),
        );
        return Some(main(&args));
    }
    let mut args = std::env::args_os().skip(1);
    let first = args.next()?;
    if first == crate::shell::MARKER {
        // The `--shell` hooks (prompt hook, drill-status, drill-manual) share the mock executable.
        let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
        return Some(crate::shell::hook::main(&args));
    }
    if first != MARKER {
        return None;
    }
    let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    Some(main(&args))
}

fn main(args: &[String]) -> u8 {
    let Some((tool, rest)) = args.split_first() else {
        eprintln!("cdb-mock: no tool named");
        return 127;
    };
    let Some(state) = std::env::var_os(STATE_VAR) else {
        eprintln!("{tool}: {STATE_VAR} is not set: mock tools only run inside a drill sandbox");
        return 127;
    };
    let mut stdin = String::new();
    // Read stdin before taking the lock: a mock earlier in a pipeline may still hold it.
    if needs_stdin(tool, rest) {
        let mut buf = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut buf);
        stdin = String::from_utf8_lossy(&buf).into_owned();
    }
    let mut ctx = Ctx {
        env: std::env::vars().collect(),
        stdin,
        out: Vec::new(),
        err: Vec::new(),
        loc: Loc::Host,
        cwd: std::env::current_dir().unwrap_or_default(),
    };
    let res = with_world_appending(&PathBuf::from(state), |w| {
        record(w, tool, rest);
        if w.trip("command-hangs", Some(tool)) {
            // Fault: the call hangs until a timeout cuts it off, having done nothing.
            ctx.errln(&format!("{tool}: no answer: timed out"));
            return 124;
        }
        dispatch(w, tool, rest, &mut ctx)
    });
    let code = match res {
        Ok(c) => c,
        Err(e) => {
            ctx.errln(&format!("{tool}: drill world unavailable: {e}"));
            125
        }
    };
    let _ = std::io::stdout().write_all(&ctx.out);
    let _ = std::io::stderr().write_all(&ctx.err);
    u8::try_from(code.clamp(0, 255)).unwrap_or(1)
}

/// Whether the form reads its standard input (so the mock reads it before locking the world).
fn needs_stdin(tool: &str, args: &[String]) -> bool {
    let has = |f: &str| args.iter().any(|a| a == f);
    match tool {
        "docker" => {
            args.iter().take_while(|a| !is_inner_tool(a)).any(|a| {
                a == "-i"
                    || a == "--interactive"
                    || (a.starts_with('-')
                        && !a.starts_with("--")
                        && a.contains('i')
                        && a.len() <= 4)
            }) || (has("compose") && has("exec") && !has("-T"))
        }
        "psql" => {
            !psql::has_command(args)
                && args
                    .windows(2)
                    .all(|w| !(w[0] == "-f" || w[0] == "--file") || w[1] == "-")
        }
        "redis-cli" => redis::command_args(args).is_empty(),
        "gh" => has("set") && !args.iter().any(|a| a == "-b" || a.starts_with("--body")),
        "grafana" | "grafana-cli" => has("--password-from-stdin"),
        "curl" => {
            args.windows(2)
                .any(|w| (w[0] == "-K" || w[0] == "--config") && w[1] == "-")
                || args.iter().any(|a| a.contains("@-"))
        }
        // `openssl x509 -req` (and `x509`, `pkey`) without `-in` read the PEM from a pipe.
        "openssl" => {
            matches!(args.first().map(String::as_str), Some("x509" | "pkey"))
                && !args.iter().any(|a| a == "-in")
        }
        _ => false,
    }
}

fn is_inner_tool(a: &str) -> bool {
    matches!(
        a,
        "psql"
            | "redis-cli"
            | "grafana"
            | "grafana-cli"
            | "sh"
            | "bash"
            | "python"
            | "python3"
            | "cmp"
            | "grep"
            | "cat"
    )
}

/// Logs a call and flags any secret value in its arguments.
fn record(w: &mut World, tool: &str, args: &[String]) {
    for a in args {
        for name in w.secrets_in(a) {
            w.violation(
                "secret-in-argv",
                format!("an argument of `{tool}` holds the value of {name}: it shows in `ps` and shell history"),
            );
        }
    }
    w.calls.push(Call {
        step: w.current_step.clone(),
        tool: tool.to_owned(),
        argv: args.to_vec(),
        pid: std::process::id(),
    });
}

/// Runs one tool against the world.
pub fn dispatch(w: &mut World, tool: &str, args: &[String], ctx: &mut Ctx) -> i32 {
    match tool {
        "docker" => docker::run(w, args, ctx),
        "psql" => psql::run(w, args, ctx),
        "redis-cli" => redis::run(w, args, ctx),
        "curl" => curl::run(w, args, ctx),
        "grafana" => match args.split_first() {
            Some((c, rest)) if c == "cli" => grafana::run(w, rest, ctx),
            _ => {
                ctx.errln("grafana: only `grafana cli …` is modelled");
                1
            }
        },
        "grafana-cli" => grafana::run(w, args, ctx),
        "openssl" => openssl::run(w, args, ctx),
        "gh" => gh::run(w, args, ctx),
        "date" => util::date(w, args, ctx),
        "mktemp" => util::mktemp(w, args, ctx),
        "sleep" => 0,
        other => {
            ctx.errln(&format!("{other}: command not found"));
            127
        }
    }
}

/// Splits `-xVALUE` / `-x VALUE` / `--long=VALUE` / `--long VALUE` options: returns the value
/// of `names` at `args[*i]` and advances `i` past it.
pub fn opt_value(args: &[String], i: &mut usize, names: &[&str]) -> Option<String> {
    let a = args.get(*i)?;
    for n in names {
        if a == n {
            let v = args.get(*i + 1).cloned();
            *i += 2;
            return Some(v.unwrap_or_default());
        }
        if n.starts_with("--") {
            if let Some(v) = a.strip_prefix(&format!("{n}=")) {
                *i += 1;
                return Some(v.to_owned());
            }
        } else if n.len() == 2 && a.len() > 2 && a.starts_with(n) && !a.starts_with("--") {
            let v = a[2..].to_owned();
            *i += 1;
            return Some(v);
        }
    }
    None
}

/// Splits a line into words like redis-cli and curl config files do (quotes, backslashes).
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                cur.push(match n {
                                    'n' => '\n',
                                    't' => '\t',
                                    o => o,
                                });
                            }
                        }
                        o => cur.push(o),
                    }
                }
            }
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}
