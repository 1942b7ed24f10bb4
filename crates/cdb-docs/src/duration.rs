//! Durations as the hub writes them (`30s`, `2m`, `1h`, `90d`, `2w`, `quarterly`).

use std::fmt;
use std::str::FromStr;

/// A whole number of seconds. Cadences, recovery-time objectives and step
/// times all use it, so the drill's simulated clock and the freshness rules
/// agree on units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    pub secs: u64,
}

impl Duration {
    pub const fn from_secs(secs: u64) -> Duration {
        Duration { secs }
    }
    pub fn days(self) -> u64 {
        self.secs / 86_400
    }
}

/// Why a duration did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(pub String);

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Duration, DurationError> {
        let s = s.trim();
        let named = match s {
            "daily" => Some(1),
            "weekly" => Some(7),
            "monthly" => Some(30),
            "quarterly" => Some(91),
            "yearly" | "annually" => Some(365),
            _ => None,
        };
        if let Some(days) = named {
            return Ok(Duration::from_secs(days * 86_400));
        }
        let split = s
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| DurationError(format!("`{s}` has no unit (use s, m, h, d or w)")))?;
        let (num, unit) = s.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| DurationError(format!("`{s}` does not start with a number")))?;
        let mult = match unit {
            "s" => 1,
            "m" | "min" => 60,
            "h" => 3_600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            _ => {
                return Err(DurationError(format!(
                    "`{s}` has an unknown unit `{unit}` (use s, m, h, d or w)"
                )));
            }
        };
        n.checked_mul(mult)
            .map(Duration::from_secs)
            .ok_or_else(|| DurationError(format!("`{s}` is too large")))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.secs;
        if s != 0 && s.is_multiple_of(86_400) {
            write!(f, "{}d", s / 86_400)
        } else if s != 0 && s.is_multiple_of(3_600) {
            write!(f, "{}h", s / 3_600)
        } else if s != 0 && s.is_multiple_of(60) {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_names() {
        assert_eq!("90d".parse::<Duration>().map(|d| d.days()), Ok(90));
        assert_eq!("2m".parse::<Duration>().map(|d| d.secs), Ok(120));
        assert_eq!("quarterly".parse::<Duration>().map(|d| d.days()), Ok(91));
        assert!("90".parse::<Duration>().is_err());
        assert!("d".parse::<Duration>().is_err());
        assert!("5y".parse::<Duration>().is_err());
        assert_eq!(Duration::from_secs(1800).to_string(), "30m");
    }

    #[test]
    fn a_bad_duration_says_why() {
        let e = "5y".parse::<Duration>().expect_err("no unit y");
        assert_eq!(e.to_string(), e.0);
        assert!(e.0.contains("5y"), "{e}");
    }
}
