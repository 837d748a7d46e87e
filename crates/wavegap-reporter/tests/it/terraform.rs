//! fix.tf through Terraform itself: `terraform fmt -check` (the file is laid out as `fmt`
//! writes it) and `terraform validate` (every resource type and attribute exists in the AWS
//! provider). The provider comes from a local plugin directory, never the registry:
//! `$WAVEGAP_TF_PLUGIN_DIR`, else `/opt/tf-plugins`. Without `terraform` on PATH the test says
//! so and passes; without the plugin directory it still runs `fmt`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::fixtures;
use crate::reports::render;

fn terraform(dir: &Path, args: &[&str]) -> Output {
    Command::new("terraform")
        .args(args)
        .current_dir(dir)
        // No ~/.terraformrc, no update check: nothing but the plugin directory is asked.
        .env("TF_CLI_CONFIG_FILE", dir.join("cli.tfrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .output()
        .expect("terraform runs")
}

fn check(case: &str, input: &fixtures::Input) {
    if Command::new("terraform").arg("version").output().is_err() {
        eprintln!("terraform is not on PATH: fix.tf of {case} not checked");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = render(input);
    let tf = &files.iter().find(|f| f.name == "fix.tf").unwrap().text();
    std::fs::write(dir.path().join("fix.tf"), tf).unwrap();
    std::fs::write(dir.path().join("cli.tfrc"), "").unwrap();
    let fmt = terraform(dir.path(), &["fmt", "-check", "-diff", "fix.tf"]);
    assert!(
        fmt.status.success(),
        "fix.tf of {case} is not as terraform fmt writes it:\n{}",
        String::from_utf8_lossy(&fmt.stdout)
    );

    let plugins =
        std::env::var_os("WAVEGAP_TF_PLUGIN_DIR").map_or_else(|| PathBuf::from("/opt/tf-plugins"), PathBuf::from);
    if !plugins.is_dir() {
        eprintln!(
            "no Terraform plugin directory at {}: fix.tf of {case} formatted but not validated",
            plugins.display()
        );
        return;
    }
    let plugin_dir = format!("-plugin-dir={}", plugins.display());
    let init = terraform(dir.path(), &["init", "-backend=false", "-input=false", "-no-color", &plugin_dir]);
    assert!(
        init.status.success(),
        "terraform init: {}{}",
        String::from_utf8_lossy(&init.stdout),
        String::from_utf8_lossy(&init.stderr)
    );
    let validate = terraform(dir.path(), &["validate", "-no-color"]);
    assert!(
        validate.status.success(),
        "fix.tf of {case} does not validate:\n{}{}\n{tf}",
        String::from_utf8_lossy(&validate.stdout),
        String::from_utf8_lossy(&validate.stderr)
    );
}

#[test]
fn demo_fix_tf_is_formatted_and_valid() {
    check("demo", &fixtures::demo());
}

#[test]
fn hostile_names_fix_tf_is_formatted_and_valid() {
    check("hostile_names", &fixtures::hostile_names());
}
