//! Loading a Docs Hub from disk into the read-only model every check and drill shares.
//!
//! Loading never fails as a whole: unreadable files, invalid UTF-8, files too
//! large to read, symlinks that leave the root and a malformed matrix become
//! [`LoadProblem`]s (or a [`MatrixError`]) that `verify` reports with the
//! file and line. FIFOs, sockets and devices are never opened (reading a FIFO
//! blocks forever) and become [`LoadProblemKind::Special`] notes; names that
//! are not UTF-8 are kept, shown lossily, and their files read like any other.
//! Every read goes through [`crate::fsio`]. Loading only reads; it never writes.

use crate::fsio::{self, ReadError};
use crate::line_index::LineIndex;
use crate::markdown::MdDoc;
use crate::matrix::{Matrix, MatrixError};
use crate::step::{Step, StepProblem, parse_step};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

/// Files larger than this are reported and not read, so a stray 100 MB file cannot stall verify.
pub use crate::fsio::MAX_FILE_BYTES;

/// Directories never walked.
const ALWAYS_SKIPPED: &[&str] = &[".git", "target", "node_modules"];

/// Where the hub's parts live, relative to the root, with `/` separators.
#[derive(Clone, Debug)]
pub struct Layout {
    pub hub_dir: String,
    pub matrix: String,
    pub runbook: String,
    pub playbook: String,
    pub inventory: String,
    pub security_issues: String,
    /// The kit's description of the stack: a folder of Compose files (`cdb-stack`).
    pub stack_dir: String,
}

impl Default for Layout {
    fn default() -> Layout {
        let sec = "Claire_de_Binare_Docs/docs/content/security";
        Layout {
            hub_dir: "Claire_de_Binare_Docs".into(),
            matrix: "Claire_de_Binare_Docs/data/secret-rotation-matrix.yaml".into(),
            runbook: format!("{sec}/secret-rotation-runbook.md"),
            playbook: format!("{sec}/incident-response-secrets.md"),
            inventory: format!("{sec}/secret-inventory.md"),
            security_issues: "SECURITY_ISSUES.md".into(),
            stack_dir: "stack/compose".into(),
        }
    }
}

impl Layout {
    /// A matrix reference (`docs/…md#frag`) is relative to the hub directory; this gives the root-relative path.
    pub fn hub_path(&self, rel: &str) -> String {
        normalize(&format!("{}/{}", self.hub_dir, rel)).unwrap_or_else(|| rel.to_owned())
    }

    /// A Compose file directly in the stack folder (`stack/compose/*.yml`), loaded for the `stack` rules.
    pub fn is_stack_file(&self, rel: &str) -> bool {
        rel.strip_prefix(self.stack_dir.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|name| {
                !name.contains('/') && (name.ends_with(".yml") || name.ends_with(".yaml"))
            })
    }
}

/// A text file that is not markdown (YAML, shell, Rust, …), kept for the secret scan.
#[derive(Clone, Debug)]
pub struct TextFile {
    pub path: String,
    pub text: String,
    pub lines: LineIndex,
}

/// A markdown document with its parsed model and steps.
#[derive(Clone, Debug)]
pub struct Doc {
    pub path: String,
    pub text: String,
    pub lines: LineIndex,
    pub md: MdDoc,
    pub steps: Vec<Step>,
    pub step_problems: Vec<StepProblem>,
}

/// What went wrong reading one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadProblemKind {
    Unreadable(String),
    InvalidUtf8 {
        line: usize,
    },
    TooLarge {
        bytes: u64,
    },
    SymlinkEscapes,
    /// A FIFO, socket or device (`kind` in words): never opened, reported as a note.
    Special {
        kind: &'static str,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadProblem {
    pub path: String,
    pub kind: LoadProblemKind,
}

/// What to load.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions {
    /// Also keep non-markdown text files (needed by the secret scan only).
    pub text_files: bool,
    /// Parse markdown into its model and steps. Without it a `Doc` keeps its text and line
    /// index only (an empty `md`, no steps): all the secret scan needs, and parsing is about
    /// an eighth of `verify --select secrets` on a large tree.
    pub parse_markdown: bool,
}

/// The loaded hub.
#[derive(Debug)]
pub struct Hub {
    pub root: PathBuf,
    pub layout: Layout,
    pub docs: Vec<Doc>,
    pub files: Vec<TextFile>,
    /// Every file and directory under the root (walked, not excluded), root-relative.
    pub paths: HashSet<String>,
    pub problems: Vec<LoadProblem>,
    /// `None` when the matrix file does not exist.
    pub matrix: Option<Result<Matrix, MatrixError>>,
    doc_index: HashMap<String, usize>,
    file_index: HashMap<String, usize>,
}

impl Hub {
    pub fn load(root: &Path, layout: Layout, opts: LoadOptions) -> std::io::Result<Hub> {
        let meta = fs::metadata(root)?;
        if !meta.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is not a directory", root.display()),
            ));
        }
        let root = root.to_path_buf();
        let canon_root = fs::canonicalize(&root)?;
        let mut problems = Vec::new();
        let ignores = read_ignores(&root, &mut problems);
        let mut walk = Walk {
            canon_root,
            ignores,
            paths: HashSet::new(),
            files: Vec::new(),
            problems,
        };
        walk.dir(&root, "");

        let mut raw_docs = Vec::new();
        let mut files = Vec::new();
        let mut matrix_text = None;
        for (rel, abs) in walk.files {
            let is_md = rel.ends_with(".md") || rel.ends_with(".markdown");
            let is_matrix = rel == layout.matrix;
            // The stack rules read the kit's Compose files whatever the selection, as they read the matrix.
            let always = is_matrix || layout.is_stack_file(&rel);
            if !is_md && !always && !opts.text_files {
                continue;
            }
            let Some(text) = read_text(&abs, &rel, is_md || always, &mut walk.problems) else {
                continue;
            };
            if is_matrix {
                matrix_text = Some(text.clone());
            }
            if is_md {
                raw_docs.push((rel, text));
            } else if opts.text_files || always {
                let lines = LineIndex::new(&text);
                files.push(TextFile {
                    path: rel,
                    text,
                    lines,
                });
            }
        }
        raw_docs.sort_by(|a, b| a.0.cmp(&b.0));
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let docs = parse_docs(raw_docs, opts.parse_markdown);
        let doc_index = docs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.path.clone(), i))
            .collect();
        let file_index = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        let matrix = matrix_text.map(|t| Matrix::parse(&t));
        walk.problems.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Hub {
            root,
            layout,
            docs,
            files,
            paths: walk.paths,
            problems: walk.problems,
            matrix,
            doc_index,
            file_index,
        })
    }

    pub fn doc(&self, rel: &str) -> Option<&Doc> {
        self.doc_index.get(rel).map(|&i| &self.docs[i])
    }

    /// The matrix, when it exists and parsed.
    pub fn matrix(&self) -> Option<&Matrix> {
        self.matrix.as_ref().and_then(|m| m.as_ref().ok())
    }

    /// The text of the matrix file, for locating findings.
    pub fn text_file(&self, rel: &str) -> Option<&TextFile> {
        self.file_index.get(rel).map(|&i| &self.files[i])
    }

    /// Every executable step of the hub, in path and document order.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.docs.iter().flat_map(|d| d.steps.iter())
    }

    /// Resolves a link path written in `from` (a root-relative file) to a root-relative path.
    /// `None` means the link leaves the root.
    pub fn resolve(&self, from: &str, link_path: &str) -> Option<String> {
        resolve_link(from, link_path)
    }

    pub fn exists(&self, rel: &str) -> bool {
        rel.is_empty() || self.paths.contains(rel)
    }
}

/// Resolves `link_path` relative to the directory of `from`; a leading `/` is the root.
pub fn resolve_link(from: &str, link_path: &str) -> Option<String> {
    let joined = if let Some(abs) = link_path.strip_prefix('/') {
        abs.to_owned()
    } else {
        match from.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{link_path}"),
            None => link_path.to_owned(),
        }
    };
    normalize(&joined)
}

/// Folds `.` and `..`; `None` when `..` climbs above the root.
pub fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for comp in Path::new(path).components() {
        match comp {
            Component::Normal(p) => parts.push(p.to_str()?),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

fn parse_docs(raw: Vec<(String, String)>, parse_markdown: bool) -> Vec<Doc> {
    if !parse_markdown {
        return raw.into_iter().map(|(p, t)| text_doc(p, t)).collect();
    }
    // Parsing is the bulk of verify's time on a large tree, so it is split across cores.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if raw.len() < 64 || threads == 1 {
        return raw.into_iter().map(|(p, t)| parse_doc(p, t)).collect();
    }
    let chunk = raw.len().div_ceil(threads);
    let mut chunks: Vec<Vec<(String, String)>> = Vec::new();
    let mut it = raw.into_iter().peekable();
    while it.peek().is_some() {
        chunks.push(it.by_ref().take(chunk).collect());
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    c.into_iter()
                        .map(|(p, t)| parse_doc(p, t))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // A worker that panicked re-raises its panic here: dropping its chunk would make verify
        // judge a hub with documents missing.
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// A [`Doc`] that keeps the text and its line index, without the markdown model.
fn text_doc(path: String, text: String) -> Doc {
    Doc {
        lines: LineIndex::new(&text),
        md: MdDoc::parse(""),
        steps: Vec::new(),
        step_problems: Vec::new(),
        path,
        text,
    }
}

/// Parses one markdown text into a [`Doc`].
pub fn parse_doc(path: String, text: String) -> Doc {
    let lines = LineIndex::new(&text);
    let md = MdDoc::parse(&text);
    let mut steps = Vec::new();
    let mut step_problems = Vec::new();
    for block in &md.code_blocks {
        let section = md.section_of(block.span.start, 2).map(|h| h.anchor.clone());
        if let Some((step, problems)) = parse_step(block, &path, section) {
            steps.extend(step);
            step_problems.extend(problems);
        }
    }
    Doc {
        path,
        text,
        lines,
        md,
        steps,
        step_problems,
    }
}

fn read_text(
    abs: &Path,
    rel: &str,
    report_utf8: bool,
    problems: &mut Vec<LoadProblem>,
) -> Option<String> {
    let problem = |kind| LoadProblem {
        path: rel.to_owned(),
        kind,
    };
    let bytes = match fsio::read_bytes(abs, None, MAX_FILE_BYTES) {
        Ok(b) => b,
        Err(e) => {
            problems.push(problem(load_problem(e)));
            return None;
        }
    };
    // A NUL byte in the first 8 KiB marks a binary file: not text, not a problem.
    let binary = bytes.iter().take(8192).any(|&b| b == 0);
    if !report_utf8 && binary {
        return None;
    }
    match fsio::utf8(bytes) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(problem(load_problem(e)));
            None
        }
    }
}

/// A read error as the problem `verify` reports.
fn load_problem(e: ReadError) -> LoadProblemKind {
    match e {
        ReadError::NotFound => LoadProblemKind::Unreadable("no such file".into()),
        ReadError::NotRegular { kind } => LoadProblemKind::Special { kind },
        ReadError::TooLarge { bytes, .. } => LoadProblemKind::TooLarge { bytes },
        ReadError::SymlinkEscapes => LoadProblemKind::SymlinkEscapes,
        ReadError::InvalidUtf8 { line } => LoadProblemKind::InvalidUtf8 { line },
        ReadError::Io(e) => LoadProblemKind::Unreadable(e.to_string()),
    }
}

/// The file of `.verifyignore` entries, relative to the root.
pub const IGNORE_FILE: &str = ".verifyignore";

fn read_ignores(root: &Path, problems: &mut Vec<LoadProblem>) -> Vec<String> {
    match fsio::read_text(&root.join(IGNORE_FILE), Some(root), MAX_FILE_BYTES) {
        Ok(t) => t
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.trim_matches('/').to_owned())
            .collect(),
        Err(ReadError::NotFound) => Vec::new(),
        Err(e) => {
            // Unlike a stray FIFO in the tree, an unreadable ignore file changes what is checked: an error.
            let kind = match e {
                ReadError::NotRegular { .. } => LoadProblemKind::Unreadable(e.to_string()),
                e => load_problem(e),
            };
            problems.push(LoadProblem {
                path: IGNORE_FILE.into(),
                kind,
            });
            Vec::new()
        }
    }
}

struct Walk {
    canon_root: PathBuf,
    ignores: Vec<String>,
    paths: HashSet<String>,
    files: Vec<(String, PathBuf)>,
    problems: Vec<LoadProblem>,
}

impl Walk {
    fn ignored(&self, rel: &str) -> bool {
        self.ignores.iter().any(|i| {
            rel == i || (rel.starts_with(i.as_str()) && rel.as_bytes().get(i.len()) == Some(&b'/'))
        })
    }

    fn dir(&mut self, abs: &Path, rel: &str) {
        let entries = match fs::read_dir(abs) {
            Ok(e) => e,
            Err(e) => {
                self.problems.push(LoadProblem {
                    path: if rel.is_empty() {
                        ".".into()
                    } else {
                        rel.to_owned()
                    },
                    kind: LoadProblemKind::Unreadable(e.to_string()),
                });
                return;
            }
        };
        let here = if rel.is_empty() { "." } else { rel };
        let mut listed = Vec::new();
        for entry in entries {
            match entry {
                Ok(e) => listed.push(e),
                // Named, not skipped: verify must not pass a tree it did not see whole.
                Err(e) => self.problems.push(LoadProblem {
                    path: here.to_owned(),
                    kind: LoadProblemKind::Unreadable(e.to_string()),
                }),
            }
        }
        let mut entries = listed;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let os_name = entry.file_name();
            // A name that is not UTF-8 is shown lossily; the file is still read through its real path.
            let name = os_name.to_string_lossy();
            let name = name.as_ref();
            let child_rel = if rel.is_empty() {
                name.to_owned()
            } else {
                format!("{rel}/{name}")
            };
            let path = entry.path();
            let ft = match entry.file_type() {
                Ok(ft) => ft,
                Err(e) => {
                    // Gone since it was listed, or not stat-able: named like an unreadable file.
                    if !self.ignored(&child_rel) {
                        self.problems.push(LoadProblem {
                            path: child_rel,
                            kind: LoadProblemKind::Unreadable(e.to_string()),
                        });
                    }
                    continue;
                }
            };
            if ft.is_dir() {
                if ALWAYS_SKIPPED.contains(&name) || self.ignored(&child_rel) {
                    continue;
                }
                self.paths.insert(child_rel.clone());
                self.dir(&path, &child_rel);
            } else if ft.is_symlink() {
                if self.ignored(&child_rel) {
                    continue;
                }
                // Symlinked directories are never followed, so a symlink loop cannot hang the walk.
                match fs::canonicalize(&path) {
                    Ok(target) if !target.starts_with(&self.canon_root) => {
                        self.problems.push(LoadProblem {
                            path: child_rel,
                            kind: LoadProblemKind::SymlinkEscapes,
                        });
                    }
                    Ok(target) => {
                        self.paths.insert(child_rel.clone());
                        // Symlinked directories are not walked; anything else is read (or
                        // reported) through `fsio`, which refuses FIFOs and devices.
                        if !target.is_dir() {
                            self.files.push((child_rel, target));
                        }
                    }
                    Err(e) => self.problems.push(LoadProblem {
                        path: child_rel,
                        kind: LoadProblemKind::Unreadable(format!("broken symlink: {e}")),
                    }),
                }
            } else if ft.is_file() {
                if self.ignored(&child_rel) {
                    continue;
                }
                self.paths.insert(child_rel.clone());
                self.files.push((child_rel, path));
            } else {
                // A FIFO, socket or device: opening it could block or never end, so it is only named.
                if self.ignored(&child_rel) {
                    continue;
                }
                self.paths.insert(child_rel.clone());
                self.problems.push(LoadProblem {
                    path: child_rel,
                    kind: LoadProblemKind::Special {
                        kind: fsio::kind_of(ft),
                    },
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_links() {
        assert_eq!(
            resolve_link("a/b/c.md", "../d.md").as_deref(),
            Some("a/d.md")
        );
        assert_eq!(
            resolve_link("a/c.md", "./x/y.md").as_deref(),
            Some("a/x/y.md")
        );
        assert_eq!(resolve_link("c.md", "/a/y.md").as_deref(), Some("a/y.md"));
        assert_eq!(resolve_link("a/c.md", "../../etc/passwd"), None);
    }
}
