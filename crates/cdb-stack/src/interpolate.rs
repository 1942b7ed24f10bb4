//! Compose's variable interpolation (`${VAR:-default}` and its forms), for values the model resolves.
//!
//! The model keeps values as written (compose.rs); a caller that needs what Compose would
//! run (the image an overlay pins under one environment, `rollback.yml`'s
//! `${ROLLBACK_TAG:-latest}`) resolves them here with its own lookup. The forms are those of
//! the Compose specification's "Interpolation" section
//! (docs.docker.com/reference/compose-file/interpolation/): `$VAR`, `${VAR}`,
//! `${VAR:-default}` / `${VAR-default}` (default when unset or empty / unset),
//! `${VAR:?message}` / `${VAR?message}` (an error), `${VAR:+replacement}` /
//! `${VAR+replacement}`, and `$$` for a literal `$`. Nested expressions in a default are
//! outside the model and an error, never a silent default.

/// Resolves every variable of `text` with `lookup` (None: the variable is unset).
pub fn interpolate(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                return Err(format!("unclosed `${{` in `{text}`"));
            };
            out.push_str(&braced(&body[..end], text, lookup)?);
            rest = &body[end + 1..];
        } else {
            let n = name_len(after);
            if n == 0 {
                return Err(format!(
                    "a `$` with no variable name in `{text}` (write `$$`)"
                ));
            }
            out.push_str(&lookup(&after[..n]).unwrap_or_default());
            rest = &after[n..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The length of the variable name at the start of `s` (`[A-Za-z_][A-Za-z0-9_]*`).
fn name_len(s: &str) -> usize {
    let mut n = 0;
    for (i, c) in s.char_indices() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        n = i + c.len_utf8();
    }
    n
}

/// One `${…}` expression.
fn braced(
    expr: &str,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let n = name_len(expr);
    if n == 0 {
        return Err(format!("`${{{expr}}}` names no variable in `{text}`"));
    }
    let (name, op) = expr.split_at(n);
    if op.contains('$') {
        return Err(format!(
            "`${{{expr}}}` in `{text}`: a nested expression is not supported by the stack model"
        ));
    }
    let value = lookup(name);
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let (present, arg) = if let Some(a) = op.strip_prefix(":-") {
        return Ok(if non_empty {
            value.unwrap_or_default()
        } else {
            a.to_owned()
        });
    } else if let Some(a) = op.strip_prefix('-') {
        return Ok(if set {
            value.unwrap_or_default()
        } else {
            a.to_owned()
        });
    } else if let Some(a) = op.strip_prefix(":?") {
        (non_empty, a)
    } else if let Some(a) = op.strip_prefix('?') {
        (set, a)
    } else if let Some(a) = op.strip_prefix(":+") {
        return Ok(if non_empty {
            a.to_owned()
        } else {
            String::new()
        });
    } else if let Some(a) = op.strip_prefix('+') {
        return Ok(if set { a.to_owned() } else { String::new() });
    } else if op.is_empty() {
        return Ok(value.unwrap_or_default());
    } else {
        return Err(format!(
            "`${{{expr}}}` in `{text}`: unknown interpolation form"
        ));
    };
    if present {
        Ok(value.unwrap_or_default())
    } else {
        Err(format!(
            "required variable {name} is missing a value: {arg}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::interpolate;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_rollback_pin_resolves_as_compose_does() {
        let pin = "${COMPOSE_PROJECT_NAME:-claire_de_binare}_cdb_risk:${ROLLBACK_TAG:-latest}";
        let none = env(&[]);
        assert_eq!(
            interpolate(pin, &none).as_deref(),
            Ok("claire_de_binare_cdb_risk:latest")
        );
        let set = env(&[("COMPOSE_PROJECT_NAME", "cdb-blue"), ("ROLLBACK_TAG", "r1")]);
        assert_eq!(
            interpolate(pin, &set).as_deref(),
            Ok("cdb-blue_cdb_risk:r1")
        );
        // `:-` also replaces an empty value; `-` only an unset one.
        let empty = env(&[("ROLLBACK_TAG", "")]);
        assert_eq!(
            interpolate("x:${ROLLBACK_TAG:-latest}", &empty).as_deref(),
            Ok("x:latest")
        );
        assert_eq!(
            interpolate("x:${ROLLBACK_TAG-latest}", &empty).as_deref(),
            Ok("x:")
        );
    }

    #[test]
    fn required_escapes_and_errors() {
        let none = env(&[]);
        let e = interpolate("${SECRETS_PATH:?SECRETS_PATH must be set}/F", &none);
        assert_eq!(
            e,
            Err(
                "required variable SECRETS_PATH is missing a value: SECRETS_PATH must be set"
                    .into()
            )
        );
        assert_eq!(
            interpolate("a$$b $X.", &env(&[("X", "1")])).as_deref(),
            Ok("a$b 1.")
        );
        assert_eq!(
            interpolate("${X:+on}", &env(&[("X", "1")])).as_deref(),
            Ok("on")
        );
        assert!(interpolate("${X", &none).is_err());
        assert!(interpolate("${X:-${Y}}", &none).is_err());
        assert!(interpolate("${X/a/b}", &none).is_err());
        assert!(interpolate("cost $5", &none).is_err());
    }
}
