//! Rule `step-verdict`: a bash step behaves the same pasted into a terminal as in the drill.
//!
//! An interactive shell has no `-e`: a pasted step whose first command fails goes on with
//! the next, and one that prints nothing leaves the operator guessing whether it passed. So
//! every step runs its body in a subshell that sets `-euo pipefail` itself (a subshell, so a
//! failure never closes the operator's terminal), refuses to start without `SECRETS_PATH`
//! when it uses it, and ends with one verdict line, `PASS <id>` or `FAIL <id>: <reason>`.
//! The subshell's status is read by `case $?` on the line that closes it, never by `&&` or
//! `||`: bash ignores `set -e` inside any command whose status `&&` or `||` tests, so
//! `( set -e; … ) || echo FAIL` runs on past the first failure.

use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;

pub static META: RuleMeta = RuleMeta {
    id: "step-verdict",
    group: "steps",
    severity: Severity::Error,
    summary: "a bash step runs its body in `( set -euo pipefail` … `)`, checks `SECRETS_PATH` (and `CDB_TLS_DIR`) when it uses it, and ends with one `PASS <id>` / `FAIL <id>: <reason>` line",
};

pub const RULE: Rule = Rule::hub(&META, check);

/// The first line of every bash step.
pub const OPEN: &str = "( set -euo pipefail";

/// The guard a step that uses `SECRETS_PATH` has on its second line.
pub const GUARD_PREFIX: &str = ": \"${SECRETS_PATH:?";

/// The guard a step that uses the TLS folder `CDB_TLS_DIR` has before its first use.
pub const TLS_GUARD_PREFIX: &str = ": \"${CDB_TLS_DIR:?";

/// The line that closes a step with id `id`, up to the reason.
pub fn close_prefix(id: &str) -> String {
    format!("); case $? in 0) echo \"PASS {id}\" ;; *) echo \"FAIL {id}: ")
}

/// The suffix of the closing line, after the reason.
pub const CLOSE_SUFFIX: &str = "\"; false ;; esac";

/// What is wrong with `body` as a step with id `id`: (line index in the body, message).
pub fn problems(id: &str, body: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = body.lines().collect();
    let mut out = Vec::new();
    let Some(first) = lines.first() else {
        return vec![(0, format!("step `{id}` is empty"))];
    };
    if first.trim_end() != OPEN {
        out.push((
            0,
            format!(
                "step `{id}` must start with the line `{OPEN}` (its body runs in that subshell)"
            ),
        ));
    }
    let uses = lines
        .iter()
        .enumerate()
        .find(|(_, l)| l.contains("SECRETS_PATH"));
    if let Some((n, l)) = uses
        && !l.trim_start().starts_with(GUARD_PREFIX)
    {
        out.push((
            n,
            format!(
                "step `{id}` uses SECRETS_PATH before checking it is set: put `{GUARD_PREFIX}set SECRETS_PATH first}}\"` on the line after `{OPEN}`"
            ),
        ));
    }
    // The TLS folder is declared once in the Prerequisites too (`CDB_TLS_DIR`): a step that
    // uses it checks it the same way, before its first use.
    let uses_tls = lines
        .iter()
        .enumerate()
        .find(|(_, l)| l.contains("CDB_TLS_DIR"));
    if let Some((n, l)) = uses_tls
        && !l.trim_start().starts_with(TLS_GUARD_PREFIX)
    {
        out.push((
            n,
            format!(
                "step `{id}` uses CDB_TLS_DIR before checking it is set: put `{TLS_GUARD_PREFIX}set CDB_TLS_DIR first, see Prerequisites}}\"` before its first use"
            ),
        ));
    }
    let last_i = lines.len() - 1;
    let last = lines[last_i].trim_end();
    let prefix = close_prefix(id);
    let reason_ok = last
        .strip_prefix(prefix.as_str())
        .and_then(|r| r.strip_suffix(CLOSE_SUFFIX))
        .is_some_and(|reason| !reason.trim().is_empty() && !reason.contains('"'));
    if last_i == 0 || !reason_ok {
        out.push((
            last_i,
            format!(
                "step `{id}` must end with the line `{prefix}<reason>{CLOSE_SUFFIX}` (one verdict line, PASS or FAIL, naming this step)"
            ),
        ));
    }
    // The closing line is the only `PASS`: a second one could print success for a part.
    for (n, l) in lines.iter().enumerate().take(last_i) {
        if l.contains("echo \"PASS ") || l.contains("echo 'PASS ") {
            out.push((
                n,
                format!("step `{id}` prints a PASS verdict before its end"),
            ));
        }
    }
    out
}

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    for doc in &ctx.hub.docs {
        for step in doc.steps.iter().filter(|s| !s.manual) {
            let body_start = doc.text[step.span.clone()]
                .find('\n')
                .map_or(step.span.start, |n| step.span.start + n + 1);
            for (line, msg) in problems(&step.id, &step.body) {
                let offset = step
                    .body
                    .split_inclusive('\n')
                    .take(line)
                    .map(str::len)
                    .sum::<usize>();
                sink.at_offset(doc, body_start + offset, msg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(body: &str) -> String {
        format!(
            "{OPEN}\n{body}\n{}exit $?{CLOSE_SUFFIX}",
            close_prefix("a-b")
        )
    }

    #[test]
    fn a_wrapped_step_passes() {
        assert!(problems("a-b", &step("true")).is_empty());
        let guarded = step(&format!(
            "{GUARD_PREFIX}set it}}\"\ncat \"$SECRETS_PATH/X\""
        ));
        assert!(
            problems("a-b", &guarded).is_empty(),
            "{:?}",
            problems("a-b", &guarded)
        );
    }

    /// The TLS folder is checked like SECRETS_PATH (issue 12, defect 7: declared once, never
    /// an empty path that turns `$CDB_TLS_DIR/ca.crt` into `/ca.crt`).
    #[test]
    fn a_step_using_the_tls_folder_checks_it_first() {
        let bare = step("openssl verify -CAfile \"$CDB_TLS_DIR/ca.crt\" x");
        let p = problems("a-b", &bare);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, 1);
        assert!(p[0].1.contains("CDB_TLS_DIR"), "{p:?}");
        let guarded = step(&format!(
            "{TLS_GUARD_PREFIX}set CDB_TLS_DIR first, see Prerequisites}}\"\nopenssl verify -CAfile \"$CDB_TLS_DIR/ca.crt\" x"
        ));
        assert!(
            problems("a-b", &guarded).is_empty(),
            "{:?}",
            problems("a-b", &guarded)
        );
    }

    #[test]
    fn each_missing_part_is_named_on_its_line() {
        let p = problems("a-b", "cat \"$SECRETS_PATH/X\"");
        assert_eq!(p.len(), 3, "{p:?}");
        assert_eq!(p[0].0, 0);
        let unguarded = problems("a-b", &step("cat \"$SECRETS_PATH/X\""));
        assert_eq!(unguarded.len(), 1, "{unguarded:?}");
        assert_eq!(unguarded[0].0, 1);
        let wrong_id = step("true").replace("a-b", "c-d");
        assert_eq!(problems("a-b", &wrong_id).len(), 1);
        let early = step("echo \"PASS a-b\"");
        assert_eq!(problems("a-b", &early)[0].0, 1);
    }
}
