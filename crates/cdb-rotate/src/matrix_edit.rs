//! Closing the loop: `last_rotated` of one class set in the rotation matrix by an in-place edit
//! of that one line, so the file's comments, order and layout stay as they are (the kit parses
//! YAML but never writes it). The edited text is parsed again before it replaces the file.

use std::path::{Path, PathBuf};

/// Why `last_rotated` could not be set; the file's errors name it.
#[derive(Debug, thiserror::Error)]
pub enum MatrixEditError {
    #[error("class `{class}` not found under `classes:`")]
    NoClass { class: String },
    #[error("class `{class}` has no `last_rotated:` line to set (add `last_rotated: null` to it)")]
    NoLastRotated { class: String },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The text of the file at `path` could not be edited.
    #[error("{}: {source}", .path.display())]
    Edit {
        path: PathBuf,
        source: Box<MatrixEditError>,
    },
    /// The edited text no longer parses as a matrix (cdb-docs' message).
    #[error("{}: {message}", .path.display())]
    Parse { path: PathBuf, message: String },
    #[error(
        "{}: the edit did not set `last_rotated` of `{class}` (the file is unchanged)",
        .path.display()
    )]
    NotSet { path: PathBuf, class: String },
}

/// `text` with the class's `last_rotated` set to `date`; an error when the class or its
/// `last_rotated` line cannot be found.
pub fn set_last_rotated(text: &str, class: &str, date: &str) -> Result<String, MatrixEditError> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    // The class's list item: `  - id: database` (an optional trailing comment).
    let is_item = |l: &str, want: Option<&str>| {
        let t = l.trim_start();
        let Some(rest) = t.strip_prefix("- id:") else {
            return false;
        };
        let v = rest
            .split('#')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches(['"', '\'']);
        want.is_none_or(|w| v == w)
    };
    let mut in_classes = false;
    let mut start = None;
    for (i, l) in lines.iter().enumerate() {
        if indent(l) == 0 && !l.trim().is_empty() && !l.trim_start().starts_with('#') {
            in_classes = l.trim_end() == "classes:" || l.starts_with("classes:");
        }
        if in_classes && is_item(l, Some(class)) {
            start = Some(i);
            break;
        }
    }
    let Some(start) = start else {
        return Err(MatrixEditError::NoClass {
            class: class.to_owned(),
        });
    };
    let item_indent = indent(lines[start]);
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    for (i, l) in lines.iter().enumerate().skip(start + 1) {
        let t = l.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if indent(l) <= item_indent {
            break;
        }
        if let Some(rest) = t.strip_prefix("last_rotated:") {
            let body = rest.trim_end_matches(['\n', '\r']);
            // The comment with the spaces before it, as they were.
            let comment = match body.find(" #") {
                Some(k) => &body[body[..k].trim_end().len()..],
                None => "",
            };
            let eol = &l[l.trim_end_matches(['\n', '\r']).len()..];
            out[i] = format!("{}last_rotated: {date}{comment}{eol}", &l[..indent(l)]);
            return Ok(out.concat());
        }
    }
    Err(MatrixEditError::NoLastRotated {
        class: class.to_owned(),
    })
}

/// Sets the class's `last_rotated` in the matrix file `path` (written beside it and renamed
/// over it), after checking the edited text still parses and holds the date for the class.
pub fn edit_file(path: &Path, class: &str, date: &str) -> Result<(), MatrixEditError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| MatrixEditError::Io { path: p, source }
    };
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let edited = set_last_rotated(&text, class, date).map_err(|source| MatrixEditError::Edit {
        path: path.to_path_buf(),
        source: Box::new(source),
    })?;
    let parsed = cdb_docs::Matrix::parse(&edited).map_err(|e| MatrixEditError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let got = parsed
        .class(class)
        .and_then(|c| c.last_rotated.as_ref())
        .map(|d| d.value.clone());
    if got.as_deref() != Some(date) {
        return Err(MatrixEditError::NotSet {
            path: path.to_path_buf(),
            class: class.to_owned(),
        });
    }
    let tmp = path.with_extension("yaml.rotate-tmp");
    std::fs::write(&tmp, edited).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages an operator sees, as they were when they were strings: the file, then why.
    #[test]
    fn errors_name_the_file_and_the_class() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("m.yaml");
        std::fs::write(&p, M).expect("write");
        let e = edit_file(&p, "storage", "2026-12-06").expect_err("no such class");
        assert_eq!(
            e.to_string(),
            format!(
                "{}: class `storage` not found under `classes:`",
                p.display()
            )
        );
        assert!(matches!(e, MatrixEditError::Edit { .. }));
        let no_line = M.replace("    last_rotated: 2026-01-02\n", "");
        let e = set_last_rotated(&no_line, "cache", "2026-12-06").expect_err("no line");
        assert_eq!(
            e.to_string(),
            "class `cache` has no `last_rotated:` line to set (add `last_rotated: null` to it)"
        );
        let missing = d.path().join("none.yaml");
        let e = edit_file(&missing, "cache", "2026-12-06").expect_err("no file");
        assert!(
            e.to_string()
                .starts_with(&format!("{}: ", missing.display())),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&p).expect("read"), M, "unchanged");
    }

    const M: &str = "# head comment\nversion: 1\nclasses:\n  - id: database\n    title: Database\n    last_rotated: null  # set after a verified rotation\n    rto: 30m\n  - id: cache\n    # a comment inside\n    last_rotated: 2026-01-02\n";

    #[test]
    fn only_the_one_line_changes_and_its_comment_stays() {
        let out = set_last_rotated(M, "database", "2026-12-06").expect("edit");
        let changed: Vec<(&str, &str)> =
            M.lines().zip(out.lines()).filter(|(a, b)| a != b).collect();
        assert_eq!(
            changed,
            [(
                "    last_rotated: null  # set after a verified rotation",
                "    last_rotated: 2026-12-06  # set after a verified rotation"
            )]
        );
        let out = set_last_rotated(M, "cache", "2026-12-06").expect("edit");
        assert!(out.ends_with("    # a comment inside\n    last_rotated: 2026-12-06\n"));
        assert!(set_last_rotated(M, "exchange", "2026-12-06").is_err());
    }
}
