//! Integration tests of the test endpoint: the real SDK client over the wire.

mod clock;
