//! `cargo xtask review`: argument parsing and wiring for the schedule in `cdb-review`.
//!
//! Review is informational: it exits 0 whatever is due, and 2 only when it
//! cannot answer (a bad argument, a missing or invalid matrix).

use crate::output::{emit, usage};
use cdb_docs::fsio::{MAX_FILE_BYTES, read_text};
use cdb_docs::{Layout, Matrix};
use cdb_review::{Schedule, human, ics, json, parse_window};
use cdb_verify::for_human;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct ReviewArgs {
    /// The tree holding the Docs Hub (default: the workspace root).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Pin today's date (YYYY-MM-DD) so the output reproduces.
    #[arg(long)]
    pub today: Option<String>,
    /// List what falls due within this window (`30d`, `2w`, `quarterly`).
    #[arg(long, default_value = "30d")]
    pub within: String,
    /// Output format; `ics` is an iCalendar of every class's next due date and the next hub review.
    #[arg(long, default_value = "human", value_parser = ["human", "json", "ics"])]
    pub format: String,
}

pub fn run(args: ReviewArgs) -> u8 {
    let today = match &args.today {
        Some(t) => match t.parse::<jiff::civil::Date>() {
            Ok(d) => d,
            Err(e) => return usage(&for_human(&format!("--today `{t}`: {e}"))),
        },
        None => jiff::ZonedDateTime::now().date(),
    };
    let within = match parse_window(&args.within) {
        Ok(w) => w,
        Err(e) => return usage(&for_human(&format!("--within: {e}"))),
    };
    let root = args.root.unwrap_or_else(crate::workspace_root);
    let layout = Layout::default();
    let path = root.join(&layout.matrix);
    let shown = path.display();
    // Every message below quotes the path or matrix text, so each goes out through `for_human`.
    let text = match read_text(&path, Some(&root), MAX_FILE_BYTES) {
        Ok(t) => t,
        Err(e) => {
            return usage(&for_human(&format!(
                "cannot read the rotation matrix {shown}: {e}"
            )));
        }
    };
    let matrix = match Matrix::parse(&text) {
        Ok(m) => m,
        Err(e) => return usage(&for_human(&format!("{shown}:{e}"))),
    };
    let schedule = match Schedule::compute(&matrix, &layout, today, within) {
        Ok(s) => s,
        Err(e) => return usage(&for_human(&format!("{shown}:{e}"))),
    };
    let out = match args.format.as_str() {
        "json" => json::render(&schedule),
        "ics" => ics::render(&schedule),
        _ => human::render(&schedule),
    };
    emit(&out)
}
