//! The guided rotation: the class's steps, in the order `cdb_model::procedure` gives (the drill
//! engine's), run by an [`Executor`], asked for with a [`Prompter`], refused by [`guard`],
//! journaled after [`Redactor::clean`], resumable.
//!
//! Read-only phases (pre-check, verify, post-check) run without asking; every other step shows
//! its id, its headline and its expected outcome (the runbook's "Expect …" beside it) and asks
//! `y`, `n`, `skip REASON` or `quit` unless `--yes`; a manual step prints its instructions and
//! waits for `done` or `failed`. `n` leaves the step not run and counts as its failure (the
//! procedure then takes the runbook's way back); a skip counts as passed, with its reason in the
//! journal; `quit` stops here, and `--resume` continues at the first step not done.

use crate::exec::{Check, Executor};
use crate::guard;
use crate::journal::{self, Journal, Record, StepRecord, now};
use crate::prompt::{Answer, ManualAnswer, Prompter};
use crate::redact::{Redactor, values_in};
use cdb_docs::{Hub, Phase, Step, Trigger};
use cdb_model::outcome::DrillOutcome;
use cdb_model::procedure::{Mark, Procedure};
use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Exit codes: 0 recovered, 1 not recovered (escalated, or a check failed), 2 bad input
/// (nothing ran), 3 the operator quit (resume later).
pub const EXIT_QUIT: u8 = 3;

/// What to rotate and how.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub class: String,
    pub leak: bool,
    pub incident: Option<String>,
    pub yes: bool,
    pub resume: bool,
    /// The journal to resume (default: the newest unfinished one of the class).
    pub journal: Option<PathBuf>,
    /// The tree holding the Docs Hub and the matrix.
    pub root: PathBuf,
    /// The journal folder (default: [`journal::home`]).
    pub home: Option<PathBuf>,
    /// A rehearsal (a mock world or the lab): nothing real was rotated, so the matrix's
    /// `last_rotated` is not offered.
    pub rehearsal: bool,
}

/// A bad input: one clear line, exit 2, nothing run.
#[derive(Debug)]
pub struct BadInput(pub String);

/// A journal that cannot be used is bad input: exit 2 with its message.
impl From<journal::JournalError> for BadInput {
    fn from(e: journal::JournalError) -> BadInput {
        BadInput(e.to_string())
    }
}

/// The hub and the class's steps for the trigger, in document order.
pub fn load_hub(root: &Path) -> Result<Hub, BadInput> {
    Hub::load(
        root,
        cdb_docs::Layout::default(),
        cdb_docs::hub::LoadOptions {
            text_files: false,
            parse_markdown: true,
        },
    )
    .map_err(|e| BadInput(format!("{}: cannot load the Docs Hub: {e}", root.display())))
}

/// Checks that `class` is a class of the hub's matrix.
pub fn check_class(hub: &Hub, class: &str) -> Result<(), BadInput> {
    let path = hub.root.join(&hub.layout.matrix);
    let m = match &hub.matrix {
        Some(Ok(m)) => m,
        Some(Err(e)) => return Err(BadInput(format!("{}:{e}", path.display()))),
        None => {
            return Err(BadInput(format!(
                "cannot read the rotation matrix {}",
                path.display()
            )));
        }
    };
    if m.class(class).is_none() {
        let known: Vec<&str> = m.classes.iter().map(|c| c.id.value.as_str()).collect();
        return Err(BadInput(format!(
            "`{class}` is not a class of {} (classes: {})",
            path.display(),
            known.join(", ")
        )));
    }
    Ok(())
}

/// The checks before anything runs: the secrets folder and the Compose folder can be read.
pub fn check_prerequisites(secrets: &Path, compose: &Path) -> Result<(), BadInput> {
    if secrets.as_os_str().is_empty() {
        return Err(BadInput(
            "SECRETS_PATH is not set: set it to the folder of the stack's secret files (runbook, Prerequisites)"
                .into(),
        ));
    }
    if let Err(e) = std::fs::read_dir(secrets) {
        return Err(BadInput(format!(
            "SECRETS_PATH={}: cannot read the folder of the secret files: {e}",
            secrets.display()
        )));
    }
    let entries = std::fs::read_dir(compose).map_err(|e| {
        BadInput(format!(
            "{}: cannot read the Compose folder: {e} (run from the folder holding compose.blue.yml, or give --compose DIR)",
            compose.display()
        ))
    })?;
    let has_compose = entries.flatten().any(|e| {
        let n = e.file_name().to_string_lossy().into_owned();
        n.starts_with("compose") && (n.ends_with(".yml") || n.ends_with(".yaml"))
    });
    if !has_compose {
        return Err(BadInput(format!(
            "{}: no compose*.yml in the Compose folder (run from the folder holding compose.blue.yml, or give --compose DIR)",
            compose.display()
        )));
    }
    Ok(())
}

/// What a step does and its expected outcome, from the runbook's paragraph just above its
/// fence: its first sentence, and its "Expect …" (either may be empty: a step right after
/// another shares that one's paragraph).
pub fn described(hub: &Hub, step: &Step) -> (String, String) {
    let para = paragraph(hub, step);
    let first = para.split(". ").next().unwrap_or("").trim();
    let what: String = if first.starts_with("Expect") {
        String::new()
    } else if first.chars().count() > 240 {
        format!("{}…", first.chars().take(240).collect::<String>())
    } else {
        first.to_owned()
    };
    let expect = match para.find("Expect") {
        Some(i) => para[i..].to_owned(),
        None => String::new(),
    };
    (what, expect)
}

fn paragraph(hub: &Hub, step: &Step) -> String {
    let Some(doc) = hub.doc(&step.path) else {
        return String::new();
    };
    let before = doc.text.get(..step.span.start).unwrap_or("");
    let para = before.trim_end().rsplit("\n\n").next().unwrap_or("").trim();
    if para.starts_with("```") || para.starts_with('#') {
        return String::new();
    }
    para.replace('\n', " ")
}

/// The `.prev`, `.next` and `.failed` files of the class's secrets in `dir` (names only).
pub fn staging_files(dir: &Path, secrets: &[String]) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            secrets.iter().any(|s| {
                [".prev", ".next", ".failed"]
                    .iter()
                    .any(|x| *n == format!("{s}{x}"))
            })
        })
        .collect();
    out.sort();
    out
}

/// The lines an operator recognises a step by: the first that calls a stack tool (the drill's
/// journal headline, without the paste format's frame lines).
pub fn headline(body: &str) -> String {
    const TOOLS: &[&str] = &[
        "docker ",
        "curl ",
        "gh ",
        "openssl ",
        "psql ",
        "redis-cli",
        "grafana",
    ];
    let own = |l: &&str| {
        !l.is_empty()
            && !l.starts_with("( set -euo pipefail")
            && !l.starts_with(": \"${")
            && !l.starts_with("); case $? in")
    };
    let lines: Vec<&str> = body.lines().map(str::trim).filter(own).collect();
    lines
        .iter()
        .find(|l| TOOLS.iter().any(|t| l.contains(t)))
        .or(lines.first())
        .map(|l| (*l).to_owned())
        .unwrap_or_default()
}

struct Session<'a> {
    opts: &'a Options,
    hub: &'a Hub,
    steps: Vec<&'a Step>,
    secrets_names: Vec<String>,
    exec: &'a mut dyn Executor,
    prompt: &'a mut dyn Prompter,
    out: &'a mut dyn Write,
    journal: Journal,
    /// The journaled outcomes of a resumed rotation, replayed before anything runs.
    replay: VecDeque<StepRecord>,
    /// The last record of the resumed journal was the start of this phase.
    replay_open_phase: Option<String>,
    /// After a resume: the staging files the journal's last step left, checked before the
    /// first step runs.
    files_then: Option<Vec<String>>,
    /// After a resume: the step the journal shows begun and never finished (cut off while
    /// running), which may have changed the staging files itself.
    cut_off: Option<String>,
    /// `--incident ID`, or the one the resumed rotation was started under.
    incident: Option<String>,
    /// The redactor of the values known since the last thing that ran (`None`: build it).
    redactor: Option<std::rc::Rc<Redactor>>,
    verified: bool,
    /// Every step outcome of this rotation (replayed and run), in order.
    done: Vec<StepRecord>,
}

enum Flow {
    Passed(bool),
    Quit,
}

/// Runs the rotation; returns the exit code.
pub fn run(
    opts: &Options,
    exec: &mut dyn Executor,
    prompt: &mut dyn Prompter,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    match run_inner(opts, exec, prompt, out) {
        Ok(code) => code,
        Err(BadInput(m)) => {
            // Standard error closed: the exit code still says it.
            let _ = writeln!(err, "error: {}", cdb_secrets::for_human(&m));
            2
        }
    }
}

fn io_bad(what: &str) -> impl Fn(std::io::Error) -> BadInput + '_ {
    move |e| BadInput(format!("{what}: {e}"))
}

fn run_inner(
    opts: &Options,
    exec: &mut dyn Executor,
    prompt: &mut dyn Prompter,
    out: &mut dyn Write,
) -> Result<u8, BadInput> {
    let hub = load_hub(&opts.root)?;
    check_class(&hub, &opts.class)?;
    check_prerequisites(exec.secrets_path(), exec.compose_dir())?;
    let trigger = if opts.leak {
        Trigger::Leak
    } else {
        Trigger::Routine
    };
    let steps: Vec<&Step> = hub
        .docs
        .iter()
        .flat_map(|d| d.steps.iter())
        .filter(|s| s.class == opts.class && s.when.applies_to(trigger))
        .collect();
    if steps.is_empty() {
        return Err(BadInput(format!(
            "the hub has no step of class `{}` for a {} rotation",
            opts.class,
            trigger.as_str()
        )));
    }
    let secrets_names: Vec<String> = hub
        .matrix()
        .and_then(|m| m.class(&opts.class))
        .map(|c| c.secrets.iter().map(|s| s.value.clone()).collect())
        .unwrap_or_default();
    let home = match &opts.home {
        Some(h) => h.clone(),
        None => journal::home()?,
    };
    journal::prepare_home(&home, &opts.root)?;
    let mut replay = VecDeque::new();
    let mut replay_open_phase = None;
    let mut files_then = None;
    let mut cut_off = None;
    let mut incident = opts.incident.clone();
    let (mut jr, resumed) = if opts.resume {
        let path = match &opts.journal {
            Some(p) => p.clone(),
            None => journal::latest_open(&home, &opts.class)?.ok_or_else(|| {
                BadInput(format!(
                    "no unfinished rotation of `{}` in {} to resume",
                    opts.class,
                    home.display()
                ))
            })?,
        };
        let recs = journal::read(&path)?;
        check_resumable(&path, &recs, opts)?;
        files_then = Some(journaled_files(&recs));
        cut_off = cut_off_step(&recs);
        // The incident the rotation was started under stays open on resume.
        if let Some(Record::Start {
            incident: Some(i), ..
        }) = recs.first()
        {
            incident = incident.or_else(|| Some(i.clone()));
        }
        for r in &recs {
            match r {
                Record::Step(s) => {
                    replay.push_back(s.clone());
                    replay_open_phase = None;
                }
                Record::Phase { phase, .. } => replay_open_phase = Some(phase.clone()),
                Record::Mark { .. } | Record::Files { .. } => {}
                _ => replay_open_phase = None,
            }
        }
        (Journal::append_to(&path)?, true)
    } else {
        if let Some(p) = journal::latest_open(&home, &opts.class)? {
            return Err(BadInput(format!(
                "an unfinished rotation of `{}` is in {}: continue it with --resume (or move that file away to start over)",
                opts.class,
                p.display()
            )));
        }
        let mut j = Journal::create(&home, &opts.class, trigger.as_str())?;
        j.write(&Record::Start {
            version: journal::VERSION,
            time: now(),
            class: opts.class.clone(),
            trigger: trigger.as_str().into(),
            incident: incident.clone(),
            world: exec.describe(),
        })
        .map_err(io_bad("cannot write the journal"))?;
        (j, false)
    };
    jr.write(&Record::Session {
        time: now(),
        resumed,
    })
    .map_err(io_bad("cannot write the journal"))?;
    let mut s = Session {
        opts,
        hub: &hub,
        steps,
        secrets_names,
        exec,
        prompt,
        out,
        journal: jr,
        replay,
        replay_open_phase,
        files_then,
        cut_off,
        incident,
        redactor: None,
        verified: false,
        done: Vec::new(),
    };
    let approvals = hub
        .matrix()
        .and_then(|m| m.class(&opts.class))
        .map(|c| {
            let (kind, list) = if opts.leak {
                ("emergency", &c.approvals.emergency)
            } else {
                ("routine", &c.approvals.routine)
            };
            let names: Vec<&str> = list.iter().map(|a| a.value.as_str()).collect();
            format!(
                "approvals required ({kind}, matrix): {} · recovery-time budget: {}\n",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                },
                c.rto.value
            )
        })
        .unwrap_or_default();
    s.say(&format!(
        "ROTATION {} · {}{} against {}\n{approvals}journal: {}{}\n",
        opts.class,
        trigger.as_str(),
        s.incident
            .as_ref()
            .map(|i| format!(" · incident {i}"))
            .unwrap_or_default(),
        s.exec.describe(),
        s.journal.path.display(),
        if resumed {
            format!(" (resumed: {} step(s) done before)", s.replay.len())
        } else {
            String::new()
        }
    ));
    s.procedure().map_err(|e| BadInput(e.to_string()))
}

/// A resumed journal must be of this class and trigger, unfinished, and the state on disk
/// (`.prev`/`.next`/`.failed` files) what its last step left.
fn check_resumable(path: &Path, recs: &[Record], opts: &Options) -> Result<(), BadInput> {
    let shown = path.display();
    if let Some(Record::Start { class, trigger, .. }) = recs.first() {
        if *class != opts.class {
            return Err(BadInput(format!(
                "{shown}: the journal is of a rotation of `{class}`, not `{}`",
                opts.class
            )));
        }
        // The journal's text is parsed here, where it comes in; the message quotes it as written.
        let theirs = trigger.parse::<Trigger>();
        let want = if opts.leak {
            Trigger::Leak
        } else {
            Trigger::Routine
        };
        if theirs != Ok(want) {
            return Err(BadInput(format!(
                "{shown}: the journal is of a {trigger} rotation; resume it {}",
                if theirs == Ok(Trigger::Leak) {
                    "with --leak"
                } else {
                    "without --leak"
                }
            )));
        }
    }
    if journal::finished(recs) {
        return Err(BadInput(format!(
            "{shown}: that rotation is over; nothing to resume"
        )));
    }
    Ok(())
}

/// The staging files the journal's last step left (names).
fn journaled_files(recs: &[Record]) -> Vec<String> {
    recs.iter()
        .rev()
        .find_map(|r| match r {
            Record::Files { names, .. } => Some(names.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// The step a journal shows begun and not finished at its end, if any.
fn cut_off_step(recs: &[Record]) -> Option<String> {
    let mut open = None;
    for r in recs {
        match r {
            Record::Begin { id, .. } => open = Some(id.clone()),
            Record::Step(s) if open.as_deref() == Some(s.id.as_str()) => open = None,
            _ => {}
        }
    }
    open
}

/// The state on disk must be what the journal's last step left: checked once the journaled
/// steps are replayed, before the first step runs.
fn check_files(
    path: &Path,
    then: &[String],
    secrets: &Path,
    names: &[String],
) -> Result<(), String> {
    let shown = path.display();
    let now_files = staging_files(secrets, names);
    if then != now_files {
        let fmt = |v: &[String]| {
            if v.is_empty() {
                "none".to_owned()
            } else {
                v.join(", ")
            }
        };
        return Err(format!(
            "{shown}: the staging files on disk ({}) are not what the journal's last step left ({}): SECRETS_PATH changed since; check it by hand before resuming",
            fmt(&now_files),
            fmt(then)
        ));
    }
    Ok(())
}

impl Session<'_> {
    /// The redactor for the values known now: built again only after something ran (a step,
    /// a manual step's effect, a replay), since compiling every value's encoded forms costs far
    /// more than masking a line.
    fn redactor(&mut self) -> std::rc::Rc<Redactor> {
        if let Some(r) = &self.redactor {
            return r.clone();
        }
        let mut v = values_in(self.exec.secrets_path());
        v.extend(self.exec.known_values());
        let r = std::rc::Rc::new(Redactor::new(v));
        self.redactor = Some(r.clone());
        r
    }

    fn say(&mut self, text: &str) {
        let clean = self.redactor().clean(text);
        // The journal is the record, not the terminal: a closed terminal must not stop a
        // rotation half done (the prompts, which need it, fail on their own).
        let _ = self.out.write_all(clean.as_bytes());
        let _ = self.out.flush();
    }

    fn write(&mut self, r: &Record) -> std::io::Result<()> {
        self.journal.write(r)
    }

    /// An incident is open: `--incident ID`, or the playbook's marker `$SECRETS_PATH/INCIDENT`
    /// (its containment opens it for an S1; "while it exists, every step that (re)starts
    /// `cdb_execution` refuses to run unless the kill switch is engaged", incident playbook,
    /// Containment). A leak of a lower severity (a TLS key) opens none: the playbook does not
    /// pause trading for it, and neither does this guard.
    fn incident(&self) -> bool {
        self.incident.is_some() || self.exec.secrets_path().join("INCIDENT").exists()
    }

    fn procedure(&mut self) -> std::io::Result<u8> {
        let mut p = Procedure::new(self.opts.leak);
        let mut recovered = false;
        let mut escalated = false;
        let mut post_ok = true;
        while let Some(run) = p.next() {
            let idx: Vec<usize> = (0..self.steps.len())
                .filter(|&i| self.steps[i].phase == run.phase)
                .collect();
            // As the drill engine: a phase without a step of the class passes (its mark counts).
            let ok = if idx.is_empty() {
                true
            } else {
                match self.phase(&run, &idx)? {
                    Some(ok) => ok,
                    None => return Ok(EXIT_QUIT),
                }
            };
            if run.phase == Phase::Verify && ok {
                self.verified = true;
            }
            if run.phase == Phase::PostCheck {
                post_ok = ok;
            }
            let mark = p.record(ok);
            let word = match mark {
                Some(Mark::Recovered) => {
                    recovered = true;
                    "recovered"
                }
                Some(Mark::Escalated) => {
                    escalated = true;
                    "escalated"
                }
                Some(Mark::RolledBack) => "rolled-back",
                None => "",
            };
            if !word.is_empty() && self.replay.is_empty() {
                self.write(&Record::Mark {
                    time: now(),
                    mark: word.into(),
                })?;
                self.say(&format!("-- {word}\n"));
            }
        }
        self.finish(recovered, escalated, post_ok)
    }

    /// Runs the steps of one phase; `None` when the operator quit.
    fn phase(
        &mut self,
        run: &cdb_model::procedure::PhaseRun,
        idx: &[usize],
    ) -> std::io::Result<Option<bool>> {
        let replaying = !self.replay.is_empty();
        let reopen = self.replay.is_empty()
            && self.replay_open_phase.take().as_deref() == Some(run.phase.as_str());
        if !replaying && !reopen {
            self.write(&Record::Phase {
                time: now(),
                phase: run.phase.as_str().into(),
                why: run.why.into(),
            })?;
        }
        if !replaying {
            self.say(&format!(
                "\n== {} — {}{}\n",
                run.phase.as_str(),
                run.why,
                if run.stop_at_first_failure {
                    " (stops at the first failing step)"
                } else {
                    ""
                }
            ));
        }
        let mut ok = true;
        for &i in idx {
            match self.step(self.steps[i])? {
                Flow::Passed(true) => {}
                Flow::Passed(false) => {
                    ok = false;
                    if run.stop_at_first_failure {
                        break;
                    }
                }
                Flow::Quit => {
                    let at = self.steps[i].id.clone();
                    self.write(&Record::Quit {
                        time: now(),
                        at: at.clone(),
                    })?;
                    self.say(&format!(
                        "\nstopped before `{at}`. Continue with: rotate {}{} --resume\n",
                        self.opts.class,
                        if self.opts.leak { " --leak" } else { "" }
                    ));
                    // The scribe's timeline so far, for the incident record.
                    self.write_timeline()?;
                    return Ok(None);
                }
            }
        }
        Ok(Some(ok))
    }

    fn finish(&mut self, recovered: bool, escalated: bool, post_ok: bool) -> std::io::Result<u8> {
        let outcome = if recovered && post_ok {
            DrillOutcome::Recovered
        } else if escalated {
            DrillOutcome::Escalated
        } else {
            DrillOutcome::NotRecovered
        };
        let checks: Vec<Check> = self.exec.closing_checks()?;
        let mut reasons: Vec<String> = Vec::new();
        if outcome != DrillOutcome::Recovered {
            reasons.push(format!("the rotation ended {outcome}"));
        }
        for c in &checks {
            let r = self.redactor();
            let line = format!(
                "check `{}`: {}",
                c.name,
                r.clean(&self.exec.sanitize(&c.detail))
            );
            self.write(&Record::Note {
                time: now(),
                text: format!("{} {line}", if c.passed { "PASS" } else { "FAIL" }),
            })?;
            if !c.passed {
                reasons.push(line);
            }
        }
        let passed = reasons.is_empty();
        self.write(&Record::End {
            time: now(),
            outcome: outcome.as_str().into(),
            passed,
            reasons: reasons.clone(),
        })?;
        self.say(&format!(
            "\nROTATION {}: {outcome}{}\n",
            if passed { "PASSED" } else { "FAILED" },
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" — {}", reasons.join("; "))
            }
        ));
        let mut matrix_set = None;
        if outcome == DrillOutcome::Recovered && self.opts.rehearsal {
            self.say("a rehearsal: nothing real was rotated, so last_rotated is not offered\n");
        } else if outcome == DrillOutcome::Recovered {
            matrix_set = self.offer_last_rotated()?;
        }
        let checklist = crate::report::checklist(
            self.hub,
            &self.opts.class,
            &self.done,
            self.exec.secrets_path(),
            &self.secrets_names,
            matrix_set,
        );
        self.say(&checklist);
        let (timeline, tl_path) = self.write_timeline()?;
        self.say(&format!(
            "\n{timeline}\n(timeline written to {})\n",
            tl_path.display()
        ));
        Ok(if passed { 0 } else { 1 })
    }

    /// Renders the journal as the incident timeline into `<journal>.timeline.md` (private).
    fn write_timeline(&mut self) -> std::io::Result<(String, PathBuf)> {
        let records = journal::read(&self.journal.path).map_err(std::io::Error::other)?;
        let timeline = crate::report::timeline(&records);
        let tl_path = self.journal.path.with_extension("timeline.md");
        crate::exec::write_private(&tl_path, &timeline)?;
        Ok((timeline, tl_path))
    }

    /// Offers to set `last_rotated` in the matrix; `Some(date)` when it was set.
    fn offer_last_rotated(&mut self) -> std::io::Result<Option<String>> {
        let date: String = now().chars().take(10).collect();
        let path = self.hub.root.join(&self.hub.layout.matrix);
        let q = format!(
            "set last_rotated of `{}` to {date} in {}?",
            self.opts.class,
            path.display()
        );
        let yes = if self.opts.yes {
            self.say(&format!("{q} yes (--yes)\n"));
            true
        } else {
            self.prompt.ask_yes_no(&q, &mut *self.out)? == Some(true)
        };
        if !yes {
            return Ok(None);
        }
        match crate::matrix_edit::edit_file(&path, &self.opts.class, &date) {
            Ok(()) => {
                self.write(&Record::Note {
                    time: now(),
                    text: format!("last_rotated of `{}` set to {date}", self.opts.class),
                })?;
                self.say(
                    "last_rotated set; commit it with the rotation record (names, step ids, times, no values)\n",
                );
                Ok(Some(date))
            }
            Err(e) => {
                self.say(&format!("could not set last_rotated: {e}\n"));
                Ok(None)
            }
        }
    }

    fn record_files(&mut self) -> std::io::Result<()> {
        let names = staging_files(self.exec.secrets_path(), &self.secrets_names);
        self.write(&Record::Files { time: now(), names })
    }

    fn step(&mut self, step: &Step) -> std::io::Result<Flow> {
        if let Some(r) = self.replay.pop_front() {
            if r.id != step.id {
                return Err(std::io::Error::other(format!(
                    "{}: the journal's step `{}` is not the step the procedure runs here (`{}`): the runbook changed since, or the journal is not this rotation's; it cannot be resumed",
                    self.journal.path.display(),
                    r.id,
                    step.id
                )));
            }
            self.redactor = None;
            if let Some(again) = self.exec.replay(step, &r.decision)?
                && again != r.passed
            {
                return Err(std::io::Error::other(format!(
                    "replaying `{}` in the world gave another verdict than the journal's: the world is not the one the rotation ran in",
                    step.id
                )));
            }
            let passed = r.passed;
            self.done.push(r);
            return Ok(Flow::Passed(passed));
        }
        if let Some(then) = self.files_then.take() {
            let checked = check_files(
                &self.journal.path,
                &then,
                self.exec.secrets_path(),
                &self.secrets_names,
            );
            match (checked, self.cut_off.take()) {
                (Ok(()), _) => {}
                // Steps are safe to re-run (docs/step-format.md): the one cut off runs again.
                (Err(e), Some(id)) => self.say(&format!(
                    "note: `{id}` was cut off while running and may have changed them: {e}\n"
                )),
                (Err(e), None) => return Err(std::io::Error::other(e)),
            }
        }
        let started = now();
        let read_only = matches!(
            step.phase,
            Phase::PreCheck | Phase::Verify | Phase::PostCheck
        ) && !guard::deletes(step)
            && !guard::starts_execution(step);
        let (what, expect) = described(self.hub, step);
        let line = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("  {s}\n")
            }
        };
        self.say(&format!(
            "\n[{}] {}{}\n{}  $ {}\n{}",
            step.phase.as_str(),
            step.id,
            if step.manual { " (manual)" } else { "" },
            line(&what),
            headline(&step.body),
            line(&expect)
        ));
        let incident = self.incident();
        let verified = self.verified;
        // A proof counts when it ran and passed in this rotation (a skipped one proves nothing).
        let done = &self.done;
        let proven = |id: &str| {
            done.iter()
                .any(|r| r.id == id && r.passed && r.decision != "skipped")
        };
        let exec = &mut *self.exec;
        if let Some(why) = guard::refusal(step, verified, proven, incident, || {
            exec.kill_switch_engaged().ok().flatten()
        }) {
            self.say(&format!("REFUSED {}: {why}\n", step.id));
            return self.finish_step(step, started, "refused", Some(why), None, false, "", "");
        }
        if step.manual {
            self.say(&format!("{}\n", step.body.trim_end()));
            let done = match self.prompt.ask_manual(&mut *self.out)? {
                ManualAnswer::Quit => return Ok(Flow::Quit),
                ManualAnswer::Done => true,
                ManualAnswer::Failed => false,
            };
            self.write(&Record::Begin {
                time: now(),
                id: step.id.clone(),
            })?;
            self.redactor = None;
            let o = self.exec.manual(step, done)?;
            let passed = o.code == Some(0);
            return self.finish_step(
                step,
                started,
                if done { "manual-done" } else { "manual-failed" },
                None,
                o.code,
                passed,
                &o.stdout,
                &o.stderr,
            );
        }
        let decision = if read_only {
            "auto"
        } else if self.opts.yes {
            "yes-flag"
        } else {
            match self.prompt.ask_step(&mut *self.out)? {
                Answer::Yes => "yes",
                Answer::Quit => return Ok(Flow::Quit),
                Answer::No => {
                    self.say(&format!("not run: `{}` counts as failed\n", step.id));
                    return self.finish_step(step, started, "declined", None, None, false, "", "");
                }
                Answer::Skip(reason) => {
                    let reason = self.redactor().clean(&reason);
                    self.say(&format!("skipped: {reason}\n"));
                    return self.finish_step(
                        step,
                        started,
                        "skipped",
                        Some(reason),
                        None,
                        true,
                        "",
                        "",
                    );
                }
            }
        };
        self.write(&Record::Begin {
            time: now(),
            id: step.id.clone(),
        })?;
        self.redactor = None;
        let o = self.exec.run(step)?;
        let passed = o.code == Some(0);
        self.finish_step(
            step, started, decision, None, o.code, passed, &o.stdout, &o.stderr,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_step(
        &mut self,
        step: &Step,
        started: String,
        decision: &str,
        reason: Option<String>,
        exit: Option<i32>,
        passed: bool,
        stdout: &str,
        stderr: &str,
    ) -> std::io::Result<Flow> {
        // Redacted with the values known after the step (it may have staged a new one).
        let r = self.redactor();
        let stdout = r.clean(&self.exec.sanitize(stdout));
        let stderr = r.clean(&self.exec.sanitize(stderr));
        // As in `say`: the journal below is the record; the terminal only shows it.
        for l in stdout.lines().chain(stderr.lines()) {
            let _ = writeln!(self.out, "  | {l}");
        }
        let rec = StepRecord {
            time: now(),
            id: step.id.clone(),
            phase: step.phase.as_str().into(),
            decision: decision.into(),
            reason,
            exit,
            passed,
            stdout,
            stderr,
            started,
        };
        self.write(&Record::Step(rec.clone()))?;
        self.record_files()?;
        // As in `say`: the journal above is the record.
        let _ = writeln!(
            self.out,
            "  => {} {}",
            if passed { "passed" } else { "FAILED" },
            step.id
        );
        self.done.push(rec);
        Ok(Flow::Passed(passed))
    }
}
