//! The rotation's journal: one JSON object per line, appended and flushed to disk as each thing
//! happens, in a private folder outside the repository, so a closed terminal or a reboot loses
//! at most the step that was running (its `begin` line says which).
//!
//! Nothing is written that did not pass the redactor first (runner.rs): outputs, skip reasons
//! and the headline of each step.

use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The journal format's version (the `start` record carries it).
pub const VERSION: u32 = 1;

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Record {
    /// The rotation began.
    Start {
        version: u32,
        time: String,
        class: String,
        trigger: String,
        incident: Option<String>,
        /// What the steps ran against (`the real stack`, `the mock world of scenario leak-db`).
        world: String,
    },
    /// A session (the first, or a `--resume`) began.
    Session { time: String, resumed: bool },
    /// A phase began.
    Phase {
        time: String,
        phase: String,
        why: String,
    },
    /// A step is about to run (a `step` record without its `begin` never happens; a `begin`
    /// without its `step` is a step interrupted while running: resume runs it again, steps are
    /// safe to re-run, docs/step-format.md).
    Begin { time: String, id: String },
    /// A step's outcome.
    Step(StepRecord),
    /// What the procedure marked after a phase.
    Mark { time: String, mark: String },
    /// The `.prev`/`.next`/`.failed` files of the class's secrets after a step (names only).
    Files { time: String, names: Vec<String> },
    /// The operator quit; `--resume` continues.
    Quit { time: String, at: String },
    /// The rotation is over.
    End {
        time: String,
        outcome: String,
        passed: bool,
        reasons: Vec<String>,
    },
    /// A note: `last_rotated` set, a check of the world (mock), the post-rotation checklist.
    Note { time: String, text: String },
}

/// One step's outcome, as journaled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub time: String,
    pub id: String,
    pub phase: String,
    /// `auto` (read-only phase), `yes` (asked, y), `yes-flag` (`--yes`), `declined` (n),
    /// `skipped`, `refused`, `manual-done`, `manual-failed`.
    pub decision: String,
    /// Why it was skipped or refused.
    pub reason: Option<String>,
    pub exit: Option<i32>,
    /// Whether it counts as passed for the procedure (a skip does; a refusal does not).
    pub passed: bool,
    pub stdout: String,
    pub stderr: String,
    pub started: String,
}

/// Now, UTC, to the second (RFC 3339).
pub fn now() -> String {
    let t = jiff::Timestamp::now().to_string();
    // `2026-12-06T05:21:21.123456789Z` → `2026-12-06T05:21:21Z`
    match t.split_once('.') {
        Some((head, _)) => format!("{head}Z"),
        None => t,
    }
}

/// The private folder journals live in: `CDB_ROTATE_HOME`, else `%LOCALAPPDATA%\cdb-rotate`
/// on Windows, else `$HOME/.cdb-rotate`.
pub fn home() -> Result<PathBuf, String> {
    if let Some(h) = std::env::var_os("CDB_ROTATE_HOME") {
        return Ok(PathBuf::from(h));
    }
    if cfg!(windows)
        && let Some(l) = std::env::var_os("LOCALAPPDATA")
    {
        return Ok(PathBuf::from(l).join("cdb-rotate"));
    }
    match std::env::var_os("HOME") {
        Some(h) => Ok(PathBuf::from(h).join(".cdb-rotate")),
        None => Err(
            "no place for the journal: set CDB_ROTATE_HOME (a private folder outside the repository)"
                .into(),
        ),
    }
}

/// Creates `dir` private (0700 on Unix; on Windows a folder under the user's profile is theirs)
/// and refuses a folder inside `repo`: the journal holds step ids, times and redacted outputs,
/// and belongs to the private incident record, never to the repository.
pub fn prepare_home(dir: &Path, repo: &Path) -> Result<(), String> {
    let shown = dir.display();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create the journal folder {shown}: {e}"))?;
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot make the journal folder {shown} private: {e}"))?;
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the journal folder {shown}: {e}"))?;
    let (Ok(d), Ok(r)) = (fs::canonicalize(dir), fs::canonicalize(repo)) else {
        return Ok(());
    };
    if d.starts_with(&r) {
        return Err(format!(
            "the journal folder {shown} is inside the repository {}: set CDB_ROTATE_HOME to a private folder outside it",
            repo.display()
        ));
    }
    Ok(())
}

/// An open journal: every record is appended, flushed and synced before the call returns.
#[derive(Debug)]
pub struct Journal {
    pub path: PathBuf,
    file: fs::File,
}

impl Journal {
    /// A new journal for `class` in `dir` (0600 on Unix).
    pub fn create(dir: &Path, class: &str, trigger: &str) -> Result<Journal, String> {
        let stamp: String = now()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let mut n = 0;
        loop {
            let name = if n == 0 {
                format!("{class}-{trigger}-{stamp}.jsonl")
            } else {
                format!("{class}-{trigger}-{stamp}-{n}.jsonl")
            };
            let path = dir.join(name);
            let mut o = fs::OpenOptions::new();
            o.append(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            match o.open(&path) {
                Ok(file) => return Ok(Journal { path, file }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 100 => n += 1,
                Err(e) => {
                    return Err(format!("cannot create the journal {}: {e}", path.display()));
                }
            }
        }
    }

    /// Opens an existing journal to append to it (`--resume`).
    pub fn append_to(path: &Path) -> Result<Journal, String> {
        let file = fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open the journal {}: {e}", path.display()))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn write(&mut self, r: &Record) -> io::Result<()> {
        let line = serde_json::to_string(r).map_err(io::Error::other)?;
        self.file.write_all(line.as_bytes())?;
        self.file.write_all(b"\n")?;
        self.file.flush()?;
        self.file.sync_data()
    }
}

/// Reads a journal; a line that is not a record is an error naming the file and the line.
pub fn read(path: &Path) -> Result<Vec<Record>, String> {
    let text = fs::read_to_string(path)
        .map_err(|e| format!("cannot read the journal {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r: Record = serde_json::from_str(line).map_err(|e| {
            format!(
                "{}:{}: the journal is corrupted ({e}); it cannot be resumed: move it out of the journal folder (keep it for the incident record) and start a new rotation",
                path.display(),
                i + 1
            )
        })?;
        out.push(r);
    }
    match out.first() {
        Some(Record::Start { version, .. }) if *version == VERSION => Ok(out),
        Some(Record::Start { version, .. }) => Err(format!(
            "{}:1: journal format version {version}, this tool writes {VERSION}",
            path.display()
        )),
        _ => Err(format!(
            "{}:1: the journal is corrupted (it does not begin with a `start` record)",
            path.display()
        )),
    }
}

/// Whether a journal's rotation is over (an `end` record).
pub fn finished(records: &[Record]) -> bool {
    records.iter().any(|r| matches!(r, Record::End { .. }))
}

/// The newest journal of `class` in `dir` whose rotation is not over, if any.
pub fn latest_open(dir: &Path, class: &str) -> Result<Option<PathBuf>, String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut names: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "jsonl")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{class}-")))
        })
        .collect();
    names.sort();
    for p in names.into_iter().rev() {
        let recs = read(&p)?;
        // The name's prefix is not enough (`alerting-` would match `alerting-mail-…`).
        let of_class = matches!(recs.first(), Some(Record::Start { class: c, .. }) if c == class);
        if of_class && !finished(&recs) {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// The newest journal of `class` in `dir` (finished or not), if any.
pub fn newest(dir: &Path, class: &str) -> Result<Option<PathBuf>, String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut names: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "jsonl")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{class}-")))
        })
        .collect();
    names.sort();
    for p in names.into_iter().rev() {
        if let Ok(recs) = read(&p)
            && matches!(recs.first(), Some(Record::Start { class: c, .. }) if c == class)
        {
            return Ok(Some(p));
        }
    }
    Ok(None)
}
