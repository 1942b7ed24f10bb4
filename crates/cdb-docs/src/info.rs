//! Fenced-code info strings: the language word and the `{#id .class key=value}` attribute list.

/// The parsed info string of one fenced block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InfoString {
    /// The language: the first word, or the first class of a braces-only list.
    pub lang: Option<String>,
    pub attrs: Attrs,
    /// Problems found while parsing, with the byte offset inside the info string.
    pub problems: Vec<(usize, String)>,
}

/// An attribute list, in the order written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attrs {
    pub id: Option<String>,
    pub classes: Vec<String>,
    pub pairs: Vec<(String, String)>,
}

impl Attrs {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    pub fn has_class(&self, class: &str) -> bool {
        self.classes.iter().any(|c| c == class)
    }
}

impl InfoString {
    /// Parses `lang {attrs}`, `{.lang attrs}` or a bare `lang`. Never fails:
    /// malformed parts become `problems`.
    pub fn parse(info: &str) -> InfoString {
        let mut out = InfoString::default();
        let trimmed_start = info.len() - info.trim_start().len();
        let rest = &info[trimmed_start..];
        let (lang_part, brace_at) = match rest.find('{') {
            Some(i) => (&rest[..i], Some(trimmed_start + i)),
            None => (rest, None),
        };
        if let Some(word) = lang_part.split_whitespace().next() {
            out.lang = Some(word.trim_start_matches('.').to_owned());
        }
        if lang_part.split_whitespace().nth(1).is_some() && brace_at.is_none() {
            // Words after the language without braces are MkDocs options (`title="x"`);
            // we keep them as pairs when they look like key=value.
            for word in lang_part.split_whitespace().skip(1) {
                if let Some((k, v)) = word.split_once('=') {
                    out.attrs
                        .pairs
                        .push((k.to_owned(), v.trim_matches('"').to_owned()));
                }
            }
        }
        let Some(open) = brace_at else {
            return out;
        };
        let Some(close_rel) = info[open..].rfind('}') else {
            out.problems
                .push((open, "attribute list `{` is never closed".into()));
            return out;
        };
        let body = &info[open + 1..open + close_rel];
        if !info[open + close_rel + 1..].trim().is_empty() {
            out.problems
                .push((open + close_rel + 1, "text after the attribute list".into()));
        }
        parse_attrs(body, open + 1, &mut out);
        if out.lang.is_none() && !out.attrs.classes.is_empty() {
            out.lang = Some(out.attrs.classes.remove(0));
        }
        out
    }
}

fn parse_attrs(body: &str, base: usize, out: &mut InfoString) {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() || bytes[i] == b',' {
            i += 1;
            continue;
        }
        let start = i;
        // A token runs to the next whitespace outside quotes.
        let mut in_quote = false;
        while i < bytes.len() && (in_quote || !bytes[i].is_ascii_whitespace()) {
            if bytes[i] == b'"' {
                in_quote = !in_quote;
            }
            i += 1;
        }
        let tok = &body[start..i];
        if in_quote {
            out.problems
                .push((base + start, format!("unterminated quote in `{tok}`")));
            continue;
        }
        if let Some(id) = tok.strip_prefix('#') {
            if out.attrs.id.is_some() {
                out.problems
                    .push((base + start, format!("second id `{tok}`")));
            }
            out.attrs.id = Some(id.to_owned());
        } else if let Some(class) = tok.strip_prefix('.') {
            out.attrs.classes.push(class.to_owned());
        } else if let Some((k, v)) = tok.split_once('=') {
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            if k.is_empty() {
                out.problems
                    .push((base + start, format!("attribute `{tok}` has no key")));
            } else if out.attrs.get(k).is_some() {
                out.problems
                    .push((base + start, format!("attribute `{k}` given twice")));
            } else {
                out.attrs.pairs.push((k.to_owned(), v.to_owned()));
            }
        } else {
            out.problems.push((
                base + start,
                format!("`{tok}` is neither `#id`, `.class` nor `key=value`"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lang_and_attributes() {
        let i = InfoString::parse(
            r#"bash {#db-x .step class=database phase=rotate effect="a b" time=2m}"#,
        );
        assert_eq!(i.lang.as_deref(), Some("bash"));
        assert_eq!(i.attrs.id.as_deref(), Some("db-x"));
        assert!(i.attrs.has_class("step"));
        assert_eq!(i.attrs.get("effect"), Some("a b"));
        assert_eq!(i.attrs.get("time"), Some("2m"));
        assert!(i.problems.is_empty());
    }

    #[test]
    fn braces_only_takes_first_class_as_lang() {
        let i = InfoString::parse("{.bash #x}");
        assert_eq!(i.lang.as_deref(), Some("bash"));
        assert_eq!(i.attrs.id.as_deref(), Some("x"));
    }

    #[test]
    fn reports_malformed_lists() {
        assert!(!InfoString::parse("bash {#x").problems.is_empty());
        assert!(!InfoString::parse("bash {#x a=\"b}").problems.is_empty());
        assert!(
            !InfoString::parse("bash {#x class=a class=b}")
                .problems
                .is_empty()
        );
        assert!(!InfoString::parse("bash {weird}").problems.is_empty());
    }
}
