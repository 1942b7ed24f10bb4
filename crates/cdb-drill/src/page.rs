//! The sweep as one self-contained HTML page (`drill --sweep --format html`): the class × fault
//! grid coloured by outcome, each case a link to its journal excerpt further down the page.
//!
//! No external asset, no script: the styles are inline, the links are in-page anchors, so the
//! page reads the same from a CI artifact opened offline. Every text from the sweep goes
//! through [`escape`].

use crate::summary::{Grid, counts};
use crate::sweep::{CaseResult, Outcome, Sweep};
// Writing into a String cannot fail: each `let _ = write!(…)` below drops an `Ok(())`.
use std::fmt::Write as _;

/// Text safe in HTML content and in a quoted attribute.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The CSS class of an outcome (cell colour and badge).
fn css(o: Outcome) -> &'static str {
    match o {
        Outcome::Recovered => "r",
        Outcome::DetectedNotRecovered => "d",
        Outcome::Undetected => "u",
        Outcome::NotApplicable => "n",
    }
}

fn words(o: Outcome) -> &'static str {
    match o {
        Outcome::Recovered => "detected and recovered",
        Outcome::DetectedNotRecovered => "detected, not recovered",
        Outcome::Undetected => "undetected",
        Outcome::NotApplicable => "not applicable (no effect there)",
    }
}

/// The anchor of the case at index `i` of the sweep.
fn anchor(i: usize) -> String {
    format!("case-{}", i + 1)
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#1f2328;background:#fff;line-height:1.4}
h1{font-size:1.6em}h2{font-size:1.3em;margin-top:2em}h3{font-size:1.05em;font-family:ui-monospace,monospace}
table.grid{border-collapse:collapse;margin:1em 0}
.grid th,.grid td{border:1px solid #d0d7de;padding:.35em .5em;text-align:center;vertical-align:middle}
.grid th.fault{text-align:left;font-family:ui-monospace,monospace;font-weight:normal}
.grid td.x{color:#8c959f}
td.r{background:#d1f0d6}td.d{background:#ffe2b3}td.u{background:#ffc9c9}td.n{background:#eaeef2}
a.b{display:inline-block;min-width:1.3em;margin:1px;padding:0 .2em;border-radius:3px;text-decoration:none;font-weight:bold;font-family:ui-monospace,monospace;color:#1f2328;border:1px solid #8c959f}
span.b{display:inline-block;min-width:1.3em;padding:0 .2em;border-radius:3px;font-weight:bold;font-family:ui-monospace,monospace;border:1px solid #8c959f;text-align:center}
.b.r{background:#4ac26b}.b.d{background:#f0a030}.b.u{background:#ff6b6b}.b.n{background:#d0d7de}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;font-size:.85em}
section.case{border-top:1px solid #d0d7de;padding-top:.3em}
section.case:target{background:#fff8c5}
.legend span.b{margin-right:.2em}.legend{margin:.5em 0}
";

/// The page. `seed`: the sweep's seed (shown, so a reader can rerun it).
pub fn html(s: &Sweep, seed: u64) -> String {
    let count = |o: Outcome| s.cases.iter().filter(|c| c.outcome == o).count();
    let gaps = s.gaps().count();
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Fault sweep: {} cases, {gaps} gaps</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        s.cases.len()
    );
    let _ = writeln!(o, "<h1>Fault sweep of the rotation runbook</h1>");
    let _ = writeln!(
        o,
        "<p>{} cases (class × fault × trigger × injection point), seed {seed}: {} recovered, {} detected but not recovered, {} undetected, {} not applicable. <strong>{gaps} gap(s)</strong>.</p>",
        s.cases.len(),
        count(Outcome::Recovered),
        count(Outcome::DetectedNotRecovered),
        count(Outcome::Undetected),
        count(Outcome::NotApplicable)
    );
    o.push_str("<p class=\"legend\">");
    for k in [
        Outcome::Undetected,
        Outcome::DetectedNotRecovered,
        Outcome::Recovered,
        Outcome::NotApplicable,
    ] {
        let _ = write!(
            o,
            "<span class=\"b {}\">{}</span> {} &nbsp; ",
            css(k),
            k.letter(),
            words(k)
        );
    }
    o.push_str("· fault does not apply to the class. A cell takes the colour of its worst case; each letter is one case and links to its journal excerpt.</p>\n");
    let bad: Vec<_> = s.baselines.iter().filter(|b| !b.passed).collect();
    if !bad.is_empty() {
        o.push_str("<h2>Failing baselines</h2>\n<ul>\n");
        for b in bad {
            let _ = writeln!(
                o,
                "<li><code>{}/{}</code> fails without any fault: {}</li>",
                escape(&b.class),
                escape(b.trigger.as_str()),
                escape(&b.reasons.join("; "))
            );
        }
        o.push_str("</ul>\n");
    }
    if gaps > 0 {
        o.push_str("<h2>Gaps</h2>\n<ul>\n");
        for (i, c) in s
            .cases
            .iter()
            .enumerate()
            .filter(|(_, c)| c.outcome.is_gap())
        {
            let _ = writeln!(
                o,
                "<li><a class=\"b {}\" href=\"#{}\">{}</a> <code>{}</code>: {}</li>",
                css(c.outcome),
                anchor(i),
                c.outcome.letter(),
                escape(&c.case),
                escape(words(c.outcome))
            );
        }
        o.push_str("</ul>\n");
    }
    grid(&mut o, s);
    o.push_str("<h2>Cases</h2>\n");
    for (i, c) in s.cases.iter().enumerate() {
        case(&mut o, s, i, c);
    }
    o.push_str("</body>\n</html>\n");
    o
}

fn grid(o: &mut String, s: &Sweep) {
    let g = Grid::new(s);
    o.push_str("<table class=\"grid\" id=\"grid\">\n<thead>\n<tr><th>fault \\ class</th>");
    for c in &g.classes {
        let _ = write!(o, "<th>{}</th>", escape(c));
    }
    o.push_str("</tr>\n</thead>\n<tbody>\n");
    for f in &g.faults {
        let _ = write!(o, "<tr><th class=\"fault\">{}</th>", escape(f));
        for class in &g.classes {
            let cases = g.cell(class, f);
            let Some((worst, _)) = counts(&cases).first().copied() else {
                o.push_str("<td class=\"x\">·</td>");
                continue;
            };
            let _ = write!(o, "<td class=\"{}\">", css(worst));
            for (i, c) in &cases {
                let _ = write!(
                    o,
                    "<a class=\"b {}\" href=\"#{}\" title=\"{}: {}\">{}</a>",
                    css(c.outcome),
                    anchor(*i),
                    escape(&c.case),
                    escape(words(c.outcome)),
                    c.outcome.letter()
                );
            }
            o.push_str("</td>");
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
}

fn case(o: &mut String, s: &Sweep, i: usize, c: &CaseResult) {
    let _ = writeln!(
        o,
        "<section class=\"case\" id=\"{}\">\n<h3><span class=\"b {}\">{}</span> {}</h3>",
        anchor(i),
        css(c.outcome),
        c.outcome.letter(),
        escape(&c.case)
    );
    o.push_str("<ul>\n");
    let _ = writeln!(
        o,
        "<li>class <code>{}</code>, trigger {}, fault <code>{}</code>{}, injected after <code>{}</code></li>",
        escape(&c.class),
        escape(c.trigger.as_str()),
        escape(&c.fault),
        c.target
            .as_ref()
            .map(|t| format!(" on <code>{}</code>", escape(t)))
            .unwrap_or_default(),
        escape(&c.after)
    );
    let _ = writeln!(
        o,
        "<li>{}: {}</li>",
        escape(words(c.outcome)),
        escape(&c.reason)
    );
    if let Some(d) = &c.detected_by {
        let _ = writeln!(o, "<li>detected by <code>{}</code></li>", escape(d));
    }
    if !c.should_have_caught.is_empty() {
        let _ = writeln!(
            o,
            "<li>should have been caught by: {}</li>",
            escape(&c.should_have_caught.join(", "))
        );
    }
    if let Some(rep) = &c.same_as {
        let link = s.cases.iter().position(|x| x.case == *rep).map_or_else(
            || format!("<code>{}</code>", escape(rep)),
            |k| {
                format!(
                    "<a href=\"#{}\"><code>{}</code></a>",
                    anchor(k),
                    escape(rep)
                )
            },
        );
        let _ = writeln!(
            o,
            "<li>not run: behaves as {link} (no step in between could trip the fault)</li>"
        );
    }
    o.push_str("</ul>\n");
    if !c.excerpt.is_empty() {
        let _ = writeln!(o, "<pre>{}</pre>", escape(&c.excerpt.join("\n")));
    }
    o.push_str("<p><a href=\"#grid\">back to the grid</a></p>\n</section>\n");
}
