//! Integration tests of the reporter: snapshots of every format for the demo and edge cases,
//! determinism, escaping, template overrides, atomic writes, fix.sh against a stand-in AWS CLI,
//! fix.tf through Terraform and the HTML in a real browser.

mod browser;
mod fixtures;
mod live;
mod reports;
mod terraform;
