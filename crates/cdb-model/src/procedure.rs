//! The runbook's procedure: which phase runs next, given how the last one went. One
//! implementation, used by the drill engine and by anything that plans a rotation (the plan of
//! `rotate --dry-run`), so what a drill rehearses is the order a rotation follows.
//!
//! A leak starts with containment. Pre-checks must all pass, or the rotation escalates before
//! anything changes. Rotate stops at its first failure; Verify runs every step. When Rotate,
//! Verify or Revoke fails, Rollback runs, then Verify again: a routine rotation is recovered
//! there, a leak (rolled forward, never back) must also pass Revoke again. When Verify after
//! the rollback fails, or the leak's second Revoke does, the procedure escalates. Then, in every
//! case, Communicate and the post-rotation checklist.

use cdb_docs::step::Phase;

/// One phase the procedure runs now: the phase, whether it stops at its first failing step, and
/// why it runs (the journal's words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseRun {
    pub phase: Phase,
    pub stop_at_first_failure: bool,
    pub why: &'static str,
}

/// What the procedure marks once a phase's outcome is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// The stack is recovered: the last step run is where.
    Recovered,
    /// The procedure escalates: recovery failed.
    Escalated,
    /// A rollback begins.
    RolledBack,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Contain,
    PreCheck,
    Rotate,
    Verify,
    Revoke,
    Rollback { why: &'static str },
    VerifyAgain,
    RevokeAgain,
    Escalate,
    Communicate,
    PostCheck,
    Done,
}

/// The procedure of one rotation: call [`Procedure::next`] for the phase to run, then
/// [`Procedure::record`] with whether all of its steps passed.
#[derive(Clone, Debug)]
pub struct Procedure {
    leak: bool,
    state: State,
    rotated: bool,
    verified: bool,
}

impl Procedure {
    pub fn new(leak: bool) -> Procedure {
        Procedure {
            leak,
            state: if leak {
                State::Contain
            } else {
                State::PreCheck
            },
            rotated: false,
            verified: false,
        }
    }

    /// The phase to run now; `None` when the procedure is over.
    pub fn next(&self) -> Option<PhaseRun> {
        let run = |phase, stop, why| {
            Some(PhaseRun {
                phase,
                stop_at_first_failure: stop,
                why,
            })
        };
        match self.state {
            State::Contain => run(
                Phase::Contain,
                false,
                "a leak: cut off the leaked credential first",
            ),
            State::PreCheck => run(Phase::PreCheck, true, "before anything changes"),
            State::Rotate => run(Phase::Rotate, true, "stage, test and switch"),
            State::Verify => run(Phase::Verify, false, "the new credential works everywhere"),
            State::Revoke => run(
                Phase::Revoke,
                true,
                "verify passed: retire the previous credential",
            ),
            State::Rollback { why } => run(Phase::Rollback, false, why),
            State::VerifyAgain => run(Phase::Verify, false, "after rollback: is the stack back?"),
            State::RevokeAgain => run(
                Phase::Revoke,
                true,
                "rolled forward: retire the leaked and failed credentials",
            ),
            State::Escalate => run(Phase::Escalate, false, "rollback did not recover"),
            State::Communicate => run(
                Phase::Communicate,
                false,
                "tell the people who need to know",
            ),
            State::PostCheck => run(Phase::PostCheck, false, "the post-rotation checklist"),
            State::Done => None,
        }
    }

    /// Records whether every step of the phase [`Procedure::next`] gave passed, and moves on.
    /// Returns what that outcome marks (recovered, escalated, a rollback begins), if anything.
    pub fn record(&mut self, passed: bool) -> Option<Mark> {
        let (next, mark) = match self.state {
            State::Contain => (State::PreCheck, None),
            State::PreCheck if passed => (State::Rotate, None),
            State::PreCheck => (State::Escalate, Some(Mark::Escalated)),
            State::Rotate => {
                self.rotated = passed;
                if passed {
                    (State::Verify, None)
                } else {
                    (self.rollback(), Some(Mark::RolledBack))
                }
            }
            State::Verify => {
                self.verified = passed;
                if passed {
                    (State::Revoke, None)
                } else {
                    (self.rollback(), Some(Mark::RolledBack))
                }
            }
            State::Revoke if passed => (State::Communicate, Some(Mark::Recovered)),
            State::Revoke => (self.rollback(), Some(Mark::RolledBack)),
            State::Rollback { .. } => (State::VerifyAgain, None),
            State::VerifyAgain if !passed => (State::Escalate, Some(Mark::Escalated)),
            State::VerifyAgain if self.leak => (State::RevokeAgain, None),
            State::VerifyAgain => (State::Communicate, Some(Mark::Recovered)),
            State::RevokeAgain if passed => (State::Communicate, Some(Mark::Recovered)),
            State::RevokeAgain => (State::Escalate, Some(Mark::Escalated)),
            State::Escalate => (State::Communicate, None),
            State::Communicate => (State::PostCheck, None),
            State::PostCheck | State::Done => (State::Done, None),
        };
        self.state = next;
        mark
    }

    fn rollback(&self) -> State {
        let why = if !self.rotated {
            "a rotate step failed"
        } else if !self.verified {
            "a verify step failed"
        } else {
            "a revoke step failed"
        };
        State::Rollback { why }
    }

    /// The phases a rotation runs when every step passes, in order (the plan's main line).
    pub fn main_line(leak: bool) -> Vec<PhaseRun> {
        let mut p = Procedure::new(leak);
        let mut out = Vec::new();
        while let Some(r) = p.next() {
            out.push(r);
            p.record(true);
        }
        out
    }

    /// The phases after a failure in `failing` (Rotate, Verify or Revoke, all else passing), in
    /// order, from the rollback on: what the plan lists as the way back.
    pub fn after_failure_in(leak: bool, failing: Phase) -> Vec<PhaseRun> {
        let mut p = Procedure::new(leak);
        let mut out = Vec::new();
        let mut failed = false;
        while let Some(r) = p.next() {
            let fail_now = !failed && r.phase == failing;
            if failed {
                out.push(r);
            }
            if p.record(!fail_now) == Some(Mark::RolledBack) {
                failed = true;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phases(v: &[PhaseRun]) -> Vec<Phase> {
        v.iter().map(|r| r.phase).collect()
    }

    #[test]
    fn the_main_line_of_a_leak_starts_with_containment() {
        use Phase::*;
        assert_eq!(
            phases(&Procedure::main_line(true)),
            [
                Contain,
                PreCheck,
                Rotate,
                Verify,
                Revoke,
                Communicate,
                PostCheck
            ]
        );
        assert_eq!(
            phases(&Procedure::main_line(false)),
            [PreCheck, Rotate, Verify, Revoke, Communicate, PostCheck]
        );
    }

    #[test]
    fn a_failed_verify_rolls_back_and_a_leak_revokes_again() {
        use Phase::*;
        assert_eq!(
            phases(&Procedure::after_failure_in(false, Verify)),
            [Rollback, Verify, Communicate, PostCheck]
        );
        assert_eq!(
            phases(&Procedure::after_failure_in(true, Verify)),
            [Rollback, Verify, Revoke, Communicate, PostCheck]
        );
    }

    #[test]
    fn a_failed_pre_check_escalates_before_anything_changes() {
        let mut p = Procedure::new(false);
        assert_eq!(p.next().map(|r| r.phase), Some(Phase::PreCheck));
        assert_eq!(p.record(false), Some(Mark::Escalated));
        assert_eq!(p.next().map(|r| r.phase), Some(Phase::Escalate));
    }

    #[test]
    fn a_failed_verify_after_the_rollback_escalates() {
        let mut p = Procedure::new(true);
        let mut seen = Vec::new();
        while let Some(r) = p.next() {
            seen.push(r.phase);
            // Every Verify fails.
            let m = p.record(r.phase != Phase::Verify);
            if m == Some(Mark::Escalated) {
                assert_eq!(seen.last(), Some(&Phase::Verify));
            }
        }
        use Phase::*;
        assert_eq!(
            seen,
            [
                Contain,
                PreCheck,
                Rotate,
                Verify,
                Rollback,
                Verify,
                Escalate,
                Communicate,
                PostCheck
            ]
        );
    }
}
