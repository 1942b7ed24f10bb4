//! Rule `step-history-expansion`: a step must survive being pasted into an interactive shell.
//!
//! Operators paste steps into Git Bash, WSL or a Linux terminal, where history
//! expansion is on: an unquoted `!word` (as in the glob `[!a-z]`) is replaced
//! by a history event or fails with "event not found", so the pasted step is
//! not the step that was tested.

use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;

pub static META: RuleMeta = RuleMeta {
    id: "step-history-expansion",
    group: "steps",
    severity: Severity::Error,
    summary: "a bash step holds a `!` that interactive bash would history-expand when pasted (use `[^…]` or single quotes)",
};

pub const RULE: Rule = Rule::hub(&META, check);

/// Byte offsets (in `body`) of every `!` that interactive bash would expand.
pub fn hazards(body: &str) -> Vec<usize> {
    let b = body.as_bytes();
    let mut out = Vec::new();
    let mut in_single = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_single {
            in_single = c != b'\'';
        } else if c == b'\\' {
            i += 1; // The next character is quoted.
        } else if c == b'\'' {
            in_single = true;
        } else if c == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()) {
            // A comment runs to the end of the line; bash expands history there too,
            // but a comment is not part of what the step does.
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'!' {
            let next = b.get(i + 1).copied();
            let prev = i.checked_sub(1).map(|p| b[p]);
            // Bash leaves `!` alone before blanks, `=`, `(` and at the end of a word,
            // and `$!` is a parameter.
            let inert = matches!(
                next,
                None | Some(b' ' | b'\t' | b'\n' | b'=' | b'(' | b'"' | b';' | b')')
            ) || prev == Some(b'$');
            if !inert {
                out.push(i);
            }
        }
        i += 1;
    }
    out
}

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    for doc in &ctx.hub.docs {
        for step in doc.steps.iter().filter(|s| !s.manual) {
            // The body starts on the line after the opening fence.
            let body_start = doc.text[step.span.clone()]
                .find('\n')
                .map_or(step.span.start, |n| step.span.start + n + 1);
            for at in hazards(&step.body) {
                sink.at_offset(
                    doc,
                    body_start + at,
                    format!("step `{}`: `!` here is history-expanded when pasted into an interactive shell", step.id),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::hazards;

    #[test]
    fn finds_only_expanding_bangs() {
        assert_eq!(hazards("case $x in *[!a-z]*) ;; esac"), vec![13]);
        assert_eq!(hazards("echo \"!prev\""), vec![6]);
        assert!(
            hazards("if ! true; then :; fi; [ a != b ]; echo $!; echo '!x'; echo \\!x").is_empty()
        );
        assert!(hazards("# a comment about !history\ntrue").is_empty());
    }
}
