//! Tests of the built `wavegap` binary: real processes, no AWS credentials, a temp HOME.

mod check;
mod docs;
mod explain;
mod fanout;
mod init;
mod inventory;
mod query;
mod report;
mod report_accounts;
mod report_cloudwatch;
mod report_s3;
mod tidy;
mod truth;
mod watch;

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

/// `wavegap ARGS` in `cwd` with every `AWS_*` variable removed, a temp HOME, no instance
/// metadata look-up (it would leave this machine), and then `env`.
pub fn wavegap_aws(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let home = tempfile::tempdir().expect("temp HOME");
    clean_command(cwd, home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("run wavegap")
}

pub const FAKE_CREDENTIALS: [(&str, &str); 2] =
    [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")];

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Copies the tree `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A temporary directory holding a copy of the demo wave: its file and its data.
pub fn demo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("waves/demo"), &dir.path().join("waves/demo"));
    std::fs::copy(repo_root().join("waves/demo.toml"), dir.path().join("waves/demo.toml")).unwrap();
    dir
}
