//! The mock tools: `docker`, `psql`, `redis-cli`, `curl`, `grafana`, `openssl`, `gh` and a few
//! deterministic stand-ins (`date`, `mktemp`, `sleep`), all backed by the world file.
//!
//! In a sandbox each tool's name is a link to the small client of `crates/cdb-mock-client`,
//! which hands the call to the engine's world server ([`server`]); `EXE __cdb-mock TOOL ARGS…`
//! (cdb-lab's adapter) runs a call in this process instead ([`entry`]). Either way [`call`]
//! loads the world named by `CDB_DRILL_STATE` under a lock, records the call (flagging any
//! secret value in its arguments), runs the tool and saves.

pub mod curl;
pub mod docker;
pub mod gh;
pub mod grafana;
pub mod openssl;
pub mod psql;
pub mod redis;
pub mod server;
pub mod util;

use crate::world::{Call, World, with_world_appending};
use cdb_model::faults::FaultKind;
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

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

/// How a mock tool reads and writes the files its arguments name: in this process
/// ([`LocalFiles`]), or through the calling client, inside the step's jail (`server.rs`).
pub trait Files: std::fmt::Debug {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()>;
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    fn exists(&self, path: &Path) -> bool;
}

/// The files of this process's own view of the file system.
#[derive(Debug)]
pub struct LocalFiles;

impl Files for LocalFiles {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        std::fs::write(path, data)
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(path)
    }
    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
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
    /// Where the files named by the arguments are read and written (relative to `cwd`).
    pub files: Box<dyn Files>,
    /// The caller's process id, as the step sees it (the journal orders a step's calls by it).
    pub pid: u32,
}

impl Ctx {
    /// A call from `cwd` with nothing on stdin, its files in this process.
    pub fn local(cwd: PathBuf) -> Ctx {
        Ctx {
            env: BTreeMap::new(),
            stdin: String::new(),
            out: Vec::new(),
            err: Vec::new(),
            loc: Loc::Host,
            cwd,
            files: Box::new(LocalFiles),
            pid: std::process::id(),
        }
    }
    /// The text of the file `name` (relative to the working directory), as the tool reads it.
    pub fn read_text(&self, name: &str) -> io::Result<String> {
        let bytes = self.files.read(&self.cwd.join(name))?;
        String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
    /// Writes `data` to the file `name` (relative to the working directory).
    pub fn write_file(&self, name: impl AsRef<Path>, data: &[u8]) -> io::Result<()> {
        self.files.write(&self.cwd.join(name), data)
    }
    pub fn create_dir_all(&self, name: impl AsRef<Path>) -> io::Result<()> {
        self.files.create_dir_all(&self.cwd.join(name))
    }
    pub fn exists(&self, name: impl AsRef<Path>) -> bool {
        self.files.exists(&self.cwd.join(name))
    }
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
    // Relative paths in the call are the step's: without its directory they would resolve
    // against nothing, so the tool fails as a real one whose directory was removed.
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{tool}: cannot read the current directory: {e}");
            return 1;
        }
    };
    let mut ctx = Ctx::local(cwd);
    ctx.env = std::env::vars().collect();
    // Read stdin before taking the lock: a mock earlier in a pipeline may still hold it.
    if needs_stdin(tool, rest) {
        let mut buf = Vec::new();
        // An unreadable stdin reads as empty, as the real tools' reads would end.
        std::io::stdin().read_to_end(&mut buf).ok();
        ctx.stdin = String::from_utf8_lossy(&buf).into_owned();
    }
    let code = call(Path::new(&state), tool, rest, &mut ctx);
    // A closed pipe downstream (`docker ps | head -1`) is not this tool's error.
    std::io::stdout().write_all(&ctx.out).ok();
    std::io::stderr().write_all(&ctx.err).ok();
    u8::try_from(code.clamp(0, 255)).unwrap_or(1)
}

/// Runs one call of `tool` against the world file `state`: records it, lets a `command-hangs`
/// fault swallow it, dispatches it; returns the exit code (its output is in `ctx`).
pub fn call(state: &Path, tool: &str, rest: &[String], ctx: &mut Ctx) -> i32 {
    let mut code = 0;
    // In this process nothing can fail to arrive: the output is printed after the save.
    call_then(state, tool, rest, ctx, |_, c| {
        code = c;
        Ok(())
    })
    .ok();
    code
}

/// Like [`call`], for the world server. A world held in memory: `deliver` sends the answer
/// while the world is still locked, and the call's changes are kept only when it arrives (a
/// call whose client is gone, killed when its step ended or at its time limit, leaves the world
/// as it was, as a mock process killed before it saved did), so nothing changes the world after
/// the step that made the call has ended. A world on disk: saved first, then answered.
pub fn call_then(
    state: &Path,
    tool: &str,
    rest: &[String],
    ctx: &mut Ctx,
    deliver: impl FnOnce(&Ctx, i32) -> io::Result<()>,
) -> io::Result<()> {
    if !crate::world::is_held(state) {
        // A world on disk is read by other processes (cdb-lab's adapter, `--shell`'s hooks)
        // and by the caller right after the step: the answer goes out only once the file is
        // saved, as a mock process printed only after it saved. (A client killed in between
        // leaves the change, as such a process did.)
        let res = with_world_appending(state, |w| answer(w, tool, rest, ctx));
        let code = match res {
            Ok(c) => c,
            Err(e) => {
                ctx.errln(&format!("{tool}: drill world unavailable: {e}"));
                125
            }
        };
        return deliver(ctx, code);
    }
    let mut deliver = Some(deliver);
    let res = with_world_appending(state, |w| {
        // The call log is only ever appended to: keep its length, not a copy.
        let calls = std::mem::take(&mut w.calls);
        let logged = calls.len();
        let before = w.clone();
        w.calls = calls;
        let code = answer(w, tool, rest, ctx);
        let sent = match deliver.take() {
            Some(d) => d(ctx, code),
            None => Ok(()),
        };
        if sent.is_err() {
            let mut calls = std::mem::take(&mut w.calls);
            calls.truncate(logged);
            *w = before;
            w.calls = calls;
        }
        sent
    });
    match res {
        Ok(sent) => sent,
        Err(e) => {
            ctx.errln(&format!("{tool}: drill world unavailable: {e}"));
            match deliver.take() {
                Some(d) => d(ctx, 125),
                None => Ok(()),
            }
        }
    }
}

/// Records the call, lets a `command-hangs` fault swallow it, else dispatches it. Public for
/// the in-process tests of the mocks (`tests/it/dispatch.rs`), which call a tool as the world
/// server does, without a world file or a process.
pub fn answer(w: &mut World, tool: &str, rest: &[String], ctx: &mut Ctx) -> i32 {
    record(w, tool, rest, ctx.pid);
    if w.trip(FaultKind::CommandHangs, Some(tool)) {
        // Fault: the call hangs until a timeout cuts it off, having done nothing.
        ctx.errln(&format!("{tool}: no answer: timed out"));
        return 124;
    }
    dispatch(w, tool, rest, ctx)
}

/// Whether the form reads its standard input (so the mock reads it before locking the world).
pub fn needs_stdin(tool: &str, args: &[String]) -> bool {
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
fn record(w: &mut World, tool: &str, args: &[String], pid: u32) {
    for a in args {
        for name in w.secrets_in(a) {
            w.violation(
                crate::world::ViolationKind::SecretInArgv,
                format!("an argument of `{tool}` holds the value of {name}: it shows in `ps` and shell history"),
            );
        }
    }
    w.calls.push(Call {
        step: w.current_step.clone(),
        tool: tool.to_owned(),
        argv: args.to_vec(),
        pid,
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
