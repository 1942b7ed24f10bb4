//! The one line index of the project: byte offsets to 1-based lines and columns.
//!
//! Columns count characters, not bytes, so that a caret printed under a source
//! line lands under the right character when the line holds non-ASCII text.
//! The character count up to every [`CHECKPOINT`]-byte boundary is kept, so a
//! column costs at most that many bytes of counting however long the line is
//! (500,000 links on one 7 MB line ran past two minutes when every column
//! counted from the start of its line).

/// A 1-based line and column (column in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// Bytes between two stored character counts.
pub const CHECKPOINT: usize = 256;

/// Start offsets of every line of one text, and character counts at fixed byte steps.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
    /// `chars_before[k]`: characters in `text[..k * CHECKPOINT]`, counted on the
    /// first column asked for (most files of a secret scan never need one).
    chars_before: std::sync::OnceLock<Vec<usize>>,
    len: usize,
}

/// Whether a byte starts a character (is not a UTF-8 continuation byte).
fn starts_char(b: u8) -> bool {
    (b as i8) >= -0x40
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        // memchr finds the newlines a word at a time: this pass runs over every file of a
        // secret scan, where a byte-by-byte loop was about a tenth of the whole run.
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex {
            starts,
            chars_before: std::sync::OnceLock::new(),
            len: text.len(),
        }
    }

    fn checkpoints(&self, text: &str) -> &[usize] {
        self.chars_before.get_or_init(|| {
            let mut chars_before = Vec::with_capacity(text.len() / CHECKPOINT + 2);
            let mut count = 0;
            for block in text.as_bytes().chunks(CHECKPOINT) {
                chars_before.push(count);
                count += block.iter().filter(|&&b| starts_char(b)).count();
            }
            chars_before.push(count);
            chars_before
        })
    }

    /// Characters in `text[..offset]` (`offset` on a character boundary), from the nearest checkpoint.
    fn chars_to(&self, text: &str, offset: usize) -> usize {
        let k = offset / CHECKPOINT;
        let base = self.checkpoints(text).get(k).copied().unwrap_or(0);
        let from = (k * CHECKPOINT).min(offset);
        base + text.as_bytes()[from..offset]
            .iter()
            .filter(|&&b| starts_char(b))
            .count()
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
        // The index belongs to `text`; a shorter text (a caller's mistake) falls back to counting.
        let column = if self.len == text.len() {
            self.chars_to(text, end) - self.chars_to(text, start)
        } else {
            text.get(start..end).map_or(0, |s| s.chars().count())
        } + 1;
        LineCol {
            line: line0 + 1,
            column,
        }
    }

    /// The byte offset of a 1-based line and column, if it exists. Like
    /// [`LineIndex::line_col`] it starts from the nearest checkpoint, so it
    /// costs no more on a 7 MB line than on a short one.
    pub fn offset(&self, text: &str, at: LineCol) -> Option<usize> {
        let start = *self.starts.get(at.line.checked_sub(1)?)?;
        let line = self.line_text(text, at.line)?;
        if at.column == 0 {
            return None;
        }
        let skip = at.column - 1;
        if self.len != text.len() {
            if skip == line.chars().count() {
                return Some(start + line.len());
            }
            return line.char_indices().nth(skip).map(|(i, _)| start + i);
        }
        let line_end = start + line.len();
        let target = self.chars_to(text, start) + skip;
        if target > self.chars_to(text, line_end) {
            return None;
        }
        // The last checkpoint at or before the wanted character, then a walk of at most one block.
        let k = self
            .checkpoints(text)
            .partition_point(|&c| c <= target)
            .saturating_sub(1);
        let mut at_byte = (k * CHECKPOINT).max(start);
        let mut count = self.chars_to(text, at_byte_boundary(text, at_byte));
        at_byte = at_byte_boundary(text, at_byte);
        let bytes = text.as_bytes();
        while count < target && at_byte < line_end {
            at_byte += 1;
            while at_byte < bytes.len() && !starts_char(bytes[at_byte]) {
                at_byte += 1;
            }
            count += 1;
        }
        (count == target).then_some(at_byte)
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

/// The nearest character boundary at or before `at`.
fn at_byte_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
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
