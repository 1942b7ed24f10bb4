//! Closing the loop: `last_rotated` of one class set in the rotation matrix by an in-place edit
//! of that one line, so the file's comments, order and layout stay as they are (the kit parses
//! YAML but never writes it). The edited text is parsed again before it replaces the file.

use std::path::Path;

/// `text` with the class's `last_rotated` set to `date`; an error when the class or its
/// `last_rotated` line cannot be found.
pub fn set_last_rotated(text: &str, class: &str, date: &str) -> Result<String, String> {
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
        return Err(format!("class `{class}` not found under `classes:`"));
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
    Err(format!(
        "class `{class}` has no `last_rotated:` line to set (add `last_rotated: null` to it)"
    ))
}

/// Sets the class's `last_rotated` in the matrix file `path` (written beside it and renamed
/// over it), after checking the edited text still parses and holds the date for the class.
pub fn edit_file(path: &Path, class: &str, date: &str) -> Result<(), String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    let edited = set_last_rotated(&text, class, date).map_err(|e| format!("{shown}: {e}"))?;
    let parsed = cdb_docs::Matrix::parse(&edited).map_err(|e| format!("{shown}: {e}"))?;
    let got = parsed
        .class(class)
        .and_then(|c| c.last_rotated.as_ref())
        .map(|d| d.value.clone());
    if got.as_deref() != Some(date) {
        return Err(format!(
            "{shown}: the edit did not set `last_rotated` of `{class}` (the file is unchanged)"
        ));
    }
    let tmp = path.with_extension("yaml.rotate-tmp");
    std::fs::write(&tmp, edited).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{shown}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
