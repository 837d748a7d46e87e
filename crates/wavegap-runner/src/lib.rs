//! wavegap-runner
