//! `cargo xtask verify`: each rule has a passing and a failing fixture, asserted exactly (rule, path, line).

use crate::support::{Fixture, INVENTORY, MATRIX, PLAYBOOK, RUNBOOK, SECURITY, f, snapshot};

#[test]
fn the_fixture_hub_is_clean() {
    let fx = Fixture::hub();
    let (code, findings) = fx.findings(&[]);
    assert_eq!(code, 0);
    // The only finding is the note that `cache` was never rotated.
    assert_eq!(
        findings,
        vec![f("rotation-never", MATRIX, fx.line_of(MATRIX, "id: cache"))]
    );
}

#[test]
fn link_to_a_missing_file() {
    let fx = Fixture::hub();
    fx.edit(
        RUNBOOK,
        "## Quarterly review\n",
        "## Quarterly review\n\nSee [old](old-runbook.md).\n",
    );
    let line = fx.line_of(RUNBOOK, "old-runbook.md");
    assert_eq!(
        fx.findings_of("link-missing-file"),
        vec![f("link-missing-file", RUNBOOK, line)]
    );
    assert!(
        fx.findings_of("link-missing-anchor").is_empty(),
        "a missing file is not also a missing anchor"
    );
}

#[test]
fn link_to_a_missing_anchor_same_file_and_cross_file() {
    let fx = Fixture::hub();
    fx.edit(
        RUNBOOK,
        "## Quarterly review\n",
        "## Quarterly review\n\nSee [a](#databse) and [b](secret-inventory.md#postgres-password).\n",
    );
    let line = fx.line_of(RUNBOOK, "#databse");
    let mut got = fx.findings_of("link-missing-anchor");
    got.dedup();
    // Two links on one line: both reported, same line.
    assert_eq!(fx.findings(&["--select", "link-missing-anchor"]).1.len(), 2);
    assert_eq!(got, vec![f("link-missing-anchor", RUNBOOK, line)]);
    assert!(fx.findings_of("link-missing-file").is_empty());
}

#[test]
fn anchors_follow_github_slugs_repeats_and_explicit_ids() {
    let fx = Fixture::hub();
    fx.edit(
        RUNBOOK,
        "## Quarterly review\n",
        "## Quarterly review\n\n## Verify\n\n## Verify\n\n## Custom {#my-id}\n\n<a id=\"legacy-anchor\"></a>\n\n[1](#verify-1) [2](#my-id) [3](#legacy-anchor) [4](secret-inventory.md#postgres_password) [5](#quarterly-review)\n",
    );
    assert!(fx.findings_of("links").is_empty());
    fx.edit(RUNBOOK, "[5](#quarterly-review)", "[5](#verify-2)");
    assert_eq!(fx.findings_of("links").len(), 1);
}

#[test]
fn link_escaping_the_root() {
    let fx = Fixture::hub();
    fx.edit(
        SECURITY,
        "- [Rotation matrix]",
        "- [Outside](../../../../../../etc/passwd)\n- [Rotation matrix]",
    );
    let line = fx.line_of(SECURITY, "etc/passwd");
    assert_eq!(
        fx.findings_of("link-escapes-root"),
        vec![f("link-escapes-root", SECURITY, line)]
    );
}

#[test]
fn external_links_are_not_checked() {
    let fx = Fixture::hub();
    fx.edit(
        SECURITY,
        "- [Rotation matrix]",
        "- [Site](https://unreachable.invalid/page#x)\n- [Rotation matrix]",
    );
    assert!(fx.findings_of("links").is_empty());
}

#[test]
fn runbook_class_section_needs_owner_contact_phases_and_inventory_link() {
    let fx = Fixture::hub();
    let heading = fx.line_of(RUNBOOK, "## Cache");
    fx.edit(
        RUNBOOK,
        "**Owner:** session-lead · **Backup owner:** owner-operator · **Contact:** #fixture-ops · [Inventory](secret-inventory.md#cache)",
        "Ask around.",
    );
    assert_eq!(
        fx.findings_of("runbook-class-section"),
        vec![f("runbook-class-section", RUNBOOK, heading)]
    );

    let fx = Fixture::hub();
    fx.edit(RUNBOOK, "phase=rollback when=routine", "phase=revoke");
    let heading = fx.line_of(RUNBOOK, "## Database");
    let run = fx.verify(&["--select", "runbook-class-section"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("lacks a `rollback` step"),
        "{}",
        run.stdout
    );
    assert_eq!(
        fx.findings_of("runbook-class-section"),
        vec![f("runbook-class-section", RUNBOOK, heading)]
    );
}

#[test]
fn runbook_owner_must_match_the_matrix() {
    let fx = Fixture::hub();
    fx.edit(
        MATRIX,
        "    owner: owner-operator\n    backup_owner: session-lead",
        "    owner: session-lead\n    backup_owner: session-lead",
    );
    let run = fx.verify(&["--select", "runbook-class-section"]);
    assert!(
        run.stdout.contains("the owner's contact `#fixture-ops`"),
        "{}",
        run.stdout
    );
}

#[test]
fn playbook_sections() {
    let fx = Fixture::hub();
    fx.edit(PLAYBOOK, "## Roles\n", "");
    assert_eq!(
        fx.findings_of("playbook-section"),
        vec![f("playbook-section", PLAYBOOK, 1)]
    );
    let fx = Fixture::hub();
    fx.edit(
        PLAYBOOK,
        "## Post-incident verification checklist\n",
        "## Afterwards\n",
    );
    assert_eq!(fx.findings_of("playbook-section").len(), 1);
}

#[test]
fn security_issues_links_both_documents() {
    let fx = Fixture::hub();
    fx.edit(SECURITY, "- [Leak playbook](Claire_de_Binare_Docs/docs/content/security/incident-response-secrets.md)\n", "");
    assert_eq!(
        fx.findings_of("security-issues-links"),
        vec![f("security-issues-links", SECURITY, 1)]
    );
}

#[test]
fn matrix_unknown_field_is_reported_with_its_line() {
    let fx = Fixture::hub();
    fx.edit(
        MATRIX,
        "    rto: 30m\n    approvals:\n      routine: [owner-operator]",
        "    rto: 30m\n    colour: red\n    approvals:\n      routine: [owner-operator]",
    );
    let line = fx.line_of(MATRIX, "colour: red");
    assert_eq!(
        fx.findings_of("matrix-invalid"),
        vec![f("matrix-invalid", MATRIX, line)]
    );
    let run = fx.verify(&["--select", "matrix"]);
    assert!(run.stdout.contains("colour"), "{}", run.stdout);
}

#[test]
fn matrix_malformed_yaml_and_alias_bomb_are_findings_not_crashes() {
    let fx = Fixture::hub();
    fx.write(MATRIX, "version: 1\nreview: [unclosed\n");
    let (code, findings) = fx.findings(&["--select", "matrix-invalid"]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].1, MATRIX);

    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..24 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("b{}", i - 1)
        };
        bomb.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    fx.write(MATRIX, &bomb);
    let (code, findings) = fx.findings(&["--select", "matrix-invalid"]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1);
}

#[test]
fn matrix_and_runbook_match_both_ways() {
    let fx = Fixture::hub();
    fx.edit(
        MATRIX,
        "secret-rotation-runbook.md#cache",
        "secret-rotation-runbook.md#redis",
    );
    let line = fx.line_of(MATRIX, "#redis");
    let heading = fx.line_of(RUNBOOK, "## Cache");
    assert_eq!(
        fx.findings_of("matrix-runbook"),
        vec![
            f("matrix-runbook", MATRIX, line),
            f("matrix-runbook", RUNBOOK, heading)
        ]
    );
}

#[test]
fn matrix_owners_resolve() {
    let fx = Fixture::hub();
    fx.edit(MATRIX, "    owner: session-lead\n", "    owner: nobody\n");
    let line = fx.line_of(MATRIX, "owner: nobody");
    assert_eq!(
        fx.findings_of("matrix-owner"),
        vec![f("matrix-owner", MATRIX, line)]
    );
}

#[test]
fn matrix_secrets_and_inventory_match_both_ways() {
    let fx = Fixture::hub();
    fx.edit(
        MATRIX,
        "secrets: [REDIS_PASSWORD]",
        "secrets: [REDIS_PASSWORD, REDIS_TLS_KEY]",
    );
    fx.edit(INVENTORY, "## Cache\n", "## Cache\n\n### `ORPHAN_TOKEN`\n");
    let m = fx.line_of(MATRIX, "REDIS_TLS_KEY");
    let i = fx.line_of(INVENTORY, "ORPHAN_TOKEN");
    assert_eq!(
        fx.findings_of("matrix-inventory"),
        vec![
            f("matrix-inventory", MATRIX, m),
            f("matrix-inventory", INVENTORY, i)
        ]
    );
}

#[test]
fn matrix_scope_names_known_services() {
    let fx = Fixture::hub();
    fx.edit(
        MATRIX,
        "scope: [cdb_redis, cdb_risk]",
        "scope: [cdb_redis, cdb_rsik]",
    );
    let line = fx.line_of(MATRIX, "cdb_rsik");
    assert_eq!(
        fx.findings_of("matrix-scope"),
        vec![f("matrix-scope", MATRIX, line)]
    );
}

#[test]
fn matrix_values_parse_and_dates_are_not_in_the_future() {
    let fx = Fixture::hub();
    fx.edit(
        MATRIX,
        "last_rotated: 2026-10-01",
        "last_rotated: 2027-01-01",
    );
    fx.edit(
        MATRIX,
        "    cadence: 90d\n    scope: [cdb_redis",
        "    cadence: 90\n    scope: [cdb_redis",
    );
    let future = fx.line_of(MATRIX, "2027-01-01");
    let cadence = fx
        .read(MATRIX)
        .lines()
        .position(|l| l == "    cadence: 90")
        .unwrap()
        + 1;
    let mut expected = vec![
        f("matrix-value", MATRIX, future),
        f("matrix-value", MATRIX, cadence),
    ];
    expected.sort();
    let mut got = fx.findings_of("matrix-value");
    got.sort();
    assert_eq!(got, expected);
}

#[test]
fn freshness_is_pinned_by_today() {
    let fx = Fixture::hub();
    // 2026-10-01 + 90 days = 2026-12-30: overdue from 2026-12-31 on.
    let line = fx.line_of(MATRIX, "last_rotated: 2026-10-01");
    let (_, on_time) = fx.findings(&["--select", "rotation-overdue", "--today", "2026-12-30"]);
    assert!(on_time.is_empty());
    let (code, late) = fx.findings(&["--select", "rotation-overdue", "--today", "2026-12-31"]);
    assert_eq!(code, 1);
    assert_eq!(late, vec![f("rotation-overdue", MATRIX, line)]);
}

#[test]
fn stale_review_is_flagged() {
    let fx = Fixture::hub();
    let line = fx.line_of(MATRIX, "last_reviewed:");
    assert!(
        fx.findings(&["--select", "review-stale", "--today", "2027-01-31"])
            .1
            .is_empty()
    );
    let (code, stale) = fx.findings(&["--select", "review-stale", "--today", "2027-02-01"]);
    assert_eq!(code, 1);
    assert_eq!(stale, vec![f("review-stale", MATRIX, line)]);
}

#[test]
fn step_format_problems() {
    let fx = Fixture::hub();
    fx.edit(
        RUNBOOK,
        "{#cache-rotate-acl .step class=cache phase=rotate}",
        "{#cache-rotate-acl .step class=cache phase=rotat}",
    );
    let line = fx.line_of(RUNBOOK, "phase=rotat}");
    assert_eq!(
        fx.findings_of("step-format"),
        vec![f("step-format", RUNBOOK, line)]
    );
}

/// `proven-by=` names an executable step of the class above it that runs before it (pre-check
/// or the same phase); anything else is a finding on the step's fence line.
#[test]
fn a_deletions_proof_runs_before_it() {
    let fx = Fixture::hub();
    fx.edit(
        RUNBOOK,
        "{#cache-rotate-acl .step class=cache phase=rotate}",
        "{#cache-rotate-acl .step class=cache phase=rotate proven-by=cache-pre-check-health}",
    );
    assert_eq!(fx.findings_of("step-proven-by"), vec![]);
    for bad in ["cache-verify-ping", "no-such-step"] {
        let fx = Fixture::hub();
        fx.edit(
            RUNBOOK,
            "{#cache-rotate-acl .step class=cache phase=rotate}",
            &format!("{{#cache-rotate-acl .step class=cache phase=rotate proven-by={bad}}}"),
        );
        let line = fx.line_of(RUNBOOK, "{#cache-rotate-acl ");
        assert_eq!(
            fx.findings_of("step-proven-by"),
            vec![f("step-proven-by", RUNBOOK, line)],
            "{bad}"
        );
    }
}

#[test]
fn step_ids_are_unique() {
    let fx = Fixture::hub();
    fx.edit(RUNBOOK, "{#cache-rotate-acl ", "{#cache-pre-check-health ");
    let dup = fx
        .read(RUNBOOK)
        .lines()
        .position(|l| l.contains("#cache-pre-check-health .step class=cache phase=rotate"))
        .unwrap()
        + 1;
    assert_eq!(
        fx.findings_of("step-duplicate-id"),
        vec![f("step-duplicate-id", RUNBOOK, dup)]
    );
}

#[test]
fn step_classes_are_in_the_matrix() {
    let fx = Fixture::hub();
    fx.edit(
        RUNBOOK,
        "{#cache-verify-ping .step class=cache",
        "{#cache-verify-ping .step class=cahce",
    );
    let line = fx.line_of(RUNBOOK, "class=cahce");
    assert_eq!(
        fx.findings_of("step-unknown-class"),
        vec![f("step-unknown-class", RUNBOOK, line)]
    );
}

#[test]
fn unreadable_inputs_are_findings_with_file_and_line() {
    let fx = Fixture::hub();
    fx.write("notes/bad.md", "fine\nalso fine\n");
    let mut bytes = b"line one\nline two \xff\xfe\n".to_vec();
    bytes.extend_from_slice(b"three\n");
    std::fs::write(fx.path("notes/bad.md"), bytes).unwrap();
    let big = "x".repeat(9 * 1024 * 1024);
    fx.write("notes/huge.md", &big);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(fx.path("notes"), fx.path("notes/loop")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", fx.path("notes/outside.md")).unwrap();
    }
    let (code, findings) = fx.findings(&["--select", "io"]);
    assert_eq!(code, 1);
    let mut expected = vec![
        f("file-unreadable", "notes/bad.md", 2),
        f("file-unreadable", "notes/huge.md", 1),
    ];
    if cfg!(unix) && std::path::Path::new("/etc/hostname").exists() {
        expected.push(f("file-unreadable", "notes/outside.md", 1));
    }
    assert_eq!(findings, expected);
}

#[test]
fn select_links_over_a_plain_docs_tree() {
    let fx = Fixture::empty();
    fx.write("guide/a.md", "# A\n\n[b](b.md#part-two) [self](#a)\n");
    fx.write("guide/b.md", "# B\n\n## Part two\n");
    let run = fx.verify(&["--select", "links"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    fx.write("guide/b.md", "# B\n\n## Part 2\n");
    let run = fx.verify(&["--select", "links"]);
    assert_eq!(run.code, 1);
    // Without --select, the absent hub is reported.
    let run = fx.verify(&[]);
    assert!(run.stdout.contains("matrix-invalid"), "{}", run.stdout);
}

#[test]
fn human_output_is_rustc_style_without_colour_off_a_terminal() {
    let fx = Fixture::hub();
    fx.edit(
        RUNBOOK,
        "## Quarterly review\n",
        "## Quarterly review\n\nSee [old](old-runbook.md).\n",
    );
    let line = fx.line_of(RUNBOOK, "old-runbook.md");
    let run = fx.verify(&["--select", "links"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("error[link-missing-file]: link to `old-runbook.md`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("--> {RUNBOOK}:{line}:5")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("See [old](old-runbook.md)."));
    assert!(run.stdout.contains("|     ^"), "{}", run.stdout);
    assert!(!run.stdout.contains('\x1b'));
    assert!(run.stdout.contains("verify: 1 error, 0 warnings, 0 notes"));
}

#[test]
fn sarif_and_github_formats() {
    let fx = Fixture::hub();
    fx.edit(
        RUNBOOK,
        "## Quarterly review\n",
        "## Quarterly review\n\nSee [old](old-runbook.md).\n",
    );
    let line = fx.line_of(RUNBOOK, "old-runbook.md");
    let run = fx.verify(&["--select", "links", "--format", "sarif"]);
    assert_eq!(run.code, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let result = &v["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "link-missing-file");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        line
    );
    assert!(
        result["partialFingerprints"]["cdbFingerprint/v2"]
            .as_str()
            .unwrap()
            .len()
            == 16
    );
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let idx = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[idx]["id"], "link-missing-file");
    assert_eq!(rules[idx]["name"], "LinkMissingFile");
    // SARIF1001: a rule's `name` is a readable identifier (PascalCase of the id), never its `id`.
    let mut names = std::collections::BTreeSet::new();
    for r in rules {
        let (id, name) = (r["id"].as_str().unwrap(), r["name"].as_str().unwrap());
        assert_ne!(id, name);
        assert!(name.starts_with(|c: char| c.is_ascii_uppercase()), "{name}");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "{name}");
        assert_eq!(name.to_lowercase(), id.replace('-', ""), "{id}");
        assert!(names.insert(name.to_owned()), "two rules named {name}");
    }

    let run = fx.verify(&["--select", "links", "--format", "github"]);
    assert_eq!(
        run.stdout,
        format!(
            "::error file={RUNBOOK},line={line},col=5,title=link-missing-file::link to `old-runbook.md`: no file `Claire_de_Binare_Docs/docs/content/security/old-runbook.md`\n"
        )
    );
}

#[test]
fn json_lines_carry_the_documented_fields() {
    let fx = Fixture::hub();
    let run = fx.verify(&["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(run.stdout.lines().next().unwrap()).unwrap();
    for key in [
        "rule", "group", "severity", "path", "line", "column", "message",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["severity"], "note");
}

#[test]
fn usage_errors_exit_2() {
    let fx = Fixture::hub();
    let run = fx.verify(&["--select", "no-such-rule"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown rule or group `no-such-rule`"));
    assert_eq!(fx.verify(&["--today", "yesterday"]).code, 2);
    assert_eq!(fx.verify(&["--format", "xml"]).code, 2);
    let mut cmd = assert_cmd::Command::cargo_bin("xtask").unwrap();
    let out = cmd
        .args(["verify", "--root", "/nonexistent/cdb-root"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn list_rules_prints_the_registry() {
    let run = Fixture::hub().verify(&["--list-rules"]);
    assert_eq!(run.code, 0);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("link-missing-anchor"))
        .unwrap();
    assert!(line.contains("links") && line.contains("error"));
}

#[test]
fn verify_only_reads() {
    let fx = Fixture::hub();
    let before = snapshot(fx.dir.path());
    for format in ["human", "json", "sarif", "github"] {
        fx.verify(&["--format", format]);
    }
    assert_eq!(before, snapshot(fx.dir.path()));
}

#[test]
fn first_step_within_one_screen_of_the_class_heading() {
    let fx = Fixture::hub();
    assert!(fx.findings_of("runbook-first-step-far").is_empty());
    let filler = "Background prose.\n\n".repeat(25);
    fx.edit(RUNBOOK, "## Cache\n\n", &format!("## Cache\n\n{filler}"));
    let heading = fx.line_of(RUNBOOK, "## Cache");
    assert_eq!(
        fx.findings_of("runbook-first-step-far"),
        vec![f("runbook-first-step-far", RUNBOOK, heading)]
    );
}

/// The paste format (issue 12): each part a pasted step needs is named on its own line.
#[test]
fn a_step_without_its_subshell_guard_or_verdict_is_named_on_each_line() {
    let fx = Fixture::hub();
    assert!(fx.findings_of("step-verdict").is_empty());
    fx.edit(
        RUNBOOK,
        "```bash {#cache-verify-ping .step class=cache phase=verify}\n( set -euo pipefail\ntrue\n); case $? in 0) echo \"PASS cache-verify-ping\"",
        "```bash {#cache-verify-ping .step class=cache phase=verify}\ntest -s \"$SECRETS_PATH/REDIS_PASSWORD\"\n); case $? in 0) echo \"PASS cache-verify-pong\"",
    );
    let line = fx.line_of(RUNBOOK, "test -s \"$SECRETS_PATH/REDIS_PASSWORD\"");
    assert_eq!(
        fx.findings_of("step-verdict"),
        vec![
            f("step-verdict", RUNBOOK, line),
            f("step-verdict", RUNBOOK, line),
            f("step-verdict", RUNBOOK, line + 1),
        ]
    );
}

#[test]
fn steps_survive_pasting_into_an_interactive_shell() {
    let fx = Fixture::hub();
    assert!(fx.findings_of("step-history-expansion").is_empty());
    fx.edit(
        RUNBOOK,
        "```bash {#cache-verify-ping .step class=cache phase=verify}\n( set -euo pipefail\ntrue\n",
        "```bash {#cache-verify-ping .step class=cache phase=verify}\n( set -euo pipefail\ncase \"$x\" in *[!a-z]*) false ;; esac\n",
    );
    let line = fx.line_of(RUNBOOK, "*[!a-z]*");
    assert_eq!(
        fx.findings_of("step-history-expansion"),
        vec![f("step-history-expansion", RUNBOOK, line)]
    );
}

/// Issue 12, escalation: a role an S1 pages must name how to wake it, outside the repository.
#[test]
fn a_paged_role_without_a_paging_reference_is_named() {
    let fx = Fixture::hub();
    assert!(fx.findings_of("matrix-owner").is_empty());
    fx.edit(
        MATRIX,
        "    paging: \"private on-call rota, entry cdb-oncall-owner-operator (kept outside the repository)\"\n",
        "",
    );
    let line = fx.line_of(MATRIX, "  - id: owner-operator");
    assert_eq!(
        fx.findings_of("matrix-owner"),
        vec![f("matrix-owner", MATRIX, line)]
    );
}

/// Issue 14: a freshness finding's message says "N days ago", which grows every day; its
/// SARIF fingerprint is keyed on the class and its rotation date instead, so code scanning
/// keeps one alert for one overdue rotation, and a new `last_rotated` is a new alert.
#[test]
fn freshness_fingerprints_do_not_change_from_one_day_to_the_next() {
    let fx = Fixture::hub();
    let prints = |today: &str| -> (Vec<String>, String) {
        let run = fx.verify(&[
            "--select",
            "rotation-overdue,review-stale",
            "--format",
            "sarif",
            "--today",
            today,
        ]);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let results = v["runs"][0]["results"].as_array().unwrap().clone();
        let fps = results
            .iter()
            .map(|r| {
                r["partialFingerprints"]["cdbFingerprint/v2"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        (fps, run.stdout)
    };
    let (a, text_a) = prints("2027-03-01");
    let (b, text_b) = prints("2027-03-02");
    assert_eq!(
        a.len(),
        2,
        "an overdue rotation and a stale review: {text_a}"
    );
    assert_ne!(text_a, text_b, "the messages count the days");
    assert_eq!(a, b);
    fx.edit(
        MATRIX,
        "last_rotated: 2026-10-01",
        "last_rotated: 2026-10-02",
    );
    let (c, _) = prints("2027-03-02");
    assert_ne!(a[..], c[..], "a new rotation date is a new alert");
}
