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

/// Why a journal or its folder could not be used; each names the file or folder.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error(
        "no place for the journal: set CDB_ROTATE_HOME (a private folder outside the repository)"
    )]
    NoHome,
    #[error("cannot create the journal folder {}: {source}", .dir.display())]
    CreateFolder { dir: PathBuf, source: io::Error },
    #[error("cannot make the journal folder {} private: {source}", .dir.display())]
    MakePrivate { dir: PathBuf, source: io::Error },
    #[error(
        "the journal folder {} is inside the repository {}: set CDB_ROTATE_HOME to a private folder outside it",
        .dir.display(),
        .repo.display()
    )]
    InsideRepo { dir: PathBuf, repo: PathBuf },
    #[error("cannot read the journal folder {}: {source}", .dir.display())]
    ReadFolder { dir: PathBuf, source: io::Error },
    #[error("cannot create the journal {}: {source}", .path.display())]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot open the journal {}: {source}", .path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot read the journal {}: {source}", .path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "{}:{line}: the journal is corrupted ({source}); it cannot be resumed: move it out of the journal folder (keep it for the incident record) and start a new rotation",
        .path.display()
    )]
    Corrupt {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
    #[error("{}:1: journal format version {version}, this tool writes {VERSION}", .path.display())]
    Version { path: PathBuf, version: u32 },
    #[error(
        "{}:1: the journal is corrupted (it does not begin with a `start` record)",
        .path.display()
    )]
    NoStart { path: PathBuf },
}

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
pub fn home() -> Result<PathBuf, JournalError> {
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
        None => Err(JournalError::NoHome),
    }
}

/// Creates `dir` private (0700 on Unix; on Windows a folder under the user's profile is theirs)
/// and refuses a folder inside `repo`: the journal holds step ids, times and redacted outputs,
/// and belongs to the private incident record, never to the repository.
pub fn prepare_home(dir: &Path, repo: &Path) -> Result<(), JournalError> {
    let create = |source| JournalError::CreateFolder {
        dir: dir.to_path_buf(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(create)?;
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|source| {
            JournalError::MakePrivate {
                dir: dir.to_path_buf(),
                source,
            }
        })?;
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir).map_err(create)?;
    let (Ok(d), Ok(r)) = (fs::canonicalize(dir), fs::canonicalize(repo)) else {
        return Ok(());
    };
    if d.starts_with(&r) {
        return Err(JournalError::InsideRepo {
            dir: dir.to_path_buf(),
            repo: repo.to_path_buf(),
        });
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
    pub fn create(dir: &Path, class: &str, trigger: &str) -> Result<Journal, JournalError> {
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
                Err(source) => return Err(JournalError::Create { path, source }),
            }
        }
    }

    /// Opens an existing journal to append to it (`--resume`).
    pub fn append_to(path: &Path) -> Result<Journal, JournalError> {
        let file = fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|source| JournalError::Open {
                path: path.to_path_buf(),
                source,
            })?;
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
pub fn read(path: &Path) -> Result<Vec<Record>, JournalError> {
    let text = fs::read_to_string(path).map_err(|source| JournalError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r: Record = serde_json::from_str(line).map_err(|source| JournalError::Corrupt {
            path: path.to_path_buf(),
            line: i + 1,
            source,
        })?;
        out.push(r);
    }
    match out.first() {
        Some(Record::Start { version, .. }) if *version == VERSION => Ok(out),
        Some(Record::Start { version, .. }) => Err(JournalError::Version {
            path: path.to_path_buf(),
            version: *version,
        }),
        _ => Err(JournalError::NoStart {
            path: path.to_path_buf(),
        }),
    }
}

/// Whether a journal's rotation is over (an `end` record).
pub fn finished(records: &[Record]) -> bool {
    records.iter().any(|r| matches!(r, Record::End { .. }))
}

/// The newest journal of `class` in `dir` whose rotation is not over, if any.
pub fn latest_open(dir: &Path, class: &str) -> Result<Option<PathBuf>, JournalError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        // No folder yet: no journal yet.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(JournalError::ReadFolder {
                dir: dir.to_path_buf(),
                source,
            });
        }
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
pub fn newest(dir: &Path, class: &str) -> Result<Option<PathBuf>, JournalError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        // No folder yet: no journal yet.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(JournalError::ReadFolder {
                dir: dir.to_path_buf(),
                source,
            });
        }
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
        // A journal that cannot be read is passed over for an older one: `--timeline` shows
        // the newest it can (`--journal FILE` names that one, and then its error is shown).
        if let Ok(recs) = read(&p)
            && matches!(recs.first(), Some(Record::Start { class: c, .. }) if c == class)
        {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages an operator sees, as they were when they were strings: the file and line.
    #[test]
    fn a_bad_journal_is_named_with_its_line() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("j.jsonl");
        std::fs::write(&p, "\nnot json\n").expect("write");
        let e = read(&p).expect_err("corrupted");
        assert!(matches!(e, JournalError::Corrupt { line: 2, .. }), "{e:?}");
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("{}:2: the journal is corrupted (", p.display())),
            "{text}"
        );
        assert!(text.ends_with("and start a new rotation"), "{text}");
        std::fs::write(&p, "").expect("write");
        assert_eq!(
            read(&p).expect_err("empty").to_string(),
            format!(
                "{}:1: the journal is corrupted (it does not begin with a `start` record)",
                p.display()
            )
        );
        let gone = d.path().join("gone.jsonl");
        let e = read(&gone).expect_err("missing");
        assert!(
            e.to_string()
                .starts_with(&format!("cannot read the journal {}: ", gone.display())),
            "{e}"
        );
        // A folder that does not exist holds no journal; a file where the folder should be is
        // an error, not "none".
        assert!(matches!(
            latest_open(&d.path().join("nope"), "cache"),
            Ok(None)
        ));
        let e = latest_open(&p, "cache").expect_err("not a folder");
        assert!(matches!(e, JournalError::ReadFolder { .. }), "{e:?}");
    }
}
