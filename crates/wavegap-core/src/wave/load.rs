//! The wave file loader: TOML text → raw serde structs (with spans) → validated [`WaveConfig`].
//!
//! The raw structs mirror the file exactly (`deny_unknown_fields`, kebab-case keys) and keep
//! the span of every value, so that validation can point at the offending character. Nothing
//! here reads files: the caller hands in the text of the wave file and of the optional
//! `defaults.toml`, and the directory that relative paths resolve against.
//!
//! The steps live in their own modules: `raw` (the file's shape), `diagnostics` (serde's
//! errors located), `validate` (raw structs → `WaveConfig`) and `values` (the value parsers).

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use toml::Spanned;

use super::error::{WaveError, WaveErrorKind as K};
use super::{
    Account, App, AwsSettings, Dependency, Endpoint, EphemeralPolicy, ExpectedFlow, IgnoreRule, LogGroups, Networks,
    OneWay, QuerySettings, S3Location, Server, Service, Source, WaveConfig, WindowSpec,
};
use crate::flow::TimeWindow;
use crate::inventory::{Os, proto};

/// What the caller's file system holds at a path: the loader reads nothing itself, so the
/// caller answers for the paths a files source names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    Missing,
    File,
    Dir,
    /// A device, FIFO or socket (or a link to one): never read, `/dev/zero` would not end.
    Other,
}

/// The text of a wave file (or of `defaults.toml`) and the path it was read from.
#[derive(Debug, Clone, Copy)]
pub struct WaveFile<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

/// Validates a wave file against the shared `defaults` and returns the wave with every
/// default applied.
///
/// Relative paths in the wave (the files source and the inventory snapshot) are joined onto
/// `base_dir`; the command line passes the directory that holds the wave file, so that a wave
/// and its data can move together. `look` says what is at such a path, so that a missing
/// directory or snapshot is an error at its line in the wave file.
///
/// Every key the wave sets replaces the same key of `defaults.toml` whole (arrays are not
/// concatenated); keys the wave leaves out come from `defaults.toml`, then from the built-in
/// defaults.
pub fn load(
    wave: WaveFile<'_>,
    defaults: Option<WaveFile<'_>>,
    base_dir: &Path,
    look: &dyn Fn(&Path) -> PathKind,
) -> Result<WaveConfig, WaveError> {
    let wave_doc = Doc::new(wave.path, wave.text);
    let defaults_doc = defaults.map(|d| Doc::new(d.path, d.text));
    let raw_defaults: RawDefaults = match &defaults_doc {
        Some(doc) => parse(doc)?,
        None => RawDefaults::default(),
    };
    let raw: RawWave = parse(&wave_doc)?;
    let defaults_doc = defaults_doc.unwrap_or(Doc::new(Path::new("defaults.toml"), ""));
    Loader { wave: &wave_doc, defaults: &defaults_doc, base_dir, look }.build(raw, raw_defaults)
}

mod diagnostics;
mod raw;
#[cfg(test)]
mod tests;
mod validate;
mod values;

// The loader's parts share one namespace: each reads the others' types through `super::*`.
#[allow(clippy::wildcard_imports)]
use self::diagnostics::*;
#[allow(clippy::wildcard_imports)]
use self::raw::*;
#[allow(clippy::wildcard_imports)]
use self::validate::*;
pub(crate) use self::values::format_secs;
#[allow(clippy::wildcard_imports)]
use self::values::*;
