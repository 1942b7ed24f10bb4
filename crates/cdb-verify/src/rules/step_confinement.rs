//! Rules `step-absolute-program`, `step-raw-socket`, `step-proc`, `step-background` and
//! `step-write-outside`: a step stays inside what the runbook may touch, read statically.
//!
//! A drill runs the runbook's steps with `PATH` holding only mocks; a step that
//! calls `/usr/bin/curl`, opens `/dev/tcp/…`, reads `/proc/$PPID/environ`,
//! leaves a `setsid` daemon behind or writes to `$HOME/…` escapes the drill and
//! does the same on the operator's host. These rules read each bash step with
//! a small shell lexer (quotes, `$(…)`, `${…}`, `$((…))`, process
//! substitutions, here-documents, comments) and never run anything.
//!
//! Writes (redirections and the targets of `cp`, `mv`, `install`, `ln`, `rm`,
//! `tee`, `touch`, `mkdir`, `truncate` and `dd of=`) may go only under
//! `$SECRETS_PATH`, `$TMPDIR`, a path relative to the Compose folder (the
//! directory a step runs in) without `..`, the results of `mktemp`, `/dev/null`
//! and the standard streams, or a variable the step set to one of those.

use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;
use std::collections::HashSet;

pub static ABSOLUTE_META: RuleMeta = RuleMeta {
    id: "step-absolute-program",
    group: "steps",
    severity: Severity::Error,
    summary: "a step runs a program by absolute path (`/usr/bin/curl`), past the PATH the drill's mocks and the operator's shell provide",
};
pub static SOCKET_META: RuleMeta = RuleMeta {
    id: "step-raw-socket",
    group: "steps",
    severity: Severity::Error,
    summary: "a step opens a network connection through bash's `/dev/tcp` or `/dev/udp`",
};
pub static PROC_META: RuleMeta = RuleMeta {
    id: "step-proc",
    group: "steps",
    severity: Severity::Error,
    summary: "a step reads `/proc` (another process's environment or memory)",
};
pub static BACKGROUND_META: RuleMeta = RuleMeta {
    id: "step-background",
    group: "steps",
    severity: Severity::Error,
    summary: "a step leaves a process behind: a background job (`&`), `setsid`, `nohup` or `disown`",
};
pub static WRITE_META: RuleMeta = RuleMeta {
    id: "step-write-outside",
    group: "steps",
    severity: Severity::Error,
    summary: "a step writes outside `$SECRETS_PATH`, `$CDB_TLS_DIR`, the Compose folder and `$TMPDIR`/`mktemp` results",
};

pub const ABSOLUTE: Rule = Rule::hub(&ABSOLUTE_META, |c, s| run(c, s, Kind::Absolute));
pub const SOCKET: Rule = Rule::hub(&SOCKET_META, |c, s| run(c, s, Kind::Socket));
pub const PROC: Rule = Rule::hub(&PROC_META, |c, s| run(c, s, Kind::Proc));
pub const BACKGROUND: Rule = Rule::hub(&BACKGROUND_META, |c, s| run(c, s, Kind::Background));
pub const WRITE: Rule = Rule::hub(&WRITE_META, |c, s| run(c, s, Kind::Write));

/// Which of the five rules a problem belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Absolute,
    Socket,
    Proc,
    Background,
    Write,
}

/// One problem in a step body: the rule, the byte offset in the body and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: Kind,
    pub at: usize,
    pub message: String,
}

/// One problem of one step, located in the hub: document index, byte offset in it, step id.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    doc: usize,
    offset: usize,
    step: String,
    problem: Problem,
}

/// Lexes every bash step once; the five rules share the result through [`Ctx`].
fn find_all(ctx: &Ctx<'_>) -> Vec<Found> {
    let mut found = Vec::new();
    for (d, doc) in ctx.hub.docs.iter().enumerate() {
        for step in doc.steps.iter().filter(|s| !s.manual) {
            if !matches!(step.lang.as_str(), "bash" | "sh" | "shell") {
                continue;
            }
            // The body starts on the line after the opening fence.
            let body_start = doc.text[step.span.clone()]
                .find('\n')
                .map_or(step.span.start, |n| step.span.start + n + 1);
            for problem in check_body(&step.body) {
                found.push(Found {
                    doc: d,
                    offset: body_start + problem.at,
                    step: step.id.clone(),
                    problem,
                });
            }
        }
    }
    found
}

fn run(ctx: &Ctx<'_>, sink: &mut Sink<'_>, kind: Kind) {
    let found = ctx.confinement.get_or_init(|| find_all(ctx));
    for f in found.iter().filter(|f| f.problem.kind == kind) {
        sink.at_offset(
            &ctx.hub.docs[f.doc],
            f.offset,
            format!("step `{}`: {}", f.step, f.problem.message),
        );
    }
}

/// A token of the shell lexer: a word (quotes removed, substitutions kept as written) or an operator.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word {
        text: String,
        quoted: bool,
        at: usize,
    },
    Op {
        op: String,
        at: usize,
    },
}

/// A command substitution or process substitution found inside a word: its body and offset.
struct Nested {
    body: String,
    at: usize,
}

struct Lexer<'a> {
    b: &'a [u8],
    s: &'a str,
    i: usize,
    base: usize,
    toks: Vec<Tok>,
    nested: Vec<Nested>,
    /// Here-document delimiters waiting for the end of the current line.
    heredocs: Vec<String>,
}

const OPS2: &[&str] = &["&&", "||", ";;", "|&"];

impl<'a> Lexer<'a> {
    fn new(s: &'a str, base: usize) -> Lexer<'a> {
        Lexer {
            b: s.as_bytes(),
            s,
            i: 0,
            base,
            toks: Vec::new(),
            nested: Vec::new(),
            heredocs: Vec::new(),
        }
    }

    /// The index just past the `close` that matches an opening already consumed, honouring
    /// quotes and nesting. It keeps its own stack (never recursing), so no nesting depth can
    /// exhaust the thread's stack.
    fn skip_balanced(&self, mut i: usize, open: u8, close: u8) -> usize {
        // Open groups (`(`, `{`) and double-quoted strings (`"`), innermost last.
        let mut stack: Vec<u8> = vec![open];
        let closer = |g: u8| if g == b'{' { b'}' } else { b')' };
        debug_assert_eq!(closer(open), close);
        while i < self.b.len() {
            let top = stack.last().copied().unwrap_or(open);
            let c = self.b[i];
            if top == b'"' {
                match c {
                    b'\\' => i += 1,
                    b'"' => {
                        stack.pop();
                    }
                    b'$' if self.b.get(i + 1) == Some(&b'(') => {
                        stack.push(b'(');
                        i += 1;
                    }
                    _ => {}
                }
            } else {
                match c {
                    b'\\' => i += 1,
                    b'\'' => {
                        i += 1;
                        while i < self.b.len() && self.b[i] != b'\'' {
                            i += 1;
                        }
                    }
                    b'"' => stack.push(b'"'),
                    b'(' | b'{' => stack.push(c),
                    c if c == closer(top) => {
                        stack.pop();
                        if stack.is_empty() {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        self.b.len()
    }

    /// Reads `$…` at `self.i` into `word`; command substitutions are also kept for a nested check.
    fn dollar(&mut self, word: &mut String) {
        let start = self.i;
        let next = self.b.get(self.i + 1).copied();
        let end = match next {
            Some(b'(') if self.b.get(self.i + 2) == Some(&b'(') => {
                self.skip_balanced(self.i + 3, b'(', b')').max(self.i + 3) + 1
            }
            Some(b'(') => {
                let end = self.skip_balanced(self.i + 2, b'(', b')');
                let inner_end = end.saturating_sub(1).max(self.i + 2);
                self.nested.push(Nested {
                    body: self.s[self.i + 2..inner_end].to_owned(),
                    at: self.base + self.i + 2,
                });
                end
            }
            Some(b'{') => self.skip_balanced(self.i + 2, b'{', b'}'),
            _ => {
                let mut j = self.i + 1;
                while j < self.b.len() && (self.b[j].is_ascii_alphanumeric() || self.b[j] == b'_') {
                    j += 1;
                }
                if j == self.i + 1 && j < self.b.len() {
                    j += 1; // `$?`, `$$`, `$!`, `$1`
                }
                j
            }
        };
        // `$` before a multi-byte character (`$ℿ`): the byte scans above may stop inside it.
        let mut end = end.min(self.b.len());
        while !self.s.is_char_boundary(end) {
            end += 1;
        }
        word.push_str(&self.s[start..end]);
        self.i = end;
    }

    /// Reads a `` `…` `` command substitution at `self.i`; its body is kept for a nested check.
    fn backtick(&mut self, word: &mut String) {
        let end = self.s[self.i + 1..]
            .find('`')
            .map_or(self.b.len(), |n| self.i + 1 + n);
        self.nested.push(Nested {
            body: self.s[self.i + 1..end].to_owned(),
            at: self.base + self.i + 1,
        });
        word.push_str("$(`)");
        self.i = (end + 1).min(self.b.len());
    }

    /// Reads a backslash escape at `self.i` into `word` (the escaped character, literally).
    fn escaped(&mut self, word: &mut String) {
        if let Some(ch) = self.s[self.i + 1..].chars().next() {
            word.push(ch);
            self.i += 1 + ch.len_utf8();
        } else {
            self.i += 1;
        }
    }

    fn push_word(&mut self, word: &mut String, quoted: &mut bool, at: usize) {
        if !word.is_empty() || *quoted {
            self.toks.push(Tok::Word {
                text: std::mem::take(word),
                quoted: *quoted,
                at: self.base + at,
            });
        }
        *quoted = false;
    }

    fn lex(mut self) -> (Vec<Tok>, Vec<Nested>) {
        let mut word = String::new();
        let mut quoted = false;
        let mut word_at = 0;
        while self.i < self.b.len() {
            let c = self.b[self.i];
            if word.is_empty() && !quoted {
                word_at = self.i;
            }
            match c {
                b' ' | b'\t' | b'\r' => {
                    self.push_word(&mut word, &mut quoted, word_at);
                    self.i += 1;
                }
                b'\n' => {
                    self.push_word(&mut word, &mut quoted, word_at);
                    self.toks.push(Tok::Op {
                        op: "\n".into(),
                        at: self.base + self.i,
                    });
                    self.i += 1;
                    // Here-document bodies are data: skipped up to their delimiter lines.
                    for delim in std::mem::take(&mut self.heredocs) {
                        while self.i < self.b.len() {
                            let end = self.s[self.i..]
                                .find('\n')
                                .map_or(self.b.len(), |n| self.i + n);
                            let line = self.s[self.i..end].trim_start_matches('\t');
                            self.i = (end + 1).min(self.b.len());
                            if line == delim {
                                break;
                            }
                        }
                    }
                }
                b'#' if word.is_empty() && !quoted => {
                    while self.i < self.b.len() && self.b[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                b'\\' => {
                    if self.b.get(self.i + 1) == Some(&b'\n') {
                        self.i += 2;
                    } else {
                        self.escaped(&mut word);
                        quoted = true;
                    }
                }
                b'\'' => {
                    let end = self.s[self.i + 1..]
                        .find('\'')
                        .map_or(self.b.len(), |n| self.i + 1 + n);
                    word.push_str(&self.s[self.i + 1..end]);
                    quoted = true;
                    self.i = (end + 1).min(self.b.len());
                }
                b'"' => {
                    quoted = true;
                    self.i += 1;
                    while self.i < self.b.len() && self.b[self.i] != b'"' {
                        match self.b[self.i] {
                            b'\\' => self.escaped(&mut word),
                            b'$' => self.dollar(&mut word),
                            b'`' => self.backtick(&mut word),
                            _ => {
                                let ch = self.s[self.i..].chars().next().unwrap_or(' ');
                                word.push(ch);
                                self.i += ch.len_utf8();
                            }
                        }
                    }
                    self.i = (self.i + 1).min(self.b.len());
                }
                b'$' => self.dollar(&mut word),
                b'`' => self.backtick(&mut word),
                b'<' | b'>' if self.b.get(self.i + 1) == Some(&b'(') => {
                    // Process substitution: its commands are checked like any others.
                    let end = self.skip_balanced(self.i + 2, b'(', b')');
                    let inner_end = end.saturating_sub(1).max(self.i + 2);
                    self.nested.push(Nested {
                        body: self.s[self.i + 2..inner_end].to_owned(),
                        at: self.base + self.i + 2,
                    });
                    word.push_str("<(…)");
                    self.i = end;
                }
                b'<' | b'>' => {
                    // A word of digits just before is the redirected descriptor (`2>`).
                    let fd =
                        !quoted && !word.is_empty() && word.bytes().all(|d| d.is_ascii_digit());
                    if fd {
                        word.clear();
                    } else {
                        self.push_word(&mut word, &mut quoted, word_at);
                    }
                    let at = if fd { word_at } else { self.i };
                    let mut j = self.i + 1;
                    while j < self.b.len()
                        && matches!(self.b[j], b'<' | b'>' | b'&' | b'|' | b'-')
                        && j - self.i < 3
                    {
                        // `<<-` is a here-document; `>&-` closes a descriptor.
                        j += 1;
                    }
                    let op = self.s[self.i..j].to_owned();
                    self.toks.push(Tok::Op {
                        op: op.clone(),
                        at: self.base + at,
                    });
                    self.i = j;
                    if op == "<<" || op == "<<-" {
                        // The delimiter is the next word, quotes removed.
                        while self.i < self.b.len() && self.b[self.i] == b' ' {
                            self.i += 1;
                        }
                        let end = self.s[self.i..]
                            .find(|c: char| {
                                c.is_whitespace() || c == ';' || c == '|' || c == '&' || c == ')'
                            })
                            .map_or(self.b.len(), |n| self.i + n);
                        let delim = self.s[self.i..end].replace(['\'', '"', '\\'], "");
                        self.heredocs.push(delim);
                        self.i = end;
                    }
                }
                b'&' if word.is_empty() && !quoted && self.b.get(self.i + 1) == Some(&b'>') => {
                    // `&>` and `&>>` redirect both streams.
                    let j = if self.b.get(self.i + 2) == Some(&b'>') {
                        self.i + 3
                    } else {
                        self.i + 2
                    };
                    self.toks.push(Tok::Op {
                        op: self.s[self.i..j].to_owned(),
                        at: self.base + self.i,
                    });
                    self.i = j;
                }
                b';' | b'&' | b'|' | b'(' | b')' => {
                    self.push_word(&mut word, &mut quoted, word_at);
                    let two = self.s.get(self.i..self.i + 2).unwrap_or("");
                    let op = if OPS2.contains(&two) {
                        two.to_owned()
                    } else {
                        (c as char).to_string()
                    };
                    self.toks.push(Tok::Op {
                        op: op.clone(),
                        at: self.base + self.i,
                    });
                    self.i += op.len();
                }
                _ => {
                    let ch = self.s[self.i..].chars().next().unwrap_or(' ');
                    word.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
        self.push_word(&mut word, &mut quoted, word_at);
        (self.toks, self.nested)
    }
}

/// Words after which the next word is a command again.
const KEYWORDS: &[&str] = &[
    "then", "do", "else", "elif", "if", "while", "until", "!", "{", "}", "time", "fi", "done",
];

/// Wrappers whose first plain argument is the program they run.
const WRAPPERS: &[&str] = &[
    "env", "command", "exec", "sudo", "nice", "xargs", "timeout", "builtin",
];

/// Programs that leave a process running after the step.
const DETACHERS: &[&str] = &["setsid", "nohup", "disown"];

/// Whether `word` is a `NAME=value` assignment; gives the name and value.
fn assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then_some((name, value))
}

/// The variable a word starts with (`$d/x`, `${d}x`, `${d:-…}`), if any.
fn leading_var(word: &str) -> Option<&str> {
    let rest = word.strip_prefix('$')?;
    let rest = rest.strip_prefix('{').unwrap_or(rest);
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Whether a write to `target` stays where steps may write, given the variables set so far.
fn allowed_target(target: &str, safe_vars: &HashSet<String>) -> bool {
    let has_dotdot = target.split('/').any(|c| c == "..");
    if has_dotdot {
        return false;
    }
    if matches!(target, "/dev/null" | "/dev/stdout" | "/dev/stderr")
        || target.starts_with("/dev/fd/")
    {
        return true;
    }
    if target.starts_with("$(") {
        return target.starts_with("$(mktemp");
    }
    if let Some(var) = leading_var(target) {
        // `CDB_TLS_DIR`: the TLS folder the overlay mounts, declared once in the Prerequisites.
        return matches!(var, "SECRETS_PATH" | "CDB_TLS_DIR" | "TMPDIR") || safe_vars.contains(var);
    }
    // Anything else is a path: relative ones are inside the Compose folder, the directory a step runs in.
    !(target.starts_with('/') || target.starts_with('~') || target.is_empty())
}

/// Checks one bash body; offsets are bytes into `body`.
pub fn check_body(body: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut safe_vars = HashSet::new();
    check_script(body, 0, 0, &mut safe_vars, &mut out);
    out.sort_by_key(|p| p.at);
    out.dedup();
    out
}

/// Command substitutions nested deeper than this are not read: each level is lexed again, so
/// the cap keeps a hostile step linear; such a step is reported instead.
const MAX_NESTING: usize = 8;

fn check_script(
    script: &str,
    base: usize,
    depth: usize,
    safe_vars: &mut HashSet<String>,
    out: &mut Vec<Problem>,
) {
    let (toks, nested) = Lexer::new(script, base).lex();
    check_paths(&toks, out);
    check_commands(&toks, safe_vars, out);
    for n in nested {
        if depth + 1 >= MAX_NESTING {
            // What runs this deep cannot be seen, so it cannot be shown to be found on PATH.
            out.push(Problem {
                kind: Kind::Absolute,
                at: n.at,
                message: format!(
                    "command substitutions nested more than {MAX_NESTING} deep are not checked; flatten the step"
                ),
            });
            continue;
        }
        check_script(&n.body, n.at, depth + 1, safe_vars, out);
    }
}

/// `/dev/tcp`, `/dev/udp` and `/proc` in any word, quoted or not: bash opens the first two itself.
fn check_paths(toks: &[Tok], out: &mut Vec<Problem>) {
    for t in toks {
        let Tok::Word { text, at, .. } = t else {
            continue;
        };
        // Most words hold no path at all; the searches below are only for those that do.
        if !text.contains('/') {
            continue;
        }
        for (needle, kind, what) in [
            (
                "/dev/tcp/",
                Kind::Socket,
                "`/dev/tcp` opens a network connection from bash itself",
            ),
            (
                "/dev/udp/",
                Kind::Socket,
                "`/dev/udp` opens a network connection from bash itself",
            ),
        ] {
            if text.contains(needle) {
                out.push(Problem {
                    kind,
                    at: *at,
                    message: format!("{what}; a step reaches services only through their tools (`curl`, `docker exec …`)"),
                });
            }
        }
        let proc_at = text.match_indices("/proc").find(|(i, _)| {
            let before_ok = *i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric();
            let after = text.as_bytes().get(i + 5).copied();
            before_ok && matches!(after, None | Some(b'/'))
        });
        if proc_at.is_some() {
            out.push(Problem {
                kind: Kind::Proc,
                at: *at,
                message: format!(
                    "`{}` reads `/proc`, where other processes' environments and memory are; a step reads only its own files",
                    text
                ),
            });
        }
    }
}

fn check_commands(toks: &[Tok], safe_vars: &mut HashSet<String>, out: &mut Vec<Problem>) {
    let mut i = 0;
    let mut at_start = true;
    // The words of the current simple command (after assignments), for write targets.
    let mut cmd: Vec<(&str, usize)> = Vec::new();
    while i < toks.len() {
        match &toks[i] {
            Tok::Op { op, at } => {
                match op.as_str() {
                    ">" | ">>" | ">|" | "&>" | "&>>" | "<>" | "2>" => {
                        if let Some(Tok::Word { text, at: wat, .. }) = toks.get(i + 1) {
                            if !allowed_target(text, safe_vars) {
                                out.push(write_problem(text, *wat));
                            }
                            i += 1;
                        }
                    }
                    ">&" => {
                        // `>&2` duplicates a descriptor; `>& file` writes a file.
                        if let Some(Tok::Word { text, at: wat, .. }) = toks.get(i + 1) {
                            let dup = text.bytes().all(|b| b.is_ascii_digit() || b == b'-');
                            if !dup && !allowed_target(text, safe_vars) {
                                out.push(write_problem(text, *wat));
                            }
                            i += 1;
                        }
                    }
                    "<" | "<<" | "<<-" | "<<<" | "<&" => {
                        i += usize::from(matches!(toks.get(i + 1), Some(Tok::Word { .. })));
                    }
                    "&" => {
                        out.push(Problem {
                            kind: Kind::Background,
                            at: *at,
                            message: "`&` runs a command in the background, where it outlives the step; run it in the foreground".into(),
                        });
                        finish_command(&cmd, safe_vars, out);
                        cmd.clear();
                        at_start = true;
                    }
                    _ => {
                        finish_command(&cmd, safe_vars, out);
                        cmd.clear();
                        at_start = true;
                    }
                }
            }
            Tok::Word { text, quoted, at } => {
                if at_start {
                    if !quoted && KEYWORDS.contains(&text.as_str()) {
                        finish_command(&cmd, safe_vars, out);
                        cmd.clear();
                    } else if let Some((name, value)) = assignment(text) {
                        // A variable set to a place steps may write is as good as that place.
                        if allowed_target(value, safe_vars)
                            && !value.is_empty()
                            && !is_relative_literal(value)
                        {
                            safe_vars.insert(name.to_owned());
                        } else {
                            safe_vars.remove(name);
                        }
                    } else if !quoted && text == "for" {
                        i = for_loop(toks, i, safe_vars);
                        continue;
                    } else {
                        at_start = false;
                        cmd.push((text, *at));
                    }
                } else {
                    cmd.push((text, *at));
                }
            }
        }
        i += 1;
    }
    finish_command(&cmd, safe_vars, out);
}

/// A value like `abc` or `x/y`: a relative path, but as a variable it is more often a name than a place.
fn is_relative_literal(value: &str) -> bool {
    !value.starts_with('$') && !value.starts_with('/')
}

/// `for NAME in WORDS…`: the loop variable is safe when every word is. Returns the index after the list.
fn for_loop(toks: &[Tok], start: usize, safe_vars: &mut HashSet<String>) -> usize {
    let Some(Tok::Word { text: name, .. }) = toks.get(start + 1) else {
        return start + 1;
    };
    let mut i = start + 2;
    if matches!(toks.get(i), Some(Tok::Word { text, .. }) if text == "in") {
        i += 1;
    }
    let mut all_safe = true;
    let mut any = false;
    while let Some(Tok::Word { text, .. }) = toks.get(i) {
        any = true;
        all_safe &= !is_relative_literal(text) && allowed_target(text, safe_vars);
        i += 1;
    }
    if any && all_safe {
        safe_vars.insert(name.clone());
    } else {
        safe_vars.remove(name.as_str());
    }
    i
}

fn write_problem(target: &str, at: usize) -> Problem {
    Problem {
        kind: Kind::Write,
        at,
        message: format!(
            "writes to `{target}`, outside `$SECRETS_PATH`, `$CDB_TLS_DIR`, the Compose folder and `$TMPDIR`/`mktemp` results"
        ),
    }
}

/// Checks one simple command: its program and the files it writes.
fn finish_command(cmd: &[(&str, usize)], safe_vars: &HashSet<String>, out: &mut Vec<Problem>) {
    let mut words = cmd.iter().copied();
    let Some((mut prog, mut at)) = words.next() else {
        return;
    };
    let mut args: Vec<(&str, usize)> = words.collect();
    // `env X=1 /usr/bin/curl`, `timeout 5 setsid …`: the wrapped program is the one that runs.
    loop {
        check_program(prog, at, out);
        if !WRAPPERS.contains(&prog) {
            break;
        }
        let skip = args.iter().position(|(w, _)| {
            !w.starts_with('-')
                && assignment(w).is_none()
                && !(prog == "timeout" && w.bytes().next().is_some_and(|b| b.is_ascii_digit()))
        });
        let Some(k) = skip else { return };
        (prog, at) = args[k];
        args.drain(..=k);
    }
    let plain: Vec<(&str, usize)> = args
        .iter()
        .copied()
        .filter(|(w, _)| !w.starts_with('-'))
        .collect();
    let targets: Vec<(&str, usize)> = match prog {
        "cp" | "mv" | "install" | "ln" => {
            match args
                .iter()
                .position(|(w, _)| *w == "-t" || *w == "--target-directory")
            {
                Some(k) => args.get(k + 1).copied().into_iter().collect(),
                None => {
                    let t = args
                        .iter()
                        .find_map(|(w, a)| w.strip_prefix("--target-directory=").map(|d| (d, *a)));
                    t.into_iter()
                        .chain(plain.last().copied().filter(|_| plain.len() >= 2))
                        .collect()
                }
            }
        }
        "rm" | "tee" | "touch" | "mkdir" | "truncate" | "rmdir" => plain,
        "dd" => args
            .iter()
            .filter_map(|(w, a)| w.strip_prefix("of=").map(|t| (t, *a)))
            .collect(),
        _ => Vec::new(),
    };
    for (t, a) in targets {
        if !allowed_target(t, safe_vars) {
            out.push(write_problem(t, a));
        }
    }
}

fn check_program(prog: &str, at: usize, out: &mut Vec<Problem>) {
    if prog.starts_with('/') {
        out.push(Problem {
            kind: Kind::Absolute,
            at,
            message: format!(
                "runs `{prog}` by absolute path; call the program by name so the operator's PATH (and the drill's mocks) decide which one runs"
            ),
        });
    }
    if DETACHERS.contains(&prog) {
        out.push(Problem {
            kind: Kind::Background,
            at,
            message: format!(
                "`{prog}` leaves a process running after the step; run it in the foreground"
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(body: &str) -> Vec<Kind> {
        check_body(body).into_iter().map(|p| p.kind).collect()
    }

    /// A `$` before a multi-byte character is a word, not a panic (found by the proptest of
    /// `no_hub_makes_a_rule_panic`: `$ℿ` sliced the text inside the character).
    #[test]
    fn a_dollar_before_a_multibyte_character_is_read_whole() {
        for body in ["echo $ℿ", "x=$🕴; echo $x", "echo \"$é\" $", "$ℿ"] {
            check_body(body);
        }
        assert!(kinds("echo $ℿ > /tmp/x").contains(&Kind::Write));
    }

    #[test]
    fn absolute_programs_are_found_also_behind_wrappers() {
        assert_eq!(kinds("/usr/bin/curl -fsS http://x"), [Kind::Absolute]);
        assert_eq!(kinds("env A=1 /bin/sh -c true"), [Kind::Absolute]);
        assert_eq!(kinds("x=\"$(/usr/bin/id -u)\""), [Kind::Absolute]);
        assert!(kinds("curl -fsS http://127.0.0.1:8000/health && docker ps").is_empty());
    }

    #[test]
    fn raw_sockets_and_proc_are_found() {
        assert_eq!(
            kinds("exec 3<>/dev/tcp/127.0.0.1/80"),
            [Kind::Socket, Kind::Write]
        );
        assert_eq!(
            kinds("echo hi > /dev/udp/10.0.0.1/53"),
            [Kind::Socket, Kind::Write]
        );
        assert_eq!(kinds("cat \"/proc/$PPID/environ\""), [Kind::Proc]);
        assert_eq!(kinds("tr '\\0' '\\n' < /proc/self/environ"), [Kind::Proc]);
        assert!(kinds("echo /processing/x").is_empty());
    }

    #[test]
    fn background_jobs_and_detachers_are_found() {
        assert_eq!(kinds("sleep 100 &"), [Kind::Background]);
        assert_eq!(kinds("sleep 100 & echo started"), [Kind::Background]);
        assert_eq!(kinds("setsid sleep 100"), [Kind::Background]);
        assert_eq!(kinds("nohup sleep 100 >/dev/null"), [Kind::Background]);
        assert_eq!(kinds("sleep 1; disown"), [Kind::Background]);
        assert!(kinds("a && b || c 2>&1 | d &>/dev/null; echo \"nohup &\"").is_empty());
    }

    #[test]
    fn writes_stay_under_secrets_compose_and_tmp() {
        let ok = "( umask 077; d=\"$SECRETS_PATH\"; f=\"$d/X.next\"
  openssl rand -hex 32 | tr -d '\\n' > \"$f.tmp\" && mv \"$f.tmp\" \"$f\"
  cp \"$d/X.next\" \"$d/X\"; rm -f \"$d/X.prev\" 2>/dev/null
  t=\"$(mktemp)\"; echo x > \"$t\"; echo y >> \"$TMPDIR/log\"; echo z > out/compose.log
  for g in \"$d/A\" \"$d/B\"; do rm -f \"$g\"; done
  cat <<EOF > \"$d/conf\"
written to $HOME in a here-document is only text
EOF
  echo done >&2 )";
        assert_eq!(check_body(ok), []);
        assert_eq!(kinds("echo x > \"$HOME/.bashrc\""), [Kind::Write]);
        assert_eq!(kinds("echo x >> ~/.profile"), [Kind::Write]);
        assert_eq!(kinds("cp \"$SECRETS_PATH/X\" /etc/x"), [Kind::Write]);
        assert_eq!(kinds("rm -rf \"$SECRETS_PATH/../..\""), [Kind::Write]);
        assert_eq!(kinds("printf x | tee /tmp/leak"), [Kind::Write]);
        assert_eq!(kinds("install -m 600 a \"$HOME/b\""), [Kind::Write]);
        assert_eq!(kinds("d=/etc; echo x > \"$d/passwd\""), [Kind::Write]);
        assert_eq!(
            kinds("for f in /etc/a \"$SECRETS_PATH/b\"; do rm \"$f\"; done"),
            [Kind::Write]
        );
        assert_eq!(kinds("echo x > \"$UNKNOWN/file\""), [Kind::Write]);
    }

    #[test]
    fn deep_nesting_is_reported_not_recursed_into() {
        let deep = format!(
            "echo \"{}x{}\"",
            "$(echo \"".repeat(100_000),
            "\")".repeat(100_000)
        );
        let p = check_body(&deep);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].kind, Kind::Absolute);
        assert!(p[0].message.contains("nested more than"));
        // Unclosed substitutions run to the end of the body and stop there.
        assert!(check_body(&"$(".repeat(100_000)).len() <= 1);
        let shallow = "x=\"$(cat \"$(printf '%s' \"$(/usr/bin/id)\")\")\"";
        assert_eq!(kinds(shallow), [Kind::Absolute]);
    }

    #[test]
    fn offsets_point_at_the_offending_word() {
        let body = "true\n/usr/bin/curl x\n";
        let p = check_body(body);
        assert_eq!(p.len(), 1);
        assert_eq!(&body[p[0].at..p[0].at + 13], "/usr/bin/curl");
    }
}
