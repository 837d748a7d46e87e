//! Shell completions and man pages, generated from the command line definitions.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::{stderr, stdout, wavegap};

const COMMANDS: [&str; 8] = ["check", "plan", "inventory", "query", "explain", "report", "completions", "man"];

#[test]
fn bash_completion_is_a_valid_script_that_knows_every_command_and_option() {
    let dir = tempfile::tempdir().unwrap();
    let out = wavegap(dir.path(), &["completions", "bash"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = stdout(&out);
    for command in COMMANDS {
        assert!(script.contains(command), "{command}");
    }
    assert!(script.contains("--from-saved") && script.contains("--fail-on-findings"), "{script}");
    // `bash -n`: it parses.
    let mut bash = Command::new("bash").arg("-n").stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    bash.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let checked = bash.wait_with_output().unwrap();
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = wavegap(dir.path(), &["completions", shell]);
        assert!(out.status.success() && stdout(&out).contains("report"), "{shell}: {}", stderr(&out));
    }
}

#[test]
fn man_pages_name_each_command_and_its_options() {
    let dir = tempfile::tempdir().unwrap();
    let out = wavegap(dir.path(), &["man"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.contains(".TH wavegap 1"), "{page}");
    for command in COMMANDS {
        assert!(page.contains(&format!("wavegap\\-{command}(1)")), "{command}: {page}");
        let out = wavegap(dir.path(), &["man", command]);
        assert!(out.status.success(), "{command}: {}", stderr(&out));
        assert!(stdout(&out).contains(&format!(".TH wavegap-{command} 1")), "{command}: {}", stdout(&out));
    }
    let report = stdout(&wavegap(dir.path(), &["man", "report"]));
    assert!(report.contains("\\-\\-from\\-saved"), "{report}");
    let out = wavegap(dir.path(), &["man", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no command `nope`\nhint: one of check, plan,"), "{}", stderr(&out));
}
