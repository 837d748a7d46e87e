//! The HTML report in headless Chromium (Debian's `chromium`, driven by
//! `scripts/browser/check-report.mjs`): no console errors, no network requests, tables sort,
//! the page's one filter filters, no table scrolls sideways at 1400 or 800 px, every Mermaid
//! block of report.md parses with the real Mermaid parser, and screenshots land in the test
//! output directory. Chromium missing is a
//! failure, not a skip: `scripts/setup-browser.sh` installs it.

use std::path::PathBuf;
use std::process::Command;

use crate::fixtures;
use crate::reports::render;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn check_in_browser(case: &str, input: &fixtures::Input) {
    let root = repo_root();
    let script = root.join("scripts/browser/check-report.mjs");
    assert!(
        root.join("scripts/browser/node_modules/playwright-core").is_dir()
            && Command::new("chromium").arg("--version").output().is_ok(),
        "chromium or playwright-core is missing\nhint: run scripts/setup-browser.sh"
    );
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-browser").join(case);
    std::fs::create_dir_all(&out).unwrap();
    wavegap_reporter::write_atomically(&out, &render(input)).unwrap();
    let shot = out.join("screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let result = Command::new("node")
        .arg(&script)
        .arg(out.join("report.html"))
        .arg(&shot)
        .arg(out.join("report.md"))
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "browser check failed for {case}:\n{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).expect("a JSON summary");
    assert_eq!(summary["requests"], 0, "{summary}");
    assert!(summary["sortedColumns"].as_u64().unwrap() > 0, "no table was sorted: {summary}");
    assert!(summary["filtered"].as_u64().unwrap() > 0, "no table was filtered: {summary}");
    assert!(summary["mermaidBlocks"].as_u64().unwrap() > 0, "no Mermaid block was parsed: {summary}");
    assert!(std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000), "no screenshot at {}", shot.display());
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn demo_report_works_in_chromium() {
    check_in_browser("demo", &fixtures::demo());
}

#[test]
fn hostile_names_run_no_script_in_chromium() {
    check_in_browser("hostile_names", &fixtures::hostile_names());
}

#[test]
fn large_wave_report_works_in_chromium() {
    check_in_browser("large", &fixtures::large());
}
