//! The journal is deterministic, and no output carries a secret value.

use crate::{drill, fixture, has_long_hex};

#[test]
fn same_seed_gives_a_byte_identical_journal() {
    let d = fixture();
    let root = d.path().to_str().unwrap();
    let a = d.path().join("a.json");
    let b = d.path().join("b.json");
    for j in [&a, &b] {
        let (code, out, _) = drill(&[
            "leak-db",
            "--root",
            root,
            "--seed",
            "7",
            "--journal",
            j.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{out}");
    }
    let (ja, jb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(ja, jb);
    let text = String::from_utf8(ja).unwrap();
    assert!(
        !text.contains("/tmp") && !text.contains("cdb-drill-"),
        "temp path in the journal"
    );
    assert!(text.contains("$SANDBOX") || !text.contains("SANDBOX"));
}

#[test]
fn no_secret_value_in_journal_report_or_stdout() {
    let run = crate::all_run::all_run();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let mut texts = vec![run.stdout.clone(), run.stderr.clone()];
    for dir in [&run.journals, &run.reports] {
        for e in std::fs::read_dir(dir).unwrap() {
            texts.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
    }
    // Every value the world holds is a long hex string; the initial ones are known from the seed.
    let w = tempfile::tempdir().unwrap();
    let world = cdb_drill::world::World::new(1, w.path(), &w.path().join("s")).unwrap();
    for t in &texts {
        assert!(
            !has_long_hex(t),
            "a hex run (secret-like) in an output:\n{t}"
        );
        for v in world.values.keys() {
            assert!(!t.contains(v.as_str()));
        }
    }
    let report = std::fs::read_to_string(run.reports.join("leak-db.md")).unwrap();
    assert!(
        report.contains("## Timeline") && report.contains("time to detect"),
        "{report}"
    );
}

/// The base64 (standard, padded) of `b`, as `base64` prints it.
pub fn b64(b: &[u8]) -> String {
    let abc = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            out.push(if k <= c.len() {
                char::from(abc[((n >> (18 - 6 * k)) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

#[test]
fn encoded_split_and_scanner_flagged_values_reach_no_output() {
    let d = fixture();
    // A step that prints the database password as base64, reversed-free halves, and a token the
    // scanner flags (an AWS key id shape, assembled by the step so no file holds it).
    crate::add_step(
        d.path(),
        "database-pre-check-prints",
        r#"base64 < "$SECRETS_PATH/POSTGRES_PASSWORD"
head -c 12 "$SECRETS_PATH/POSTGRES_PASSWORD"; echo
tail -c +13 "$SECRETS_PATH/POSTGRES_PASSWORD"; echo
printf 'key AKIA%s\n' "$(printf '%s' Q 7 R 2 M 9 X 4 T 6 W 3 Z 8 K 5)""#,
    );
    let j = d.path().join("j.json");
    let r = d.path().join("r.md");
    let (code, out, err) = crate::drill_with_outputs("leak-db", d.path(), &j, &r);
    assert_eq!(code, 1, "{out}\n{err}");
    let w = tempfile::tempdir().unwrap();
    let world = cdb_drill::world::World::new(1, w.path(), &w.path().join("s")).unwrap();
    let pw = world.read_secret_file("POSTGRES_PASSWORD").unwrap();
    let pw = pw.trim_end();
    // Built at run time, as the step builds it: no file of the repository holds the fake.
    let token = ["AKIA", "Q7R2M9X4", "T6W3Z8K5"].concat();
    let journal = std::fs::read_to_string(&j).unwrap();
    let report = std::fs::read_to_string(&r).unwrap();
    for (name, t) in [
        ("stdout", &out),
        ("stderr", &err),
        ("journal", &journal),
        ("report", &report),
    ] {
        for (what, v) in [
            ("value", pw.to_owned()),
            ("base64", b64(pw.as_bytes())),
            ("base64 with newline", b64(format!("{pw}\n").as_bytes())),
            ("first half", pw[..12].to_owned()),
            ("second half", pw[12..].to_owned()),
            ("token", token.clone()),
        ] {
            assert!(!t.contains(&v), "the {what} is in the {name}:\n{t}");
        }
    }
    let v: serde_json::Value = serde_json::from_str(&journal).unwrap();
    let inv = v["invariants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "no-secret-in-transcript")
        .unwrap();
    assert_eq!(inv["passed"], false, "{inv}");
    let detail = inv["detail"].as_str().unwrap();
    assert!(
        detail.contains("`database-pre-check-prints` printed a secret value encoded"),
        "{detail}"
    );
    assert!(detail.contains("secret scanner flags"), "{detail}");
}

/// The world server gives the drill the same answers as the mock processes it replaced: with
/// the tools run as the drill binary, one process per call against the world file
/// (`CDB_DRILL_MOCKS=process`), the journal, the report and the output are byte-identical.
#[test]
fn the_world_server_answers_as_a_process_per_call_did() {
    // The cache leak calls docker, redis-cli, curl and openssl; the slow tier adds psql and the
    // TLS class.
    server_and_process_per_call_agree(&["leak-cache"]);
}

/// `the_world_server_answers_as_a_process_per_call_did` on the database and TLS leaks too.
#[test]
#[ignore = "slow tier: three drills with a process per mock call (README, Two commands)"]
fn the_world_server_answers_as_a_process_per_call_did_on_every_tool() {
    server_and_process_per_call_agree(&["leak-db", "leak-cache", "leak-tls"]);
}

/// Runs each scenario with the world server and with a process per call, and compares.
fn server_and_process_per_call_agree(scenarios: &[&str]) {
    let d = fixture();
    for &scenario in scenarios {
        let mut seen = Vec::new();
        for mode in ["server", "process"] {
            let j = d.path().join(format!("{scenario}-{mode}.json"));
            let r = d.path().join(format!("{scenario}-{mode}.md"));
            let mut cmd = std::process::Command::new(crate::mock_exe());
            cmd.args(["drill", scenario, "--seed", "7", "--root"])
                .arg(d.path())
                .arg("--journal")
                .arg(&j)
                .arg("--report")
                .arg(&r);
            if mode == "process" {
                cmd.env("CDB_DRILL_MOCKS", "process");
            }
            let out = cmd.output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{scenario} ({mode}): {out:?}");
            seen.push((
                out.stdout,
                std::fs::read(&j).unwrap(),
                std::fs::read(&r).unwrap(),
            ));
        }
        assert!(
            seen[0] == seen[1],
            "{scenario}: the world server and a process per call differ"
        );
    }
}

/// A step run as a subshell of the jail's step zygote gives the journal a step run as its own
/// `bash SCRIPT` gives (unconfined, `CDB_DRILL_ISOLATION=none`): only the `isolation` line
/// differs. Skipped where the kernel refuses namespaces (both would be unconfined).
#[test]
fn a_step_forked_by_the_zygote_runs_as_a_bash_of_its_own() {
    let d = fixture();
    let mut seen = Vec::new();
    for mode in ["jail", "none"] {
        let j = d.path().join(format!("leak-cache-{mode}.json"));
        let mut cmd = std::process::Command::new(crate::mock_exe());
        cmd.args(["drill", "leak-cache", "--seed", "3", "--root"])
            .arg(d.path())
            .arg("--journal")
            .arg(&j);
        if mode == "none" {
            cmd.env("CDB_DRILL_ISOLATION", "none");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{mode}: {out:?}");
        let text = std::fs::read_to_string(&j).unwrap();
        seen.push(text);
    }
    if !seen[0].contains("\"isolation\": \"namespaces")
        && !seen[0].contains("\"isolation\":\"namespaces")
    {
        eprintln!("skipped: namespaces refused here, both runs were unconfined");
        return;
    }
    let without = |t: &str| -> String {
        t.lines()
            .filter(|l| !l.contains("\"isolation\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without(&seen[0]), without(&seen[1]));
}

/// Process ids wrap at `pid_max`: an unconfined drill whose steps straddle the wrap keeps the
/// journal a jailed one writes (calls were ordered by id, so a later call with a smaller id came
/// first, and the journal changed from run to run on a busy machine). The unconfined drills run
/// in a pid namespace of their own (`unshare --pid`, with a user namespace when not root), whose
/// last id is set just below the wrap (`/proc/sys/kernel/ns_last_pid` of that namespace): the
/// host's ids are left alone. Skipped, saying so, where no pid namespace can be made.
#[test]
fn an_unconfined_drill_across_a_wrap_of_process_ids_keeps_its_journal() {
    let d = fixture();
    let root = rustix::process::getuid().is_root();
    // (exit code, journal without its `isolation` line); `None` where the namespace failed.
    let run = |back: Option<u32>| -> Option<String> {
        let j = d.path().join(format!("wrap-{back:?}.json"));
        let drill = |cmd: &mut std::process::Command| {
            cmd.args(["drill", "leak-cache", "--seed", "3", "--root"])
                .arg(d.path())
                .arg("--journal")
                .arg(&j);
        };
        let mut cmd = match back {
            None => std::process::Command::new(crate::mock_exe()),
            Some(back) => {
                let mut c = std::process::Command::new("unshare");
                if !root {
                    c.args(["--user", "--map-root-user"]);
                }
                // The namespace's own pid_max (namespaced since Linux 6.14; 4,194,304 there
                // while the host's is 32,768 here), read inside it.
                c.args(["--pid", "--fork", "--", "sh", "-c"])
                    .arg(
                        "m=$(cat /proc/sys/kernel/pid_max) && \
                         echo $((m - $1)) > /proc/sys/kernel/ns_last_pid && shift && \"$@\"",
                    )
                    .arg("sh")
                    .arg(back.to_string())
                    .arg(crate::mock_exe());
                c.env("CDB_DRILL_ISOLATION", "none");
                c
            }
        };
        drill(&mut cmd);
        let out = cmd.output().unwrap();
        if back.is_some() && !j.exists() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        assert_eq!(out.status.code(), Some(0), "{back:?}: {out:?}");
        let text = std::fs::read_to_string(&j).unwrap();
        Some(
            text.lines()
                .filter(|l| !l.contains("\"isolation\""))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    };
    let jailed = run(None).unwrap();
    // Two points before the wrap: the drill starts about 300 processes, and in a namespace of
    // its own nothing else takes ids, so the wrap falls inside a step's calls at both (the old
    // ordering changed the journal at each; it did at 200 to 280 ids before the wrap, not at
    // 100 to 180 or 300, where the wrap falls between steps).
    for back in [220, 260] {
        let Some(j) = run(Some(back)) else {
            eprintln!("skipped: no pid namespace of its own can be made here");
            return;
        };
        let first = j.lines().zip(jailed.lines()).position(|(a, b)| a != b);
        assert!(
            j == jailed,
            "unconfined across the wrap ({back} ids before it) differs from line {:?}: {:?}",
            first.map(|n| n + 1),
            first.map(|n| (j.lines().nth(n), jailed.lines().nth(n)))
        );
    }
}
