//! wavegap-testsupport
