//! The one line index of the project: byte offsets to 1-based lines and columns.
//!
//! Columns count characters, not bytes, so that a caret printed under a source
//! line lands under the right character when the line holds non-ASCII text.

/// A 1-based line and column (column in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// Start offsets of every line of one text.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// Number of lines (a trailing newline does not start a new, empty line of content,
    /// but the index still counts it so that an offset at the very end maps somewhere).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The 1-based line and column of a byte offset. Offsets past the end are
    /// clamped to the end, and offsets inside a multi-byte character count as
    /// that character, so the function never panics.
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = offset.min(self.len).min(text.len());
        let line0 = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line0];
        let mut end = offset;
        while end > start && !text.is_char_boundary(end) {
            end -= 1;
        }
        let column = text.get(start..end).map_or(0, |s| s.chars().count()) + 1;
        LineCol {
            line: line0 + 1,
            column,
        }
    }

    /// The byte offset of a 1-based line and column, if it exists.
    pub fn offset(&self, text: &str, at: LineCol) -> Option<usize> {
        let start = *self.starts.get(at.line.checked_sub(1)?)?;
        let line = self.line_text(text, at.line)?;
        if at.column == 0 {
            return None;
        }
        let skip = at.column - 1;
        if skip == line.chars().count() {
            return Some(start + line.len());
        }
        line.char_indices().nth(skip).map(|(i, _)| start + i)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> Option<&'t str> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let end = self
            .starts
            .get(line)
            .map_or(text.len(), |&next| next.saturating_sub(1));
        let s = text.get(start..end.max(start))?;
        Some(s.strip_suffix('\r').unwrap_or(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_offsets_to_lines_and_char_columns() {
        let text = "ab\nçd\n\nx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), LineCol { line: 1, column: 1 });
        assert_eq!(idx.line_col(text, 3), LineCol { line: 2, column: 1 });
        // 'd' sits after the two-byte 'ç'.
        assert_eq!(idx.line_col(text, 5), LineCol { line: 2, column: 2 });
        assert_eq!(idx.line_col(text, 8), LineCol { line: 4, column: 1 });
        assert_eq!(idx.line_text(text, 2), Some("çd"));
        assert_eq!(idx.line_text(text, 3), Some(""));
        assert_eq!(idx.offset(text, LineCol { line: 2, column: 2 }), Some(5));
    }
}
