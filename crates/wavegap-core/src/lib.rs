//! wavegap's domain: wave configuration, flow-log records, the network inventory, flow
//! aggregates, and (as they land) SG/NACL evaluation, findings and rule proposals.
//!
//! This crate does no I/O, holds no async code, never reads the clock and knows no AWS SDK
//! type: callers hand it text and values, and it hands back values. That keeps the analysis
//! testable with plain data and lets the CLI, the runner and the resolver share one model.

pub mod analyze;
pub mod direction;
pub mod eval;
pub mod findings;
pub mod flow;
pub mod flowlog;
pub mod inventory;
pub mod propose;
pub mod resolution;
pub mod scope;
pub mod threads;
pub mod wave;

/// An error and its causes on one line, `outer: inner: innermost`, each cause's own words
/// only (no `Debug` dump of the structures the SDK wraps them in), repeats dropped.
pub fn error_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        let said = parts.last().is_some_and(|last| last.contains(text.as_str()));
        if !text.is_empty() && !said {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as &(dyn std::error::Error + 'static))
        }
    }

    #[test]
    fn an_error_chain_is_one_line_of_its_own_words() {
        let refused = Layer("Connection refused (os error 111)", None);
        let err = Layer(
            "dispatch failure",
            Some(Box::new(Layer("io error", Some(Box::new(Layer("tcp connect error", Some(Box::new(refused)))))))),
        );
        assert_eq!(
            super::error_line(&err),
            "dispatch failure: io error: tcp connect error: Connection refused (os error 111)"
        );
        let repeated = Layer("service error: AccessDenied", Some(Box::new(Layer("AccessDenied", None))));
        assert_eq!(super::error_line(&repeated), "service error: AccessDenied");
    }
}
