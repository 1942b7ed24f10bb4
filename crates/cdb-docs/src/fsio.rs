//! The one way the tools read a file: regular files only, capped in size, symlinks confined to the root.
//!
//! `verify`, `review` and the drill's scenario loader open files that a pull
//! request controls. A FIFO there would block the reader forever, a symlink to
//! `/dev/zero` would read until memory runs out, and a symlink to `/etc/…`
//! would read outside the tree. [`read_bytes`] and [`read_text`] check the
//! file's type and size before opening it, read at most the limit plus one
//! byte, and return a [`ReadError`] that says what the path is instead.

use std::fs;
use std::io::Read;
use std::path::Path;

/// The default cap: files larger than this are reported and not read.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Nothing exists at the path (a dangling symlink included).
    #[error("no such file")]
    NotFound,
    /// The path is not a regular file: `kind` says what it is (`a FIFO`, `a directory`, …).
    #[error("is {kind}, not a regular file; not read")]
    NotRegular { kind: &'static str },
    /// The file is larger than the limit (`bytes` is what was seen: the size, or limit + 1 for a file that grows).
    #[error("{bytes} bytes is over the {limit} byte limit; the file was not read")]
    TooLarge { bytes: u64, limit: u64 },
    /// A symlink (or a symlinked folder on the way) leads outside the root.
    #[error("symlink points outside the root; not followed")]
    SymlinkEscapes,
    /// Not UTF-8 from this 1-based line on ([`read_text`] only).
    #[error("not valid UTF-8 from line {line} on")]
    InvalidUtf8 { line: usize },
    /// Any other I/O error (permissions, …). Its message is the whole message, so it is not
    /// also given as the source (a reporter that walks sources would print it twice).
    #[error("{0}")]
    Io(std::io::Error),
}

/// What a non-regular file is, in words, for messages and notes.
pub fn kind_of(ft: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symlink"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// Reads a regular file of at most `limit` bytes. With `root`, the path (after
/// every symlink on it is resolved) must stay under `root`.
pub fn read_bytes(path: &Path, root: Option<&Path>, limit: u64) -> Result<Vec<u8>, ReadError> {
    let not_found = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ReadError::NotFound
        } else {
            ReadError::Io(e)
        }
    };
    if let Some(root) = root {
        // Every symlink on the way is resolved, a symlinked folder included.
        let target = fs::canonicalize(path).map_err(not_found)?;
        let root = fs::canonicalize(root).map_err(ReadError::Io)?;
        if !target.starts_with(&root) {
            return Err(ReadError::SymlinkEscapes);
        }
    }
    // `metadata` follows symlinks: the type checked is the type of what would be opened.
    let meta = fs::metadata(path).map_err(not_found)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            kind: kind_of(meta.file_type()),
        });
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            bytes: meta.len(),
            limit,
        });
    }
    let file = fs::File::open(path).map_err(not_found)?;
    // The file could have been swapped between the check and the open; what was opened is checked again.
    let opened = file.metadata().map_err(ReadError::Io)?;
    if !opened.is_file() {
        return Err(ReadError::NotRegular {
            kind: kind_of(opened.file_type()),
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(opened.len().min(limit)).unwrap_or(0));
    // One byte past the limit is read, so a file that grows while it is read is still caught.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            bytes: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// [`read_bytes`], then UTF-8: the error names the first line that is not.
pub fn read_text(path: &Path, root: Option<&Path>, limit: u64) -> Result<String, ReadError> {
    let bytes = read_bytes(path, root, limit)?;
    utf8(bytes)
}

/// Turns bytes into text, or the 1-based line where they stop being UTF-8.
pub fn utf8(bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..valid]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ReadError::InvalidUtf8 { line }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_and_refuses_the_rest() {
        let dir = std::env::temp_dir().join(format!("cdb-fsio-{}", std::process::id()));
        // A leftover of an earlier run with the same pid, usually absent: nothing to report.
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("the test's directory");
        let file = dir.join("a.txt");
        fs::write(&file, b"one\ntwo\xff").expect("the test's file");
        assert!(matches!(
            read_text(&file, Some(&dir), 100),
            Err(ReadError::InvalidUtf8 { line: 2 })
        ));
        assert!(matches!(
            read_bytes(&file, Some(&dir), 3),
            Err(ReadError::TooLarge { bytes: 8, limit: 3 })
        ));
        assert!(matches!(
            read_bytes(&dir, Some(&dir), 100),
            Err(ReadError::NotRegular {
                kind: "a directory"
            })
        ));
        assert!(matches!(
            read_bytes(&dir.join("none"), None, 100),
            Err(ReadError::NotFound)
        ));
        // Clean-up in the system's temporary folder: a failure leaves a small folder behind.
        let _ = fs::remove_dir_all(&dir);
    }

    /// The messages `verify`, `review` and the drill print for a file they did not read, word
    /// for word as before the errors were derived with `thiserror`.
    #[test]
    fn read_errors_say_what_they_said() {
        let cases = [
            (ReadError::NotFound, "no such file"),
            (
                ReadError::NotRegular { kind: "a FIFO" },
                "is a FIFO, not a regular file; not read",
            ),
            (
                ReadError::TooLarge { bytes: 9, limit: 8 },
                "9 bytes is over the 8 byte limit; the file was not read",
            ),
            (
                ReadError::SymlinkEscapes,
                "symlink points outside the root; not followed",
            ),
            (
                ReadError::InvalidUtf8 { line: 3 },
                "not valid UTF-8 from line 3 on",
            ),
            (
                ReadError::Io(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "permission denied",
                )),
                "permission denied",
            ),
        ];
        for (e, said) in cases {
            assert_eq!(e.to_string(), said);
            // The I/O error's text is the message itself, so it is not also a source.
            assert!(std::error::Error::source(&e).is_none(), "{e}");
        }
    }
}
