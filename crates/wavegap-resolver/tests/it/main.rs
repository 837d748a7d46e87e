//! Integration tests of the resolver: against moto (started here), and snapshot files.

mod moto_resolve;
mod snapshots;
