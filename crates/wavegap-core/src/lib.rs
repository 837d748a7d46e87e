//! wavegap's domain: wave configuration, flow-log records, the network inventory, flow
//! aggregates, and (as they land) SG/NACL evaluation, findings and rule proposals.
//!
//! This crate does no I/O, holds no async code, never reads the clock and knows no AWS SDK
//! type: callers hand it text and values, and it hands back values. That keeps the analysis
//! testable with plain data and lets the CLI, the runner and the resolver share one model.

pub mod analyze;
pub mod direction;
pub mod eval;
pub mod findings;
pub mod flow;
pub mod flowlog;
pub mod inventory;
pub mod propose;
pub mod resolution;
pub mod scope;
pub mod wave;
