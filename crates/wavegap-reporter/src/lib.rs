//! wavegap-reporter
