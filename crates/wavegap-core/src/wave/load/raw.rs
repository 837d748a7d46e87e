//! The wave file's shape as serde reads it: kebab-case keys, unknown keys refused, and the
//! span of every value kept for located errors.

#[allow(clippy::wildcard_imports)]
use super::*;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawWave {
    pub(super) name: Option<Spanned<String>>,
    pub(super) description: Option<String>,
    pub(super) window: Option<Spanned<RawWindow>>,
    pub(super) source: Option<Spanned<RawSource>>,
    pub(super) apps: Option<Spanned<Vec<Spanned<RawApp>>>>,
    pub(super) expected_flows: Option<Vec<Spanned<RawExpectedFlow>>>,
    pub(super) aws: Option<RawAws>,
    pub(super) accounts: Option<Vec<Spanned<RawAccount>>>,
    pub(super) networks: Option<RawNetworks>,
    pub(super) log_groups: Option<Spanned<RawLogGroups>>,
    pub(super) ephemeral_ports: Option<Spanned<RawEphemeral>>,
    pub(super) query: Option<RawQuery>,
    pub(super) ignore: Option<Spanned<Vec<Spanned<RawIgnore>>>>,
    pub(super) one_way: Option<Spanned<Vec<Spanned<RawOneWay>>>>,
    pub(super) dependencies: Option<Vec<Spanned<RawDependency>>>,
}

/// `waves/defaults.toml`: the settings every wave shares, nothing wave-specific.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawDefaults {
    pub(super) aws: Option<RawAws>,
    pub(super) networks: Option<RawNetworks>,
    pub(super) log_groups: Option<Spanned<RawLogGroups>>,
    pub(super) ephemeral_ports: Option<Spanned<RawEphemeral>>,
    pub(super) query: Option<RawQuery>,
    pub(super) ignore: Option<Spanned<Vec<Spanned<RawIgnore>>>>,
    pub(super) one_way: Option<Spanned<Vec<Spanned<RawOneWay>>>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawWindow {
    pub(super) start: Option<Spanned<toml::Value>>,
    pub(super) end: Option<Spanned<toml::Value>>,
    pub(super) last: Option<Spanned<String>>,
}

/// `source = "cloudwatch"`, or a `[source]` table.
pub(super) type RawSource = TextOrTable<RawSourceTable>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawSourceTable {
    #[serde(rename = "type")]
    pub(super) kind: Option<Spanned<String>>,
    pub(super) files: Option<Spanned<String>>,
    pub(super) s3: Option<Spanned<String>>,
    pub(super) inventory: Option<Spanned<String>>,
}

impl Expected for RawSourceTable {
    const EXPECTED: &'static str = "\"cloudwatch\" or a table with `files` or `s3`, and optionally `inventory`";
}

/// A value written either as a string or as a table, with serde's error naming both forms.
#[derive(Debug, Clone)]
pub(super) enum TextOrTable<T> {
    Text(String),
    Table(T),
}

/// What a [`TextOrTable`] expects, for serde's error message.
pub(super) trait Expected {
    const EXPECTED: &'static str;
}

impl<'de, T: Deserialize<'de> + Expected> Deserialize<'de> for TextOrTable<T> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextOrTableVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Expected> Visitor<'de> for TextOrTableVisitor<T> {
            type Value = TextOrTable<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(TextOrTable::Text(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(TextOrTable::Table)
            }
        }
        deserializer.deserialize_any(TextOrTableVisitor(std::marker::PhantomData))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawApp {
    pub(super) name: Spanned<String>,
    pub(super) description: Option<String>,
    pub(super) account: Option<Spanned<String>>,
    pub(super) servers: Option<Spanned<Vec<Spanned<RawServer>>>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawServer {
    pub(super) name: Spanned<String>,
    pub(super) ip: Spanned<String>,
    pub(super) ips: Option<Vec<Spanned<String>>>,
    pub(super) instance_id: Option<Spanned<String>>,
    pub(super) role: Option<Spanned<String>>,
    pub(super) os: Option<Spanned<String>>,
    pub(super) on_premises: Option<bool>,
    pub(super) account: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawDependency {
    pub(super) name: Spanned<String>,
    pub(super) ip: Spanned<String>,
    pub(super) note: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawExpectedFlow {
    pub(super) from: Spanned<String>,
    pub(super) to: Spanned<String>,
    pub(super) service: Spanned<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawAws {
    pub(super) region: Option<Spanned<String>>,
    pub(super) profile: Option<Spanned<String>>,
    pub(super) assume_role_arn: Option<Spanned<String>>,
    pub(super) external_id: Option<Spanned<String>>,
}

/// One `[[accounts]]` entry: the `[aws]` keys for one account, its id and its log groups.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawAccount {
    pub(super) id: Spanned<String>,
    pub(super) name: Option<Spanned<String>>,
    pub(super) region: Option<Spanned<String>>,
    pub(super) assume_role_arn: Option<Spanned<String>>,
    pub(super) external_id: Option<Spanned<String>>,
    pub(super) log_groups: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) discover: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawNetworks {
    pub(super) internal: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) on_premises: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawLogGroups {
    pub(super) names: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) discover: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawEphemeral {
    pub(super) from: Option<Spanned<i64>>,
    pub(super) to: Option<Spanned<i64>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawQuery {
    pub(super) chunk_size: Option<Spanned<i64>>,
    pub(super) max_in_flight: Option<Spanned<i64>>,
    pub(super) row_limit: Option<Spanned<i64>>,
    pub(super) price_per_gb: Option<Spanned<f64>>,
    pub(super) max_window: Option<Spanned<String>>,
    pub(super) deadline: Option<Spanned<String>>,
}

/// `"udp/514"`, or `{ service = "udp/162", peer = "172.20.9.30/32" }`.
pub(super) type RawOneWay = TextOrTable<RawOneWayTable>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawOneWayTable {
    pub(super) service: Spanned<String>,
    pub(super) peer: Option<Spanned<String>>,
}

impl Expected for RawOneWayTable {
    const EXPECTED: &'static str = "a service such as \"udp/514\", or a table with `service` and `peer`";
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawIgnore {
    pub(super) network: Spanned<String>,
    pub(super) service: Option<Spanned<String>>,
    pub(super) reason: Spanned<String>,
}
