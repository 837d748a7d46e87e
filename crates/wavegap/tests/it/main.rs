//! Tests of the built `wavegap` binary: real processes, no AWS credentials, a temp HOME.

mod check;
mod explain;
mod fanout;
mod inventory;
mod query;
mod report;
mod report_cloudwatch;
mod tidy;
mod truth;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root, where `waves/` and `tests/waves/` live.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// `wavegap ARGS` run in `cwd`, with every `AWS_*` variable removed and an empty HOME, so
/// that a developer's own configuration can never change a result.
pub fn wavegap(cwd: &Path, args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("temp HOME");
    clean_command(cwd, home.path()).args(args).output().expect("run wavegap")
}

/// The `wavegap` binary in `cwd` with every `AWS_*` variable removed and `home` as HOME, for
/// tests that spawn it or add their own environment.
pub fn clean_command(cwd: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wavegap"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(name);
        }
    }
    cmd.env_remove("WAVEGAP_WAVES_DIR")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("HOME", home)
        .env("USERPROFILE", home)
        .current_dir(cwd);
    cmd
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
