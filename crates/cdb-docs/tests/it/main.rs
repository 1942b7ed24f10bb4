//! Property tests of the docs model: slugs, the line index, and that no input makes the parsers panic.

#![allow(clippy::unwrap_used)]

mod yaml_tree;

use cdb_docs::hub::parse_doc;
use cdb_docs::slug::{Slugger, slugify};
use cdb_docs::{InfoString, LineCol, LineIndex, Matrix};
use proptest::prelude::*;

proptest! {
    #[test]
    fn slugs_hold_only_lowercase_letters_digits_dash_and_underscore(text in "\\PC{0,60}") {
        let s = slugify(&text);
        prop_assert!(s.chars().all(|c| c == '-' || c == '_' || c.is_alphanumeric()));
        prop_assert!(!s.chars().any(|c| c.is_uppercase() && c.to_lowercase().next() != Some(c)));
        prop_assert_eq!(slugify(&s), s.clone(), "a slug is its own slug");
    }

    #[test]
    fn repeated_headings_get_unique_slugs(texts in proptest::collection::vec("[a-c ]{0,4}", 1..20)) {
        let mut slugger = Slugger::default();
        let slugs: Vec<String> = texts.iter().map(|t| slugger.slug(t)).collect();
        let mut unique = slugs.clone();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(unique.len(), slugs.len());
    }

    #[test]
    fn counted_slugs_number_as_github_does(texts in proptest::collection::vec("(a|a 1|a 2|b|a-1)", 1..30)) {
        // The reference: every repeat counts up from `-1` until a free slug (GitHub's rule, quadratic).
        let mut seen = std::collections::HashSet::new();
        let mut slugger = Slugger::default();
        for t in &texts {
            let base = slugify(t);
            let mut want = base.clone();
            let mut n = 1;
            while !seen.insert(want.clone()) {
                want = format!("{base}-{n}");
                n += 1;
            }
            prop_assert_eq!(slugger.slug(t), want);
        }
    }

    #[test]
    fn line_index_round_trips(text in "(\\PC|\n|\r\n){0,200}", pick in 0usize..400) {
        let idx = LineIndex::new(&text);
        // Every char boundary maps to a position that maps back to it.
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len())).collect();
        let offset = boundaries[pick % boundaries.len()];
        let lc = idx.line_col(&text, offset);
        prop_assert!(lc.line >= 1 && lc.column >= 1);
        let back = idx.offset(&text, lc);
        // An offset on the `\n` of a `\r\n` pair sits past the visible line; everything else round-trips.
        if !text[..offset].ends_with('\r') {
            prop_assert_eq!(back, Some(offset));
        }
    }

    #[test]
    fn columns_from_checkpoints_match_counting(text in "(a|ç|€|😀|\n){0,1500}", pick in 0usize..6000) {
        let idx = LineIndex::new(&text);
        let offset = pick % (text.len() + 1);
        let lc = idx.line_col(&text, offset);
        // The naive answer: count the characters from the line start to the offset (rounded down to a boundary).
        let mut end = offset;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        prop_assert_eq!(lc.line, text[..end].matches('\n').count() + 1);
        prop_assert_eq!(lc.column, text[line_start..end].chars().count() + 1);
        prop_assert_eq!(idx.offset(&text, lc), Some(end));
        let past = LineCol { line: lc.line, column: text[line_start..].split('\n').next().unwrap_or("").chars().count() + 2 };
        prop_assert_eq!(idx.offset(&text, past), None);
    }

    #[test]
    fn line_col_never_panics(text in "\\PC{0,50}", offset in 0usize..200) {
        let idx = LineIndex::new(&text);
        let lc = idx.line_col(&text, offset);
        let min = LineCol { line: 1, column: 1 };
        prop_assert!(lc >= min);
    }


    #[test]
    fn info_strings_never_panic(info in "\\PC{0,80}") {
        let _ = InfoString::parse(&info);
    }

    #[test]
    fn matrix_parser_never_panics(text in "(\\PC|\n|: |- |&a|\\*a|\\[|\\]){0,200}") {
        if let Err(e) = Matrix::parse(&text) {
            prop_assert!(e.line >= 1);
        }
    }
}

#[test]
fn step_format_page_examples_are_illustrations() {
    // The format page shows steps inside four-backtick fences, so they are text, not steps.
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/step-format.md"
    ))
    .unwrap();
    let doc = parse_doc("docs/step-format.md".into(), page);
    assert!(doc.steps.is_empty());
    assert!(doc.step_problems.is_empty());
}

/// Runs `f` on another thread and fails the test if it takes longer than a minute: a read that
/// blocks (a FIFO) must fail the test, not hang the suite.
#[cfg(unix)]
fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("the read did not return within a minute")
}

#[cfg(unix)]
#[test]
fn fsio_refuses_fifos_and_symlinks_to_dev_zero_without_blocking() {
    use cdb_docs::fsio::{ReadError, read_text};
    let dir = std::env::temp_dir().join(format!("cdb-docs-fsio-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("pipe.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if made {
        let (f, d) = (fifo.clone(), dir.clone());
        let got = within_a_minute(move || read_text(&f, Some(&d), 1024));
        assert!(
            matches!(got, Err(ReadError::NotRegular { kind: "a FIFO" })),
            "{got:?}"
        );
    }
    let zero = dir.join("zero.yaml");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let (z, d) = (zero.clone(), dir.clone());
    let got = within_a_minute(move || read_text(&z, Some(&d), 1024));
    assert!(matches!(got, Err(ReadError::SymlinkEscapes)), "{got:?}");
    // Without a root to confine it, the device is still refused by type.
    let got = within_a_minute(move || read_text(&zero, None, 1024));
    assert!(
        matches!(
            got,
            Err(ReadError::NotRegular {
                kind: "a character device"
            })
        ),
        "{got:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Markdown model's spans stay inside the text it was given, whatever the text.
fn markdown_model_stays_inside(text: &str) -> Result<(), TestCaseError> {
    let doc = parse_doc("x.md".into(), text.to_owned());
    for h in &doc.md.headings {
        prop_assert!(h.span.end <= text.len());
    }
    for p in &doc.step_problems {
        prop_assert!(p.offset <= text.len());
    }
    Ok(())
}

/// Markdown's punctuation and any printable text, up to 300 characters.
const MARKDOWN: &str = "(\\PC|\n|`|#|\\[|\\]|\\(|\\)|\\{|\\}|=|\"|<|>|-){0,300}";

proptest! {
    // 64 cases in the fast tier (each parse is unoptimised pulldown-cmark in a debug build: the
    // default 256 took 3 s, the whole of this binary's time); the slow tier's form takes 1,024.
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn markdown_model_never_panics(text in MARKDOWN) {
        markdown_model_stays_inside(&text)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]
    #[test]
    #[ignore = "slow tier: 1,024 generated Markdown texts (README, Two commands)"]
    fn markdown_model_never_panics_on_many_texts(text in MARKDOWN) {
        markdown_model_stays_inside(&text)?;
    }
}
