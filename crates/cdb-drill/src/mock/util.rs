//! Deterministic stand-ins for host tools whose output would differ between runs:
//! `date` shows the simulated clock and `mktemp` names files from a counter, inside the sandbox.

use super::Ctx;
use crate::world::World;
use std::path::PathBuf;

/// The simulated clock starts at 2026-01-01T09:00:00Z.
pub(crate) const EPOCH_START: u64 = 1_767_258_000;

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub(crate) fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `date`'s `strftime` subset, on the simulated clock (Unix seconds, UTC).
pub fn format_time(secs: u64, fmt: &str) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let (y, mo, d) = civil(days);
    let rem = secs % 86_400;
    let (h, mi, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // 1970-01-01, day 0, was a Thursday.
            Some('a') => out.push_str(WEEKDAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)]),
            Some('b') => {
                out.push_str(MONTHS[usize::try_from(mo).unwrap_or(1).saturating_sub(1) % 12])
            }
            Some('Y') => out.push_str(&y.to_string()),
            Some('m') => out.push_str(&format!("{mo:02}")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('H') => out.push_str(&format!("{h:02}")),
            Some('M') => out.push_str(&format!("{mi:02}")),
            Some('S') => out.push_str(&format!("{s:02}")),
            Some('s') => out.push_str(&secs.to_string()),
            Some('F') => out.push_str(&format!("{y}-{mo:02}-{d:02}")),
            Some('T') => out.push_str(&format!("{h:02}:{mi:02}:{s:02}")),
            Some('Z') => out.push_str("UTC"),
            Some('z') => out.push_str("+0000"),
            Some('%') => out.push('%'),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
}

pub fn date(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let now = EPOCH_START + w.clock;
    let mut fmt = "%a %b %d %H:%M:%S UTC %Y".to_owned();
    for a in args {
        if let Some(f) = a.strip_prefix('+') {
            fmt = f.to_owned();
        } else if a.starts_with("-I") || a.starts_with("--iso-8601") {
            fmt = if a.ends_with("seconds") {
                "%Y-%m-%dT%H:%M:%S+00:00".into()
            } else {
                "%Y-%m-%d".into()
            };
        } else if a == "-u" || a == "--utc" {
        } else {
            ctx.errln(&format!("date: the drill's mock date does not model `{a}`"));
            return 1;
        }
    }
    ctx.outln(&format_time(now, &fmt));
    0
}

pub fn mktemp(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let mut dir = false;
    let mut parent: Option<PathBuf> = None;
    let mut template = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-d" | "--directory" => dir = true,
            "-p" | "--tmpdir" => {
                parent = args.get(i + 1).map(PathBuf::from);
                i += 1;
            }
            "-t" | "-q" => {}
            t => template = Some(t.to_owned()),
        }
        i += 1;
    }
    w.counter += 1;
    let tag = format!("{:06}", w.counter % 1_000_000);
    let name = match &template {
        Some(t) if t.contains("XXX") => {
            let xs = t.chars().rev().take_while(|c| *c == 'X').count();
            format!(
                "{}{}",
                &t[..t.len() - xs],
                &tag[tag.len().saturating_sub(xs)..]
            )
            .to_owned()
                + &"0".repeat(xs.saturating_sub(tag.len()))
        }
        Some(t) => format!("{t}.{tag}"),
        None => format!("tmp.{tag}"),
    };
    let base = parent.unwrap_or_else(|| {
        if template.as_deref().is_some_and(|t| t.contains('/')) {
            ctx.cwd.clone()
        } else {
            PathBuf::from(&w.sandbox).join("tmp")
        }
    });
    let path = base.join(&name);
    let made = if dir {
        ctx.create_dir_all(&path)
    } else {
        ctx.write_file(&path, b"")
    };
    if made.is_err() {
        ctx.errln(&format!(
            "mktemp: failed to create {}: No such file or directory",
            path.display()
        ));
        return 1;
    }
    ctx.outln(&path.display().to_string());
    0
}

#[cfg(test)]
mod date_tests {
    use super::format_time;

    /// Issue 14: the weekday and month follow the simulated clock (they were fixed text).
    #[test]
    fn weekday_and_month_follow_the_clock() {
        // 2026-01-01 is a Thursday; 2026-02-02 a Monday; 2028-02-29 a Tuesday.
        assert_eq!(format_time(1_767_225_600, "%a %b %d"), "Thu Jan 01");
        assert_eq!(format_time(1_770_000_000, "%a %b %d"), "Mon Feb 02");
        assert_eq!(format_time(1_835_395_200, "%a %b %d %Y"), "Tue Feb 29 2028");
    }
}
