//! `yaml::tree` (a generic tree with a position on every value) and `MdDoc::code_spans`.

use cdb_docs::MdDoc;
use cdb_docs::yaml::{Node, pos, tree};

#[test]
fn every_value_has_its_position() {
    let t = tree("a: 1\nb:\n  - x\n  - {c: true, d: ~}\n").expect("valid");
    let Node::Map(entries) = &t.value else {
        panic!("a mapping: {t:?}")
    };
    assert_eq!(entries[0].0.value, "a");
    assert_eq!(entries[0].1.value, Node::Int(1));
    assert_eq!(pos(&entries[0].1), (1, 4));
    let Node::Seq(items) = &entries[1].1.value else {
        panic!("a sequence")
    };
    assert_eq!(pos(&items[0]), (3, 5));
    assert_eq!(items[0].value, Node::Str("x".into()));
    let Node::Map(inner) = &items[1].value else {
        panic!("a mapping")
    };
    assert_eq!(pos(&inner[0].0), (4, 6));
    assert_eq!(inner[0].1.value, Node::Bool(true));
    assert_eq!(inner[1].1.value, Node::Null);
}

#[test]
fn scalar_keys_become_text_and_empty_is_null() {
    let t = tree("8080: port\n").expect("valid");
    let Node::Map(entries) = &t.value else {
        panic!("a mapping")
    };
    assert_eq!(entries[0].0.value, "8080");
    assert_eq!(tree("").expect("empty").value, Node::Null);
    assert_eq!(tree("  \n").expect("blank").value, Node::Null);
}

#[test]
fn bad_yaml_and_alias_bombs_are_errors_with_a_line() {
    let e = tree("a: [1,\n").expect_err("unclosed");
    assert!(e.line >= 1 && e.column >= 1);
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    let e = tree(&bomb).expect_err("an alias bomb is refused, not expanded");
    assert!(e.line >= 1, "{e}");
}

#[test]
fn code_spans_outside_headings_are_collected() {
    let text = "### `NAME`\n\n- **Consumers:** `svc_a`, `svc_b`\n\n```sh\necho `x`\n```\n";
    let md = MdDoc::parse(text);
    let spans: Vec<(&str, &str)> = md
        .code_spans
        .iter()
        .map(|(t, s)| (t.as_str(), &text[s.clone()]))
        .collect();
    assert_eq!(spans, [("svc_a", "`svc_a`"), ("svc_b", "`svc_b`")]);
    assert_eq!(md.headings[0].text, "NAME");
}
