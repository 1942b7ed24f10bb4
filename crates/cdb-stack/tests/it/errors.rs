//! Input outside the model is an error naming the file, line and column, never a default or a panic.

use cdb_stack::{Description, Source, StackError, parse_file};
use proptest::prelude::*;

fn err(text: &str) -> StackError {
    match parse_file("dir/compose.yml", text) {
        Ok(f) => panic!("expected an error, parsed {f:?}"),
        Err(e) => e,
    }
}

fn at(e: &StackError) -> (usize, usize) {
    assert_eq!(e.at.file, "dir/compose.yml");
    (e.at.line, e.at.column)
}

#[test]
fn malformed_yaml_names_the_line() {
    let e = err("services:\n  a:\n    image: [unclosed\n");
    assert!(e.message.starts_with("not valid YAML"), "{e}");
    assert!(e.at.line >= 3, "{e}");
}

#[test]
fn an_unknown_top_level_key_is_an_error_at_the_key() {
    let e = err("name: p\nservice:\n  a:\n    image: x\n");
    assert_eq!(at(&e), (2, 1));
    assert!(e.message.contains("unknown top-level key `service`"), "{e}");
    assert!(e.to_string().starts_with("dir/compose.yml:2:1: "));
}

#[test]
fn x_extensions_and_version_are_ignored() {
    let f = parse_file(
        "c.yml",
        "version: '3.9'\nx-common: &c\n  restart: always\nname: p\nservices:\n  a:\n    image: x\n    x-note: kept out\n",
    )
    .expect("valid");
    assert_eq!(f.services.len(), 1);
}

#[test]
fn extends_is_not_supported() {
    let e = err("services:\n  a:\n    image: x\n  b:\n    extends:\n      service: a\n");
    assert_eq!(at(&e), (5, 5));
    assert!(e.message.contains("`extends`"), "{e}");
}

#[test]
fn include_is_not_supported() {
    let e = err("include:\n  - other.yml\nservices: {}\n");
    assert_eq!(at(&e), (1, 1));
    assert!(e.message.contains("`include`"), "{e}");
}

#[test]
fn a_secret_without_file_is_an_error() {
    let e = err("secrets:\n  token:\n    name: t\n");
    assert_eq!(at(&e), (2, 3));
    assert!(e.message.contains("secret `token` has no `file:`"), "{e}");
    let e = err("secrets:\n  token:\n    environment: TOKEN\n");
    assert_eq!(at(&e), (3, 5));
    let e = err("secrets:\n  token:\n");
    assert!(e.message.contains("must be a mapping"), "{e}");
}

#[test]
fn an_unknown_service_key_and_env_file_are_errors() {
    let e = err("services:\n  a:\n    image: x\n    imgae: y\n");
    assert_eq!(at(&e), (4, 5));
    assert!(
        e.message.contains("unknown key `imgae` in service `a`"),
        "{e}"
    );
    let e = err("services:\n  a:\n    env_file: .env\n");
    assert!(e.message.contains("`env_file`"), "{e}");
}

#[test]
fn duplicate_keys_and_variables_are_errors() {
    let e = err("services:\n  a:\n    environment:\n      - A=1\n      - A=2\n");
    assert_eq!(at(&e), (5, 9));
    assert!(e.message.contains("`A` is set twice"), "{e}");
}

#[test]
fn wrong_shapes_name_the_value() {
    let e = err("services:\n  a:\n    ports: 8080\n");
    assert_eq!(at(&e), (3, 12));
    assert!(e.message.contains("`ports` must be a list"), "{e}");
    let e = err("services:\n  a:\n    volumes:\n      - a:b:c:d\n");
    assert!(e.message.contains("cannot read volume"), "{e}");
    let e = err("- a\n- b\n");
    assert!(
        e.message.contains("a Compose file must be a mapping"),
        "{e}"
    );
    let e = err("");
    assert!(e.message.contains("empty"), "{e}");
}

#[test]
fn an_undeclared_secret_is_an_error_of_the_project() {
    let src = Source {
        path: "p.yml".into(),
        text: "name: p\nservices:\n  a:\n    image: x\n    secrets:\n      - missing\n".into(),
    };
    let errors = Description::parse(&[src]).expect_err("undeclared");
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].at.line, errors[0].at.column), (6, 9));
    assert!(errors[0].message.contains("`missing`"), "{}", errors[0]);
}

#[test]
fn an_overlay_naming_no_known_service_is_an_error() {
    let base = Source {
        path: "base.yml".into(),
        text: "name: p\nservices:\n  a:\n    image: x\n".into(),
    };
    let overlay = Source {
        path: "over.yml".into(),
        text: "services:\n  b:\n    environment:\n      X: '1'\n".into(),
    };
    let errors = Description::parse(&[base, overlay]).expect_err("unknown service");
    assert_eq!(errors[0].at.file, "over.yml");
    assert_eq!((errors[0].at.line, errors[0].at.column), (2, 3));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Arbitrary YAML-ish text never panics; an error always has a 1-based position in the file.
    #[test]
    fn never_panics(text in "(services|secrets|name|volumes|networks|x-a|file|image|  |    |- |: |\\$\\(cat /run/secrets/a\\)|\\[|\\]|\\{|\\}|&a |\\*a|<<: |\"|'|#|\n|[a-z0-9_]{1,6}){0,40}") {
        let sources = [Source { path: "f.yml".into(), text: text.clone() }];
        if let Err(errors) = Description::parse(&sources) {
            prop_assert!(!errors.is_empty());
            for e in errors {
                prop_assert_eq!(e.at.file.as_str(), "f.yml");
                prop_assert!(e.at.line >= 1 && e.at.column >= 1);
            }
        }
        let _ = parse_file("f.yml", &text);
    }

    /// Any byte string read as text (lossily) never panics either.
    #[test]
    fn never_panics_on_noise(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_file("f.yml", &text);
    }
}
