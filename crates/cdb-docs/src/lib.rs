//! The Docs Hub model: every check of `cargo xtask verify` and the drill engine read the hub through it.
//!
//! The model is loaded once ([`Hub::load`]) and then only read. It keeps, for
//! every markdown file, its headings with GitHub-compatible anchors, its links,
//! its fenced code blocks with parsed info strings, its executable steps and its
//! front matter, each with a byte span that the file's [`LineIndex`] turns into
//! a 1-based line and column. The rotation matrix is parsed into typed data
//! ([`matrix::Matrix`]) with source locations.

pub mod duration;
pub mod fsio;
pub mod hub;
pub mod info;
pub mod line_index;
pub mod markdown;
pub mod matrix;
pub mod slug;
pub mod step;
pub mod yaml;

pub use duration::Duration;
pub use hub::{Doc, Hub, Layout, LoadProblem, LoadProblemKind, TextFile};
pub use info::{Attrs, InfoString};
pub use line_index::{LineCol, LineIndex};
pub use markdown::{CodeBlock, Heading, Link, LinkTarget, MdDoc};
pub use matrix::{Matrix, MatrixError};
pub use step::{Phase, Step, StepProblem, Trigger};

/// A byte range in one file's text.
pub type Span = std::ops::Range<usize>;
