//! ARCHITECTURE.md's invariants that a text search can check, in the style of rust-analyzer's
//! `tidy` tests: each names the code that must (or must not) hold a construct. Comment lines
//! are skipped, so documentation may still mention what it explains.

use std::path::{Path, PathBuf};

use crate::repo_root;

/// Every `.rs` file under the shipped crates' `src/` directories, with its code lines
/// (comment lines dropped), relative to the repository root; read once for all the tests.
fn sources() -> &'static [(String, Vec<String>)] {
    static SOURCES: std::sync::OnceLock<Vec<(String, Vec<String>)>> = std::sync::OnceLock::new();
    SOURCES.get_or_init(read_sources)
}

fn read_sources() -> Vec<(String, Vec<String>)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = repo_root();
    let mut files = Vec::new();
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        let krate = krate.unwrap().path();
        // Test and benchmark support may do anything.
        if !krate.ends_with("wavegap-testsupport") && !krate.ends_with("wavegap-accuracy") {
            walk(&krate.join("src"), &mut files);
        }
    }
    assert!(files.len() > 40, "found only {} source files", files.len());
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.lines().filter(|l| !l.trim_start().starts_with("//")).map(str::to_owned).collect();
            (path.strip_prefix(&root).unwrap().to_string_lossy().into_owned(), code)
        })
        .collect()
}

/// The files whose path passes `look` and whose code contains `needle`.
fn holders(needle: &str, look: impl Fn(&str) -> bool) -> Vec<String> {
    sources()
        .iter()
        .filter(|(path, code)| look(path) && code.iter().any(|l| l.contains(needle)))
        .map(|(path, _)| path.clone())
        .collect()
}

/// The files outside `allowed` (path prefixes) whose code contains `needle`.
fn offenders(needle: &str, allowed: &[&str]) -> Vec<String> {
    holders(needle, |path| !allowed.iter().any(|a| path.starts_with(a)))
}

#[test]
fn core_and_insights_do_no_io_read_no_clock_and_run_nothing_async() {
    let pure = ["crates/wavegap-core/", "crates/wavegap-insights/"];
    for needle in ["std::fs", "std::net::TcpStream", "tokio", "Utc::now", "SystemTime::now", "Instant::now", "aws_sdk"]
    {
        let found = holders(needle, |path| pure.iter().any(|d| path.starts_with(d)));
        assert!(found.is_empty(), "`{needle}` in {found:?}");
    }
}

#[test]
fn only_the_resolvers_constructor_builds_aws_configuration() {
    assert_eq!(offenders("aws_config::", &["crates/wavegap-resolver/src/aws.rs"]), Vec::<String>::new());
}

#[test]
fn wave_toml_is_parsed_only_by_wave_load_called_only_from_the_waves_module() {
    assert_eq!(offenders("toml::", &["crates/wavegap-core/src/wave/load"]), Vec::<String>::new());
    assert_eq!(offenders("wave::load(", &["crates/wavegap/src/waves.rs"]), Vec::<String>::new());
}

#[test]
fn one_runtime_one_interrupt_handler_one_clock_read() {
    let runtime = ["crates/wavegap/src/runtime.rs"];
    // Built in one place; the S3 reader threads borrow its handle.
    assert_eq!(offenders("tokio::runtime::Builder", &runtime), Vec::<String>::new());
    assert_eq!(offenders("Runtime::new", &runtime), Vec::<String>::new());
    assert_eq!(offenders("tokio::signal", &runtime), Vec::<String>::new());
    assert_eq!(offenders("Utc::now", &["crates/wavegap/src/settings.rs"]), Vec::<String>::new());
}

#[test]
fn one_atomic_writer() {
    // The search sees the writer itself, so an empty answer below means something.
    assert_eq!(offenders("fs::rename", &[]), ["crates/wavegap-reporter/src/write.rs"]);
    assert_eq!(offenders("fs::rename", &["crates/wavegap-reporter/src/write.rs"]), Vec::<String>::new());
}
