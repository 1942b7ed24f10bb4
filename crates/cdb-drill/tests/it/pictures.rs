//! What reviewers look at: the Mermaid gantt of the after-action reports (checked by a small
//! structural parser), the GitHub job summary (written only when a path is given), the sweep's
//! HTML page (well-formed, every class and fault, escaped), and output paths that cannot be
//! written, refused before anything runs.

use crate::{drill, fixture, mock_exe};
use cdb_drill::sweep::{Baseline, CaseResult, Outcome, Sweep};
use std::collections::BTreeSet;
use std::path::Path;

/// One task line of a Mermaid gantt.
#[derive(Debug)]
pub struct Task {
    pub section: String,
    pub name: String,
    pub tags: Vec<String>,
    pub id: String,
    pub start: u64,
    pub end: u64,
}

fn secs(hms: &str) -> Result<u64, String> {
    let p: Vec<&str> = hms.split(':').collect();
    let ok = p.len() == 3
        && p.iter()
            .all(|x| x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return Err(format!("`{hms}` is not HH:mm:ss"));
    }
    let n: Vec<u64> = p.iter().map(|x| x.parse().unwrap()).collect();
    if n[1] > 59 || n[2] > 59 || n[0] > 23 {
        return Err(format!("`{hms}` is out of range"));
    }
    Ok(n[0] * 3600 + n[1] * 60 + n[2])
}

/// Parses the one ```mermaid gantt block of `md` as Mermaid reads it for the subset the reports
/// use: the header lines, `section` lines and tasks `name :tags…, id, HH:mm:ss, HH:mm:ss`.
/// Every task must end no earlier than it starts, ids are unique, tags known.
pub fn gantt(md: &str) -> Result<Vec<Task>, String> {
    let blocks: Vec<&str> = md.split("```mermaid\n").skip(1).collect();
    let [block] = blocks.as_slice() else {
        return Err(format!("{} mermaid blocks, want 1", blocks.len()));
    };
    let body = block
        .split_once("\n```")
        .ok_or("the mermaid block is not closed")?
        .0;
    let mut lines = body.lines();
    if lines.next() != Some("gantt") {
        return Err("the block does not start with `gantt`".into());
    }
    let mut header = BTreeSet::new();
    let mut section = String::new();
    let mut tasks: Vec<Task> = Vec::new();
    for l in lines {
        let l = l.trim();
        if l.is_empty() || l.starts_with("%%") {
            continue;
        }
        if let Some(s) = l.strip_prefix("section ") {
            section = s.to_owned();
            continue;
        }
        let word = l.split_whitespace().next().unwrap_or("");
        if ["title", "dateFormat", "axisFormat", "todayMarker"].contains(&word) {
            header.insert(l.to_owned());
            continue;
        }
        if section.is_empty() {
            return Err(format!("a task before any section: `{l}`"));
        }
        let (name, meta) = l
            .split_once(" :")
            .ok_or_else(|| format!("not a task: `{l}`"))?;
        if name.contains(':') || name.contains('#') || name.contains(';') || name.trim().is_empty()
        {
            return Err(format!("bad task name `{name}`"));
        }
        let parts: Vec<&str> = meta.split(',').map(str::trim).collect();
        if parts.len() < 3 {
            return Err(format!("too few fields: `{l}`"));
        }
        let (tags, rest) = parts.split_at(parts.len() - 3);
        for t in tags {
            if !["crit", "milestone", "active", "done"].contains(t) {
                return Err(format!("unknown tag `{t}` in `{l}`"));
            }
        }
        let (start, end) = (secs(rest[1])?, secs(rest[2])?);
        if end < start {
            return Err(format!("ends before it starts: `{l}`"));
        }
        if tasks.iter().any(|t| t.id == rest[0]) || rest[0].is_empty() {
            return Err(format!("duplicate or empty id in `{l}`"));
        }
        tasks.push(Task {
            section: section.clone(),
            name: name.trim().to_owned(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            id: rest[0].to_owned(),
            start,
            end,
        });
    }
    for h in ["dateFormat HH:mm:ss", "todayMarker off"] {
        if !header.contains(h) {
            return Err(format!("no `{h}` line"));
        }
    }
    if !header.iter().any(|h| h.starts_with("title ")) {
        return Err("no title".into());
    }
    Ok(tasks)
}

/// The checks every report's gantt passes: phases back to back in time order, milestones as
/// milestones, the budget bar from zero and the deadline at the budget. Returns the phase names.
pub fn check_gantt(md: &str, budget: u64) -> Vec<String> {
    let tasks = gantt(md).unwrap_or_else(|e| panic!("{e}\n{md}"));
    let phases: Vec<&Task> = tasks.iter().filter(|t| t.section == "Phases").collect();
    assert!(!phases.is_empty(), "{md}");
    for w in phases.windows(2) {
        assert_eq!(w[0].end, w[1].start, "phases not back to back: {w:?}");
        assert!(w[0].start <= w[1].start, "phases out of order: {w:?}");
    }
    for t in tasks.iter().filter(|t| t.section == "Events") {
        assert!(t.tags.contains(&"milestone".to_owned()), "{t:?}");
        assert_eq!(t.start, t.end, "{t:?}");
    }
    let budget_bar = tasks
        .iter()
        .find(|t| t.id == "budget")
        .expect("a budget bar");
    assert_eq!((budget_bar.start, budget_bar.end), (0, budget), "{md}");
    let deadline = tasks
        .iter()
        .find(|t| t.id == "deadline")
        .expect("a deadline");
    assert!(deadline.tags.contains(&"milestone".to_owned()));
    assert_eq!(deadline.start, budget);
    phases
        .iter()
        .map(|t| t.name.trim_end_matches(" (again)").to_owned())
        .collect()
}

#[test]
fn every_report_has_a_gantt_of_its_phases_its_marks_and_its_budget() {
    let run = crate::all_run::all_run();
    let (j, r) = (&run.journals, &run.reports);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let mut seen = 0;
    for e in std::fs::read_dir(j).unwrap() {
        let p = e.unwrap().path();
        let journal: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let id = journal["scenario"].as_str().unwrap();
        let md = std::fs::read_to_string(r.join(format!("{id}.md"))).unwrap();
        let budget = journal["budget_secs"].as_u64().unwrap();
        let bars = check_gantt(&md, budget);
        let tasks = gantt(&md).unwrap();
        let events = journal["events"].as_array().unwrap();
        let phases: Vec<&str> = events
            .iter()
            .filter(|e| e["type"] == "phase")
            .map(|e| e["phase"].as_str().unwrap())
            .collect();
        assert_eq!(bars, phases, "{id}: one bar per phase entered, in order");
        let first = tasks.iter().find(|t| t.section == "Phases").unwrap();
        assert_eq!(first.start, 0, "{id}");
        let mark = |prefix: &str| tasks.iter().find(|t| t.name.starts_with(prefix));
        for inj in events.iter().filter(|e| e["type"] == "inject") {
            let t = inj["t"].as_u64().unwrap();
            let m = mark(&format!("inject {}", inj["fault"].as_str().unwrap()))
                .unwrap_or_else(|| panic!("{id}: no inject mark\n{md}"));
            assert_eq!(m.start, t, "{id}");
            assert!(m.tags.contains(&"crit".to_owned()));
        }
        if let Some(det) = journal["detection"].as_object() {
            let m = mark("detected by ").unwrap_or_else(|| panic!("{id}: no detection\n{md}"));
            assert_eq!(m.start, det["t"].as_u64().unwrap(), "{id}");
            assert!(m.name.ends_with(det["step"].as_str().unwrap()), "{id}");
        }
        match journal["recovery"].as_object() {
            Some(rec) => assert_eq!(
                mark("recovered").expect("a recovery mark").start,
                rec["t"].as_u64().unwrap()
            ),
            None => assert!(mark("drill ended").is_some(), "{id}: no end mark\n{md}"),
        }
        seen += 1;
    }
    assert_eq!(seen, cdb_model::scenario::list(&run.root).len());
}

#[test]
fn the_same_seed_gives_the_same_report_bytes() {
    let d = fixture();
    let root = d.path().to_str().unwrap();
    let read = |name: &str| {
        let p = d.path().join(name);
        let (code, _, err) = drill(&[
            "leak-db",
            "--root",
            root,
            "--seed",
            "3",
            "--report",
            p.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        std::fs::read(p).unwrap()
    };
    assert_eq!(read("a.md"), read("b.md"));
}

/// Runs the drill command line in-process with a job summary file (or none).
fn drill_with_summary(args: &[&str], summary: Option<&Path>) -> (u8, String, String) {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let mut opts = cdb_drill::cli::parse_args(&args).unwrap();
    opts.summary = summary.map(Path::to_path_buf);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cdb_drill::cli::run(&opts, &mock_exe(), &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn the_job_summary_gets_one_row_per_drill_appended_only_when_a_file_is_given() {
    let d = fixture();
    let root = d.path().to_str().unwrap();
    let s = d.path().join("summary.md");
    std::fs::write(&s, "earlier step\n").unwrap();
    let (code, _, err) = drill_with_summary(&["leak-db", "leak-cache", "--root", root], Some(&s));
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&s).unwrap();
    assert!(
        text.starts_with("earlier step\n### Drills: 2 run"),
        "appended:\n{text}"
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("| `leak-db` |"))
        .unwrap_or_else(|| panic!("{text}"));
    let cells: Vec<&str> = row.split(" | ").collect();
    assert_eq!(cells.len(), 6, "{row}");
    assert!(cells[2].contains("pass"), "{row}");
    assert!(
        cells[3].contains("`database-revoke-check-stragglers` at T+"),
        "{row}"
    );
    assert!(cells[4].starts_with("T+00:"), "{row}");
    assert_eq!(cells[5], "30m |");
    assert!(text.contains("| `leak-cache` |"));

    // Without a file nothing is written anywhere in the fixture.
    let before: BTreeSet<_> = walk(d.path());
    let (code, _, _) = drill_with_summary(&["leak-db", "--root", root], None);
    assert_eq!(code, 0);
    assert_eq!(walk(d.path()), before);
}

fn walk(p: &Path) -> BTreeSet<std::path::PathBuf> {
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(p).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.insert(p);
    }
    out
}

/// The binary takes the file from `GITHUB_STEP_SUMMARY`, set or removed explicitly here.
#[test]
fn the_binary_reads_the_summary_file_from_github_step_summary() {
    let d = fixture();
    let s = d.path().join("step-summary.md");
    let run = |set: bool| {
        let mut c = std::process::Command::new(mock_exe());
        c.args(["drill", "leak-cache", "--root"]).arg(d.path());
        if set {
            c.env("GITHUB_STEP_SUMMARY", &s);
        } else {
            c.env_remove("GITHUB_STEP_SUMMARY");
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0));
    };
    run(false);
    assert!(!s.exists());
    run(true);
    let text = std::fs::read_to_string(&s).unwrap();
    assert!(
        text.contains("| `leak-cache` | cache | ✅ pass |"),
        "{text}"
    );
}

#[test]
fn unwritable_summary_or_report_paths_are_named_before_any_drill_runs() {
    let d = fixture();
    let root = d.path().to_str().unwrap();
    let missing = d.path().join("no-such-dir").join("out.md");
    let m = missing.to_str().unwrap();
    // The job summary, for drills and for the sweep.
    for args in [
        vec!["--all", "--root", root],
        vec!["leak-db", "--root", root],
        vec!["--sweep", "--class", "ci", "--root", root],
    ] {
        let (code, out, err) = drill_with_summary(&args, Some(&missing));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("the job summary") && err.contains(m), "{err}");
        assert_eq!(out, "", "{args:?}: a drill ran before the check");
    }
    // The report: a file in a missing directory, a directory where a file is wanted, and the
    // directory of several reports where a file stands.
    let file = d.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let f = file.join("reports");
    for args in [
        vec!["leak-db", "--root", root, "--report", m],
        vec!["leak-db", "--root", root, "--report", root],
        vec![
            "leak-db",
            "leak-cache",
            "--root",
            root,
            "--report",
            f.to_str().unwrap(),
        ],
        vec![
            "--sweep", "--class", "ci", "--format", "html", "--root", root, "--report", m,
        ],
        vec![
            "leak-db",
            "--shell",
            "--script",
            "/dev/null",
            "--root",
            root,
            "--report",
            m,
        ],
    ] {
        let (code, out, err) = drill_with_summary(&args, None);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("report"), "{err}");
        let named = if args.contains(&"leak-cache") {
            f.to_str().unwrap()
        } else {
            args[args.len() - 1]
        };
        assert!(err.contains(named), "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}: a drill ran before the check");
    }
    assert!(!missing.exists() && !d.path().join("no-such-dir").exists());
}

#[test]
fn html_is_refused_outside_the_sweep() {
    for args in [
        vec!["leak-db", "--format", "html"],
        vec!["--mutate", "--format", "html"],
    ] {
        let (code, _, err) = drill(&args);
        assert_eq!(code, 2);
        assert!(err.contains("--format html is for --sweep"), "{err}");
    }
}

const VOID: &[&str] = &["meta", "br", "hr", "img", "link", "input", "wbr"];

/// A small well-formedness check: one doctype, every tag closed in order (void elements
/// excepted), quoted attributes, no raw `<`, `>` or `&` outside tags and entities. Returns the
/// ids of the page and the in-page link targets.
fn check_html(html: &str) -> Result<(BTreeSet<String>, BTreeSet<String>), String> {
    let body = html.strip_prefix("<!DOCTYPE html>\n").ok_or("no doctype")?;
    let mut stack: Vec<String> = Vec::new();
    let (mut ids, mut hrefs) = (BTreeSet::new(), BTreeSet::new());
    let mut rest = body;
    let mut in_style = false;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        if !in_style {
            check_text(text)?;
        }
        let gt = rest[lt..].find('>').ok_or("a tag is not closed")? + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .ok_or_else(|| format!("</{name}> closes nothing"))?;
            if open != name {
                return Err(format!("<{open}> closed by </{name}>"));
            }
            in_style = false;
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name.is_empty() || name.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(format!("bad tag `<{tag}>`"));
        }
        // Attributes: name="value" pairs.
        let mut attrs = tag[name.len()..].trim();
        while !attrs.is_empty() {
            let (k, v) = attrs
                .split_once("=\"")
                .ok_or_else(|| format!("unquoted attribute in <{tag}>"))?;
            let end = v
                .find('"')
                .ok_or_else(|| format!("unclosed attribute in <{tag}>"))?;
            let value = &v[..end];
            check_text(value)?;
            match k.trim() {
                "id" if !ids.insert(value.to_owned()) => {
                    return Err(format!("duplicate id {value}"));
                }
                "href" => {
                    let target = value
                        .strip_prefix('#')
                        .ok_or_else(|| format!("a link out of the page: {value}"))?;
                    hrefs.insert(target.to_owned());
                }
                "src" => return Err(format!("an external asset: <{tag}>")),
                _ => {}
            }
            attrs = v[end + 1..].trim();
        }
        if name == "script" || name == "link" || name == "iframe" {
            return Err(format!("<{name}> in a self-contained page without scripts"));
        }
        if !VOID.contains(&name.as_str()) {
            in_style = name == "style";
            stack.push(name);
        }
    }
    check_text(rest)?;
    if !stack.is_empty() {
        return Err(format!("never closed: {stack:?}"));
    }
    Ok((ids, hrefs))
}

fn check_text(t: &str) -> Result<(), String> {
    if t.contains('>') {
        return Err(format!("a raw `>` in text: {t:?}"));
    }
    for (i, _) in t.match_indices('&') {
        let ent = &t[i..];
        let ok = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&nbsp;"]
            .iter()
            .any(|e| ent.starts_with(e));
        if !ok {
            return Err(format!("a raw `&` in text: {t:?}"));
        }
    }
    Ok(())
}

fn result(class: &str, fault: &str, n: usize, outcome: Outcome, nasty: &str) -> CaseResult {
    CaseResult {
        case: format!("{class}/routine/{fault}@step-{n}"),
        class: class.into(),
        trigger: cdb_docs::Trigger::Routine,
        fault: fault.into(),
        target: Some(format!("svc{nasty}")),
        after: format!("step-{n}"),
        outcome,
        detected_by: (outcome != Outcome::Undetected).then(|| format!("check{nasty}")),
        failed: Vec::new(),
        should_have_caught: vec![format!("verify-x (runbook.md:{n})")],
        reason: format!("because {nasty}"),
        same_as: None,
        excerpt: vec![format!("T+00:00:0{} [FAIL] x > {nasty}", n % 10)],
    }
}

/// Every class and fault of the catalogue in one page: well-formed, every cell links to a case
/// on the page, every text escaped.
#[test]
fn the_sweep_page_is_well_formed_and_holds_every_class_and_fault_escaped() {
    let nasty = "<script>alert('x')</script> & \"q\"";
    let mut s = Sweep::default();
    let outcomes = [
        Outcome::Recovered,
        Outcome::DetectedNotRecovered,
        Outcome::Undetected,
        Outcome::NotApplicable,
    ];
    let mut n = 0;
    for f in cdb_model::faults::CATALOGUE {
        for (class, _) in f.applies {
            s.cases.push(result(class, f.id, n, outcomes[n % 4], nasty));
            n += 1;
        }
    }
    s.baselines.push(Baseline {
        class: "cache".into(),
        trigger: cdb_docs::Trigger::Leak,
        passed: false,
        reasons: vec![nasty.into()],
    });
    let html = cdb_drill::page::html(&s, 1);
    let (ids, hrefs) = check_html(&html).unwrap_or_else(|e| panic!("{e}"));
    for h in &hrefs {
        assert!(ids.contains(h), "a link to #{h}, which is not on the page");
    }
    for i in 1..=s.cases.len() {
        assert!(
            hrefs.contains(&format!("case-{i}")),
            "case {i} not linked from the grid"
        );
    }
    assert!(!html.contains("<script"), "unescaped");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
    let grid = html
        .split("<table")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    for class in cdb_model::faults::classes() {
        assert!(grid.contains(&format!("<th>{class}</th>")), "{class}");
    }
    for f in cdb_model::faults::CATALOGUE {
        assert!(
            grid.contains(&format!("<th class=\"fault\">{}</th>", f.id)),
            "{}",
            f.id
        );
    }
    // Gaps first: the first row of the grid has a gap.
    let first_row = grid.split("<tr><th class=\"fault\">").nth(1).unwrap();
    assert!(
        first_row.contains("class=\"u\"") || first_row.contains("class=\"d\""),
        "{first_row}"
    );
}

/// A real sweep of one class to a file: the page is well-formed, its grid has the class and
/// every fault that applies to it, and the job summary gets the grid with symbols.
#[test]
fn a_real_sweep_writes_the_page_and_the_summary() {
    let d = fixture();
    let root = d.path().to_str().unwrap();
    let sweep_to = |page: &Path, summary: Option<&Path>| {
        let p = page.to_str().unwrap();
        let args = [
            "--sweep", "--class", "ci", "--format", "html", "--root", root, "--report", p,
        ];
        drill_with_summary(&args, summary)
    };
    let page = d.path().join("sweep.html");
    let s = d.path().join("summary.md");
    let (code, out, err) = sweep_to(&page, Some(&s));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "", "the page goes to --report, not stdout");
    let html = std::fs::read_to_string(&page).unwrap();
    let (ids, hrefs) = check_html(&html).unwrap_or_else(|e| panic!("{e}"));
    assert!(hrefs.is_subset(&ids));
    assert!(html.contains("<th>ci</th>"));
    for f in cdb_model::faults::CATALOGUE
        .iter()
        .filter(|f| f.target_in("ci").is_some())
    {
        assert!(
            html.contains(&format!("<th class=\"fault\">{}</th>", f.id)),
            "{}",
            f.id
        );
    }
    assert!(html.contains("<pre>"), "journal excerpts");
    let sum = std::fs::read_to_string(&s).unwrap();
    assert!(sum.starts_with("### Fault sweep: "), "{sum}");
    assert!(sum.contains("| fault \\ class | ci |"), "{sum}");
    assert!(sum.contains("✅"), "{sum}");
    // The same sweep again: the same page, byte for byte.
    let again = d.path().join("again.html");
    let (code, _, _) = sweep_to(&again, None);
    assert_eq!(code, 0);
    assert_eq!(std::fs::read(&again).unwrap(), html.as_bytes());
}
