//! Integration tests of cdb-secrets: detector examples, look-alikes, pragmas, baselines,
//! properties and a scan of the crate's own sources.

mod baseline;
mod examples;
mod lookalikes;
mod mask;
mod pragmas;
mod props;
mod selfscan;
