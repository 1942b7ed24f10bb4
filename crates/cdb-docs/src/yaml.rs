//! The one wrapper around serde-saphyr: YAML into typed data, errors with a 1-based line and column.
//!
//! The matrix and the drill scenarios both parse through [`from_str`], so both
//! get the parser's default budgets (alias bombs, depth, size are errors, not
//! hangs) and the same error shape.

use serde::de::DeserializeOwned;
use std::fmt;

pub use serde_saphyr::Spanned;

/// Why a YAML text did not parse into the wanted type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses `text` into `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    let mut opts = serde_saphyr::Options::default();
    opts.with_snippet = false;
    serde_saphyr::from_str_with_options::<T>(text, opts).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| {
            ((l.line() as usize).max(1), (l.column() as usize).max(1))
        });
        let message = e.to_string();
        // The library's message may carry more lines (a snippet); the first says what is wrong.
        let message = message
            .lines()
            .next()
            .unwrap_or("invalid YAML")
            .trim()
            .to_owned();
        YamlError {
            line,
            column,
            message,
        }
    })
}

/// A 1-based position of a spanned value.
pub fn pos<T>(s: &Spanned<T>) -> (usize, usize) {
    let loc = s.referenced;
    (loc.line() as usize, loc.column() as usize)
}

/// A YAML document as a generic tree whose every value carries its position.
///
/// Typed structs suit formats with a fixed schema (the matrix); formats with
/// open-ended keys, such as Compose files (`x-` extensions, service names),
/// are easier to check key by key, and every error there must still name a
/// line and column. Scalars keep their YAML type as the parser resolved it.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    /// Entries in document order; keys are scalars rendered as text.
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl Node {
    /// A scalar as text (`true`, `8009`, `abc`); `None` for null, sequences and mappings.
    pub fn as_scalar_text(&self) -> Option<String> {
        match self {
            Node::Bool(b) => Some(b.to_string()),
            Node::Int(i) => Some(i.to_string()),
            Node::Float(f) => Some(f.to_string()),
            Node::Str(s) => Some(s.clone()),
            Node::Null | Node::Seq(_) | Node::Map(_) => None,
        }
    }

    /// What kind of node this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Int(_) | Node::Float(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a sequence",
            Node::Map(_) => "a mapping",
        }
    }
}

/// A mapping key: any scalar, kept as text (Compose keys are strings, but `8080:` is a valid YAML key).
struct KeyText(String);

impl<'de> serde::Deserialize<'de> for KeyText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeyText, D::Error> {
        match <Node as serde::Deserialize>::deserialize(d)? {
            Node::Null => Ok(KeyText(String::new())),
            n => n
                .as_scalar_text()
                .map(KeyText)
                .ok_or_else(|| serde::de::Error::custom("a mapping key must be a scalar")),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D2: serde::Deserializer<'de>>(self, d: D2) -> Result<Node, D2::Error> {
                <Node as serde::Deserialize>::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Int(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Int(v.into()))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
                Ok(Node::Int(v))
            }
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Node, E> {
                i128::try_from(v)
                    .map(Node::Int)
                    .map_err(|_| E::custom("integer out of range"))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = a.next_element::<Spanned<Node>>()? {
                    items.push(item);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(k) = a.next_key::<Spanned<KeyText>>()? {
                    let v = a.next_value::<Spanned<Node>>()?;
                    let key = Spanned {
                        value: k.value.0,
                        referenced: k.referenced,
                        defined: k.defined,
                    };
                    entries.push((key, v));
                }
                Ok(Node::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses `text` into a [`Node`] tree with positions (an empty document is [`Node::Null`]).
pub fn tree(text: &str) -> Result<Spanned<Node>, YamlError> {
    if text.trim().is_empty() {
        return from_str::<Spanned<Node>>("~");
    }
    from_str::<Spanned<Node>>(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // Only its parse matters.
    struct T {
        a: u32,
    }

    #[test]
    fn errors_carry_line_and_column() {
        let e = from_str::<T>("a: 1\nb: 2\n").expect_err("unknown field");
        assert_eq!(e.line, 2, "{e}");
        assert_eq!(
            e.to_string(),
            format!("{}:{}: {}", e.line, e.column, e.message)
        );
        assert!(e.message.contains("unknown field `b`"), "{e}");
    }
}
