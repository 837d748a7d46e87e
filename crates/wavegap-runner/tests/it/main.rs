//! Integration tests of the runner: the real SDK client against the local test endpoint.

mod cloudwatch;
