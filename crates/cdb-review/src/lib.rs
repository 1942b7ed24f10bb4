//! What is due when: the rotation and hub-review schedule derived from the rotation matrix.
//!
//! [`Schedule::compute`] turns a parsed [`cdb_docs::Matrix`], a pinned `today`
//! and a look-ahead window into one [`Entry`] per secret class (its due date,
//! status, owner and contact) and the hub's next review ([`HubReview`]). The
//! dates follow the same arithmetic as the `freshness` rules of `cdb-verify`:
//! a class is due at `last_rotated + cadence` (whole days) and overdue only
//! after that day, so `review` and `verify` never disagree about a class.
//!
//! Three renderers read the schedule: [`human::render`] for people and issue
//! bodies, [`json::render`] for machines, and [`ics::render`] for an RFC 5545
//! calendar that owners can subscribe to. None of them reads the clock, so the
//! same inputs give the same bytes.

pub mod human;
pub mod ics;
pub mod json;
mod schedule;

pub use schedule::{Entry, HubReview, ReviewError, Schedule, Status, add_days, parse_window};
