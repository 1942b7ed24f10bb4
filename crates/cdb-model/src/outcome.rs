//! How a drill ends, as one enum the scenario schema (`expect.outcome`), the drill's journal
//! (`outcome`, `expected_outcome`) and `cargo xtask rotate`'s record share.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// How a drill ended (`outcome`), and what its scenario expects (`expected_outcome`, the
/// scenario's `expect.outcome`: only `recovered` or `escalated`, see [`DrillOutcome::expectable`]);
/// serialised as `recovered`, `escalated` or `not-recovered`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DrillOutcome {
    Recovered,
    Escalated,
    NotRecovered,
}

impl DrillOutcome {
    pub const ALL: [DrillOutcome; 3] = [
        DrillOutcome::Recovered,
        DrillOutcome::Escalated,
        DrillOutcome::NotRecovered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DrillOutcome::Recovered => "recovered",
            DrillOutcome::Escalated => "escalated",
            DrillOutcome::NotRecovered => "not-recovered",
        }
    }

    /// Whether a scenario may expect it: a drill that is meant not to recover is no drill.
    pub fn expectable(self) -> bool {
        self != DrillOutcome::NotRecovered
    }
}

impl FromStr for DrillOutcome {
    type Err = ();
    fn from_str(s: &str) -> Result<DrillOutcome, ()> {
        DrillOutcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or(())
    }
}

impl fmt::Display for DrillOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`: widths and alignment apply as they did to the strings.
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_back_from_their_text() {
        for o in DrillOutcome::ALL {
            assert_eq!(o.as_str().parse::<DrillOutcome>(), Ok(o));
            assert_eq!(o.to_string(), o.as_str());
        }
        assert!("not recovered".parse::<DrillOutcome>().is_err());
        assert!(!DrillOutcome::NotRecovered.expectable());
        assert!(DrillOutcome::Recovered.expectable() && DrillOutcome::Escalated.expectable());
    }
}
