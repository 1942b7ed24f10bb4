//! Mock `gh`: GitHub Actions secrets (`secret set/list/delete`) and the e2e workflow
//! (`workflow run`, `run list`, `run watch`, `run view`).
//!
//! The e2e workflow passes when every CI secret is set and each credential CI holds for an
//! outside provider (exchange read key, App key, AI key, Slack webhook) is still valid there.

use super::{Ctx, opt_value};
use crate::world::{CI_SECRETS, Run, World};
use cdb_model::faults::FaultKind;

fn e2e_passes(w: &World) -> bool {
    let s = |n: &str| w.github.secrets.get(n).cloned().unwrap_or_default();
    CI_SECRETS.iter().all(|n| !s(n).is_empty())
        && w.mexc_valid(
            &s("MEXC_API_KEY"),
            &s("MEXC_API_SECRET"),
            crate::world::KeyKind::Read,
        )
        && w.github
            .external_valid
            .iter()
            .all(|(n, valid)| valid.contains(&s(n)))
}

pub fn run(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let pos: Vec<&str> = args.iter().map(String::as_str).collect();
    match pos.as_slice() {
        ["auth", "status", ..] => {
            ctx.errln("github.com\n  ✓ Logged in to github.com account drill-operator");
            0
        }
        ["secret", "set", name, rest @ ..] => {
            let mut body = None;
            let rest: Vec<String> = rest.iter().map(|s| (*s).to_owned()).collect();
            let mut i = 0;
            while i < rest.len() {
                if let Some(b) = opt_value(&rest, &mut i, &["-b", "--body"]) {
                    body = Some(b);
                } else if opt_value(
                    &rest,
                    &mut i,
                    &["-R", "--repo", "-e", "--env", "-a", "--app", "-o", "--org"],
                )
                .is_some()
                {
                } else {
                    i += 1;
                }
            }
            let value = body.unwrap_or_else(|| ctx.stdin.trim_end_matches(['\n', '\r']).to_owned());
            if value.is_empty() {
                ctx.errln("secret value cannot be empty");
                return 1;
            }
            w.remember(&format!("CI secret {name}"), &value);
            w.ci_check_set(name, &value);
            // The fault: gh picked the fork as the default repository; upstream keeps its value.
            if !w.trip(FaultKind::GhSecretSetIgnored, Some(name)) {
                w.github.secrets.insert((*name).to_owned(), value);
                w.github.updated.insert((*name).to_owned(), w.clock);
            }
            ctx.errln(&format!(
                "✓ Set Actions secret {name} for claire-de-binare/claire-de-binare"
            ));
            0
        }
        ["secret", "list", ..] => {
            // Not a terminal: NAME and UPDATED (ISO 8601, UTC) per line, as gh prints them.
            for n in w.github.secrets.keys() {
                let updated = match w.github.updated.get(n) {
                    Some(t) => {
                        super::util::format_time(super::util::EPOCH_START + t, "%Y-%m-%dT%H:%M:%SZ")
                    }
                    None => "2025-10-01T09:00:00Z".to_owned(),
                };
                ctx.outln(&format!("{n}\t{updated}"));
            }
            0
        }
        ["secret", "delete", name, ..] => {
            if w.github.secrets.remove(*name).is_none() {
                ctx.errln(&format!(
                    "failed to delete secret {name}: HTTP 404: Not Found"
                ));
                return 1;
            }
            ctx.errln(&format!("✓ Deleted Actions secret {name}"));
            0
        }
        ["workflow", "run", name, ..] => {
            if !name.contains("e2e") {
                ctx.errln(&format!("could not find any workflows named {name}"));
                return 1;
            }
            // ci.rs: e2e.yml runs on push only.
            if !World::ci_dispatchable(name) {
                ctx.errln(&format!(
                    "could not create workflow dispatch event: HTTP 422: Workflow does not have 'workflow_dispatch' trigger ({name})"
                ));
                return 1;
            }
            let id = w.github.next_run;
            w.github.next_run += 1;
            let conclusion = if e2e_passes(w) { "success" } else { "failure" };
            w.github.runs.push(Run {
                id,
                workflow: (*name).to_owned(),
                conclusion: conclusion.into(),
                created: Some(w.clock),
                event: "workflow_dispatch".into(),
                listed: false,
            });
            ctx.errln(&format!(
                "✓ Created workflow_dispatch event for {name} at main"
            ));
            0
        }
        ["run", "list", rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| (*s).to_owned()).collect();
            let (mut wf, mut limit, mut jq, mut json) = (None, 20usize, None, None);
            let mut event = None;
            let mut i = 0;
            while i < rest.len() {
                if let Some(v) = opt_value(&rest, &mut i, &["-w", "--workflow"]) {
                    wf = Some(v);
                } else if let Some(v) = opt_value(&rest, &mut i, &["-L", "--limit"]) {
                    limit = v.parse().unwrap_or(20);
                } else if let Some(v) = opt_value(&rest, &mut i, &["-q", "--jq"]) {
                    jq = Some(v);
                } else if let Some(v) = opt_value(&rest, &mut i, &["--json"]) {
                    json = Some(v);
                } else if let Some(v) = opt_value(&rest, &mut i, &["-e", "--event"]) {
                    event = Some(v);
                } else if opt_value(&rest, &mut i, &["-b", "--branch", "-s", "--status"]).is_some()
                {
                } else {
                    i += 1;
                }
            }
            // A run dispatched since the last listing shows from the next one on (ci.rs).
            let unlisted: Vec<u64> = w
                .github
                .runs
                .iter()
                .filter(|r| !r.listed)
                .map(|r| r.id)
                .collect();
            let runs: Vec<Run> = w
                .github
                .runs
                .iter()
                .rev()
                .filter(|r| r.listed)
                .filter(|r| wf.as_ref().is_none_or(|f| &r.workflow == f))
                .filter(|r| event.as_ref().is_none_or(|e| &r.event == e))
                .take(limit)
                .cloned()
                .collect();
            for r in &mut w.github.runs {
                if unlisted.contains(&r.id) {
                    r.listed = true;
                }
            }
            let created = |r: &Run| match r.created {
                Some(t) => {
                    super::util::format_time(super::util::EPOCH_START + t, "%Y-%m-%dT%H:%M:%SZ")
                }
                None => "2025-12-28T06:00:00Z".to_owned(),
            };
            if json.is_some() {
                let arr: Vec<serde_json::Value> = runs
                    .iter()
                    .map(|r| serde_json::json!({"databaseId": r.id, "conclusion": r.conclusion, "status": "completed", "workflowName": "E2E Tests - Paper Trading", "event": r.event, "createdAt": created(r)}))
                    .collect();
                let v = serde_json::Value::Array(arr);
                match jq.as_deref() {
                    None => ctx.outln(&v.to_string()),
                    Some(expr) => match mini_jq(&v, expr) {
                        Some(lines) => lines.iter().for_each(|l| ctx.outln(l)),
                        None => {
                            ctx.errln(&format!("the drill's mock gh understands only `.[N].FIELD` and `.[].FIELD` in --jq, not `{expr}`"));
                            return 1;
                        }
                    },
                }
                return 0;
            }
            for r in &runs {
                ctx.outln(&format!(
                    "completed\t{}\tE2E\tE2E\tmain\t{}\t{}\t3m2s\t{}",
                    r.conclusion,
                    r.event,
                    r.id,
                    created(r)
                ));
            }
            0
        }
        ["run", "watch" | "view", id, rest @ ..] => {
            let Some(r) = id
                .parse::<u64>()
                .ok()
                .and_then(|id| w.github.runs.iter().find(|r| r.id == id))
            else {
                ctx.errln(&format!("could not find any workflow run with ID {id}"));
                return 1;
            };
            let ok = r.conclusion == "success";
            let mark = if ok { "✓" } else { "X" };
            ctx.outln(&format!("{mark} main E2E · {}", r.id));
            if !ok {
                ctx.outln(&format!(
                    "Run E2E ({}) completed with '{}'",
                    r.id, r.conclusion
                ));
            }
            if rest.contains(&"--exit-status") && !ok {
                1
            } else {
                0
            }
        }
        _ => {
            ctx.errln(&format!(
                "gh {}: not modelled by the drill world",
                pos.join(" ")
            ));
            1
        }
    }
}

/// `.[N].FIELD`, `.[].FIELD`, `.[N]` — what a runbook needs to pick a run id.
fn mini_jq(v: &serde_json::Value, expr: &str) -> Option<Vec<String>> {
    // `.[] | [.A, .B] | @tsv`: one tab-separated line per item.
    if let Some(body) = expr
        .trim()
        .strip_prefix(".[] | [")
        .and_then(|r| r.strip_suffix("] | @tsv"))
    {
        let fields: Vec<&str> = body
            .split(',')
            .map(|f| f.trim().strip_prefix('.'))
            .collect::<Option<Vec<_>>>()?;
        return Some(
            v.as_array()?
                .iter()
                .map(|it| {
                    fields
                        .iter()
                        .map(|f| match it.get(*f) {
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(o) => o.to_string(),
                            None => String::new(),
                        })
                        .collect::<Vec<_>>()
                        .join("\t")
                })
                .collect(),
        );
    }
    let rest = expr.trim().strip_prefix(".[")?;
    let (idx, field) = rest.split_once(']')?;
    let items: Vec<&serde_json::Value> = if idx.is_empty() {
        v.as_array()?.iter().collect()
    } else {
        v.as_array()?
            .get(idx.parse::<usize>().ok()?)
            .into_iter()
            .collect()
    };
    let field = field.strip_prefix('.');
    Some(
        items
            .into_iter()
            .map(|it| {
                let x = field.map_or(Some(it), |f| it.get(f));
                match x {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(o) => o.to_string(),
                    None => "null".into(),
                }
            })
            .collect(),
    )
}
