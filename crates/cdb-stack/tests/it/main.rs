//! Integration tests of `cdb-stack`: the kit's own Compose files, the parser's errors, merging and the classifiers.

mod classify;
mod errors;
mod kit;
mod merge;
