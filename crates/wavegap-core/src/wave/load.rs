//! The wave file loader: TOML text → raw serde structs (with spans) → validated [`WaveConfig`].
//!
//! The raw structs mirror the file exactly (`deny_unknown_fields`, kebab-case keys) and keep
//! the span of every value, so that validation can point at the offending character. Nothing
//! here reads files: the caller hands in the text of the wave file and of the optional
//! `defaults.toml`, and the directory that relative paths resolve against.

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
    App, AwsSettings, Dependency, Endpoint, EphemeralPolicy, ExpectedFlow, IgnoreRule, LogGroups, Networks, OneWay,
    QuerySettings, Server, Service, Source, WaveConfig, WindowSpec,
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
    let wave_doc = Doc { path: wave.path, text: wave.text };
    let defaults_doc = defaults.map(|d| Doc { path: d.path, text: d.text });
    let raw_defaults: RawDefaults = match &defaults_doc {
        Some(doc) => parse(doc)?,
        None => RawDefaults::default(),
    };
    let raw: RawWave = parse(&wave_doc)?;
    let defaults_doc = defaults_doc.unwrap_or(Doc { path: Path::new("defaults.toml"), text: "" });
    Loader { wave: &wave_doc, defaults: &defaults_doc, base_dir, look }.build(raw, raw_defaults)
}

// ---------------------------------------------------------------------------------------
// Raw file shape

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWave {
    name: Option<Spanned<String>>,
    description: Option<String>,
    window: Option<Spanned<RawWindow>>,
    source: Option<Spanned<RawSource>>,
    apps: Option<Spanned<Vec<Spanned<RawApp>>>>,
    expected_flows: Option<Vec<Spanned<RawExpectedFlow>>>,
    aws: Option<RawAws>,
    networks: Option<RawNetworks>,
    log_groups: Option<Spanned<RawLogGroups>>,
    ephemeral_ports: Option<Spanned<RawEphemeral>>,
    query: Option<RawQuery>,
    ignore: Option<Spanned<Vec<Spanned<RawIgnore>>>>,
    one_way: Option<Spanned<Vec<Spanned<RawOneWay>>>>,
    dependencies: Option<Vec<Spanned<RawDependency>>>,
}

/// `waves/defaults.toml`: the settings every wave shares, nothing wave-specific.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDefaults {
    aws: Option<RawAws>,
    networks: Option<RawNetworks>,
    log_groups: Option<Spanned<RawLogGroups>>,
    ephemeral_ports: Option<Spanned<RawEphemeral>>,
    query: Option<RawQuery>,
    ignore: Option<Spanned<Vec<Spanned<RawIgnore>>>>,
    one_way: Option<Spanned<Vec<Spanned<RawOneWay>>>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWindow {
    start: Option<Spanned<toml::Value>>,
    end: Option<Spanned<toml::Value>>,
    last: Option<Spanned<String>>,
}

/// `source = "cloudwatch"`, or a `[source]` table.
#[derive(Debug, Clone)]
enum RawSource {
    Named(String),
    Table(RawSourceTable),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSourceTable {
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    files: Option<Spanned<String>>,
    inventory: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for RawSource {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SourceVisitor;
        impl<'de> Visitor<'de> for SourceVisitor {
            type Value = RawSource;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"cloudwatch\" or a table with `files` and `inventory`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSource, E> {
                Ok(RawSource::Named(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawSource, A::Error> {
                RawSourceTable::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawSource::Table)
            }
        }
        deserializer.deserialize_any(SourceVisitor)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawApp {
    name: Spanned<String>,
    description: Option<String>,
    servers: Option<Spanned<Vec<Spanned<RawServer>>>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawServer {
    name: Spanned<String>,
    ip: Spanned<String>,
    ips: Option<Vec<Spanned<String>>>,
    instance_id: Option<Spanned<String>>,
    role: Option<Spanned<String>>,
    os: Option<Spanned<String>>,
    on_premises: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDependency {
    name: Spanned<String>,
    ip: Spanned<String>,
    note: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawExpectedFlow {
    from: Spanned<String>,
    to: Spanned<String>,
    service: Spanned<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAws {
    region: Option<Spanned<String>>,
    profile: Option<Spanned<String>>,
    assume_role_arn: Option<Spanned<String>>,
    external_id: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawNetworks {
    internal: Option<Spanned<Vec<Spanned<String>>>>,
    on_premises: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLogGroups {
    names: Option<Spanned<Vec<Spanned<String>>>>,
    discover: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawEphemeral {
    from: Option<Spanned<i64>>,
    to: Option<Spanned<i64>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawQuery {
    chunk_size: Option<Spanned<i64>>,
    max_in_flight: Option<Spanned<i64>>,
    row_limit: Option<Spanned<i64>>,
    price_per_gb: Option<Spanned<f64>>,
    max_window: Option<Spanned<String>>,
}

/// `"udp/514"`, or `{ service = "udp/162", peer = "172.20.9.30/32" }`.
#[derive(Debug, Clone)]
enum RawOneWay {
    Service(String),
    Table(RawOneWayTable),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawOneWayTable {
    service: Spanned<String>,
    peer: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for RawOneWay {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneWayVisitor;
        impl<'de> Visitor<'de> for OneWayVisitor {
            type Value = RawOneWay;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a service such as \"udp/514\", or a table with `service` and `peer`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawOneWay, E> {
                Ok(RawOneWay::Service(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawOneWay, A::Error> {
                RawOneWayTable::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawOneWay::Table)
            }
        }
        deserializer.deserialize_any(OneWayVisitor)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawIgnore {
    network: Spanned<String>,
    service: Option<Spanned<String>>,
    reason: Spanned<String>,
}

// ---------------------------------------------------------------------------------------
// Parsing with located errors

struct Doc<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Doc<'_> {
    fn error(
        &self,
        kind: K,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> WaveError {
        WaveError::new(kind, self.path, self.text, span, key, message)
    }

    /// The 1-based line a span starts on, for "first defined on line N" hints.
    fn line(&self, span: &Range<usize>) -> usize {
        self.text.get(..span.start).map_or(1, |before| before.matches('\n').count() + 1)
    }
}

fn parse<T: DeserializeOwned>(doc: &Doc<'_>) -> Result<T, WaveError> {
    let deserializer = toml::Deserializer::parse(doc.text).map_err(|e| {
        let key = e.span().map(|span| key_at(doc.text, span.start)).unwrap_or_default();
        doc.error(K::Syntax, e.span(), key, format!("invalid TOML: {}", e.message().trim_end()))
            .hint("see the wave file reference in README.md")
    })?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| serde_error(doc, &e))
}

/// The dotted key on the line holding byte `offset`, as far as a line-by-line reading of a
/// broken file can tell: the last `[table]` header above it and the bare key on the line.
fn key_at(text: &str, offset: usize) -> String {
    let line_start = text.get(..offset).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or_default();
    if let Some(header) = header_of(line) {
        return header.to_owned();
    }
    let table = text[..line_start].lines().rev().find_map(header_of).unwrap_or_default();
    let key = line.split_once('=').map(|(k, _)| k.trim()).unwrap_or_default();
    let bare = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    match (table.is_empty(), bare) {
        (_, false) => table.to_owned(),
        (true, true) => key.to_owned(),
        (false, true) => format!("{table}.{key}"),
    }
}

fn header_of(line: &str) -> Option<&str> {
    let inner = line.trim().strip_prefix('[')?.trim_start_matches('[');
    Some(inner.split(']').next().unwrap_or(inner).trim())
}

/// Turns serde's messages ("unknown field `regoin`, expected one of …") into wave errors
/// that say "key", name the dotted key, and suggest the closest valid key.
fn serde_error(doc: &Doc<'_>, e: &serde_path_to_error::Error<toml::de::Error>) -> WaveError {
    let inner = e.inner();
    let message = inner.message().trim_end();
    let mut key = String::new();
    for segment in e.path() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => {
                let _ = write!(key, "[{index}]");
            }
            serde_path_to_error::Segment::Map { key: k } | serde_path_to_error::Segment::Enum { variant: k } => {
                // Spanned<T> travels through serde as a map with private keys: not the user's.
                if k.starts_with("$__") {
                    continue;
                }
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(k);
            }
            serde_path_to_error::Segment::Unknown => key.push_str(".?"),
        }
    }
    let ticked: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    let join = |key: &str, name: &str| if key.is_empty() { name.to_owned() } else { format!("{key}.{name}") };
    if let Some(name) = message.strip_prefix("unknown field ").and(ticked.first()) {
        let valid = &ticked[1..];
        let full = if key.ends_with(name) { key.clone() } else { join(&key, name) };
        let mut err = doc.error(K::UnknownKey, inner.span(), full, format!("unknown key `{name}`"));
        if !valid.is_empty() {
            err = err
                .expected(format!("one of {}", valid.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")));
        }
        return match closest(name, valid) {
            Some(best) => err.hint(format!("did you mean `{best}`?")),
            None => err.hint("remove it, or see the wave file reference in README.md"),
        };
    }
    if let Some(name) = message.strip_prefix("missing field ").and(ticked.first()) {
        return doc
            .error(K::Missing, inner.span(), join(&key, name), format!("missing key `{name}`"))
            .hint(format!("add `{name} = …` to this table"));
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let err = doc.error(K::WrongType, inner.span(), key, format!("wrong type: found {found}"));
        return if expected.is_empty() { err } else { err.expected(expected.to_owned()) };
    }
    doc.error(K::Invalid, inner.span(), key, message.to_owned())
}

/// The valid key closest to a misspelt one, if it is close enough to be the intended one.
fn closest<'a>(name: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| (edit_distance(name, v), *v))
        .filter(|(d, v)| *d <= 2.max(v.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

// ---------------------------------------------------------------------------------------
// Validation

/// The value, or `None` with the error kept in `errors`.
fn ok<T>(errors: &mut Vec<WaveError>, result: Result<T, WaveError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// A value with the file and span it came from, for errors after merging two files.
struct At<'d, T> {
    doc: &'d Doc<'d>,
    key: String,
    span: Range<usize>,
    value: T,
}

impl<T> At<'_, T> {
    fn error(&self, kind: K, message: impl Into<String>) -> WaveError {
        self.doc.error(kind, Some(self.span.clone()), self.key.clone(), message)
    }

    fn sub<'s, U>(&self, key: String, spanned: &'s Spanned<U>) -> At<'_, &'s U> {
        At { doc: self.doc, key, span: spanned.span(), value: spanned.get_ref() }
    }

    /// The same place and key, holding `value` (a part of this one's value).
    fn with<'s, U>(&self, value: &'s U) -> At<'_, &'s U> {
        At { doc: self.doc, key: self.key.clone(), span: self.span.clone(), value }
    }
}

/// The names and addresses taken so far in the wave (by its servers, then its dependencies),
/// each with where it was first taken, for "already on line N" hints.
#[derive(Default)]
struct Taken {
    /// Name → the key of its server or dependency (`apps[0].servers[1]`) and the name's line.
    names: HashMap<String, (String, usize)>,
    /// Server address → the key of its server, the key of the address, and its line.
    addresses: HashMap<IpAddr, (String, String, usize)>,
}

fn at<'d, T>(doc: &'d Doc<'d>, key: &str, v: Spanned<T>) -> At<'d, T> {
    let span = v.span();
    At { doc, key: key.to_owned(), span, value: v.into_inner() }
}

/// The validated settings `defaults.toml` may hold.
struct Shared<'d> {
    aws: AwsSettings,
    networks: Networks,
    log_groups: LogGroups,
    /// Where `[log-groups]` was, for "no log groups" errors.
    log_groups_at: Option<(&'d Doc<'d>, Range<usize>)>,
    ephemeral: EphemeralPolicy,
    one_way: Vec<OneWay>,
    ignore: Vec<IgnoreRule>,
    query: QuerySettings,
}

struct Loader<'d> {
    wave: &'d Doc<'d>,
    defaults: &'d Doc<'d>,
    base_dir: &'d Path,
    look: &'d dyn Fn(&Path) -> PathKind,
}

impl<'d> Loader<'d> {
    /// The wave's value for `key` if it has one, else the defaults' one.
    fn pick<T>(&self, key: &str, wave: Option<Spanned<T>>, defaults: Option<Spanned<T>>) -> Option<At<'d, T>> {
        match (wave, defaults) {
            (Some(v), _) => Some(at(self.wave, key, v)),
            (None, Some(v)) => Some(at(self.defaults, key, v)),
            (None, None) => None,
        }
    }

    /// The wave's parts are checked one by one, so a file with a mistake in several parts
    /// (a bad IP address and a bad window) reports them all at once.
    fn build(&self, raw: RawWave, defaults: RawDefaults) -> Result<WaveConfig, WaveError> {
        let mut errors = Vec::new();
        let name = ok(&mut errors, self.name(raw.name));
        // The defaults on their own first, so that a mistake there is reported against
        // defaults.toml even when this wave overrides the key.
        if let Err(e) = self.shared(RawDefaults::default(), defaults.clone()) {
            errors.push(e);
            return Err(WaveError::gather(errors).expect("one error at least"));
        }
        let wave_shared = RawDefaults {
            aws: raw.aws,
            networks: raw.networks,
            log_groups: raw.log_groups,
            ephemeral_ports: raw.ephemeral_ports,
            query: raw.query,
            ignore: raw.ignore,
            one_way: raw.one_way,
        };
        let shared = ok(&mut errors, self.shared(wave_shared, defaults));
        let source = ok(&mut errors, self.source(raw.source));
        if let (Some(shared), Some(Source::CloudWatch)) = (&shared, &source)
            && shared.log_groups.names.is_empty()
            && !shared.log_groups.discover
        {
            let (d, span) = shared.log_groups_at.clone().map_or((self.wave, None), |(d, s)| (d, Some(s)));
            errors.push(
                d.error(K::Missing, span, "log-groups", "no log groups to query")
                    .expected("`names = [\"/vpc/flow-logs\"]`, `discover = true`, or both")
                    .hint(
                        "list the flow-log groups, or set `discover = true` to find them from the servers' flow logs",
                    ),
            );
        }
        let window = shared.as_ref().and_then(|s| ok(&mut errors, self.window(raw.window, &s.query)));
        let apps = shared.as_ref().and_then(|s| ok(&mut errors, self.apps(raw.apps, &s.networks)));
        // Checked even when the apps are not valid, against the servers that are known then
        // (none), so that a mistake here is not hidden behind one in the apps.
        let (apps, mut taken) = apps.map_or((None, Taken::default()), |(apps, taken)| (Some(apps), taken));
        let dependencies =
            ok(&mut errors, self.dependencies(raw.dependencies.as_deref().unwrap_or_default(), &mut taken));
        if let Some(e) = WaveError::gather(errors) {
            return Err(e);
        }
        let (Some(name), Some(shared), Some(source), Some(window), Some(apps), Some(dependencies)) =
            (name, shared, source, window, apps, dependencies)
        else {
            unreachable!("every part without an error has a value");
        };
        let Shared { aws, networks, log_groups, ephemeral, one_way, ignore, query, .. } = shared;
        let config = WaveConfig {
            name,
            description: raw.description.filter(|d| !d.trim().is_empty()),
            path: self.wave.path.to_path_buf(),
            window,
            aws,
            networks,
            log_groups,
            apps,
            expected_flows: Vec::new(),
            source,
            ephemeral,
            ignore,
            one_way,
            query,
            dependencies,
        };
        let expected_flows = raw
            .expected_flows
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, flow)| self.expected_flow(&config, i, flow))
            .collect::<Result<_, _>>()?;
        Ok(WaveConfig { expected_flows, ..config })
    }

    fn name(&self, raw: Option<Spanned<String>>) -> Result<String, WaveError> {
        let doc = self.wave;
        if let Some(name) = raw {
            let name = at(doc, "name", name);
            check_name(&name, "wave name")?;
            return Ok(name.value);
        }
        let stem = doc.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if !is_name(&stem) {
            return Err(doc
                .error(K::Missing, None, "name", format!("the file name `{stem}` is not a valid wave name"))
                .expected("letters, digits, `.`, `_` and `-` (at most 64)")
                .hint("rename the file, or set `name = \"wave-3\"` at the top"));
        }
        Ok(stem)
    }

    /// The settings `defaults.toml` may hold, each key from the wave if it sets it.
    fn shared(&self, raw: RawDefaults, defaults: RawDefaults) -> Result<Shared<'d>, WaveError> {
        let query = self.query(raw.query.unwrap_or_default(), defaults.query.unwrap_or_default())?;
        let aws = self.aws(raw.aws.unwrap_or_default(), defaults.aws.unwrap_or_default())?;
        let networks = self.networks(raw.networks.unwrap_or_default(), defaults.networks.unwrap_or_default())?;
        let log_groups_at = raw.log_groups.as_ref().map(|l| (self.wave, l.span()));
        let log_groups_at = log_groups_at.or_else(|| defaults.log_groups.as_ref().map(|l| (self.defaults, l.span())));
        let log_groups = self.log_groups(
            raw.log_groups.map(Spanned::into_inner).unwrap_or_default(),
            defaults.log_groups.map(Spanned::into_inner).unwrap_or_default(),
        )?;
        let ephemeral = self.ephemeral(raw.ephemeral_ports, defaults.ephemeral_ports)?;
        let one_way = match self.pick("one-way", raw.one_way, defaults.one_way) {
            Some(list) => {
                let mut entries = Vec::new();
                for (i, entry) in list.value.iter().enumerate() {
                    let entry = Self::one_way(&list.sub(format!("one-way[{i}]"), entry))?;
                    if !entries.contains(&entry) {
                        entries.push(entry);
                    }
                }
                entries
            }
            None => default_one_way(),
        };
        let ignore = match self.pick("ignore", raw.ignore, defaults.ignore) {
            Some(list) => list
                .value
                .iter()
                .enumerate()
                .map(|(i, rule)| Self::ignore_rule(&list.sub(format!("ignore[{i}]"), rule)))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        Ok(Shared { aws, networks, log_groups, log_groups_at, ephemeral, one_way, ignore, query })
    }

    fn query(&self, raw: RawQuery, defaults: RawQuery) -> Result<QuerySettings, WaveError> {
        let builtin = QuerySettings::default();
        let int = |key: &str,
                   w: Option<Spanned<i64>>,
                   d: Option<Spanned<i64>>,
                   max: i64,
                   default: usize,
                   what: &str|
         -> Result<usize, WaveError> {
            match self.pick(key, w, d) {
                None => Ok(default),
                Some(v) => {
                    usize::try_from(v.value).ok().filter(|n| (1..=max).contains(&v.value) && *n > 0).ok_or_else(|| {
                        v.error(
                            K::Invalid,
                            format!("{} {} is out of range", key.rsplit('.').next().unwrap_or(key), v.value),
                        )
                        .expected(format!("a whole number from 1 to {max}"))
                        .hint(what.to_owned())
                    })
                }
            }
        };
        let chunk_size = int(
            "query.chunk-size",
            raw.chunk_size,
            defaults.chunk_size,
            50,
            builtin.chunk_size,
            "a Logs Insights query covers at most 50 log groups",
        )?;
        let max_in_flight = int(
            "query.max-in-flight",
            raw.max_in_flight,
            defaults.max_in_flight,
            100,
            builtin.max_in_flight,
            "the account runs at most 100 Logs Insights queries at once, shared with dashboards",
        )?;
        let row_limit = int(
            "query.row-limit",
            raw.row_limit,
            defaults.row_limit,
            10_000,
            builtin.row_limit,
            "Logs Insights returns at most 10,000 rows per query",
        )?;
        let price_per_gb = match self.pick("query.price-per-gb", raw.price_per_gb, defaults.price_per_gb) {
            None => builtin.price_per_gb,
            Some(v) if v.value.is_finite() && v.value >= 0.0 => v.value,
            Some(v) => {
                return Err(v
                    .error(K::Invalid, format!("price-per-gb {} is not a price", v.value))
                    .expected("dollars per GB scanned, such as 0.005"));
            }
        };
        let max_window = match self.pick("query.max-window", raw.max_window, defaults.max_window) {
            None => builtin.max_window,
            Some(v) => parse_duration_at(&v)?,
        };
        Ok(QuerySettings { chunk_size, max_in_flight, row_limit, price_per_gb, max_window })
    }

    fn aws(&self, raw: RawAws, defaults: RawAws) -> Result<AwsSettings, WaveError> {
        let region = self.pick("aws.region", raw.region, defaults.region);
        if let Some(r) = &region
            && !crate::wave::is_region_name(&r.value)
        {
            return Err(r
                .error(K::Invalid, format!("invalid AWS region `{}`", r.value))
                .expected("a region code such as \"eu-west-1\" or \"us-gov-west-1\"")
                .hint("use the code, not the display name (\"eu-west-1\", not \"Europe (Ireland)\")"));
        }
        let profile = self.pick("aws.profile", raw.profile, defaults.profile);
        if let Some(p) = &profile
            && (p.value.is_empty() || p.value.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(p
                .error(K::Invalid, format!("invalid profile name {:?}", p.value))
                .expected("a profile name from ~/.aws/config, without spaces")
                .hint("leave `profile` out to use the default credential chain"));
        }
        let role = self.pick("aws.assume-role-arn", raw.assume_role_arn, defaults.assume_role_arn);
        if let Some(r) = &role
            && !is_role_arn(&r.value)
        {
            return Err(r
                .error(K::Invalid, format!("invalid role ARN `{}`", r.value))
                .expected("\"arn:aws:iam::123456789012:role/Name\"")
                .hint("copy the ARN from the IAM console's role summary"));
        }
        let external_id = self.pick("aws.external-id", raw.external_id, defaults.external_id);
        if let Some(e) = &external_id {
            if role.is_none() {
                return Err(e
                    .error(K::Conflict, "external-id without assume-role-arn")
                    .hint("an external id is only sent when assuming a role: set `assume-role-arn` too"));
            }
            let ok_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c);
            if !(2..=1224).contains(&e.value.len()) || !e.value.chars().all(ok_char) {
                return Err(e
                    .error(K::Invalid, "invalid external id")
                    .expected("2 to 1224 characters of letters, digits and `+=,.@:/-_`"));
            }
        }
        Ok(AwsSettings {
            region: region.map(|r| r.value),
            profile: profile.map(|p| p.value),
            assume_role_arn: role.map(|r| r.value),
            external_id: external_id.map(|e| e.value),
        })
    }

    fn networks(&self, raw: RawNetworks, defaults: RawNetworks) -> Result<Networks, WaveError> {
        let list = |key: &str, v: Option<At<'d, Vec<Spanned<String>>>>| -> Result<Option<Vec<IpNet>>, WaveError> {
            let Some(v) = v else { return Ok(None) };
            let mut nets: Vec<IpNet> = Vec::new();
            for (i, s) in v.value.iter().enumerate() {
                let at = v.sub(format!("{key}[{i}]"), s);
                let net = parse_net_at(&at)?;
                // Proposals open on-premises networks to whole populations of clients: one
                // wider than a /8 (a /32 for IPv6) is half the internet, not a data centre.
                if key == "networks.on-premises" && !crate::wave::is_sane_on_premises(net) {
                    return Err(at
                        .error(K::Invalid, format!("{net} is too wide for an on-premises network"))
                        .expected(format!(
                            "a network of /{} or narrower (IPv6: /{} or narrower)",
                            crate::wave::WIDEST_ON_PREMISES_V4,
                            crate::wave::WIDEST_ON_PREMISES_V6
                        ))
                        .hint("list the data centre's own ranges, such as \"192.168.0.0/16\""));
                }
                if !nets.contains(&net) {
                    nets.push(net);
                }
            }
            Ok(Some(nets))
        };
        let internal_at = self.pick("networks.internal", raw.internal, defaults.internal);
        let internal_span = internal_at.as_ref().map(|v| (v.doc, v.span.clone()));
        let mut internal = list("networks.internal", internal_at)?.unwrap_or_else(default_internal);
        let on_premises =
            list("networks.on-premises", self.pick("networks.on-premises", raw.on_premises, defaults.on_premises))?
                .unwrap_or_default();
        if internal.is_empty() {
            let (doc, span) = internal_span.map_or((self.wave, None), |(d, s)| (d, Some(s)));
            return Err(doc
                .error(K::Invalid, span, "networks.internal", "no internal networks")
                .expected("the CIDRs of your VPCs and data centres, such as [\"10.0.0.0/8\"]")
                .hint("leave `internal` out to use the RFC 1918 ranges"));
        }
        // On-premises networks are ours too: flows to them are never background noise.
        for net in &on_premises {
            if !internal.iter().any(|i| i.contains(net)) {
                internal.push(*net);
            }
        }
        Ok(Networks { internal, on_premises })
    }

    fn log_groups(&self, raw: RawLogGroups, defaults: RawLogGroups) -> Result<LogGroups, WaveError> {
        let mut names: Vec<String> = Vec::new();
        if let Some(list) = self.pick("log-groups.names", raw.names, defaults.names) {
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (i, s) in list.value.iter().enumerate() {
                let v = list.sub(format!("log-groups.names[{i}]"), s);
                if let Some(bad) = log_group_problem(v.value) {
                    return Err(v
                        .error(K::Invalid, format!("invalid log group name {:?}: {bad}", v.value))
                        .expected("1 to 512 characters of letters, digits and `._-/#`")
                        .hint("copy the name from `aws logs describe-log-groups` or the flow log's destination"));
                }
                if let Some(first) = seen.insert(v.value.as_str(), i) {
                    return Err(v
                        .error(K::Duplicate, format!("log group `{}` is listed twice", v.value))
                        .hint(format!("it is already `log-groups.names[{first}]`; remove one")));
                }
                names.push(v.value.clone());
            }
        }
        let discover = self.pick("log-groups.discover", raw.discover, defaults.discover).is_some_and(|d| d.value);
        Ok(LogGroups { names, discover })
    }

    fn source(&self, raw: Option<Spanned<RawSource>>) -> Result<Source, WaveError> {
        let Some(raw) = raw else { return Ok(Source::CloudWatch) };
        let whole = at(self.wave, "source", raw);
        let table = match &whole.value {
            RawSource::Named(name) if name == "cloudwatch" => return Ok(Source::CloudWatch),
            RawSource::Named(name) if name == "files" => {
                return Err(whole
                    .error(K::Invalid, "a files source needs its directory and an inventory snapshot")
                    .expected("[source] files = \"flowlogs/demo\" and inventory = \"inventory/demo.json\""));
            }
            RawSource::Named(name) => {
                return Err(whole
                    .error(K::Invalid, format!("unknown source `{name}`"))
                    .expected("\"cloudwatch\", or a [source] table with `files` and `inventory`"));
            }
            RawSource::Table(table) => table,
        };
        let kind = table.kind.as_ref().map(|k| whole.sub("source.type".to_owned(), k));
        let files = table.files.as_ref().map(|f| whole.sub("source.files".to_owned(), f));
        let inventory = table.inventory.as_ref().map(|i| whole.sub("source.inventory".to_owned(), i));
        let is_files = match &kind {
            Some(k) if k.value == "cloudwatch" => {
                if let Some(f) = &files {
                    return Err(f
                        .error(K::Conflict, "more than one source: `type = \"cloudwatch\"` and `files`")
                        .hint(
                            "a wave reads from one source: remove `files` (and `inventory`), or set `type = \"files\"`",
                        ));
                }
                if let Some(i) = &inventory {
                    return Err(i
                        .error(K::Conflict, "`inventory` only goes with a files source")
                        .hint("a CloudWatch wave resolves its servers with the EC2 API: remove `inventory`"));
                }
                false
            }
            Some(k) if k.value == "files" => true,
            Some(k) => {
                return Err(k
                    .error(K::Invalid, format!("unknown source type `{}`", k.value))
                    .expected("\"cloudwatch\" or \"files\""));
            }
            None => true,
        };
        if !is_files {
            return Ok(Source::CloudWatch);
        }
        let Some(files) = files else {
            return Err(whole
                .error(K::Missing, "a files source without `files`")
                .expected("`files = \"flowlogs/demo\"`: the directory of flow-log files")
                .hint("or use `source = \"cloudwatch\"` to query CloudWatch Logs"));
        };
        let Some(inventory) = inventory else {
            return Err(whole
                .error(K::Missing, "a files source without an inventory snapshot")
                .expected("`inventory = \"inventory/demo.json\"` next to `files`")
                .hint("save one with the resolver, or write one by hand in the shape of the EC2 Describe* responses"));
        };
        // `what` names the path for the error; `file_only` refuses a directory.
        let path = |v: &At<'_, &String>, what: &str, file_only: bool| -> Result<PathBuf, WaveError> {
            if v.value.trim().is_empty() {
                return Err(v
                    .error(K::Invalid, "empty path")
                    .expected("a path, relative to the wave file's directory or absolute"));
            }
            let path = self.base_dir.join(v.value);
            match (self.look)(&path) {
                PathKind::Missing => Err(v
                    .error(K::Invalid, format!("`{}` does not exist", path.display()))
                    .expected(format!("{what}, relative to the wave file's directory or absolute"))),
                PathKind::Dir if file_only => Err(v
                    .error(K::Invalid, format!("`{}` is a directory", path.display()))
                    .expected(format!("{what}: a JSON file written by `wavegap inventory`"))),
                PathKind::Dir | PathKind::File => Ok(path),
            }
        };
        let dir = path(&files, "the flow-log files (a directory, or one file)", false)?;
        Ok(Source::Files { dir, inventory: path(&inventory, "the inventory snapshot", true)? })
    }

    fn window(&self, raw: Option<Spanned<RawWindow>>, query: &QuerySettings) -> Result<WindowSpec, WaveError> {
        let Some(raw) = raw else {
            return Err(self
                .wave
                .error(K::Missing, None, "window", "missing [window]")
                .expected("`[window]` with `last = \"24h\"`, or `start` and `end` (RFC 3339)")
                .hint("add `[window]` and `last = \"24h\"` to look at the day before each run"));
        };
        let whole = at(self.wave, "window", raw);
        let max = query.max_window;
        let too_long = |v: &dyn Fn(K, String) -> WaveError, secs: u64| {
            v(
                K::Invalid,
                format!("window of {} is longer than the maximum of {}", format_secs(secs), format_secs(max.as_secs())),
            )
            .hint("shorten the window, or raise `max-window` under [query] (every hour scanned costs money)")
        };
        let start = whole.value.start.as_ref().map(|s| whole.sub("window.start".to_owned(), s));
        let end = whole.value.end.as_ref().map(|e| whole.sub("window.end".to_owned(), e));
        if let Some(last) = whole.value.last.as_ref().map(|l| whole.sub("window.last".to_owned(), l)) {
            if let Some(other) = start.as_ref().or(end.as_ref()) {
                return Err(other
                    .error(K::Conflict, "`last` together with `start`/`end`")
                    .hint("give either `last = \"24h\"` or both `start` and `end`"));
            }
            let d = parse_duration_at(&last)?;
            if d > max {
                return Err(too_long(&|k, m| last.error(k, m), d.as_secs()));
            }
            return Ok(WindowSpec::Last(d));
        }
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (None, None) => {
                return Err(whole
                    .error(K::Missing, "empty [window]")
                    .expected("`last = \"24h\"`, or `start` and `end` (RFC 3339)"));
            }
            (Some(_), None) => {
                return Err(whole
                    .error(K::Missing, "`start` without `end`")
                    .expected("`end = \"2026-11-21T00:00:00Z\"`"));
            }
            (None, Some(_)) => {
                return Err(whole
                    .error(K::Missing, "`end` without `start`")
                    .expected("`start = \"2026-11-20T00:00:00Z\"`"));
            }
        };
        let s = parse_time_at(&start)?;
        let e = parse_time_at(&end)?;
        if e == s {
            return Err(end
                .error(K::Invalid, "the window is empty: `end` is the same instant as `start`")
                .expected("an `end` later than `start`")
                .hint("check the dates and their UTC offsets"));
        }
        if e < s {
            return Err(end
                .error(K::Invalid, "the window ends before it starts")
                .expected("an `end` later than `start`")
                .hint("check the dates and their UTC offsets"));
        }
        let secs = u64::try_from(e - s).unwrap_or(u64::MAX);
        if secs > max.as_secs() {
            return Err(too_long(&|k, m| end.error(k, m), secs));
        }
        Ok(WindowSpec::Absolute(TimeWindow { start: s, end: e }))
    }

    fn ephemeral(
        &self,
        raw: Option<Spanned<RawEphemeral>>,
        defaults: Option<Spanned<RawEphemeral>>,
    ) -> Result<EphemeralPolicy, WaveError> {
        let (w, d) =
            (raw.map(Spanned::into_inner).unwrap_or_default(), defaults.map(Spanned::into_inner).unwrap_or_default());
        let builtin = EphemeralPolicy::default();
        let port = |v: Option<At<'d, i64>>, default: u16| -> Result<(u16, Option<At<'d, i64>>), WaveError> {
            match v {
                None => Ok((default, None)),
                Some(v) => match u16::try_from(v.value).ok().filter(|p| *p > 0) {
                    Some(p) => Ok((p, Some(v))),
                    None => Err(v
                        .error(K::Invalid, format!("port {} is out of range", v.value))
                        .expected("a port from 1 to 65535")),
                },
            }
        };
        let (from, _) = port(self.pick("ephemeral-ports.from", w.from, d.from), builtin.from)?;
        let (to, to_at) = port(self.pick("ephemeral-ports.to", w.to, d.to), builtin.to)?;
        if from > to {
            let err = |k, m: String| match &to_at {
                Some(at) => at.error(k, m),
                None => self.wave.error(k, None, "ephemeral-ports", m),
            };
            return Err(err(K::Invalid, format!("ephemeral range {from}-{to} is empty"))
                .expected("`from` no greater than `to`, such as 1024-65535"));
        }
        Ok(EphemeralPolicy { from, to })
    }

    /// `"udp/514"`, or a table with `service` and an optional `peer` network.
    fn one_way(entry: &At<'_, &RawOneWay>) -> Result<OneWay, WaveError> {
        match entry.value {
            RawOneWay::Service(text) => Ok(OneWay { service: parse_service_at(&entry.with(text))?, peer: None }),
            RawOneWay::Table(table) => {
                let service = parse_service_at(&entry.sub(format!("{}.service", entry.key), &table.service))?;
                let peer = table
                    .peer
                    .as_ref()
                    .map(|p| parse_net_at(&entry.sub(format!("{}.peer", entry.key), p)))
                    .transpose()?;
                Ok(OneWay { service, peer })
            }
        }
    }

    fn ignore_rule(rule: &At<'_, &RawIgnore>) -> Result<IgnoreRule, WaveError> {
        let raw = rule.value;
        let network = parse_net_at(&rule.sub(format!("{}.network", rule.key), &raw.network))?;
        let service = raw
            .service
            .as_ref()
            .map(|s| parse_service_at(&rule.sub(format!("{}.service", rule.key), s)))
            .transpose()?;
        let reason = rule.sub(format!("{}.reason", rule.key), &raw.reason);
        if reason.value.trim().is_empty() {
            return Err(reason
                .error(K::Invalid, "empty reason")
                .hint("say why this traffic is ignored, for the next reader"));
        }
        Ok(IgnoreRule { network, service, reason: reason.value.clone() })
    }

    /// The apps and their servers, and the names and addresses the servers took (for the
    /// dependencies' checks).
    fn apps(
        &self,
        raw: Option<Spanned<Vec<Spanned<RawApp>>>>,
        networks: &Networks,
    ) -> Result<(Vec<App>, Taken), WaveError> {
        let Some(raw) = raw else {
            return Err(self
                .wave
                .error(K::Missing, None, "apps", "a wave without apps")
                .expected("at least one `[[apps]]` table with `name` and `[[apps.servers]]`")
                .hint("add `[[apps]]` with a `name`, then `[[apps.servers]]` with `name` and `ip`"));
        };
        let list = at(self.wave, "apps", raw);
        if list.value.is_empty() {
            return Err(list
                .error(K::Missing, "empty apps list")
                .expected("at least one `[[apps]]` table")
                .hint("add `[[apps]]` with a `name`, then `[[apps.servers]]` with `name` and `ip`"));
        }
        let mut app_names: HashMap<String, (usize, usize)> = HashMap::new();
        let mut taken = Taken::default();
        let mut apps = Vec::new();
        for (i, raw_app) in list.value.iter().enumerate() {
            let app_at = list.sub(format!("apps[{i}]"), raw_app);
            let app = raw_app.get_ref();
            let name = app_at.sub(format!("apps[{i}].name"), &app.name);
            check_name(&name, "app name")?;
            let line = self.wave.line(&name.span);
            if let Some((first, first_line)) = app_names.insert(name.value.clone(), (i, line)) {
                return Err(name.error(K::Duplicate, format!("two apps named `{}`", name.value)).hint(format!(
                    "`apps[{first}]` on line {first_line} has that name already; rename one or merge them"
                )));
            }
            let Some(servers) = &app.servers else {
                return Err(app_at
                    .error(K::Missing, format!("app `{}` has no servers", name.value))
                    .expected("at least one `[[apps.servers]]` with `name` and `ip` after this `[[apps]]`"));
            };
            let servers_at = app_at.sub(format!("apps[{i}].servers"), servers);
            if servers_at.value.is_empty() {
                return Err(servers_at
                    .error(K::Missing, format!("app `{}` has no servers", name.value))
                    .expected("at least one `[[apps.servers]]` with `name` and `ip`"));
            }
            let mut out = Vec::new();
            for (j, raw_server) in servers_at.value.iter().enumerate() {
                let key = format!("apps[{i}].servers[{j}]");
                let s = raw_server.get_ref();
                let sname = app_at.sub(format!("{key}.name"), &s.name);
                check_name(&sname, "server name")?;
                let sline = self.wave.line(&sname.span);
                if let Some((first, first_line)) = taken.names.insert(sname.value.clone(), (key.clone(), sline)) {
                    return Err(sname
                        .error(K::Duplicate, format!("two servers named `{}`", sname.value))
                        .hint(format!("`{first}` on line {first_line} has that name already; server names are unique across the wave's apps")));
                }
                let ip = self.server_address(&app_at.sub(format!("{key}.ip"), &s.ip), &key, networks, &mut taken)?;
                let ips = s
                    .ips
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(k, a)| {
                        self.server_address(&app_at.sub(format!("{key}.ips[{k}]"), a), &key, networks, &mut taken)
                    })
                    .collect::<Result<_, _>>()?;
                let instance_id = match &s.instance_id {
                    Some(id) => {
                        let id = app_at.sub(format!("{key}.instance-id"), id);
                        if !is_instance_id(id.value) {
                            return Err(id
                                .error(K::Invalid, format!("invalid instance id {:?}", id.value))
                                .expected("\"i-\" and 8 or 17 hexadecimal digits, such as \"i-0abc123def4567890\""));
                        }
                        Some(id.value.clone())
                    }
                    None => None,
                };
                let role = match &s.role {
                    Some(r) if r.get_ref().trim().is_empty() => {
                        return Err(app_at
                            .sub(format!("{key}.role"), r)
                            .error(K::Invalid, "empty role")
                            .expected("a role such as \"web\", \"app\" or \"db\", or no `role` key"));
                    }
                    Some(r) => Some(r.get_ref().trim().to_owned()),
                    None => None,
                };
                let os = match &s.os {
                    Some(os) => {
                        let os = app_at.sub(format!("{key}.os"), os);
                        Some(match os.value.as_str() {
                            "linux" => Os::Linux,
                            "windows" => Os::Windows,
                            "windows-legacy" => Os::WindowsLegacy,
                            other => {
                                return Err(os
                                    .error(K::Invalid, format!("unknown os `{other}`"))
                                    .expected("\"linux\", \"windows\" or \"windows-legacy\" (Windows Server 2003 and older)")
                                    .hint("the OS picks the ephemeral port range for NACL return rules; leave it out if unsure"));
                            }
                        })
                    }
                    None => None,
                };
                out.push(Server {
                    name: sname.value.clone(),
                    app: name.value.clone(),
                    ip,
                    ips,
                    instance_id,
                    role,
                    os,
                    on_premises: s.on_premises.unwrap_or(false),
                });
            }
            apps.push(App {
                name: name.value.clone(),
                description: app.description.clone().filter(|d| !d.trim().is_empty()),
                servers: out,
            });
        }
        Ok((apps, taken))
    }

    /// One address of the server at `server` (its `ip` or one of its `ips`): an IP address
    /// that no other server of the wave has and the server does not list twice, inside the
    /// internal networks.
    fn server_address(
        &self,
        v: &At<'_, &String>,
        server: &str,
        networks: &Networks,
        taken: &mut Taken,
    ) -> Result<IpAddr, WaveError> {
        let ip = parse_ip_at(v, "a server", "write the server's private IP address")?;
        let line = self.wave.line(&v.span);
        if let Some((first, first_key, first_line)) =
            taken.addresses.insert(ip, (server.to_owned(), v.key.clone(), line))
        {
            return Err(if first != server {
                v.error(K::Duplicate, format!("two servers with address {ip}")).hint(format!(
                    "`{first}` on line {first_line} has that address already; each server appears once per wave"
                ))
            } else if first_key == format!("{server}.ip") {
                v.error(K::Duplicate, format!("`ips` repeats the server's `ip` {ip}")).hint(format!(
                    "`{first_key}` on line {first_line} is that address; `ips` holds the server's other addresses"
                ))
            } else {
                v.error(K::Duplicate, format!("{ip} is listed twice in `ips`"))
                    .hint(format!("`{first_key}` on line {first_line} has that address already; remove one"))
            });
        }
        if !networks.internal.iter().any(|n| n.contains(&ip)) {
            return Err(v
                .error(K::Invalid, format!("{ip} is outside every internal network"))
                .expected(format!(
                    "an address in {}",
                    networks.internal.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ))
                .hint("add its network to `internal` (or `on-premises`) under [networks]"));
        }
        Ok(ip)
    }

    /// Things outside the wave, named for reports: names unique across the servers and the
    /// dependencies, addresses that are no server's and unique among the dependencies.
    fn dependencies(&self, raw: &[Spanned<RawDependency>], taken: &mut Taken) -> Result<Vec<Dependency>, WaveError> {
        let mut addresses: HashMap<IpAddr, (String, usize)> = HashMap::new();
        let mut out = Vec::new();
        for (i, raw_dep) in raw.iter().enumerate() {
            let key = format!("dependencies[{i}]");
            let dep_at = At { doc: self.wave, key: key.clone(), span: raw_dep.span(), value: raw_dep.get_ref() };
            let d = raw_dep.get_ref();
            let name = dep_at.sub(format!("{key}.name"), &d.name);
            check_name(&name, "dependency name")?;
            let line = self.wave.line(&name.span);
            if let Some((first, first_line)) = taken.names.insert(name.value.clone(), (key.clone(), line)) {
                let message = if first.starts_with("dependencies") {
                    format!("two dependencies named `{}`", name.value)
                } else {
                    format!("`{}` is a server of the wave already", name.value)
                };
                return Err(name.error(K::Duplicate, message).hint(format!(
                    "`{first}` on line {first_line} has that name already; names are unique across servers and dependencies"
                )));
            }
            let ip_at = dep_at.sub(format!("{key}.ip"), &d.ip);
            let ip = parse_ip_at(&ip_at, "a dependency", "write the dependency's IP address")?;
            if let Some((server, _, server_line)) = taken.addresses.get(&ip) {
                return Err(ip_at.error(K::Duplicate, format!("{ip} is an address of a server of the wave")).hint(
                    format!(
                        "`{server}` on line {server_line} has that address; a dependency is outside the wave: remove one of them"
                    ),
                ));
            }
            let ip_line = self.wave.line(&ip_at.span);
            if let Some((first, first_line)) = addresses.insert(ip, (key.clone(), ip_line)) {
                return Err(ip_at
                    .error(K::Duplicate, format!("two dependencies with address {ip}"))
                    .hint(format!("`{first}` on line {first_line} has that address already; merge them")));
            }
            out.push(Dependency {
                name: name.value.clone(),
                ip,
                note: d.note.clone().filter(|n| !n.trim().is_empty()),
            });
        }
        Ok(out)
    }

    fn expected_flow(
        &self,
        wave: &WaveConfig,
        i: usize,
        raw: &Spanned<RawExpectedFlow>,
    ) -> Result<ExpectedFlow, WaveError> {
        let key = format!("expected-flows[{i}]");
        let flow = At { doc: self.wave, key: key.clone(), span: raw.span(), value: raw.get_ref() };
        let f = raw.get_ref();
        let endpoint = |end: &str, s: &Spanned<String>| -> Result<Endpoint, WaveError> {
            let v = flow.sub(format!("{key}.{end}"), s);
            let text = v.value.trim();
            if let Some(server) = wave.servers().find(|srv| srv.name == text) {
                return Ok(Endpoint::Server(server.name.clone()));
            }
            // A dependency stands for its address: it is never in scope, only named.
            if let Some(dep) = wave.dependencies.iter().find(|d| d.name == text) {
                return Ok(Endpoint::Network(IpNet::from(dep.ip)));
            }
            if let Ok(ip) = text.parse::<IpAddr>() {
                return Ok(match wave.server_by_ip(ip) {
                    Some(server) => Endpoint::Server(server.name.clone()),
                    None => Endpoint::Network(IpNet::from(ip)),
                });
            }
            if text.contains('/') {
                return parse_net_at(&v).map(Endpoint::Network);
            }
            let mut names: Vec<&str> = wave.servers().map(|s| s.name.as_str()).collect();
            names.sort_unstable();
            let mut dependencies: Vec<&str> = wave.dependencies.iter().map(|d| d.name.as_str()).collect();
            dependencies.sort_unstable();
            let err = v.error(K::Invalid, format!("unknown server `{text}`"));
            let (err, list) = if dependencies.is_empty() {
                (
                    err.expected("a server name of this wave, an IP address or a CIDR"),
                    format!("the wave's servers are: {}", names.join(", ")),
                )
            } else {
                (
                    err.expected("a server or dependency name of this wave, an IP address or a CIDR"),
                    format!(
                        "the wave's servers are: {}; its dependencies: {}",
                        names.join(", "),
                        dependencies.join(", ")
                    ),
                )
            };
            let every: Vec<&str> = names.iter().chain(&dependencies).copied().collect();
            Err(match closest(text, &every) {
                Some(best) => err.hint(format!("did you mean `{best}`?")),
                None => err.hint(list),
            })
        };
        let src = endpoint("from", &f.from)?;
        let dst = endpoint("to", &f.to)?;
        if matches!((&src, &dst), (Endpoint::Network(_), Endpoint::Network(_))) {
            return Err(flow
                .error(K::Invalid, "an expected flow between two networks")
                .expected("a server of this wave at one end at least")
                .hint("name the server by its `name` in `from` or `to`"));
        }
        let service = parse_service_at(&flow.sub(format!("{key}.service"), &f.service))?;
        Ok(ExpectedFlow { src, dst, protocol: service.protocol, port: service.port })
    }
}

// ---------------------------------------------------------------------------------------
// Value parsers

/// RFC 1918: what "internal" means when a wave does not say.
fn default_internal() -> Vec<IpNet> {
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].iter().filter_map(|s| s.parse().ok()).collect()
}

/// Syslog, SNMP traps, `NetFlow` and `sFlow`: sent without any answer by design.
fn default_one_way() -> Vec<OneWay> {
    [514, 162, 2055, 6343]
        .into_iter()
        .map(|port| OneWay { service: Service { protocol: proto::UDP, port }, peer: None })
        .collect()
}

fn is_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && !s.starts_with('.')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn check_name(v: &At<'_, impl AsRef<str>>, what: &str) -> Result<(), WaveError> {
    let s = v.value.as_ref();
    if is_name(s) && s.parse::<IpAddr>().is_err() {
        return Ok(());
    }
    Err(v
        .error(K::Invalid, format!("invalid {what} {s:?}"))
        .expected("1 to 64 letters, digits, `.`, `_` or `-`, not starting with `.` and not an IP address")
        .hint("names end up in report file names, diagrams and expected flows, so they stay plain"))
}

/// One address, never a network: a server's or a dependency's (`what` is "a server").
fn parse_ip_at(v: &At<'_, &String>, what: &str, hint: &str) -> Result<IpAddr, WaveError> {
    v.value.trim().parse().map_err(|_| {
        let hint = if v.value.contains('/') {
            format!("{what} is one address: drop the prefix length")
        } else {
            hint.to_owned()
        };
        v.error(K::Invalid, format!("invalid IP address {:?}", v.value))
            .expected("an IPv4 or IPv6 address, such as \"10.0.0.7\"")
            .hint(hint)
    })
}

fn parse_net_at(v: &At<'_, &String>) -> Result<IpNet, WaveError> {
    let text = v.value.trim();
    let bad = || {
        v.error(K::Invalid, format!("invalid network {text:?}"))
            .expected("a CIDR such as \"10.1.0.0/16\", or one address")
    };
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    let net: IpNet = text.parse().map_err(|_| bad())?;
    if net.trunc() != net {
        return Err(v
            .error(K::Invalid, format!("{text} has host bits set"))
            .expected("a network address")
            .hint(format!("did you mean {}?", net.trunc())));
    }
    Ok(net)
}

/// A service as [`Service::parse`] reads it, located.
fn parse_service_at(v: &At<'_, &String>) -> Result<Service, WaveError> {
    let expected = "\"tcp/PORT\", \"udp/PORT\", \"icmp\" or \"icmpv6\", such as \"tcp/1433\"";
    Service::parse(v.value).map_err(|e| {
        let hint = e.hint();
        v.error(K::Invalid, e.to_string()).expected(expected).hint(hint)
    })
}

fn parse_duration_at(v: &At<'_, impl AsRef<str>>) -> Result<Duration, WaveError> {
    let text = v.value.as_ref().trim();
    match humantime::parse_duration(text) {
        Ok(d) if d.as_secs() > 0 => Ok(d),
        Ok(_) => {
            Err(v.error(K::Invalid, "zero-length duration").expected("a duration such as \"2h\", \"24h\" or \"7d\""))
        }
        Err(e) => Err(v
            .error(K::Invalid, format!("invalid duration {text:?}: {}", short_reason(&e.to_string())))
            .expected("a duration such as \"2h\", \"90m\", \"24h\" or \"7d\"")),
    }
}

/// humantime's reason without its list of every unit (the `expected` line has examples).
fn short_reason(reason: &str) -> &str {
    reason.split(", supported units").next().unwrap_or(reason)
}

/// An RFC 3339 instant with an offset, as a string or a TOML offset date-time.
fn parse_time_at(v: &At<'_, &toml::Value>) -> Result<i64, WaveError> {
    let expected = "an RFC 3339 time with an offset, such as \"2026-11-20T00:00:00Z\"";
    let text = match v.value {
        toml::Value::String(s) => s.trim().to_owned(),
        toml::Value::Datetime(dt) if dt.offset.is_some() && dt.date.is_some() && dt.time.is_some() => dt.to_string(),
        toml::Value::Datetime(dt) => {
            // Say which part is missing: a local date-time lacks only its offset.
            let missing = match (dt.date.is_some(), dt.time.is_some()) {
                (true, true) => "has no UTC offset",
                (true, false) => "is a date without a time or UTC offset",
                _ => "is a time without a date or UTC offset",
            };
            return Err(v
                .error(K::Invalid, format!("`{dt}` {missing}"))
                .expected(expected)
                .hint("add `Z` for UTC, or the offset such as `+01:00`"));
        }
        other => {
            return Err(v.error(K::WrongType, format!("wrong type: found {}", other.type_str())).expected(expected));
        }
    };
    chrono::DateTime::parse_from_rfc3339(&text).map(|t| t.timestamp()).map_err(|e| {
        v.error(K::Invalid, format!("invalid time {text:?}: {e}"))
            .expected(expected)
            .hint("add `Z` for UTC, or the offset such as `+01:00`")
    })
}

/// `arn:aws:iam::123456789012:role/optional/path/Name`.
fn is_role_arn(s: &str) -> bool {
    let mut parts = s.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some(path_and_name) = resource.strip_prefix("role/") else { return false };
    let name = path_and_name.rsplit('/').next().unwrap_or_default();
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"].contains(&partition)
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && (1..=64).contains(&name.len())
        && path_and_name.len() <= 512 + 64
        && path_and_name.split('/').all(|seg| !seg.is_empty() && seg.chars().all(ok_char))
}

/// `i-` and 8 or 17 lowercase hexadecimal digits.
fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("i-").is_some_and(|hex| {
        matches!(hex.len(), 8 | 17) && hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

/// Why AWS would refuse a log group name, if it would.
fn log_group_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if name.len() > 512 {
        return Some("it is longer than 512 characters");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#')) {
        return Some("it has characters AWS does not allow");
    }
    None
}

/// `90m` → `1h30m`, `86400` → `1d`: the shortest exact form, for summaries and messages.
pub(crate) fn format_secs(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let mut rest = secs;
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= size {
            let _ = write!(out, "{}{unit}", rest / size);
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[window]
last = "24h"

[log-groups]
names = ["/vpc/flow-logs"]

[[apps]]
name = "crm"

[[apps.servers]]
name = "web"
ip = "10.0.0.6"
"#;

    fn try_load(text: &str, defaults: Option<&str>) -> Result<WaveConfig, WaveError> {
        let defaults = defaults.map(|text| WaveFile { path: Path::new("waves/defaults.toml"), text });
        // Every path exists: a name with an extension is a file, anything else a directory.
        let look = |p: &Path| if p.extension().is_some() { PathKind::File } else { PathKind::Dir };
        load(WaveFile { path: Path::new("waves/w.toml"), text }, defaults, Path::new("/repo"), &look)
    }

    /// `BASE` with `from` replaced by `to` (which must be there).
    fn edit(from: &str, to: &str) -> String {
        assert!(BASE.contains(from), "{from:?} not in BASE");
        BASE.replacen(from, to, 1)
    }

    fn check(text: &str, expected: &str) {
        let e = try_load(text, None).expect_err(text);
        assert_eq!(format!("{}:{} {} {:?}: {}", e.line, e.column, e.key, e.kind, e.message), expected, "\n{text}");
        // Every error can be rendered with its location and key.
        let rendered = e.render(false);
        assert!(rendered.contains(&e.location()), "{rendered}");
        assert!(rendered.contains(&e.key), "{rendered}");
    }

    #[test]
    fn minimal_wave_gets_defaults() {
        let w = try_load(BASE, None).unwrap();
        assert_eq!(w.name, "w");
        assert_eq!(w.path, Path::new("waves/w.toml"));
        assert_eq!(w.window, WindowSpec::Last(Duration::from_secs(86_400)));
        assert_eq!(w.source, Source::CloudWatch);
        assert_eq!(w.aws, AwsSettings::default());
        assert_eq!(w.log_groups, LogGroups { names: vec!["/vpc/flow-logs".into()], discover: false });
        assert_eq!(w.networks.internal, default_internal());
        assert!(w.networks.on_premises.is_empty());
        assert_eq!(w.ephemeral, EphemeralPolicy { from: 1024, to: 65535 });
        assert_eq!(w.query, QuerySettings::default());
        assert!(w.ignore.is_empty());
        assert_eq!(
            w.one_way.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["udp/514", "udp/162", "udp/2055", "udp/6343"]
        );
        let server = w.servers().next().unwrap();
        assert_eq!(
            server,
            &Server {
                name: "web".into(),
                app: "crm".into(),
                ip: "10.0.0.6".parse().unwrap(),
                ips: Vec::new(),
                instance_id: None,
                role: None,
                os: None,
                on_premises: false,
            }
        );
    }

    #[test]
    fn full_wave() {
        let text = r#"
name = "wave-3"
description = "CRM and billing"
source = "cloudwatch"
one-way = ["udp/514", "tcp/9997", "udp/514"]

[window]
start = 2026-11-20T00:00:00Z
end = "2026-11-21T01:00:00+01:00"

[aws]
region = "eu-west-1"
profile = "migration"
assume-role-arn = "arn:aws:iam::123456789012:role/path/WavegapReadOnly"
external-id = "wave-3"

[networks]
internal = ["10.0.0.0/8", "fd00::/8"]
on-premises = ["192.168.0.0/16", "10.200.0.0/16"]

[log-groups]
names = ["/vpc/flow-logs", "vpc#prod_1.x"]
discover = true

[ephemeral-ports]
from = 32768
to = 61000

[query]
chunk-size = 10
max-in-flight = 5
row-limit = 5000
price-per-gb = 0
max-window = "2d"

[[ignore]]
network = "192.168.99.10"
reason = "scanner"

[[ignore]]
network = "10.9.0.0/16"
service = "tcp/445"
reason = "backup"

[[apps]]
name = "crm"
description = "CRM"

[[apps.servers]]
name = "crm-web"
ip = "10.0.0.6"
instance-id = "i-0abc123def4567890"
role = "web"
os = "linux"

[[apps.servers]]
name = "crm-db"
ip = "fd00::8"
os = "windows-legacy"

[[apps]]
name = "billing"

[[apps.servers]]
name = "dc01"
ip = "192.168.1.10"
on-premises = true
os = "windows"

[[expected-flows]]
from = "crm-web"
to = "10.0.0.8"
service = "tcp/1433"

[[expected-flows]]
from = "192.168.1.10"
to = "10.0.0.0/24"
service = "icmp"
"#;
        let w = try_load(text, None).unwrap();
        assert_eq!(w.name, "wave-3");
        assert_eq!(w.description.as_deref(), Some("CRM and billing"));
        // 2026-11-20T00:00:00Z is 1795132800; the end is one day later in another offset.
        assert_eq!(w.window, WindowSpec::Absolute(TimeWindow { start: 1_795_132_800, end: 1_795_219_200 }));
        assert_eq!(w.window.to_string(), "2026-11-20T00:00:00Z..2026-11-21T00:00:00Z");
        assert_eq!(w.aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(w.aws.external_id.as_deref(), Some("wave-3"));
        let nets = |v: &[IpNet]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        // On-premises networks outside `internal` become internal too.
        assert_eq!(nets(&w.networks.internal), ["10.0.0.0/8", "fd00::/8", "192.168.0.0/16"]);
        assert_eq!(nets(&w.networks.on_premises), ["192.168.0.0/16", "10.200.0.0/16"]);
        assert_eq!(
            w.log_groups,
            LogGroups { names: vec!["/vpc/flow-logs".into(), "vpc#prod_1.x".into()], discover: true }
        );
        assert_eq!(w.ephemeral, EphemeralPolicy { from: 32768, to: 61000 });
        assert_eq!(
            w.query,
            QuerySettings {
                chunk_size: 10,
                max_in_flight: 5,
                row_limit: 5000,
                price_per_gb: 0.0,
                max_window: Duration::from_secs(2 * 86_400)
            }
        );
        assert_eq!(w.one_way.iter().map(ToString::to_string).collect::<Vec<_>>(), ["udp/514", "tcp/9997"]);
        assert_eq!(w.ignore[0].network.to_string(), "192.168.99.10/32");
        assert_eq!(w.ignore[0].service, None);
        assert_eq!(w.ignore[1].service, Some(Service { protocol: proto::TCP, port: 445 }));
        assert_eq!(w.apps.len(), 2);
        assert_eq!(w.servers().count(), 3);
        let db = w.server_by_ip("fd00::8".parse().unwrap()).unwrap();
        assert_eq!((db.name.as_str(), db.app.as_str(), db.os), ("crm-db", "crm", Some(Os::WindowsLegacy)));
        let dc = w.server_by_ip("192.168.1.10".parse().unwrap()).unwrap();
        assert!(dc.on_premises);
        assert_eq!(dc.app, "billing");
        assert_eq!(
            w.expected_flows,
            [
                ExpectedFlow {
                    src: Endpoint::Server("crm-web".into()),
                    dst: Endpoint::Network("10.0.0.8/32".parse().unwrap()),
                    protocol: proto::TCP,
                    port: 1433
                },
                // An address of a wave server names the server.
                ExpectedFlow {
                    src: Endpoint::Server("dc01".into()),
                    dst: Endpoint::Network("10.0.0.0/24".parse().unwrap()),
                    protocol: proto::ICMP,
                    port: 0
                },
            ]
        );
    }

    #[test]
    fn more_addresses_peer_limited_one_way_and_dependencies() {
        let text = r#"
one-way = ["udp/514", { service = "udp/162", peer = "172.20.9.30" }, { service = "tcp/6514", peer = "10.8.0.0/16" }, { service = "udp/2055" }]

[window]
last = "24h"

[log-groups]
names = ["/vpc/flow-logs"]

[networks]
internal = ["10.0.0.0/8", "2001:db8:1::/48"]
on-premises = ["192.168.0.0/16"]

[[apps]]
name = "crm"

[[apps.servers]]
name = "web"
ip = "10.0.0.6"
ips = ["10.0.0.17", "2001:db8:1:2::7"]

[[apps.servers]]
name = "db"
ip = "10.0.0.8"
ips = ["192.168.1.8"]

[[dependencies]]
name = "ad-dc-1"
ip = "192.168.10.5"
note = "Active Directory, stays on premises"

[[dependencies]]
name = "smtp-relay"
ip = "203.0.113.25"
note = " "

[[expected-flows]]
from = "2001:db8:1:2::7"
to = "ad-dc-1"
service = "tcp/389"

[[expected-flows]]
from = "smtp-relay"
to = "10.0.0.17"
service = "tcp/25"
"#;
        let w = try_load(text, None).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let web = w.servers().next().unwrap();
        assert_eq!(web.ip, ip("10.0.0.6"));
        assert_eq!(web.ips, [ip("10.0.0.17"), ip("2001:db8:1:2::7")]);
        assert_eq!(web.addresses().collect::<Vec<_>>(), [ip("10.0.0.6"), ip("10.0.0.17"), ip("2001:db8:1:2::7")]);
        // On-premises networks count as internal for `ips` as for `ip`.
        assert_eq!(w.server_by_ip(ip("192.168.1.8")).map(|s| s.name.as_str()), Some("db"));
        assert_eq!(w.server_by_ip(ip("2001:db8:1:2::7")).map(|s| s.name.as_str()), Some("web"));
        assert_eq!(w.server_by_ip(ip("192.168.10.5")), None);
        let udp = |port| Service { protocol: proto::UDP, port };
        assert_eq!(
            w.one_way,
            [
                OneWay { service: udp(514), peer: None },
                // A bare address is a /32.
                OneWay { service: udp(162), peer: Some("172.20.9.30/32".parse().unwrap()) },
                OneWay {
                    service: Service { protocol: proto::TCP, port: 6514 },
                    peer: Some("10.8.0.0/16".parse().unwrap())
                },
                OneWay { service: udp(2055), peer: None },
            ]
        );
        assert_eq!(
            w.one_way.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["udp/514", "udp/162 with 172.20.9.30/32", "tcp/6514 with 10.8.0.0/16", "udp/2055"]
        );
        assert_eq!(
            w.dependencies,
            [
                Dependency {
                    name: "ad-dc-1".into(),
                    ip: ip("192.168.10.5"),
                    note: Some("Active Directory, stays on premises".into())
                },
                // Outside every internal network is fine; a blank note is no note.
                Dependency { name: "smtp-relay".into(), ip: ip("203.0.113.25"), note: None },
            ]
        );
        assert_eq!(w.dependency_by_ip(ip("203.0.113.25")).map(|d| d.name.as_str()), Some("smtp-relay"));
        assert_eq!(w.dependency_by_ip(ip("10.0.0.6")), None);
        assert_eq!(
            w.expected_flows,
            [
                // Any address of a server names it; a dependency stands for its address.
                ExpectedFlow {
                    src: Endpoint::Server("web".into()),
                    dst: Endpoint::Network("192.168.10.5/32".parse().unwrap()),
                    protocol: proto::TCP,
                    port: 389
                },
                ExpectedFlow {
                    src: Endpoint::Network("203.0.113.25/32".parse().unwrap()),
                    dst: Endpoint::Server("web".into()),
                    protocol: proto::TCP,
                    port: 25
                },
            ]
        );
        // Without the new keys a server has no more addresses and the wave no dependencies.
        let w = try_load(BASE, None).unwrap();
        assert!(w.servers().all(|s| s.ips.is_empty()) && w.dependencies.is_empty());
    }

    #[test]
    fn one_way_tables_in_defaults() {
        let defaults = "one-way = [{ service = \"udp/162\", peer = \"fd00::9\" }, \"udp/514\"]\n";
        let w = try_load(BASE, Some(defaults)).unwrap();
        assert_eq!(
            w.one_way.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["udp/162 with fd00::9/128", "udp/514"]
        );
        // Dependencies belong to one wave, like its apps.
        let e = try_load(BASE, Some("[[dependencies]]\nname = \"dc\"\nip = \"192.168.1.1\"\n")).unwrap_err();
        assert_eq!(
            (e.path.to_str(), e.line, e.key.as_str(), e.kind),
            (Some("waves/defaults.toml"), 1, "dependencies", K::UnknownKey)
        );
    }

    #[test]
    fn files_source_resolves_against_the_base_directory() {
        let text = edit(
            "[log-groups]\nnames = [\"/vpc/flow-logs\"]\n",
            "[source]\nfiles = \"demo/flowlogs\"\ninventory = \"/abs/inv.json\"\n",
        );
        let w = try_load(&text, None).unwrap();
        assert_eq!(w.source, Source::Files { dir: "/repo/demo/flowlogs".into(), inventory: "/abs/inv.json".into() });
        // A files source needs no log groups; `type = "files"` may be spelt out.
        let text = text.replace("[source]\n", "[source]\ntype = \"files\"\n");
        assert!(matches!(try_load(&text, None).unwrap().source, Source::Files { .. }));
    }

    #[test]
    fn defaults_fill_in_key_by_key() {
        let defaults = r#"
one-way = ["udp/514"]

[aws]
region = "eu-west-1"
profile = "shared"

[networks]
on-premises = ["192.168.0.0/16"]

[log-groups]
discover = true

[ephemeral-ports]
from = 49152

[query]
max-in-flight = 3

[[ignore]]
network = "10.99.0.0/16"
reason = "monitoring"
"#;
        let text = format!("{BASE}\n[aws]\nprofile = \"mine\"\n\n[ephemeral-ports]\nto = 60000\n");
        let w = try_load(&text, Some(defaults)).unwrap();
        assert_eq!(w.aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(w.aws.profile.as_deref(), Some("mine"));
        assert_eq!(w.networks.on_premises, ["192.168.0.0/16".parse::<IpNet>().unwrap()]);
        assert_eq!(w.networks.internal, default_internal());
        // The wave's `names` and the defaults' `discover` are both kept.
        assert_eq!(w.log_groups, LogGroups { names: vec!["/vpc/flow-logs".into()], discover: true });
        assert_eq!(w.ephemeral, EphemeralPolicy { from: 49152, to: 60000 });
        assert_eq!(w.query.max_in_flight, 3);
        assert_eq!(w.query.chunk_size, 50);
        assert_eq!(w.one_way, [OneWay { service: Service { protocol: proto::UDP, port: 514 }, peer: None }]);
        assert_eq!(w.ignore.len(), 1);
        // A wave's array replaces the defaults' one whole.
        let text = format!("{BASE}\n[[ignore]]\nnetwork = \"10.1.0.0/16\"\nreason = \"x\"\n");
        let w = try_load(&text, Some(defaults)).unwrap();
        assert_eq!(w.ignore.iter().map(|r| r.network.to_string()).collect::<Vec<_>>(), ["10.1.0.0/16"]);
    }

    #[test]
    fn errors_in_defaults_point_at_defaults() {
        let e = try_load(BASE, Some("[aws]\nregion = \"mars-1\"\n")).unwrap_err();
        assert_eq!(e.to_string(), "waves/defaults.toml:2:10: `aws.region`: invalid AWS region `mars-1`");
        // Wave-only keys are unknown in defaults.toml.
        let e = try_load(BASE, Some("[window]\nlast = \"1h\"\n")).unwrap_err();
        assert_eq!((e.path.to_str(), e.line, e.kind), (Some("waves/defaults.toml"), 1, K::UnknownKey));
        // A wave value that overrides a bad default does not hide it: the defaults file is
        // checked as it is read, so fixing it is never left for a later wave.
        let e =
            try_load(&format!("{BASE}[aws]\nregion = \"eu-west-1\"\n"), Some("[aws]\nregion = \"x\"\n")).unwrap_err();
        assert_eq!(e.path.to_str(), Some("waves/defaults.toml"));
    }

    #[test]
    fn rejects() {
        // TOML syntax and shape.
        check("a = \n", "1:5 a Syntax: invalid TOML: string values must be quoted, expected literal string");
        check(
            &edit("last = \"24h\"", "last = 24h"),
            "3:8 window.last Syntax: invalid TOML: string values must be quoted, expected literal string",
        );
        check(
            &edit("[[apps.servers]]", "[[apps.servers]"),
            "11:16 apps.servers Syntax: invalid TOML: unclosed array table, expected `]`",
        );
        check(&format!("{BASE}regoin = 1\n"), "14:1 apps[0].servers[0].regoin UnknownKey: unknown key `regoin`");
        check(&format!("[aws]\nregoin = \"x\"\n{BASE}"), "2:1 aws.regoin UnknownKey: unknown key `regoin`");
        check(&edit("ip = \"10.0.0.6\"\n", ""), "11:1 apps[0].servers[0].ip Missing: missing key `ip`");
        check(&edit("name = \"crm\"", "name = 3"), "9:8 apps[0].name WrongType: wrong type: found integer `3`");
        check(&edit("last = \"24h\"", "last = 24"), "3:8 window.last WrongType: wrong type: found integer `24`");
        // Names.
        check(&format!("name = \"wave 3\"\n{BASE}"), "1:8 name Invalid: invalid wave name \"wave 3\"");
        check(
            &edit("name = \"web\"", "name = \"10.0.0.6\""),
            "12:8 apps[0].servers[0].name Invalid: invalid server name \"10.0.0.6\"",
        );
        check(&edit("name = \"crm\"", "name = \"\""), "9:8 apps[0].name Invalid: invalid app name \"\"");
        // Addresses and networks.
        check(
            &edit("ip = \"10.0.0.6\"", "ip = \"10.0.0.300\""),
            "13:6 apps[0].servers[0].ip Invalid: invalid IP address \"10.0.0.300\"",
        );
        check(
            &edit("ip = \"10.0.0.6\"", "ip = \"10.0.0.6/32\""),
            "13:6 apps[0].servers[0].ip Invalid: invalid IP address \"10.0.0.6/32\"",
        );
        check(
            &edit("ip = \"10.0.0.6\"", "ip = \"8.8.8.8\""),
            "13:6 apps[0].servers[0].ip Invalid: 8.8.8.8 is outside every internal network",
        );
        check(
            &format!("[networks]\ninternal = [\"10.0.0.0/33\"]\n{BASE}"),
            "2:13 networks.internal[0] Invalid: invalid network \"10.0.0.0/33\"",
        );
        check(
            &format!("[networks]\ninternal = [\"10.0.0.1/8\"]\n{BASE}"),
            "2:13 networks.internal[0] Invalid: 10.0.0.1/8 has host bits set",
        );
        check(&format!("[networks]\ninternal = []\n{BASE}"), "2:12 networks.internal Invalid: no internal networks");
        check(
            &format!("[networks]\non-premises = [\"10.0.0.0/8\", \"bogus\"]\n{BASE}"),
            "2:30 networks.on-premises[1] Invalid: invalid network \"bogus\"",
        );
        // Two halves of the internet are not a data centre.
        check(
            &format!("[networks]\non-premises = [\"0.0.0.0/1\", \"128.0.0.0/1\"]\n{BASE}"),
            "2:16 networks.on-premises[0] Invalid: 0.0.0.0/1 is too wide for an on-premises network",
        );
        check(
            &format!("[networks]\non-premises = [\"2001:db8::/32\", \"2000::/3\"]\n{BASE}"),
            "2:33 networks.on-premises[1] Invalid: 2000::/3 is too wide for an on-premises network",
        );
        // Duplicates, within an app and across apps.
        let second = "\n[[apps.servers]]\nname = \"app\"\nip = \"10.0.0.7\"\n";
        check(
            &format!("{BASE}{second}").replacen("\"app\"", "\"web\"", 1),
            "16:8 apps[0].servers[1].name Duplicate: two servers named `web`",
        );
        check(
            &format!("{BASE}{second}").replacen("10.0.0.7", "10.0.0.6", 1),
            "17:6 apps[0].servers[1].ip Duplicate: two servers with address 10.0.0.6",
        );
        let other_app = "\n[[apps]]\nname = \"billing\"\n\n[[apps.servers]]\nname = \"bill\"\nip = \"10.0.0.9\"\n";
        check(
            &format!("{BASE}{other_app}").replacen("\"bill\"", "\"web\"", 1),
            "19:8 apps[1].servers[0].name Duplicate: two servers named `web`",
        );
        check(
            &format!("{BASE}{other_app}").replacen("10.0.0.9", "10.0.0.6", 1),
            "20:6 apps[1].servers[0].ip Duplicate: two servers with address 10.0.0.6",
        );
        check(
            &format!("{BASE}{other_app}").replacen("\"billing\"", "\"crm\"", 1),
            "16:8 apps[1].name Duplicate: two apps named `crm`",
        );
        check(
            &format!("{BASE}{other_app}").replacen("10.0.0.9", "10.0.0.06", 1),
            "20:6 apps[1].servers[0].ip Invalid: invalid IP address \"10.0.0.06\"",
        );
        // Apps and servers.
        check("[window]\nlast = \"1h\"\n[log-groups]\ndiscover = true\n", "1:1 apps Missing: a wave without apps");
        check(
            "apps = []\n[window]\nlast = \"1h\"\n[log-groups]\ndiscover = true\n",
            "1:8 apps Missing: empty apps list",
        );
        check(
            &edit("\n[[apps.servers]]\nname = \"web\"\nip = \"10.0.0.6\"\n", ""),
            "8:1 apps[0] Missing: app `crm` has no servers",
        );
        check(
            &edit("[[apps.servers]]\nname = \"web\"\nip = \"10.0.0.6\"\n", "servers = []\n"),
            "11:11 apps[0].servers Missing: app `crm` has no servers",
        );
        check(
            &edit("ip = \"10.0.0.6\"", "ip = \"10.0.0.6\"\ninstance-id = \"i-123\""),
            "14:15 apps[0].servers[0].instance-id Invalid: invalid instance id \"i-123\"",
        );
        check(
            &edit("ip = \"10.0.0.6\"", "ip = \"10.0.0.6\"\nos = \"solaris\""),
            "14:6 apps[0].servers[0].os Invalid: unknown os `solaris`",
        );
        // Windows.
        check(&edit("[window]\nlast = \"24h\"\n", ""), "1:1 window Missing: missing [window]");
        check(
            &edit("last = \"24h\"", "last = \"2 hourz\""),
            "3:8 window.last Invalid: invalid duration \"2 hourz\": unknown time unit \"hourz\"",
        );
        check(&edit("last = \"24h\"", "last = \"0s\""), "3:8 window.last Invalid: zero-length duration");
        check(
            &edit("last = \"24h\"", "last = \"32d\""),
            "3:8 window.last Invalid: window of 32d is longer than the maximum of 31d",
        );
        check(
            &edit("last = \"24h\"", "last = \"1h\"\nstart = \"2026-11-20T00:00:00Z\""),
            "4:9 window.start Conflict: `last` together with `start`/`end`",
        );
        check(&edit("last = \"24h\"", "start = \"2026-11-20T00:00:00Z\""), "2:1 window Missing: `start` without `end`");
        check(
            &edit("last = \"24h\"", "start = 2026-11-20T00:00:00Z\nend = 2026-11-20T00:00:00Z"),
            "4:7 window.end Invalid: the window is empty: `end` is the same instant as `start`",
        );
        check(
            &edit("last = \"24h\"", "start = 2026-11-20T00:00:00Z\nend = 2026-11-19T00:00:00Z"),
            "4:7 window.end Invalid: the window ends before it starts",
        );
        check(
            &edit("last = \"24h\"", "start = 2026-11-20\nend = 2026-11-21T00:00:00Z"),
            "3:9 window.start Invalid: `2026-11-20` is a date without a time or UTC offset",
        );
        check(
            &edit("last = \"24h\"", "start = 2026-11-20T00:00:00Z\nend = 2026-12-30T00:00:00Z"),
            "4:7 window.end Invalid: window of 40d is longer than the maximum of 31d",
        );
        check(
            &format!("[query]\nmax-window = \"1d\"\n{}", edit("last = \"24h\"", "last = \"25h\"")),
            "5:8 window.last Invalid: window of 1d1h is longer than the maximum of 1d",
        );
        check(
            &edit("last = \"24h\"", "start = 2026-11-20T00:00:00\nend = 2026-11-21T00:00:00Z"),
            "3:9 window.start Invalid: `2026-11-20T00:00:00` has no UTC offset",
        );
        check(
            &edit("last = \"24h\"", "start = \"20 Nov 2026\"\nend = 2026-11-21T00:00:00Z"),
            "3:9 window.start Invalid: invalid time \"20 Nov 2026\": premature end of input",
        );
        // Log groups.
        check(
            &edit("/vpc/flow-logs", "/vpc/flow logs"),
            "6:10 log-groups.names[0] Invalid: invalid log group name \"/vpc/flow logs\": it has characters AWS does not allow",
        );
        check(
            &edit("\"/vpc/flow-logs\"", "\"\""),
            "6:10 log-groups.names[0] Invalid: invalid log group name \"\": it is empty",
        );
        let long = "a".repeat(513);
        check(
            &edit("/vpc/flow-logs", &long),
            &format!(
                "6:10 log-groups.names[0] Invalid: invalid log group name \"{long}\": it is longer than 512 characters"
            ),
        );
        check(
            &edit("names = [\"/vpc/flow-logs\"]", "names = [\"/a\", \"/a\"]"),
            "6:16 log-groups.names[1] Duplicate: log group `/a` is listed twice",
        );
        check(&edit("names = [\"/vpc/flow-logs\"]", "names = []"), "5:1 log-groups Missing: no log groups to query");
        check(
            &edit("[log-groups]\nnames = [\"/vpc/flow-logs\"]\n", ""),
            "1:1 log-groups Missing: no log groups to query",
        );
        // Sources.
        check(&format!("source = \"s3\"\n{BASE}"), "1:10 source Invalid: unknown source `s3`");
        check(
            &format!("[source]\ntype = \"cloudwatch\"\nfiles = \"x\"\n{BASE}"),
            "3:9 source.files Conflict: more than one source: `type = \"cloudwatch\"` and `files`",
        );
        check(&format!("[source]\ntype = \"athena\"\n{BASE}"), "2:8 source.type Invalid: unknown source type `athena`");
        check(
            &format!("[source]\nfiles = \"x\"\n{BASE}"),
            "1:1 source Missing: a files source without an inventory snapshot",
        );
        check(&format!("[source]\ninventory = \"x\"\n{BASE}"), "1:1 source Missing: a files source without `files`");
        check(
            &format!("[source]\nfiles = \"\"\ninventory = \"i.json\"\n{BASE}"),
            "2:9 source.files Invalid: empty path",
        );
        // AWS settings.
        check(&format!("[aws]\nregion = \"eu-west\"\n{BASE}"), "2:10 aws.region Invalid: invalid AWS region `eu-west`");
        check(
            &format!("[aws]\nregion = \"Europe (Ireland)\"\n{BASE}"),
            "2:10 aws.region Invalid: invalid AWS region `Europe (Ireland)`",
        );
        check(
            &format!("[aws]\nprofile = \"my profile\"\n{BASE}"),
            "2:11 aws.profile Invalid: invalid profile name \"my profile\"",
        );
        check(
            &format!("[aws]\nassume-role-arn = \"arn:aws:iam::12345:role/X\"\n{BASE}"),
            "2:19 aws.assume-role-arn Invalid: invalid role ARN `arn:aws:iam::12345:role/X`",
        );
        check(
            &format!("[aws]\nassume-role-arn = \"arn:aws:iam::123456789012:user/X\"\n{BASE}"),
            "2:19 aws.assume-role-arn Invalid: invalid role ARN `arn:aws:iam::123456789012:user/X`",
        );
        check(
            &format!("[aws]\nexternal-id = \"abc\"\n{BASE}"),
            "2:15 aws.external-id Conflict: external-id without assume-role-arn",
        );
        // Ports and protocols.
        check(&format!("one-way = [\"udp/70000\"]\n{BASE}"), "1:12 one-way[0] Invalid: port 70000 is out of range");
        check(&format!("one-way = [\"udp/0\"]\n{BASE}"), "1:12 one-way[0] Invalid: port 0 is out of range");
        check(
            &format!("one-way = [\"udp/1-100\"]\n{BASE}"),
            "1:12 one-way[0] Invalid: invalid port `1-100` in \"udp/1-100\"",
        );
        check(&format!("one-way = [\"http/80\"]\n{BASE}"), "1:12 one-way[0] Invalid: unknown protocol `http`");
        check(&format!("one-way = [\"tcp\"]\n{BASE}"), "1:12 one-way[0] Invalid: `tcp` needs a port");
        check(&format!("one-way = [\"icmp/8\"]\n{BASE}"), "1:12 one-way[0] Invalid: `icmp` has no ports");
        check(
            &format!("[ephemeral-ports]\nfrom = 70000\n{BASE}"),
            "2:8 ephemeral-ports.from Invalid: port 70000 is out of range",
        );
        check(
            &format!("[ephemeral-ports]\nfrom = 5000\nto = 1025\n{BASE}"),
            "3:6 ephemeral-ports.to Invalid: ephemeral range 5000-1025 is empty",
        );
        // Query settings.
        check(
            &format!("[query]\nchunk-size = 51\n{BASE}"),
            "2:14 query.chunk-size Invalid: chunk-size 51 is out of range",
        );
        check(
            &format!("[query]\nmax-in-flight = 0\n{BASE}"),
            "2:17 query.max-in-flight Invalid: max-in-flight 0 is out of range",
        );
        check(
            &format!("[query]\nprice-per-gb = -1.0\n{BASE}"),
            "2:16 query.price-per-gb Invalid: price-per-gb -1 is not a price",
        );
        // Ignore rules.
        check(
            &format!("{BASE}\n[[ignore]]\nnetwork = \"10.0.0.0/8\"\nreason = \"\"\n"),
            "17:10 ignore[0].reason Invalid: empty reason",
        );
        check(
            &format!("{BASE}\n[[ignore]]\nnetwork = \"10.0.0.0/8\"\nservice = \"tcp/99999\"\nreason = \"x\"\n"),
            "17:11 ignore[0].service Invalid: port 99999 is out of range",
        );
        // Expected flows.
        let flow = |from: &str, to: &str, service: &str| {
            format!("{BASE}\n[[expected-flows]]\nfrom = \"{from}\"\nto = \"{to}\"\nservice = \"{service}\"\n")
        };
        check(&flow("wbe", "10.0.0.8", "tcp/80"), "16:8 expected-flows[0].from Invalid: unknown server `wbe`");
        check(
            &flow("web", "10.0.0.0/33", "tcp/80"),
            "17:6 expected-flows[0].to Invalid: invalid network \"10.0.0.0/33\"",
        );
        check(
            &flow("10.0.0.0/8", "10.0.0.9", "tcp/80"),
            "15:1 expected-flows[0] Invalid: an expected flow between two networks",
        );
        check(
            &flow("web", "10.0.0.8", "tcp/65536"),
            "18:11 expected-flows[0].service Invalid: port 65536 is out of range",
        );
        check(&flow("web", "10.0.0.8", "gre"), "18:11 expected-flows[0].service Invalid: unknown protocol `gre`");
    }

    #[test]
    fn rejects_new_keys() {
        // `ips`.
        let ips = |list: &str| edit("ip = \"10.0.0.6\"", &format!("ip = \"10.0.0.6\"\nips = {list}"));
        check(&ips("[\"10.0.0.6/32\"]"), "14:8 apps[0].servers[0].ips[0] Invalid: invalid IP address \"10.0.0.6/32\"");
        check(
            &ips("[\"10.0.0.6\"]"),
            "14:8 apps[0].servers[0].ips[0] Duplicate: `ips` repeats the server's `ip` 10.0.0.6",
        );
        check(
            &ips("[\"10.0.0.16\", \"10.0.0.16\"]"),
            "14:21 apps[0].servers[0].ips[1] Duplicate: 10.0.0.16 is listed twice in `ips`",
        );
        check(
            &ips("[\"8.8.8.8\"]"),
            "14:8 apps[0].servers[0].ips[0] Invalid: 8.8.8.8 is outside every internal network",
        );
        check(&ips("\"10.0.0.16\""), "14:7 apps[0].servers[0].ips WrongType: wrong type: found string \"10.0.0.16\"");
        // Another server's `ip` equal to an address in `ips`, and the other way round.
        let second = "\n[[apps.servers]]\nname = \"app\"\nip = \"10.0.0.7\"\n";
        check(
            &format!("{}{second}", ips("[\"10.0.0.7\"]")),
            "18:6 apps[0].servers[1].ip Duplicate: two servers with address 10.0.0.7",
        );
        check(
            &format!("{BASE}{second}ips = [\"10.0.0.6\"]\n"),
            "18:8 apps[0].servers[1].ips[0] Duplicate: two servers with address 10.0.0.6",
        );
        // `one-way` tables.
        let one_way = |entry: &str| format!("one-way = [\"udp/514\", {entry}]\n{BASE}");
        check(
            &one_way("{ service = \"udp/162\", peer = \"10.0.0.1/8\" }"),
            "1:53 one-way[1].peer Invalid: 10.0.0.1/8 has host bits set",
        );
        check(
            &one_way("{ service = \"udp/16x\" }"),
            "1:35 one-way[1].service Invalid: invalid port `16x` in \"udp/16x\"",
        );
        check(&one_way("{ peer = \"10.0.0.1\" }"), "1:23 one-way[1].service Missing: missing key `service`");
        check(
            &one_way("{ service = \"udp/162\", peeer = \"10.0.0.1\" }"),
            "1:46 one-way[1].peeer UnknownKey: unknown key `peeer`",
        );
        check(&one_way("514"), "1:23 one-way[1] WrongType: wrong type: found integer `514`");
        let e = try_load(&one_way("514"), None).unwrap_err();
        assert_eq!(e.expected.as_deref(), Some("a service such as \"udp/514\", or a table with `service` and `peer`"));
        let e = try_load(&one_way("{ service = \"udp/162\", peeer = \"10.0.0.1\" }"), None).unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean `peer`?"));
        // `[[dependencies]]`.
        let dep = |name: &str, ip: &str| format!("\n[[dependencies]]\nname = \"{name}\"\nip = \"{ip}\"\n");
        check(
            &format!("{BASE}{}", dep("dc 1", "192.168.1.1")),
            "16:8 dependencies[0].name Invalid: invalid dependency name \"dc 1\"",
        );
        check(
            &format!("{BASE}{}", dep("192.168.1.1", "192.168.1.1")),
            "16:8 dependencies[0].name Invalid: invalid dependency name \"192.168.1.1\"",
        );
        check(
            &format!("{BASE}{}", dep("web", "192.168.1.1")),
            "16:8 dependencies[0].name Duplicate: `web` is a server of the wave already",
        );
        check(
            &format!("{BASE}{}{}", dep("dc", "192.168.1.1"), dep("dc", "192.168.1.2")),
            "20:8 dependencies[1].name Duplicate: two dependencies named `dc`",
        );
        check(
            &format!("{BASE}{}", dep("dc", "192.168.1.300")),
            "17:6 dependencies[0].ip Invalid: invalid IP address \"192.168.1.300\"",
        );
        check(
            &format!("{BASE}{}", dep("dc", "10.0.0.6")),
            "17:6 dependencies[0].ip Duplicate: 10.0.0.6 is an address of a server of the wave",
        );
        check(
            &format!("{}{}", ips("[\"10.0.0.16\"]"), dep("dc", "10.0.0.16")),
            "18:6 dependencies[0].ip Duplicate: 10.0.0.16 is an address of a server of the wave",
        );
        check(
            &format!("{BASE}{}{}", dep("dc", "192.168.1.1"), dep("dc2", "192.168.1.1")),
            "21:6 dependencies[1].ip Duplicate: two dependencies with address 192.168.1.1",
        );
        check(
            &format!("{BASE}\n[[dependencies]]\nname = \"dc\"\n"),
            "15:1 dependencies[0].ip Missing: missing key `ip`",
        );
        check(
            &format!("{BASE}{}note = 3\n", dep("dc", "192.168.1.1")),
            "18:8 dependencies[0].note WrongType: wrong type: found integer `3`",
        );
        check(
            &format!("{BASE}{}role = \"dc\"\n", dep("dc", "192.168.1.1")),
            "18:1 dependencies[0].role UnknownKey: unknown key `role`",
        );
        // Expected flows: a dependency is a network end, so a server is still needed.
        let flow = |from: &str, to: &str| {
            format!(
                "{BASE}{}{}\n[[expected-flows]]\nfrom = \"{from}\"\nto = \"{to}\"\nservice = \"tcp/389\"\n",
                dep("dc", "192.168.1.1"),
                dep("dc2", "192.168.1.2")
            )
        };
        check(&flow("dc", "dc2"), "23:1 expected-flows[0] Invalid: an expected flow between two networks");
        check(&flow("web", "dcc"), "25:6 expected-flows[0].to Invalid: unknown server `dcc`");
        let e = try_load(&flow("web", "dcc"), None).unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean `dc`?"));
        let e = try_load(&flow("web", "zzzzzzzz"), None).unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("the wave's servers are: web; its dependencies: dc, dc2"));
        assert_eq!(e.expected.as_deref(), Some("a server or dependency name of this wave, an IP address or a CIDR"));
    }

    #[test]
    fn a_mistake_in_the_dependencies_is_reported_with_one_in_the_apps() {
        let text = format!(
            "{}\n[[dependencies]]\nname = \"dc\"\nip = \"192.168.1.300\"\n",
            edit("ip = \"10.0.0.6\"", "ip = \"10.0.0.300\"")
        );
        let e = try_load(&text, None).unwrap_err();
        assert_eq!(e.key, "apps[0].servers[0].ip");
        assert_eq!(e.more().iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), ["dependencies[0].ip"]);
    }

    #[test]
    fn unknown_keys_suggest_the_closest() {
        let e = try_load(&format!("[aws]\nregoin = \"x\"\n{BASE}"), None).unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean `region`?"));
        assert_eq!(e.expected.as_deref(), Some("one of `region`, `profile`, `assume-role-arn`, `external-id`"));
        let e = try_load(&format!("zzzz = 1\n{BASE}"), None).unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("remove it, or see the wave file reference in README.md"));
    }

    #[test]
    fn value_parsers() {
        for ok in [
            "us-east-1",
            "eu-west-1",
            "us-gov-west-1",
            "cn-northwest-1",
            "ap-southeast-4",
            "us-isob-east-1",
            "il-central-1",
        ] {
            assert!(crate::wave::is_region_name(ok), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "useast-1",
            "US-EAST-1",
            "us-esat-1",
            "us-east-1a",
            "us-east-100",
            "u-east-1",
            "us-foo-east-1",
        ] {
            assert!(!crate::wave::is_region_name(bad), "{bad}");
        }
        for ok in [
            "arn:aws:iam::123456789012:role/R",
            "arn:aws-cn:iam::123456789012:role/path/to/R+=,.@_-",
            "arn:aws-us-gov:iam::123456789012:role/R",
        ] {
            assert!(is_role_arn(ok), "{ok}");
        }
        for bad in [
            "",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role//R",
            "arn:aws:iam:us-east-1:123456789012:role/R",
            "arn:aws:sts::123456789012:role/R",
            "arn:azure:iam::123456789012:role/R",
            "arn:aws:iam::12345678901a:role/R",
            "arn:aws:iam::123456789012:role/R S",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
        assert!(is_instance_id("i-0abc123def4567890") && is_instance_id("i-0abc1234"));
        assert!(!is_instance_id("i-0ABC1234") && !is_instance_id("i-0abc123") && !is_instance_id("0abc1234"));
        assert_eq!(format_secs(90 * 60), "1h30m");
        assert_eq!(format_secs(86_400 + 1), "1d1s");
        assert_eq!(edit_distance("regoin", "region"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
