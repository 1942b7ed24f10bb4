//! What runs inside the shell's sandbox: the prompt hook that records each command (and fires
//! the scenario's injects), `drill-status` (the dashboard) and `drill-manual` (manual steps).
//!
//! Each is the mock executable called as `EXE __cdb-shell WHAT …`; it works on the world and
//! the shell state under the world's lock, so a hook and a mock never interleave.

use super::state::{self, Cmd, Detection, Look, STATUS_SECS, State, StepInfo};
use crate::journal::clock;
use crate::mock::STATE_VAR;
use crate::world::{World, all_services, with_world};
use cdb_docs::Phase;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Runs one hook; `args` follow the marker. Returns the exit code.
pub fn main(args: &[String]) -> u8 {
    let Some(world_file) = std::env::var_os(STATE_VAR).map(PathBuf::from) else {
        eprintln!("drill: {STATE_VAR} is not set: this only works inside `drill --shell`");
        return 127;
    };
    let (what, rest) = match args.split_first() {
        Some((w, r)) => (w.as_str(), r),
        None => ("", &[][..]),
    };
    let mut out = String::new();
    let res = match what {
        "record" => {
            let mut text = String::new();
            // The command line to record comes on stdin: recording an empty one instead would
            // credit or blame the wrong command in the after-action report.
            if let Err(e) = std::io::stdin().read_to_string(&mut text) {
                eprintln!("drill: cannot read the command line to record: {e}");
                return 125;
            }
            let rc: i32 = rest.first().and_then(|s| s.parse().ok()).unwrap_or(0);
            let hist = rest.get(1).cloned().unwrap_or_default();
            locked(&world_file, |w, st| {
                record(w, st, &text, rc, &hist);
                out = clock(st.t);
                0
            })
        }
        "status" => locked(&world_file, |w, st| {
            out = status(w, st);
            0
        }),
        "manual" => locked(&world_file, |w, st| {
            let (code, text) = manual(w, st, rest.first().map(String::as_str));
            out = text;
            code
        }),
        other => {
            eprintln!("drill: unknown hook `{other}`");
            return 2;
        }
    };
    match res {
        Ok(code) => {
            let mut so = std::io::stdout();
            // The prompt hook's terminal may be gone (the session ending): nobody to tell.
            let _ = so.write_all(out.as_bytes());
            if what == "record" {
                let _ = so.write_all(b"\n");
            }
            code
        }
        Err(e) => {
            eprintln!("drill: the drill state is unavailable: {e}");
            125
        }
    }
}

fn locked(world_file: &Path, f: impl FnOnce(&mut World, &mut State) -> u8) -> std::io::Result<u8> {
    let sp = State::path(world_file);
    with_world(world_file, |w| -> std::io::Result<u8> {
        let mut st = State::load(&sp)?;
        let code = f(w, &mut st);
        st.save(&sp)?;
        Ok(code)
    })?
}

/// What `drill-status` prints: the clock and the services a dashboard shows as not healthy.
fn status(w: &World, st: &mut State) -> String {
    let mut o = String::new();
    let t = st.t;
    o.push_str(&format!(
        "{}   drill clock {} (budget {})\n",
        wall(t),
        clock(t),
        clock(st.budget)
    ));
    let mut shown = Vec::new();
    let mut lines = Vec::new();
    for s in all_services() {
        let p = w.problems(s);
        if p.is_empty() {
            continue;
        }
        shown.push(s.to_owned());
        for problem in p {
            let (state, why) = dashboard(s, &problem);
            lines.push(format!("{s:<24}{state:<10}{why}"));
        }
    }
    let total = all_services().count();
    if lines.is_empty() {
        o.push_str(&format!("all {total} services UP\n"));
    } else {
        o.push_str(&format!("{} of {total} services UP\n", total - shown.len()));
        for l in lines {
            o.push_str(&l);
            o.push('\n');
        }
    }
    if w.trading_paused {
        o.push_str(&format!(
            "{:<24}{:<10}kill switch engaged\n",
            "trading", "PAUSED"
        ));
    }
    st.looks.push(Look {
        n: st.commands.len() + 1,
        t,
        shown: shown.clone(),
    });
    st.pending_secs = Some(STATUS_SECS);
    // A look counts as detection when it shows what a fault that took effect broke.
    if st.detection.is_none() {
        let hit = st.faults.iter().any(|f| {
            f.fired.is_some()
                && w.trips.iter().any(|tr| tr.kind == f.kind)
                && match &f.target {
                    Some(tg) if all_services().any(|s| s == tg) => shown.contains(tg),
                    _ => !shown.is_empty(),
                }
        });
        if hit {
            st.detection = Some(Detection {
                n: st.commands.len() + 1,
                t,
                how: format!("drill-status showed {}", shown.join(", ")),
                step: None,
            });
        }
    }
    o
}

/// The wall time the drill clock stands for (the world's `date` starts 2026-01-01T09:00:00Z).
fn wall(t: u64) -> String {
    let s = 9 * 3600 + t;
    format!(
        "2026-01-01 {:02}:{:02}:{:02} UTC",
        (s / 3600) % 24,
        s % 3600 / 60,
        s % 60
    )
}

/// How a monitoring dashboard words a problem: what the service's own logs and probes say.
fn dashboard(service: &str, problem: &str) -> (&'static str, String) {
    let exporter = service.ends_with("_exporter");
    match problem {
        "not running" => ("DOWN", "container exited".into()),
        "no such container" => ("DOWN", "container missing".into()),
        "its Postgres credential is rejected" if exporter => (
            "DOWN",
            "pg_up 0: password authentication failed for user \"claire_user\"".into(),
        ),
        "its Postgres credential is rejected" => (
            "DOWN",
            "postgres: password authentication failed for user \"claire_user\"".into(),
        ),
        "it has no Postgres credential" => ("DOWN", "postgres: no password supplied".into()),
        "its Redis credential is rejected" if exporter => (
            "DOWN",
            "redis_up 0: WRONGPASS invalid username-password pair".into(),
        ),
        "its Redis credential is rejected" => (
            "DOWN",
            "redis: WRONGPASS invalid username-password pair".into(),
        ),
        "its MEXC read key is rejected" => ("DEGRADED", "mexc: 401 API key invalid".into()),
        "its MEXC trade key is rejected" => {
            ("DEGRADED", "mexc: 401 API key invalid (orders)".into())
        }
        "its SMTP app password is rejected" => {
            ("DEGRADED", "smtp: 535 authentication failed".into())
        }
        other => ("DEGRADED", other.to_owned()),
    }
}

/// `drill-manual [ID]`: lists the class's manual steps, or does one (its effect on the world).
fn manual(w: &mut World, st: &mut State, id: Option<&str>) -> (u8, String) {
    let list = |st: &State| {
        let mut o = String::from("manual steps of this class (drill-manual ID):\n");
        for s in st.steps.iter().filter(|s| s.manual) {
            o.push_str(&format!(
                "  {:<48} {}{}\n",
                s.id,
                s.phase,
                if s.applies {
                    String::new()
                } else {
                    format!(" (when={})", s.when.as_str())
                }
            ));
        }
        o
    };
    let Some(id) = id else {
        return (0, list(st));
    };
    let Some(step) = st.steps.iter().find(|s| s.id == id && s.manual).cloned() else {
        return (
            2,
            format!("drill-manual: no manual step `{id}`\n{}", list(st)),
        );
    };
    let effect = step.effect.clone().unwrap_or_default();
    let res = crate::effects::apply(w, &effect, &step.body);
    st.pending_steps = vec![step.id.clone()];
    st.pending_secs = Some(step.secs);
    match res {
        Ok(msg) => (0, format!("[manual] {msg}\n")),
        Err(msg) => (1, format!("[manual] {msg}\n")),
    }
}

/// Records one command line: its runbook steps, the clock, injects, detection and health.
fn record(w: &mut World, st: &mut State, text: &str, rc: i32, hist: &str) {
    let text = text.trim();
    if hist == st.last_hist || text.is_empty() {
        return;
    }
    st.last_hist = hist.to_owned();
    let n = st.commands.len() + 1;
    let sandbox = w.sandbox.clone();
    let calls: Vec<String> = w.calls[st.calls_seen.min(w.calls.len())..]
        .iter()
        .map(|c| state::call_key(w, &sandbox, &c.tool, &c.argv))
        .collect();
    st.calls_seen = w.calls.len();
    let now = state::file_hashes(Path::new(&w.secrets_dir));
    let files = state::changed(&st.files, &now);
    st.files = now;

    let pending = std::mem::take(&mut st.pending_steps);
    let pending_secs = st.pending_secs.take();
    let (steps, how) = if !pending.is_empty() {
        (pending, "manual")
    } else if text.starts_with("drill-") {
        (Vec::new(), "")
    } else {
        recognise(st, text, &calls, &files)
    };
    let secs = if !steps.is_empty() {
        steps
            .iter()
            .filter_map(|id| st.step(id))
            .map(|s| s.secs)
            .sum()
    } else if text.starts_with("drill-") {
        pending_secs.unwrap_or(0)
    } else {
        state::DEFAULT_SECS
    };
    let t_start = st.t;
    let t_end = t_start + secs;
    st.t = t_end;
    w.clock = t_end;

    // A runbook check failed: a verify, pre-check or revoke step (a revoke step's check is where
    // a straggler on a live session shows, as in the automated drill), or a command that only
    // makes calls such a step makes (the person's own check).
    let is_check = |s: &StepInfo| {
        s.phase == Phase::Verify || s.phase == Phase::PreCheck || s.phase == Phase::Revoke
    };
    let check = if steps.is_empty() {
        !calls.is_empty()
            && st
                .steps
                .iter()
                .filter(|s| is_check(s))
                .any(|s| calls.iter().all(|c| s.calls.contains(c)))
    } else {
        steps.iter().filter_map(|id| st.step(id)).any(is_check)
    };
    let check_failed = rc != 0 && check;

    // Injects: a fault `after: X` fires once the command did step X.
    let mut fired = false;
    for k in 0..st.faults.len() {
        if st.faults[k].fired.is_none() && steps.contains(&st.faults[k].after) {
            w.current_step = Some(format!("command {n}"));
            arm(w, &st.faults[k]);
            st.faults[k].fired = Some(n);
            st.faults[k].t = Some(t_end);
            fired = true;
        }
    }
    if fired {
        // An emptied file is the fault's doing, not the next command's.
        st.files = state::file_hashes(Path::new(&w.secrets_dir));
    }
    let first_inject = st.faults.iter().filter_map(|f| f.fired).min();
    if st.detection.is_none()
        && check_failed
        && first_inject.is_some_and(|f| n > f || (f == 0 && n >= 1))
    {
        st.detection = Some(Detection {
            n,
            t: t_end,
            how: format!("command #{n} failed (exit {rc})"),
            step: steps.first().cloned(),
        });
    }
    let alive = leak_alive(w);
    let rotated = st
        .commands
        .iter()
        .flat_map(|c| c.steps.iter())
        .chain(steps.iter())
        .filter_map(|id| st.step(id))
        .any(|s| s.phase == Phase::Rotate || s.phase == Phase::Rollback);
    let good = rotated && !alive && sick(w, &st.degraded).is_empty();
    st.commands.push(Cmd {
        n,
        text: text.to_owned(),
        exit: rc,
        t_start,
        t_end,
        steps,
        how: how.to_owned(),
        check_failed,
        good_after: good,
        leak_alive_after: leak_valid(w),
    });
    // Trips and violations of the next command are attributed to it.
    w.current_step = Some(format!("command {}", n + 1));
}

/// Injects one fault as the engine does after its `after` step (`inject::inject`: a kind that
/// acts at once is applied now, any other is armed).
pub(crate) fn arm(w: &mut World, f: &state::FaultInfo) {
    crate::inject::inject(w, f.kind, f.target.as_deref(), f.times);
}

/// Whether some leaked value opens a new login somewhere (a session that outlives the
/// password's change is not a login: it shows the leak was not cut off, not that it is back).
pub(crate) fn leak_valid(w: &World) -> bool {
    w.leaked.iter().any(|v| {
        w.accepted_by(v)
            .iter()
            .any(|at| at != "a live Postgres session")
    })
}

/// Whether some leaked value is accepted anywhere.
pub(crate) fn leak_alive(w: &World) -> bool {
    w.leaked.iter().any(|v| !w.accepted_by(v).is_empty())
}

/// Services not healthy, except those the scenario lets degrade.
pub(crate) fn sick(w: &World, degraded: &[String]) -> Vec<String> {
    all_services()
        .filter(|s| !degraded.iter().any(|d| d == s))
        .filter(|s| !w.problems(s).is_empty())
        .map(str::to_owned)
        .collect()
}

/// Which runbook steps a command did, and how that was recognised (see the module docs of
/// `shell`): a pasted body first, then the mock calls, then the secret files changed.
fn recognise(
    st: &State,
    text: &str,
    calls: &[String],
    files: &std::collections::BTreeSet<String>,
) -> (Vec<String>, &'static str) {
    let norm = state::normalize(text);
    // 1. Pasted: the command holds step bodies; in text order, one step per body.
    let mut found: Vec<(usize, Vec<&StepInfo>)> = Vec::new();
    for s in st.steps.iter().filter(|s| !s.manual && !s.norm.is_empty()) {
        if let Some(pos) = norm.find(&s.norm) {
            match found.iter_mut().find(|(_, v)| v[0].norm == s.norm) {
                Some((_, v)) => v.push(s),
                None => found.push((pos, vec![s])),
            }
        }
    }
    // A body inside a longer pasted body (a test that a rollback step repeats) is that step's.
    let spans: Vec<(usize, usize)> = found.iter().map(|(p, v)| (*p, v[0].norm.len())).collect();
    found.retain(|(p, v)| {
        let len = v[0].norm.len();
        !spans
            .iter()
            .any(|(q, l)| *l > len && *q <= *p && p + len <= q + l)
    });
    if !found.is_empty() {
        found.sort_by_key(|(p, _)| *p);
        let ids = found
            .iter()
            .filter_map(|(_, same)| pick(st, same))
            .map(|s| s.id.clone())
            .collect();
        return (ids, "pasted");
    }
    // 2. Same mock calls: every call the step makes, the command made.
    let cands: Vec<&StepInfo> = st
        .steps
        .iter()
        .filter(|s| !s.calls.is_empty() && s.calls.iter().all(|c| calls.contains(c)))
        .collect();
    if !cands.is_empty() {
        let most = cands.iter().map(|s| s.calls.len()).max().unwrap_or(0);
        let best: Vec<&StepInfo> = cands
            .into_iter()
            .filter(|s| s.calls.len() == most)
            .collect();
        return (
            pick(st, &best).map(|s| s.id.clone()).into_iter().collect(),
            "calls",
        );
    }
    // 3. A step without calls: the same secret files changed.
    if !files.is_empty() {
        let best: Vec<&StepInfo> = st
            .steps
            .iter()
            .filter(|s| s.calls.is_empty() && !s.files.is_empty() && s.files == *files)
            .collect();
        if !best.is_empty() {
            return (
                pick(st, &best).map(|s| s.id.clone()).into_iter().collect(),
                "files",
            );
        }
    }
    (Vec::new(), "")
}

/// Among steps that look the same, the one the person is at: the first not yet done that
/// belongs to this trigger, in runbook order; else the first.
/// When all were done: the latest in runbook order that is not past where the person is
/// (a verify step re-run after a rollback, not the pre-check with the same body).
fn pick<'a>(st: &State, same: &[&'a StepInfo]) -> Option<&'a StepInfo> {
    let here = st
        .commands
        .iter()
        .rev()
        .flat_map(|c| c.steps.iter().rev())
        .find_map(|id| st.step(id))
        .map_or(0, |s| state::phase_rank(s.phase));
    same.iter()
        .find(|s| s.applies && !st.done(&s.id))
        .or_else(|| same.iter().find(|s| !st.done(&s.id)))
        .or_else(|| {
            same.iter()
                .filter(|s| s.applies && state::phase_rank(s.phase) <= here)
                .max_by_key(|s| state::phase_rank(s.phase))
        })
        .or_else(|| same.iter().find(|s| s.applies))
        .or_else(|| same.first())
        .copied()
}
