//! The guided rotation with a scripted executor and scripted answers, over a copy of the kit's
//! own hub: the procedure's order, the prompts, the refusals, quit and resume, bad input, and
//! no value in the output or the journal.
#![allow(clippy::unwrap_used)]

use cdb_docs::Step;
use cdb_rotate::journal::{self, Record};
use cdb_rotate::{Answer, Executor, ManualAnswer, Options, Prompter, StepOutput};
use std::collections::{HashMap, VecDeque};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A value planted in the secrets folder: it must never be shown or journaled.
const PLANTED: &str = "Pl4nted-db-pw-7f3a9c1e5b2d8f60";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
    secrets: PathBuf,
    compose: PathBuf,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = dir.path().join("root");
    copy_dir(
        &ws.join("Claire_de_Binare_Docs"),
        &root.join("Claire_de_Binare_Docs"),
    );
    let secrets = dir.path().join("secrets");
    let compose = dir.path().join("compose");
    std::fs::create_dir_all(&secrets).unwrap();
    std::fs::create_dir_all(&compose).unwrap();
    std::fs::write(secrets.join("POSTGRES_PASSWORD"), PLANTED).unwrap();
    std::fs::write(compose.join("compose.blue.yml"), "services: {}\n").unwrap();
    Env {
        home: dir.path().join("home"),
        root,
        secrets,
        compose,
        _dir: dir,
    }
}

/// Passes every step but those in `fail` (each fails the given number of times); prints the
/// planted value raw and base64 from a rotate step, as a careless step might.
struct Fake {
    secrets: PathBuf,
    compose: PathBuf,
    fail: HashMap<String, usize>,
    ran: Vec<String>,
    kill_switch: Option<bool>,
}

impl Fake {
    fn new(e: &Env) -> Fake {
        Fake {
            secrets: e.secrets.clone(),
            compose: e.compose.clone(),
            fail: HashMap::new(),
            ran: Vec::new(),
            kill_switch: Some(true),
        }
    }
}

impl Executor for Fake {
    fn describe(&self) -> String {
        "a scripted stack".into()
    }
    fn secrets_path(&self) -> &Path {
        &self.secrets
    }
    fn compose_dir(&self) -> &Path {
        &self.compose
    }
    fn run(&mut self, step: &Step) -> io::Result<StepOutput> {
        self.ran.push(step.id.clone());
        let failing = match self.fail.get_mut(&step.id) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        };
        let mut stdout = String::new();
        if step.id == "database-rotate-stage-next" {
            let b64 = "UGw0bnRlZC1kYi1wdy03ZjNhOWMxZTViMmQ4ZjYw";
            stdout.push_str(&format!("value {PLANTED} as base64 {b64}\n"));
            std::fs::write(
                self.secrets.join("POSTGRES_PASSWORD.next"),
                "next-value-0123456789abcdef",
            )?;
        }
        if step.id == "database-rotate-keep-previous" {
            std::fs::write(self.secrets.join("POSTGRES_PASSWORD.prev"), PLANTED)?;
        }
        if step.id == "database-revoke-retire-staging" {
            for x in ["prev", "next"] {
                let _ = std::fs::remove_file(self.secrets.join(format!("POSTGRES_PASSWORD.{x}")));
            }
        }
        stdout.push_str(&if failing {
            format!("FAIL {}: scripted\n", step.id)
        } else {
            format!("PASS {}\n", step.id)
        });
        Ok(StepOutput {
            code: Some(if failing { 1 } else { 0 }),
            stdout,
            stderr: String::new(),
        })
    }
    fn kill_switch_engaged(&mut self) -> io::Result<Option<bool>> {
        Ok(self.kill_switch)
    }
}

/// Answers from a script; `y` / `done` / `n` (matrix) when it runs out... unless `strict`.
struct Script {
    steps: VecDeque<Answer>,
    asked: usize,
    matrix: bool,
}

impl Prompter for Script {
    fn ask_step(&mut self, out: &mut dyn Write) -> io::Result<Answer> {
        self.asked += 1;
        writeln!(out, "run it?")?;
        Ok(self.steps.pop_front().unwrap_or(Answer::Yes))
    }
    fn ask_manual(&mut self, _: &mut dyn Write) -> io::Result<ManualAnswer> {
        Ok(ManualAnswer::Done)
    }
    fn ask_yes_no(&mut self, _: &str, _: &mut dyn Write) -> io::Result<Option<bool>> {
        Ok(Some(self.matrix))
    }
}

fn script(answers: Vec<Answer>, matrix: bool) -> Script {
    Script {
        steps: answers.into(),
        asked: 0,
        matrix,
    }
}

fn opts(e: &Env, class: &str, leak: bool) -> Options {
    Options {
        class: class.into(),
        leak,
        root: e.root.clone(),
        home: Some(e.home.clone()),
        ..Options::default()
    }
}

fn go(o: &Options, x: &mut Fake, p: &mut Script) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cdb_rotate::run(o, x, p, &mut out, &mut err);
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn journals(e: &Env) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(&e.home)
        .map(|d| {
            d.flatten()
                .map(|x| x.path())
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn steps_of(path: &Path) -> Vec<(String, String, bool)> {
    journal::read(path)
        .unwrap()
        .into_iter()
        .filter_map(|r| match r {
            Record::Step(s) => Some((s.id, s.decision, s.passed)),
            _ => None,
        })
        .collect()
}

fn hub_steps(e: &Env, class: &str, phase: &str, leak: bool) -> Vec<String> {
    let hub = cdb_rotate::runner::load_hub(&e.root).unwrap();
    let t = if leak {
        cdb_docs::Trigger::Leak
    } else {
        cdb_docs::Trigger::Routine
    };
    hub.docs
        .iter()
        .flat_map(|d| d.steps.iter())
        .filter(|s| s.class == class && s.phase.as_str() == phase && s.when.applies_to(t))
        .map(|s| s.id.clone())
        .collect()
}

#[test]
fn a_routine_rotation_follows_the_procedure_asks_only_for_changes_and_closes_the_loop() {
    let e = env();
    let mut x = Fake::new(&e);
    let mut p = script(vec![], true);
    let (code, out, err) = go(&opts(&e, "database", false), &mut x, &mut p);
    assert_eq!(code, 0, "{out}\n{err}");
    let js = journals(&e);
    assert_eq!(js.len(), 1);
    let steps = steps_of(&js[0]);
    let mut want = Vec::new();
    for ph in ["pre-check", "rotate", "verify", "revoke"] {
        want.extend(hub_steps(&e, "database", ph, false));
    }
    let ids: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(ids, want);
    for (id, decision, _) in &steps {
        let read_only = id.contains("-pre-check-") || id.contains("-verify-");
        assert_eq!(decision, if read_only { "auto" } else { "yes" }, "{id}");
    }
    // Asked once per step that changes something.
    assert_eq!(p.asked, steps.iter().filter(|s| s.1 == "yes").count());
    let m = std::fs::read_to_string(
        e.root
            .join("Claire_de_Binare_Docs/data/secret-rotation-matrix.yaml"),
    )
    .unwrap();
    let date: String = journal::now().chars().take(10).collect();
    assert!(m.contains(&format!("last_rotated: {date}")), "{m}");
    assert!(out.contains("Post-rotation checklist"), "{out}");
    assert!(
        out.contains("→ done: Verify and Revoke passed (journal)"),
        "{out}"
    );
    assert!(
        out.contains("| `database-rotate-alter-role` | PASS database-rotate-alter-role | yes |"),
        "{out}"
    );
    // The journal and the timeline are private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&e.home), 0o700);
        assert_eq!(mode(&js[0]), 0o600);
    }
}

#[test]
fn no_secret_value_reaches_the_output_or_the_journal() {
    let e = env();
    let mut x = Fake::new(&e);
    let mut p = script(vec![], false);
    let (code, out, err) = go(&opts(&e, "database", false), &mut x, &mut p);
    assert_eq!(code, 0, "{out}\n{err}");
    let journal = std::fs::read_to_string(&journals(&e)[0]).unwrap();
    for text in [&out, &err, &journal] {
        assert!(!text.contains(PLANTED), "{text}");
        assert!(
            !text.contains("UGw0bnRlZC1kYi1wdy03ZjNhOWMxZTViMmQ4ZjYw"),
            "{text}"
        );
        assert!(!text.contains("next-value-0123456789abcdef"), "{text}");
    }
    assert!(out.contains("value [REDACTED]"), "{out}");
}

#[test]
fn a_failed_verify_takes_the_rollback_and_a_revoke_before_verify_is_refused() {
    // Verify fails twice: rollback, verify again (fails), escalate. Revoke never ran.
    let e = env();
    let mut x = Fake::new(&e);
    x.fail.insert("database-verify-new-credential".into(), 2);
    let mut p = script(vec![], false);
    let (code, out, _) = go(&opts(&e, "database", false), &mut x, &mut p);
    assert_eq!(code, 1, "{out}");
    assert!(
        !x.ran.iter().any(|id| id.contains("-revoke-")),
        "{:?}",
        x.ran
    );
    assert!(
        x.ran
            .iter()
            .any(|id| id == "database-rollback-restore-role")
    );
    assert!(out.contains("ROTATION FAILED: escalated"), "{out}");

    // A runbook edited so that Rotate deletes the way back (`rm` of `.prev`): refused, never run.
    let e = env();
    let rb = e
        .root
        .join("Claire_de_Binare_Docs/docs/content/security/secret-rotation-runbook.md");
    let text = std::fs::read_to_string(&rb).unwrap();
    let from = "( umask 077; f=\"$SECRETS_PATH/POSTGRES_PASSWORD.next\"";
    assert_eq!(text.matches(from).count(), 1);
    std::fs::write(
        &rb,
        text.replace(
            from,
            &format!("rm -f \"$SECRETS_PATH/POSTGRES_PASSWORD.prev\"\n{from}"),
        ),
    )
    .unwrap();
    let mut x = Fake::new(&e);
    let mut p = script(vec![], false);
    let (code, out, _) = go(&opts(&e, "database", false), &mut x, &mut p);
    // Rotate failed there, so the routine rollback ran and (the scripted stack passing) the
    // stack is back on the previous value: recovered, not rotated.
    assert_eq!(code, 0, "{out}");
    assert!(
        x.ran
            .iter()
            .any(|id| id == "database-rollback-restore-role")
    );
    assert!(
        out.contains("REFUSED database-rotate-stage-next: a deletion before Verify passed"),
        "{out}"
    );
    assert!(!x.ran.iter().any(|id| id == "database-rotate-stage-next"));
    let steps = steps_of(&journals(&e)[0]);
    assert!(steps.contains(&("database-rotate-stage-next".into(), "refused".into(), false)));

    // The guard itself: a revoke step before any verify passed.
    let hub = cdb_rotate::runner::load_hub(&e.root).unwrap();
    let revoke = hub
        .steps()
        .find(|s| s.id == "database-revoke-retire-staging")
        .unwrap();
    assert!(cdb_rotate::guard::refusal(revoke, false, |_| true, false, || Some(true)).is_some());
    assert!(cdb_rotate::guard::refusal(revoke, true, |_| false, false, || Some(true)).is_none());
}

#[test]
fn during_an_incident_a_step_that_starts_cdb_execution_with_the_switch_released_is_refused() {
    let e = env();
    let mut x = Fake::new(&e);
    x.kill_switch = Some(false);
    let mut p = script(vec![], false);
    let o = Options {
        incident: Some("SEC-20261206-1".into()),
        ..opts(&e, "database", true)
    };
    let (_, out, _) = go(&o, &mut x, &mut p);
    assert!(
        out.contains("REFUSED database-rollback-recreate-consumers: incident open"),
        "{out}"
    );
    assert!(
        out.contains("REFUSED database-rotate-recreate-consumers: incident open and the kill switch is released"),
        "{out}"
    );
    assert!(
        !x.ran.iter().any(|id| id.ends_with("recreate-consumers")),
        "{:?}",
        x.ran
    );
    // With the switch engaged the same rotation recreates.
    let e = env();
    let mut x = Fake::new(&e);
    let mut p = script(vec![], false);
    let (code, out, _) = go(&opts(&e, "database", true), &mut x, &mut p);
    assert_eq!(code, 0, "{out}");
    assert!(
        x.ran
            .iter()
            .any(|id| id == "database-rotate-recreate-consumers")
    );
}

#[test]
fn declined_skipped_and_quit_then_resume_at_the_first_step_not_done() {
    let e = env();
    let o = opts(&e, "database", false);
    // Uninterrupted, for the sequence.
    let whole = {
        let e2 = env();
        let mut x = Fake::new(&e2);
        let mut p = script(vec![], false);
        assert_eq!(go(&opts(&e2, "database", false), &mut x, &mut p).0, 0);
        x.ran
    };
    let mut x = Fake::new(&e);
    let mut p = script(vec![Answer::Yes, Answer::Yes, Answer::Quit], false);
    let (code, out, _) = go(&o, &mut x, &mut p);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("--resume"), "{out}");
    // A new rotation of the class is refused while this one is open.
    let mut x2 = Fake::new(&e);
    let (code, _, err) = go(&o, &mut x2, &mut script(vec![], false));
    assert_eq!(code, 2);
    assert!(err.contains("--resume"), "{err}");
    assert!(x2.ran.is_empty());
    let first = x.ran.clone();
    let mut x = Fake::new(&e);
    let mut p = script(vec![], false);
    let (code, out, err) = go(
        &Options {
            resume: true,
            ..o.clone()
        },
        &mut x,
        &mut p,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("resumed: 4 step(s) done before"), "{out}");
    let mut all = first;
    all.extend(x.ran);
    assert_eq!(all, whole);
    let js = journals(&e);
    assert_eq!(js.len(), 1);
    let ids: Vec<String> = steps_of(&js[0]).into_iter().map(|s| s.0).collect();
    assert_eq!(ids, whole);

    // `n` counts as the step's failure (Rotate stops, the rollback runs); a skip as passed.
    let e = env();
    let mut x = Fake::new(&e);
    let mut p = script(
        vec![Answer::Skip("kept by hand already".into()), Answer::No],
        false,
    );
    let (code, out, _) = go(&opts(&e, "database", false), &mut x, &mut p);
    assert_eq!(code, 0, "the rollback recovers: {out}");
    let steps = steps_of(&journals(&e)[0]);
    assert_eq!(
        steps[2],
        (
            "database-rotate-keep-previous".into(),
            "skipped".into(),
            true
        )
    );
    assert_eq!(
        steps[3],
        (
            "database-rotate-stage-next".into(),
            "declined".into(),
            false
        )
    );
    assert!(
        steps
            .iter()
            .any(|s| s.0 == "database-rollback-restore-role")
    );
}

#[test]
fn bad_input_is_one_clear_error_exit_2_and_runs_nothing() {
    let check = |o: &Options, x: &mut Fake, want: &str| {
        let (code, out, err) = go(o, x, &mut script(vec![], false));
        assert_eq!(code, 2, "{out}\n{err}");
        assert!(err.contains(want), "want `{want}` in:\n{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(x.ran.is_empty(), "{:?}", x.ran);
    };
    let e = env();
    check(
        &opts(&e, "no-such-class", false),
        &mut Fake::new(&e),
        "`no-such-class` is not a class",
    );
    let mut x = Fake::new(&e);
    x.secrets = e.secrets.join("missing");
    check(
        &opts(&e, "database", false),
        &mut x,
        "cannot read the folder of the secret files",
    );
    let mut x = Fake::new(&e);
    x.secrets = PathBuf::new();
    check(
        &opts(&e, "database", false),
        &mut x,
        "SECRETS_PATH is not set",
    );
    let mut x = Fake::new(&e);
    x.compose = e.compose.join("missing");
    check(
        &opts(&e, "database", false),
        &mut x,
        "cannot read the Compose folder",
    );
    let mut x = Fake::new(&e);
    x.compose = e.secrets.clone();
    check(
        &opts(&e, "database", false),
        &mut x,
        "no compose*.yml in the Compose folder",
    );

    // A journal of another class, a corrupted one, and one whose staging files changed.
    let mut x = Fake::new(&e);
    let (code, _, _) = go(
        &opts(&e, "database", false),
        &mut x,
        &mut script(vec![Answer::Quit], false),
    );
    assert_eq!(code, 3);
    let j = journals(&e)[0].clone();
    let resume = |class: &str| Options {
        resume: true,
        journal: Some(j.clone()),
        ..opts(&e, class, false)
    };
    check(
        &resume("cache"),
        &mut Fake::new(&e),
        "the journal is of a rotation of `database`, not `cache`",
    );
    check(
        &Options {
            leak: true,
            ..resume("database")
        },
        &mut Fake::new(&e),
        "resume it without --leak",
    );
    std::fs::write(
        e.secrets.join("POSTGRES_PASSWORD.next"),
        "someone-staged-this-0000",
    )
    .unwrap();
    check(
        &resume("database"),
        &mut Fake::new(&e),
        "are not what the journal's last step left",
    );
    std::fs::remove_file(e.secrets.join("POSTGRES_PASSWORD.next")).unwrap();
    let good = std::fs::read_to_string(&j).unwrap();
    std::fs::write(&j, format!("{good}{{\"type\":\"step\",\"id\":")).unwrap();
    let n = good.lines().count() + 1;
    check(
        &resume("database"),
        &mut Fake::new(&e),
        &format!("{}:{n}: the journal is corrupted", j.display()),
    );
    std::fs::write(&j, good).unwrap();
    let mut x = Fake::new(&e);
    let (code, out, err) = go(&resume("database"), &mut x, &mut script(vec![], false));
    assert_eq!(code, 0, "{out}\n{err}");
    check(
        &resume("database"),
        &mut Fake::new(&e),
        "that rotation is over",
    );
}

#[test]
fn the_journal_folder_may_not_be_inside_the_repository() {
    let e = env();
    let o = Options {
        home: Some(e.root.join("journals")),
        ..opts(&e, "database", false)
    };
    let mut x = Fake::new(&e);
    let (code, _, err) = go(&o, &mut x, &mut script(vec![], false));
    assert_eq!(code, 2);
    assert!(err.contains("is inside the repository"), "{err}");
    assert!(x.ran.is_empty());
}

#[test]
fn a_step_cut_off_while_running_runs_again_on_resume_and_a_skip_reason_is_redacted() {
    let e = env();
    let o = opts(&e, "database", false);
    let mut x = Fake::new(&e);
    let mut p = script(
        vec![
            Answer::Skip(format!("kept by hand: {PLANTED}")),
            Answer::Quit,
        ],
        false,
    );
    assert_eq!(go(&o, &mut x, &mut p).0, 3);
    let j = journals(&e)[0].clone();
    let text = std::fs::read_to_string(&j).unwrap();
    assert!(!text.contains(PLANTED), "{text}");
    assert!(text.contains("kept by hand: [REDACTED]"), "{text}");
    let tl = std::fs::read_to_string(j.with_extension("timeline.md")).unwrap();
    assert!(tl.contains("| operator quit |"), "{tl}");
    // As if the terminal closed while `database-rotate-stage-next` ran: its `begin`, no outcome.
    let begin = Record::Begin {
        time: journal::now(),
        id: "database-rotate-stage-next".into(),
    };
    std::fs::write(
        &j,
        format!("{text}{}\n", serde_json::to_string(&begin).unwrap()),
    )
    .unwrap();
    // It had staged its file before the terminal closed: a change the journal cannot show.
    std::fs::write(
        e.secrets.join("POSTGRES_PASSWORD.next"),
        "half-staged-0123456789ab",
    )
    .unwrap();
    let mut x = Fake::new(&e);
    let (code, out, err) = go(
        &Options {
            resume: true,
            ..o.clone()
        },
        &mut x,
        &mut script(vec![], false),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("note: `database-rotate-stage-next` was cut off while running"),
        "{out}"
    );
    assert_eq!(
        x.ran.first().map(String::as_str),
        Some("database-rotate-stage-next")
    );
    let steps = steps_of(&j);
    assert_eq!(
        steps
            .iter()
            .filter(|s| s.0 == "database-rotate-stage-next")
            .count(),
        1
    );
}

/// What the guards see in the kit's own runbook and playbook. Four rotate steps delete or revoke
/// before Verify on purpose (a consumer's old key or password can only be shown unused by
/// deleting it): each names its proof (`proven-by=`), which runs before it and passes first;
/// every step that recreates the order path is known to start `cdb_execution`.
#[test]
fn the_guards_classify_the_kits_steps() {
    let e = env();
    let hub = cdb_rotate::runner::load_hub(&e.root).unwrap();
    let mut early: Vec<&str> = hub
        .steps()
        .filter(|s| {
            !matches!(
                s.phase,
                cdb_docs::Phase::Contain | cdb_docs::Phase::Rollback | cdb_docs::Phase::Revoke
            ) && cdb_rotate::guard::deletes(s)
        })
        .map(|s| s.id.as_str())
        .collect();
    early.sort_unstable();
    assert_eq!(
        early,
        [
            "alerting-mail-rotate-forget-old-password",
            "alerting-mail-rotate-revoke-old-app-password",
            "exchange-rotate-delete-old-read-key",
            "exchange-rotate-forget-old-read-key",
        ]
    );
    for id in &early {
        let step = hub.steps().find(|s| s.id == *id).unwrap();
        let proof = step
            .proven_by
            .as_deref()
            .unwrap_or_else(|| panic!("{id}: no proven-by"));
        // Refused until the proof passed, run after.
        assert!(cdb_rotate::guard::refusal(step, false, |_| false, false, || Some(true)).is_some());
        assert!(
            cdb_rotate::guard::refusal(step, false, |p| p == proof, false, || Some(true)).is_none()
        );
    }
    let starts: Vec<&str> = hub
        .steps()
        .filter(|s| cdb_rotate::guard::starts_execution(s))
        .map(|s| s.id.as_str())
        .collect();
    for id in [
        "database-rotate-recreate-consumers",
        "database-rollback-recreate-consumers",
        "cache-rotate-recreate-consumers",
        "exchange-rotate-recreate-consumers",
    ] {
        assert!(starts.contains(&id), "{id} not seen: {starts:?}");
    }
    assert!(
        starts
            .iter()
            .all(|id| id.contains("recreate") || id.contains("restart")),
        "{starts:?}"
    );
}

#[test]
fn a_resumed_rotation_stays_under_the_incident_it_was_started_under() {
    let e = env();
    let o = Options {
        incident: Some("SEC-20261206-2".into()),
        ..opts(&e, "database", true)
    };
    let mut x = Fake::new(&e);
    x.kill_switch = Some(false);
    assert_eq!(go(&o, &mut x, &mut script(vec![Answer::Quit], false)).0, 3);
    let mut x = Fake::new(&e);
    x.kill_switch = Some(false);
    let (_, out, _) = go(
        &Options {
            incident: None,
            resume: true,
            ..o.clone()
        },
        &mut x,
        &mut script(vec![], false),
    );
    assert!(out.contains("· incident SEC-20261206-2"), "{out}");
    assert!(
        out.contains("REFUSED database-rotate-recreate-consumers: incident open"),
        "{out}"
    );
}
