//! Turns a wave's servers into an [`Inventory`](wavegap_core::inventory::Inventory) with the EC2
//! API, and saves and loads inventory snapshots.
//!
//! Owns: the one constructor of AWS SDK configuration and clients ([`aws::AwsContext`]: the
//! CloudWatch Logs client the runner uses comes from here too), the EC2 look-ups
//! ([`resolve::Resolver`]), the EC2 JSON shapes a snapshot is written in ([`ec2json`]), their
//! conversion to and from core types, and the mapping of SDK failures to actionable errors.
//!
//! Leaves to others: what the inventory means (SG/NACL evaluation lives in `wavegap-core`),
//! querying flow logs (`wavegap-runner`), reading wave files and the environment (the binary).
//! No SDK type crosses this crate's public API except the clients themselves.

pub mod accounts;
pub mod aws;
mod convert;
pub mod ec2json;
pub mod error;
mod from_sdk;
pub mod resolve;
pub mod snapshot;
#[cfg(feature = "test-support")]
pub mod testing;

pub use accounts::WaveContexts;
pub use aws::{AwsContext, ClientSettings};
pub use ec2json::Snapshot;
pub use error::Error;
pub use resolve::{Resolved, Resolver};
pub use snapshot::{load_inventory, load_snapshot};
