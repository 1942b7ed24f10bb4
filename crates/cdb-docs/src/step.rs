//! Executable steps: fenced blocks marked `.step`, with their id, class, phase and timing.
//!
//! The format is documented in `docs/step-format.md`. This module turns a
//! [`CodeBlock`] into a [`Step`] and reports every way a block can break the
//! format as a [`StepProblem`]; it never rejects a document.

use crate::Span;
use crate::duration::Duration;
use crate::markdown::CodeBlock;
use std::fmt;
use std::str::FromStr;

/// The phases a step can serve, in the order a drill runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Contain,
    PreCheck,
    Rotate,
    Verify,
    Revoke,
    Rollback,
    Escalate,
    Communicate,
    PostCheck,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::Contain,
        Phase::PreCheck,
        Phase::Rotate,
        Phase::Verify,
        Phase::Revoke,
        Phase::Rollback,
        Phase::Escalate,
        Phase::Communicate,
        Phase::PostCheck,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Contain => "contain",
            Phase::PreCheck => "pre-check",
            Phase::Rotate => "rotate",
            Phase::Verify => "verify",
            Phase::Revoke => "revoke",
            Phase::Rollback => "rollback",
            Phase::Escalate => "escalate",
            Phase::Communicate => "communicate",
            Phase::PostCheck => "post-check",
        }
    }
}

impl FromStr for Phase {
    type Err = ();
    fn from_str(s: &str) -> Result<Phase, ()> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s).ok_or(())
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which trigger a step applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Trigger {
    Routine,
    Leak,
    Any,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Routine => "routine",
            Trigger::Leak => "leak",
            Trigger::Any => "any",
        }
    }

    /// Whether a step marked `self` runs for a drill triggered by `trigger`.
    pub fn applies_to(self, trigger: Trigger) -> bool {
        self == Trigger::Any || trigger == Trigger::Any || self == trigger
    }
}

impl FromStr for Trigger {
    type Err = ();
    fn from_str(s: &str) -> Result<Trigger, ()> {
        match s {
            "routine" => Ok(Trigger::Routine),
            "leak" => Ok(Trigger::Leak),
            "any" => Ok(Trigger::Any),
            _ => Err(()),
        }
    }
}

/// One executable step, as the drill engine and the checks see it.
#[derive(Clone, Debug)]
pub struct Step {
    pub id: String,
    pub class: String,
    pub phase: Phase,
    pub when: Trigger,
    /// Simulated duration (`time=`, default 30 s).
    pub time: Duration,
    pub manual: bool,
    /// The effect id of a manual step.
    pub effect: Option<String>,
    /// `proven-by=ID`: the earlier step of the class that proves the new value works where it
    /// is used, which a step deleting or revoking an old value before Verify relies on
    /// (docs/step-format.md; `cargo xtask rotate` runs such a step only after that one passed).
    pub proven_by: Option<String>,
    pub lang: String,
    pub body: String,
    /// Path of the document, relative to the root, with `/` separators.
    pub path: String,
    /// The whole block and its opening fence line.
    pub span: Span,
    pub fence_span: Span,
    /// Anchor of the nearest level-2 heading above the step (its class section).
    pub section: Option<String>,
}

/// A way a `.step` block breaks the format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepProblem {
    /// Offset in the document where the problem is best shown.
    pub offset: usize,
    pub message: String,
}

/// The default simulated duration of a step without `time=`.
pub const DEFAULT_STEP_TIME: Duration = Duration::from_secs(30);

const KNOWN_KEYS: &[&str] = &[
    "class",
    "phase",
    "time",
    "when",
    "manual",
    "effect",
    "title",
    "proven-by",
];

/// Reads a step from a fenced block. Returns `None` when the block is not marked `.step`
/// (an illustration); otherwise the step, if it is usable, and every problem found.
pub fn parse_step(
    block: &CodeBlock,
    path: &str,
    section: Option<String>,
) -> Option<(Option<Step>, Vec<StepProblem>)> {
    let attrs = &block.info.attrs;
    if !attrs.has_class("step") {
        return None;
    }
    // Offsets inside the info string map into the fence line: the info starts after the backticks.
    let fence_text_offset = block.fence_span.start;
    let info_offset =
        fence_text_offset + block.fence_span.len().saturating_sub(block.info_raw.len());
    let mut problems: Vec<StepProblem> = block
        .info
        .problems
        .iter()
        .map(|(at, msg)| StepProblem {
            offset: info_offset + at,
            message: format!("malformed attribute list: {msg}"),
        })
        .collect();
    let at = fence_text_offset;
    let mut problem = |message: String| {
        problems.push(StepProblem {
            offset: at,
            message,
        })
    };

    let id = match &attrs.id {
        Some(id) if is_kebab(id) => Some(id.clone()),
        Some(id) => {
            problem(format!(
                "step id `{id}` is not kebab-case (lowercase letters, digits and `-`)"
            ));
            None
        }
        None => {
            problem("step has no id: add `#<class>-<phase>-<what>` to its attribute list".into());
            None
        }
    };
    let class = match attrs.get("class") {
        Some(c) if !c.is_empty() => Some(c.to_owned()),
        _ => {
            problem("step has no `class=`".into());
            None
        }
    };
    let phase = match attrs.get("phase") {
        Some(p) => match p.parse::<Phase>() {
            Ok(p) => Some(p),
            Err(()) => {
                let known: Vec<_> = Phase::ALL.iter().map(|p| p.as_str()).collect();
                problem(format!("unknown phase `{p}` (known: {})", known.join(", ")));
                None
            }
        },
        None => {
            problem("step has no `phase=`".into());
            None
        }
    };
    let when = match attrs.get("when") {
        None => Trigger::Any,
        Some(w) => w.parse().unwrap_or_else(|()| {
            problem(format!("unknown `when={w}` (use routine, leak or any)"));
            Trigger::Any
        }),
    };
    let time = match attrs.get("time") {
        None => DEFAULT_STEP_TIME,
        Some(t) => t.parse().unwrap_or_else(|e| {
            problem(format!("bad `time=`: {e}"));
            DEFAULT_STEP_TIME
        }),
    };
    let manual = match attrs.get("manual") {
        None | Some("false") => false,
        Some("true") => true,
        Some(v) => {
            problem(format!("`manual={v}` must be true or false"));
            false
        }
    };
    let effect = attrs.get("effect").map(str::to_owned);
    if manual && effect.is_none() {
        problem("manual step has no `effect=` saying what it does to the world".into());
    }
    if !manual && effect.is_some() {
        problem("`effect=` is only for manual steps".into());
    }
    let proven_by = attrs.get("proven-by").map(str::to_owned);
    if let Some(p) = &proven_by
        && !is_kebab(p)
    {
        problem(format!("`proven-by={p}` must name a step id (kebab-case)"));
    }
    let lang = block.info.lang.clone().unwrap_or_default();
    if !manual && !matches!(lang.as_str(), "bash" | "sh" | "shell") {
        problem(format!(
            "executable step must be `bash`, not `{lang}` (or mark it `manual=true`)"
        ));
    }
    for (k, _) in &attrs.pairs {
        if !KNOWN_KEYS.contains(&k.as_str()) {
            problem(format!("unknown step attribute `{k}`"));
        }
    }
    if block.body.trim().is_empty() {
        problem("step has an empty body".into());
    }
    let step = match (id, class, phase) {
        (Some(id), Some(class), Some(phase)) => Some(Step {
            id,
            class,
            phase,
            when,
            time,
            manual,
            effect,
            proven_by,
            lang,
            body: block.body.clone(),
            path: path.to_owned(),
            span: block.span.clone(),
            fence_span: block.fence_span.clone(),
            section,
        }),
        _ => None,
    };
    Some((step, problems))
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::MdDoc;

    fn steps(text: &str) -> Vec<(Option<Step>, Vec<StepProblem>)> {
        MdDoc::parse(text)
            .code_blocks
            .iter()
            .filter_map(|b| parse_step(b, "x.md", None))
            .collect()
    }

    #[test]
    fn reads_a_well_formed_step() {
        let s = steps(
            "```bash {#database-rotate-x .step class=database phase=rotate time=2m when=leak}\ntrue\n```\n",
        );
        let (step, problems) = &s[0];
        assert!(problems.is_empty(), "{problems:?}");
        let step = step
            .as_ref()
            .map(|s| (s.id.as_str(), s.phase, s.when, s.time.secs));
        assert_eq!(
            step,
            Some(("database-rotate-x", Phase::Rotate, Trigger::Leak, 120))
        );
    }

    #[test]
    fn ignores_illustrations_and_reports_problems() {
        assert!(steps("```bash\ntrue\n```\n").is_empty());
        let s = steps("```bash {.step class=database phase=rotat}\ntrue\n```\n");
        let msgs: Vec<_> = s[0].1.iter().map(|p| p.message.as_str()).collect();
        assert!(msgs.iter().any(|m| m.contains("no id")));
        assert!(msgs.iter().any(|m| m.contains("unknown phase `rotat`")));
        assert!(s[0].0.is_none());
        let s = steps("```text {#x .step class=exchange phase=rotate manual=true}\nclick\n```\n");
        assert!(s[0].1.iter().any(|p| p.message.contains("no `effect=`")));
    }
}
