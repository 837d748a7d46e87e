//! wavegap-resolver
