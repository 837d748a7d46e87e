//! Inventory snapshots on disk: one JSON file whose top-level keys are EC2 response keys, or a
//! directory of `aws ec2 describe-… --output json` outputs (any file names) merged by key.

use std::fs;
use std::path::{Path, PathBuf};

use wavegap_core::inventory::Inventory;

use crate::ec2json::{SNAPSHOT_KEYS, Snapshot};
use crate::error::Error;

/// The largest snapshot file read (1 GiB): far above the describe outputs of any landing
/// zone, and a limit on the memory a wrong file (a disk image, a log) can take.
pub const MAX_SNAPSHOT_BYTES: u64 = 1 << 30;

/// Reads a snapshot file, or every `*.json` file of a directory (sorted by name, merged).
pub fn load_snapshot(path: &Path) -> Result<Snapshot, Error> {
    let meta = fs::metadata(path).map_err(|source| Error::Read { path: path.to_owned(), source })?;
    if !meta.is_dir() {
        let mut snapshot = read_one(path)?;
        snapshot.normalize();
        return Ok(snapshot);
    }
    let mut files: Vec<PathBuf> = fs::read_dir(path)
        .map_err(|source| Error::Read { path: path.to_owned(), source })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("json")))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::EmptyDirectory { path: path.to_owned() });
    }
    let mut snapshot = Snapshot::default();
    for file in files {
        snapshot.merge(read_one(&file)?);
    }
    snapshot.normalize();
    Ok(snapshot)
}

/// Loads a snapshot (file or directory) and converts it to an inventory.
pub fn load_inventory(path: &Path) -> Result<Inventory, Error> {
    load_snapshot(path)?.to_inventory()
}

fn read_one(path: &Path) -> Result<Snapshot, Error> {
    let meta = fs::metadata(path).map_err(|source| Error::Read { path: path.to_owned(), source })?;
    if !meta.is_file() {
        return Err(Error::NotAFile { path: path.to_owned() });
    }
    if meta.len() > MAX_SNAPSHOT_BYTES {
        return Err(Error::TooLarge { path: path.to_owned(), bytes: meta.len() });
    }
    let text = fs::read(path).map_err(|source| Error::Read { path: path.to_owned(), source })?;
    let json_err = |source| Error::Json { path: path.to_owned(), source };
    // The top-level keys first, skipping their values: no tree of the whole file is built,
    // so a snapshot costs its text and its typed elements, not several times its size.
    #[allow(clippy::zero_sized_map_values)] // a set of keys, read from a JSON object
    let keys: std::collections::HashMap<String, serde::de::IgnoredAny> =
        serde_json::from_slice(&text).map_err(json_err)?;
    if !SNAPSHOT_KEYS.iter().chain(&["PrefixLists"]).any(|k| keys.contains_key(*k)) {
        return Err(Error::NotASnapshot { path: path.to_owned(), keys: SNAPSHOT_KEYS.join(", ") });
    }
    serde_json::from_slice(&text).map_err(json_err)
}

/// The snapshot as pretty JSON, lists sorted by id, with a final newline.
pub fn to_json(snapshot: &Snapshot) -> String {
    let mut s = snapshot.clone();
    s.normalize();
    let mut text = serde_json::to_string_pretty(&s).unwrap_or_else(|_| String::from("{}"));
    text.push('\n');
    text
}
