//! Compose overlays (issue 11, divergences 5 and 6): the world knows the `-f` files each
//! container was created from, `docker inspect` shows them in the Compose labels, a recreate
//! with fewer files drops the overlay, and Redis under `tls.yml` is TLS-only. Each test failed
//! on the world before overlays (no labels, `.Image` a template error, plaintext `redis-cli`
//! answered with TLS on, `-f tls.yml` "not a Compose file of this stack"). The rollback
//! overlay's tests failed on the world before image references (`.Config.Image` a template
//! error, `overlays: [rollback.yml]` an unknown overlay). The claims about one tool's answers
//! and the world's state call the mocks in process (`crate::dispatch`); the ones about the
//! shipped runbook and the sweep stay drills.

use crate::dispatch::Stack;

const LABEL: &str = "{{index .Config.Labels \"com.docker.compose.project.config_files\"}}";

fn statuses(j: &serde_json::Value) -> Vec<String> {
    j["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "step")
        .map(|e| e["status"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// The `-f` files of the label, split at commas.
fn files(s: &mut Stack, service: &str) -> Vec<String> {
    s.inspect(LABEL, service)
        .split(',')
        .map(str::to_owned)
        .collect()
}

/// Whether `files` are absolute paths ending in `/NAME` for each of `names`, in order
/// (`grep -Eqx '/.*/compose\.blue\.yml,/.*/tls\.yml'`).
fn are(files: &[String], names: &[&str]) -> bool {
    files.len() == names.len()
        && files
            .iter()
            .zip(names)
            .all(|(f, n)| f.starts_with('/') && f.ends_with(&format!("/{n}")))
}

/// `docker compose ARGS… up -d --no-deps --force-recreate [--pull never --no-build] SERVICE`.
fn recreate(
    s: &mut Stack,
    files: &[&str],
    pinned_only: bool,
    env: &[(&str, &str)],
    service: &str,
) -> crate::dispatch::Out {
    let mut argv = vec!["compose"];
    argv.extend_from_slice(files);
    argv.extend_from_slice(&["up", "-d", "--no-deps", "--force-recreate"]);
    if pinned_only {
        argv.extend_from_slice(&["--pull", "never", "--no-build"]);
    }
    argv.push(service);
    s.call_with("docker", &argv, "", env)
}

/// `-p PROJECT -f FILE…` from the Compose labels of `service`.
fn from_labels(s: &mut Stack, project: &str, service: &str) -> Vec<String> {
    let mut a = vec!["-p".to_owned(), project.to_owned()];
    for f in files(s, service) {
        a.push("-f".into());
        a.push(f);
    }
    a
}

#[test]
fn inspect_shows_the_files_a_container_was_created_from() {
    let mut s = Stack::for_class(10, "tls");
    // The tls class starts with the overlay on: the project file, then tls.yml, absolute.
    let f = files(&mut s, "cdb_redis");
    assert!(are(&f, &["compose.blue.yml", "tls.yml"]), "{f:?}");
    let project = s.inspect(
        "{{index .Config.Labels \"com.docker.compose.project\"}}",
        "cdb_grafana",
    );
    assert_eq!(project, "cdb-red");
    let id = s.inspect("{{.Image}}", "cdb_redis");
    let hex = id.strip_prefix("sha256:").unwrap_or_default();
    assert!(
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{id}"
    );
    s.step();
    // A recreate from the labels keeps the overlay and the image.
    let i = s.inspect("{{.Image}}", "cdb_ws");
    let a = from_labels(&mut s, "cdb-red", "cdb_ws");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    recreate(&mut s, &a, true, &[], "cdb_ws").ok();
    assert!(s.inspect(LABEL, "cdb_ws").ends_with("tls.yml"));
    assert_eq!(s.inspect("{{.Image}}", "cdb_ws"), i);
    s.step();
    // Another project name is another project: Docker refuses the container names.
    let o = recreate(
        &mut s,
        &["-p", "other", "-f", "compose.red.yml"],
        false,
        &[],
        "cdb_ws",
    );
    assert_ne!(o.code, 0, "{o:?}");
    s.step();
    // A recreate with one -f file drops the overlay from that container only.
    recreate(&mut s, &["-f", "compose.red.yml"], false, &[], "cdb_ws").ok();
    let f = files(&mut s, "cdb_ws");
    assert!(are(&f, &["compose.red.yml"]), "{f:?}");
    assert!(s.inspect(LABEL, "cdb_signal").contains("tls.yml"));
    // The dropped overlay is what the final invariant names: TLS-only Redis refuses the
    // plain client, and the container runs without the overlay the stack runs with.
    let sick = s.sick().join("; ");
    assert!(
        sick.contains("cdb_ws: cdb_redis accepts TLS only (tls.yml) and it connects without TLS")
            && sick.contains("it was recreated without the overlay tls.yml the stack runs with"),
        "{sick}"
    );
}

/// `REDISCLI_AUTH=… docker exec -e REDISCLI_AUTH cdb_redis redis-cli ARGS…`.
fn redis_cli(s: &mut Stack, args: &[&str]) -> crate::dispatch::Out {
    let auth = s.secret("REDIS_PASSWORD");
    let argv = [
        &["exec", "-e", "REDISCLI_AUTH", "cdb_redis", "redis-cli"],
        args,
    ]
    .concat();
    s.call_with("docker", &argv, "", &[("REDISCLI_AUTH", &auth)])
}

#[test]
fn redis_under_the_tls_overlay_refuses_plain_clients() {
    let mut s = Stack::for_class(10, "tls");
    // Plain redis-cli cannot connect to TLS-only Redis.
    let o = redis_cli(&mut s, &["PING"]);
    assert_eq!(
        o.both().trim_end(),
        "Error: Connection reset by peer",
        "{o:?}"
    );
    s.step();
    // Over TLS with the mounted CA it answers.
    assert_eq!(
        redis_cli(&mut s, &["--tls", "--cacert", "/tls/ca.crt", "PING"]).ok(),
        "PONG\n"
    );
    s.step();
    let o = redis_cli(
        &mut s,
        &[
            "--tls",
            "--cacert",
            "/tls/ca.crt",
            "--cert",
            "/tls/client.crt",
            "--key",
            "/tls/client.key",
            "PING",
        ],
    );
    assert_eq!(o.ok(), "PONG\n");
    s.step();
    // Without the stack's CA the server certificate does not verify.
    assert_ne!(redis_cli(&mut s, &["--tls", "PING"]).code, 0);
    s.step();
    // A client key that is not the certificate's is refused.
    let o = redis_cli(
        &mut s,
        &[
            "--tls",
            "--cacert",
            "/tls/ca.crt",
            "--cert",
            "/tls/client.crt",
            "--key",
            "/tls/redis.key",
            "PING",
        ],
    );
    assert_ne!(o.code, 0, "{o:?}");
}

#[test]
fn without_the_overlay_redis_speaks_plain_text_only() {
    let mut s = Stack::for_class(10, "cache");
    let f = files(&mut s, "cdb_redis");
    assert!(are(&f, &["compose.blue.yml"]), "{f:?}");
    s.step();
    assert_eq!(redis_cli(&mut s, &["PING"]).ok(), "PONG\n");
    s.step();
    assert_ne!(
        redis_cli(&mut s, &["--tls", "--cacert", "/tls/ca.crt", "PING"]).code,
        0
    );
    assert!(s.sick().is_empty(), "{:?}", s.sick());
}

const PINNED: &str = "rollback-20251231-180000";

/// Issue 11, "a pinned image tag lost": a stack started with `rollback.yml` runs the pinned
/// images, `docker inspect` shows each container's image reference and label, a recreate
/// from the label keeps the pin only with the tag in `ROLLBACK_TAG` (the label keeps the
/// files, not the tag: without it `--pull never --no-build` finds no `…:latest` and recreates
/// nothing), and a recreate with one `-f` file runs the base file's image, which the final
/// invariant names.
#[test]
fn a_recreate_with_fewer_files_loses_the_pinned_image_tag() {
    let image = "{{.Config.Image}}";
    // A cache drill with `overlays: [rollback.yml]`.
    let mut s = Stack::with_overlays(10, &["rollback.yml"]);
    // Pinned: the project's name and the tag the stack was started with.
    assert_eq!(
        s.inspect(image, "cdb_risk"),
        format!("cdb-blue_cdb_risk:{PINNED}")
    );
    assert_eq!(
        s.inspect(image, "cdb_ws"),
        format!("cdb-red_cdb_ws:{PINNED}")
    );
    let f = files(&mut s, "cdb_risk");
    assert!(are(&f, &["compose.blue.yml", "rollback.yml"]), "{f:?}");
    // Not pinned by the overlay: the name Compose built it under, a server's own image.
    assert_eq!(s.inspect(image, "cdb_candles"), "cdb-blue-cdb_candles");
    assert_eq!(s.inspect(image, "cdb_redis"), "redis:8.8.0-alpine");
    // The JSON form carries it too.
    let o = s.call("docker", &["inspect", "cdb_risk"]);
    assert!(
        o.ok()
            .contains(&format!("\"Image\": \"cdb-blue_cdb_risk:{PINNED}\"")),
        "{o:?}"
    );
    s.step();
    // From the label alone, in a shell without ROLLBACK_TAG: `…:latest` is no local image,
    // so nothing is recreated and the container keeps its image.
    let i = s.inspect("{{.Image}}", "cdb_risk");
    let a = from_labels(&mut s, "cdb-blue", "cdb_risk");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let o = recreate(&mut s, &a, true, &[], "cdb_risk");
    assert!(
        o.both().contains("No such image: cdb-blue_cdb_risk:latest"),
        "{o:?}"
    );
    assert_eq!(s.inspect("{{.Image}}", "cdb_risk"), i);
    s.step();
    // With the tag the image shows, the same recreate keeps the pin and the image ID.
    let both = "{{.Image}} {{.Config.Image}}";
    let i = s.inspect(both, "cdb_risk");
    let t = i.rsplit(':').next().unwrap().to_owned();
    recreate(&mut s, &a, true, &[("ROLLBACK_TAG", &t)], "cdb_risk").ok();
    assert_eq!(s.inspect(both, "cdb_risk"), i);
    s.step();
    // One -f file: the base file's image, another image ID; the label says so.
    let i = s.inspect("{{.Image}}", "cdb_ws");
    recreate(&mut s, &["-f", "compose.red.yml"], true, &[], "cdb_ws").ok();
    assert_eq!(s.inspect(image, "cdb_ws"), "cdb-red-cdb_ws");
    assert_ne!(s.inspect("{{.Image}}", "cdb_ws"), i);
    let f = files(&mut s, "cdb_ws");
    assert!(are(&f, &["compose.red.yml"]), "{f:?}");
    // The recreate that dropped the overlay left cdb_ws on another image than the pin: the
    // final invariant names it, and nothing else.
    let sick = s.sick();
    assert_eq!(sick.len(), 1, "{sick:?}");
    assert!(
        sick[0].contains(&format!(
            "cdb_ws: it runs image cdb-red-cdb_ws, not cdb-red_cdb_ws:{PINNED}, the tag the stack is pinned to (rollback.yml)"
        )),
        "{sick:?}"
    );
}

/// Without the overlay nothing is pinned; `-f rollback.yml` pins what it names, with the tag
/// of the call's environment, and Compose builds a missing pinned image unless told not to.
#[test]
fn without_the_rollback_overlay_images_are_the_project_builds() {
    let image = "{{.Config.Image}}";
    let mut s = Stack::for_class(10, "cache");
    assert_eq!(s.inspect(image, "cdb_risk"), "cdb-blue-cdb_risk");
    let f = files(&mut s, "cdb_risk");
    assert!(are(&f, &["compose.blue.yml"]), "{f:?}");
    s.step();
    // No such tag on the host: --no-build creates nothing.
    let pin = ["-f", "compose.blue.yml", "-f", "rollback.yml"];
    let o = recreate(&mut s, &pin, true, &[("ROLLBACK_TAG", "r1")], "cdb_risk");
    assert_ne!(o.code, 0, "{o:?}");
    assert_eq!(s.inspect(image, "cdb_risk"), "cdb-blue-cdb_risk");
    s.step();
    // Allowed to build (`build: null` keeps the base's build): the pin is built and runs.
    recreate(&mut s, &pin, false, &[("ROLLBACK_TAG", "r1")], "cdb_risk").ok();
    assert_eq!(s.inspect(image, "cdb_risk"), "cdb-blue_cdb_risk:r1");
    // The stack was not started pinned: a pin added later is no failure.
    assert!(s.sick().is_empty(), "{:?}", s.sick());
    assert!(s.w.violations.is_empty(), "{:?}", s.w.violations);
}

/// The shipped runbook on a pinned stack (drills/routine-db-pinned-images.yaml,
/// drills/routine-db-rollback-pin-dropped.yaml): its recreate steps carry the tag a pinned
/// container runs into `ROLLBACK_TAG` (before, they asked for `…:latest` and failed with no
/// fault injected), see a consumer that lost `rollback.yml` by its image, and the rollback's
/// recreate puts the pin back.
///
/// Through bash: it runs the shipped runbook on a pinned stack.
#[test]
fn the_runbook_keeps_and_restores_the_rollback_pin() {
    let d = crate::fixture();
    let root = d.path().to_str().expect("utf-8 path");
    let (code, out, err) = crate::drill(&[
        "routine-db-pinned-images",
        "--root",
        root,
        "--format",
        "json",
    ]);
    let j: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}\n{err}"));
    assert_eq!(code, 0, "{j:#}");
    assert!(statuses(&j).iter().all(|s| s == "passed"), "{j:#}");
    assert_eq!(j["gaps"].as_array().map(Vec::len), Some(0), "{j:#}");

    let (code, out, err) = crate::drill(&[
        "routine-db-rollback-pin-dropped",
        "--root",
        root,
        "--format",
        "json",
    ]);
    let j: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}\n{err}"));
    assert_eq!(code, 0, "{j:#}");
    assert_eq!(j["outcome"], "recovered", "{j:#}");
    let step = |id: &str| {
        j["events"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["type"] == "step" && e["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("no step {id}: {j:#}"))
    };
    let rotate = step("database-rotate-recreate-consumers");
    assert_eq!(rotate["status"], "failed", "{j:#}");
    assert!(
        rotate["stdout"]
            .as_str()
            .is_some_and(|s| s.contains("image changed: cdb_risk")),
        "{j:#}"
    );
    let rollback = step("database-rollback-recreate-consumers");
    assert_eq!(rollback["status"], "passed", "{j:#}");
    assert!(
        rollback["stdout"]
            .as_str()
            .is_some_and(|s| s.contains("rollback.yml pin restored: cdb_risk")),
        "{j:#}"
    );
}

/// The sweep's `rollback-overlay-dropped` cases start the stack with `rollback.yml` (its
/// baseline's stack does not): on the shipped runbook the dropped pin is detected by the
/// recreate step's image check and recovered by the rollback's recreate; on a runbook whose
/// recreates do not carry `ROLLBACK_TAG` the sweep names the gap (before this change such a
/// case was "not applicable": the recreate failed before the fault could take effect).
///
/// Through bash: it runs the sweep.
#[test]
fn the_sweep_runs_the_pinned_stack_and_names_a_runbook_that_loses_the_tag() {
    use cdb_drill::sweep::{self, Outcome, Plan};
    let cfg = |root: &std::path::Path| cdb_drill::engine::Config {
        root: root.to_path_buf(),
        seed: 1,
        step_timeout: std::time::Duration::from_secs(10),
        mock_exe: crate::mock_exe(),
    };
    let d = crate::fixture();
    let hub = sweep::load_hub(d.path()).expect("hub");
    let cases: Vec<_> = sweep::plan(&sweep::hub_steps(&hub), Some("database"))
        .into_iter()
        .filter(|(c, p)| c.fault.id == "rollback-overlay-dropped" && *p == Plan::Run)
        .map(|(c, _)| c)
        .collect();
    let case = cases
        .iter()
        .find(|c| {
            c.trigger == cdb_docs::Trigger::Routine
                && c.after != "database-rotate-recreate-consumers"
        })
        .expect("a routine case before the recreate");
    let r = sweep::run_case(&cfg(d.path()), &hub, case).expect("runs");
    assert_eq!(r.outcome, Outcome::Recovered, "{r:?}");
    assert_eq!(
        r.detected_by.as_deref(),
        Some("database-rotate-recreate-consumers"),
        "{r:?}"
    );
    // The recreates without the tag: `…:latest` is no local image.
    let p = d.path().join(crate::RUNBOOK);
    let text = std::fs::read_to_string(&p).expect("runbook");
    let n = text.matches("ROLLBACK_TAG=\"$pin\" docker compose").count();
    assert!(n >= 2, "{n}");
    std::fs::write(
        &p,
        text.replace("ROLLBACK_TAG=\"$pin\" docker compose", "docker compose"),
    )
    .expect("write");
    let hub = sweep::load_hub(d.path()).expect("hub");
    let r = sweep::run_case(&cfg(d.path()), &hub, case).expect("runs");
    assert!(r.outcome.is_gap(), "{r:?}");
    assert!(
        r.reason
            .contains("the stack started with rollback.yml fails without the fault"),
        "{r:?}"
    );
}

/// Every shipped drill, and a routine drill of each class, passes on a stack pinned by
/// `rollback.yml` (the TLS class's with `tls.yml` too) with no step failing unforced: every
/// recreate step carries the pin. (Before the runbook kept the tag, each recreate asked for
/// `…:latest`; the TLS recreates did until the tag was added to them too.)
#[test]
#[ignore = "slow tier: every shipped drill on a pinned stack (README, Two commands)"]
fn every_drill_passes_on_a_pinned_stack() {
    drills_pass_on_a_pinned_stack(true);
}

/// The fast form of `every_drill_passes_on_a_pinned_stack`: a routine drill of each class
/// (every class's recreate steps run in it).
///
/// Through bash: it runs shipped drills.
#[test]
fn a_routine_drill_of_each_class_passes_on_a_pinned_stack() {
    drills_pass_on_a_pinned_stack(false);
}

/// Runs a routine drill of each class on a pinned stack, and with `shipped` every shipped
/// drill pinned too; each must pass with no step failing unforced.
fn drills_pass_on_a_pinned_stack(shipped: bool) {
    let d = crate::fixture();
    let drills = d.path().join("drills");
    let mut names = Vec::new();
    let entries = std::fs::read_dir(&drills).expect("drills");
    for e in entries.filter(|_| shipped) {
        let p = e.expect("entry").path();
        let text = std::fs::read_to_string(&p).expect("scenario");
        // The TLS class runs on the TLS overlay; a scenario that names its overlays gets the
        // rollback overlay added to them.
        let pins = if text.contains("\nclass: tls") {
            "[tls.yml, rollback.yml]"
        } else {
            "[rollback.yml]"
        };
        let pinned = if let Some(at) = text.find("\noverlays: [") {
            let end = at + text[at..].find(']').expect("a closed overlay list");
            let list = &text[at + "\noverlays: [".len()..end];
            if list.contains("rollback.yml") {
                text.clone()
            } else {
                format!(
                    "{}\noverlays: [{list}, rollback.yml{}",
                    &text[..at],
                    &text[end..]
                )
            }
        } else {
            let (head, tail) = text.split_once("\ntrigger: ").expect("a trigger line");
            format!(
                "{head}\ntrigger: {}",
                tail.replacen('\n', &format!("\noverlays: {pins}\n"), 1)
            )
        };
        // On a pinned stack a recreate that drops `tls.yml` drops `rollback.yml` with it: the
        // recreate's own image check sees the lost pin before Verify sees the lost overlay.
        let pinned = if text.contains("kind: overlay-dropped") {
            pinned.replace(
                "detected_by: [tls-verify-containers-mount-new-set]",
                "detected_by: [tls-rotate-recreate-all]",
            )
        } else {
            pinned
        };
        std::fs::write(&p, pinned).expect("write");
        names.push(p.file_stem().expect("stem").to_string_lossy().into_owned());
    }
    for class in [
        "database",
        "cache",
        "exchange",
        "monitoring",
        "alerting-mail",
        "ci",
        "tls",
    ] {
        let name = format!("pinned-{class}-routine");
        let overlays = if class == "tls" {
            "[tls.yml, rollback.yml]"
        } else {
            "[rollback.yml]"
        };
        std::fs::write(
            drills.join(format!("{name}.yaml")),
            format!("title: p\nclass: {class}\ntrigger: routine\nbriefing: b\noverlays: {overlays}\nexpect:\n  outcome: recovered\n"),
        )
        .expect("write");
        names.push(name);
    }
    assert!(names.len() >= if shipped { 20 } else { 7 }, "{names:?}");
    let root = d.path().to_str().expect("utf-8 path");
    for n in &names {
        let (code, out, err) = crate::drill(&[n, "--root", root, "--format", "json"]);
        let j: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|_| panic!("{n}: {out}\n{err}"));
        assert_eq!(code, 0, "{n}: {j:#}");
        assert_eq!(j["gaps"].as_array().map(Vec::len), Some(0), "{n}: {j:#}");
        assert!(!j.to_string().contains("No such image"), "{n}: {j:#}");
    }
}
