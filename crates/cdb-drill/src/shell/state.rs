//! The shell's state file (`$SANDBOX/state/shell.json`): the step catalogue with footprints, the
//! scenario's faults, and every command the person typed, shared by the parent and the hooks.

use crate::world::World;
use cdb_docs::{Phase, Trigger};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};

/// Simulated seconds a command takes when it does no runbook step.
pub const DEFAULT_SECS: u64 = 30;
/// Simulated seconds a look at the dashboard (`drill-status`) takes.
pub const STATUS_SECS: u64 = 10;

/// One runbook step of the scenario's class, with what it does when it runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepInfo {
    pub id: String,
    #[serde(with = "crate::journal::phase_name")]
    pub phase: Phase,
    #[serde(with = "crate::journal::trigger_name")]
    pub when: Trigger,
    /// Whether the step belongs to this scenario's trigger.
    pub applies: bool,
    pub secs: u64,
    pub manual: bool,
    pub effect: Option<String>,
    pub body: String,
    /// `path:line` of the fence.
    pub doc: String,
    /// The body with every run of whitespace collapsed (what a paste is compared with).
    pub norm: String,
    /// The mock calls the step made in the fault-free rehearsal (values masked).
    pub calls: BTreeSet<String>,
    /// The secret files the step changed in the rehearsal.
    pub files: BTreeSet<String>,
}

/// A scenario fault and when it fired.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultInfo {
    /// Written as its text form, as the state file held it when it was a string.
    pub kind: cdb_model::faults::FaultKind,
    pub target: Option<String>,
    pub after: String,
    pub times: u32,
    pub note: Option<String>,
    /// The command after which it was injected (0: at the start).
    pub fired: Option<usize>,
    pub t: Option<u64>,
}

/// One command line the person ran.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cmd {
    pub n: usize,
    /// As typed (masked only when the report is written, with every value the world knows then).
    pub text: String,
    pub exit: i32,
    pub t_start: u64,
    pub t_end: u64,
    /// Runbook steps the command did.
    pub steps: Vec<String>,
    /// How they were recognised: `pasted`, `calls`, `files`, `manual` or empty.
    pub how: String,
    /// A check the runbook makes (a verify or pre-check step, or a part of one) failed.
    pub check_failed: bool,
    /// After it, every service was healthy, no leaked value was accepted and the class was rotated.
    pub good_after: bool,
    /// After it, some leaked value opened a new login somewhere.
    pub leak_alive_after: bool,
}

/// One look at the dashboard.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Look {
    /// The command number of the `drill-status` call.
    pub n: usize,
    pub t: u64,
    /// Services shown as not healthy.
    pub shown: Vec<String>,
}

/// When the person found out.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Detection {
    pub n: usize,
    pub t: u64,
    pub how: String,
    /// The runbook step whose check failed, when it was one.
    pub step: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    pub scenario: String,
    pub class: String,
    #[serde(with = "crate::journal::trigger_name")]
    pub trigger: Trigger,
    pub leak: bool,
    pub budget: u64,
    pub degraded: Vec<String>,
    pub steps: Vec<StepInfo>,
    pub faults: Vec<FaultInfo>,
    pub commands: Vec<Cmd>,
    pub looks: Vec<Look>,
    pub detection: Option<Detection>,
    /// Simulated seconds since the drill began.
    pub t: u64,
    /// Hash of each secret file after the last command (what the next one changed).
    pub files: BTreeMap<String, u64>,
    pub calls_seen: usize,
    /// The history number of the last recorded command (an empty line repeats it).
    pub last_hist: String,
    /// Set by `drill-manual` / `drill-status` for the command line being recorded next.
    pub pending_steps: Vec<String>,
    pub pending_secs: Option<u64>,
}

impl State {
    pub fn path(world_file: &Path) -> PathBuf {
        world_file.with_file_name("shell.json")
    }

    pub fn load(path: &Path) -> io::Result<State> {
        let text = fs::read_to_string(path)?;
        serde_json::from_str(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    pub fn save(&self, path: &Path) -> io::Result<()> {
        let text = serde_json::to_string(self).map_err(io::Error::other)?;
        let tmp = path.with_extension("json.tmp");
        fs::write(&tmp, text)?;
        fs::rename(&tmp, path)
    }

    pub fn step(&self, id: &str) -> Option<&StepInfo> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Whether step `id` was done by an earlier command.
    pub fn done(&self, id: &str) -> bool {
        self.commands
            .iter()
            .any(|c| c.steps.iter().any(|s| s == id))
    }
}

/// Collapses every run of whitespace to one space, after joining continued lines (bash's
/// history keeps a `\`-newline continuation as one line).
pub fn normalize(text: &str) -> String {
    text.replace("\\\n", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A mock call as compared between the rehearsal and the shell: values and the sandbox masked.
pub fn call_key(w: &World, sandbox: &str, tool: &str, argv: &[String]) -> String {
    let raw = format!("{tool} {}", argv.join(" "));
    w.redact(&raw).replace(sandbox, "$SANDBOX")
}

/// Hash of every file in the secrets folder (temporary `.tmp` files left out).
pub fn file_hashes(dir: &Path) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    // A folder that cannot be listed (a command removed it) has no files: each one it held
    // counts as changed, which it was.
    let Ok(rd) = fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp") {
            continue;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        // A file removed between the listing and the read hashes as empty: changed, as it was.
        fs::read(e.path()).unwrap_or_default().hash(&mut h);
        out.insert(name, h.finish());
    }
    out
}

/// Names whose content changed, appeared or disappeared between two snapshots.
pub fn changed(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeSet<String> {
    before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect()
}

/// The order in which the runbook's phases come (rollback after a failed verify, before revoke).
pub fn phase_rank(phase: Phase) -> usize {
    match phase {
        Phase::Contain => 0,
        Phase::PreCheck => 1,
        Phase::Rotate => 2,
        Phase::Verify => 3,
        Phase::Rollback => 4,
        Phase::Revoke => 5,
        Phase::Escalate => 6,
        Phase::Communicate => 7,
        Phase::PostCheck => 8,
    }
}
