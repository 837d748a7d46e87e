//! Test support, never shipped: a local CloudWatch Logs endpoint that answers Logs Insights
//! queries with `wavegap-insights` over fixture flow-log events, with injectable faults.
//!
//! No emulator implements the Insights language, so the runner's end-to-end tests and the
//! fan-out benchmark drive the real `aws-sdk-cloudwatchlogs` client against this endpoint.
//! [`Fixture`] holds log groups and streams (built in memory or loaded from the bench
//! generator's `--format cwl` output); [`TestEndpoint`] serves them on 127.0.0.1 with the
//! [`Faults`] a test asks for and keeps a [`Record`] of what it was asked. The
//! `wavegap-testendpoint` binary runs it for the benchmark and for people. [`parquet`] rewrites
//! flow-log text objects as Parquet objects.

pub mod endpoint;
pub mod fixture;
pub mod parquet;

pub use endpoint::{Endless, FailRule, FaultStatus, Faults, Record, TestEndpoint, client_for};
pub use fixture::{Fixture, LogGroup, StoredEvent};
