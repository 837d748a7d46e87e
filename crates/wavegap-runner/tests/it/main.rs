//! Integration tests of the runner: the real SDK client against the local test endpoint, and
//! the local source over generated flow-log files.

mod accuracy;
mod cloudwatch;
mod local;
mod parquet;
