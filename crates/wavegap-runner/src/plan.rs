//! The query plan: which log groups to scan, in which chunks and windows, with which query text.
//!
//! One aggregating query per chunk and window gives everything the analysis needs: REJECT
//! aggregates, the ACCEPT aggregates return-flow matching needs, and the `SKIPDATA` count per
//! interface. The SKIPDATA count is folded into the same query (an `or` in the filter and
//! `logStatus` in the group key) rather than a second query, because a second query would scan
//! every byte twice and the plan promises bytes scanned ≈ bytes in the window.
//!
//! Nothing from the wave file reaches the query text as written: server addresses are
//! [`IpAddr`]s and networks [`IpNet`]s, printed back by their `Display`, and field names come
//! from the flow log's format after a check that they are plain identifiers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ipnet::IpNet;
use wavegap_core::flow::{CoverageGap, TimeWindow};
use wavegap_core::flowlog::{FlowField, FlowFormat, KnownField};
use wavegap_core::inventory::{FlowLog, Inventory};
use wavegap_core::resolution::{self, LogGroupRef};
use wavegap_core::scope::Scope;
use wavegap_core::wave::{QuerySettings, S3Location, Source, WaveConfig};

use crate::RunnerError;

/// The longest query string Logs Insights accepts.
pub const MAX_QUERY_LEN: usize = 10_000;

/// Room kept in every query for the comment that marks it as this run's
/// ([`marked`]), so the plan's text plus its mark still fits.
const MARK_ROOM: usize = 48;

/// The query text as a run sends it: with a `#` comment naming the run (`run` is at most 32
/// characters), so queries whose `StartQuery` never answered can be found with
/// `DescribeQueries` and stopped. Logs Insights ignores comments.
pub fn marked(query: &str, run: &str) -> String {
    debug_assert!(run.len() <= 32, "a run id fits in the room kept for it");
    format!("{query}\n# wavegap run {run}")
}

/// Result columns of the aggregating query, shared with the row conversion.
pub mod columns {
    pub const SRC: &str = "srcAddr";
    pub const DST: &str = "dstAddr";
    /// The packet addresses, when the format has them (instead of `SRC`/`DST`).
    pub const PACKET_SRC: &str = "packetSrcAddr";
    pub const PACKET_DST: &str = "packetDstAddr";
    /// `least(srcPort, dstPort)`: the group key that folds a conversation's client ports.
    pub const PORT: &str = "lowPort";
    pub const PROTOCOL: &str = "protocol";
    pub const ACTION: &str = "action";
    pub const INTERFACE: &str = "interfaceId";
    pub const LOG: &str = "@log";
    pub const LOG_STATUS: &str = "logStatus";
    pub const TCP_FLAGS: &str = "tcpFlags";
    pub const DIRECTION: &str = "flowDirection";
    pub const RECORDS: &str = "flowRecords";
    pub const PACKETS: &str = "flowPackets";
    pub const BYTES: &str = "flowBytes";
    pub const FIRST_SEEN: &str = "firstSeen";
    pub const LAST_SEEN: &str = "lastSeen";
    pub const MIN_SRC_PORT: &str = "minSrcPort";
    pub const MAX_SRC_PORT: &str = "maxSrcPort";
    pub const MIN_DST_PORT: &str = "minDstPort";
    pub const MAX_DST_PORT: &str = "maxDstPort";
}

/// Fields without which a flow log cannot be attributed to a conversation and an ENI.
const REQUIRED: [KnownField; 7] = [
    KnownField::InterfaceId,
    KnownField::SrcAddr,
    KnownField::DstAddr,
    KnownField::SrcPort,
    KnownField::DstPort,
    KnownField::Protocol,
    KnownField::Action,
];

/// How the report window is cut and how many log groups go into one query.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanOptions {
    /// Log groups per query (AWS allows 50).
    pub chunk_size: usize,
    /// Cut the report window into this many equal windows up front (a long window over busy
    /// log groups would otherwise hit the row limit and be split after the fact).
    pub windows: usize,
    pub row_limit: usize,
    pub max_in_flight: usize,
}

impl PlanOptions {
    pub fn from_settings(settings: &QuerySettings) -> Self {
        PlanOptions {
            chunk_size: settings.chunk_size,
            windows: 1,
            row_limit: settings.row_limit,
            max_in_flight: settings.max_in_flight,
        }
    }
}

/// One log group to scan and the format its events are written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupTarget {
    /// The account it is in, for a wave of several (`None`: the wave's `[aws]` account).
    pub account: Option<String>,
    pub name: String,
    pub format: FlowFormat,
    /// The flow logs (`fl-…`) writing into it, when the inventory knows them.
    pub flow_logs: Vec<String>,
}

/// Log groups of one format, queried together with one query text.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// 1-based, in plan order.
    pub number: usize,
    /// The account its log groups are in, queried with that account's credentials (`None`:
    /// the wave's `[aws]` account).
    pub account: Option<String>,
    pub log_groups: Vec<String>,
    /// `None` for the default format (Insights discovers the fields), else the `LogFormat`.
    pub log_format: Option<String>,
    pub query: String,
    /// Set when the exact server list would not fit in a query: the covering prefixes the
    /// filter names the servers by instead.
    pub servers_by: Option<Prefixes>,
    /// Set when the servers did not fit in one query even by covering prefixes: the part of
    /// them this chunk's query names. Every part scans the same log groups again.
    pub part: Option<ServerPart>,
}

/// One of the queries a wave's servers are split into. Each part's query brings back the
/// conversations of its own servers, so a conversation between servers of two parts comes
/// back from both, whole each time (the filter tests only the addresses a row is grouped
/// on): it is kept from the first part that names either end, and so counted once.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerPart {
    /// 0-based.
    pub index: usize,
    /// What each part's filter names, in part order; shared by every chunk of the split.
    pub filters: Arc<[PartFilter]>,
}

/// The networks one part's filter names: host addresses, or covering prefixes of one length
/// per family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartFilter {
    pub prefixes: Prefixes,
    pub nets: BTreeSet<IpNet>,
}

impl PartFilter {
    fn names(&self, ip: IpAddr) -> bool {
        let len = if ip.is_ipv4() { self.prefixes.v4 } else { self.prefixes.v6 };
        IpNet::new(ip, len).is_ok_and(|n| self.nets.contains(&n.trunc()))
    }
}

impl ServerPart {
    pub fn count(&self) -> usize {
        self.filters.len()
    }

    /// Whether a row with these ends (`None` for a `SKIPDATA` row, which every part's query
    /// returns) is this part's to keep.
    pub fn owns(&self, ends: Option<(IpAddr, IpAddr)>) -> bool {
        let owner =
            ends.and_then(|(src, dst)| self.filters.iter().position(|f| f.names(src) || f.names(dst))).unwrap_or(0);
        owner == self.index
    }
}

/// Where a plan reads flow-log objects, when it reads them rather than CloudWatch Logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Objects {
    /// Files on disk: a directory, or one file.
    Dir(PathBuf),
    /// The objects of an S3 destination; only one region's, when the wave names its region.
    Bucket { location: S3Location, region: Option<String> },
}

impl std::fmt::Display for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Objects::Dir(dir) => write!(f, "flow-log files under {}", dir.display()),
            Objects::Bucket { location, region: None } => write!(f, "flow-log objects in {location}"),
            Objects::Bucket { location, region: Some(region) } => {
                write!(f, "flow-log objects in {location} ({region} only)")
            }
        }
    }
}

/// What the log groups of one chunk share: the account, and the `LogFormat` (`None`: the
/// default format).
type ChunkKey = (Option<String>, Option<String>);

/// Every query one report needs: each chunk over each window.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPlan {
    /// For the files and S3 sources: the objects the one chunk's query reads (no log groups).
    pub objects: Option<Objects>,
    pub chunks: Vec<Chunk>,
    pub windows: Vec<TimeWindow>,
    pub row_limit: usize,
    pub max_in_flight: usize,
    /// Object names as the listing names them (a path for files, `s3://bucket/key` for S3)
    /// that this run skips without opening, because an earlier cycle of a watch read them
    /// ([`FlowData::objects_read`](wavegap_core::flow::FlowData::objects_read)): flow-log
    /// objects are written once, so what was read is never read again. Sound when the earlier
    /// window held every record of them a later one wants, as a window ending at the time of
    /// its query does (an object holds records from before its name's time).
    pub read_before: Arc<BTreeSet<String>>,
}

impl QueryPlan {
    /// Builds the plan for a wave over `window`: the wave's log groups (and, with `discover`,
    /// those of the flow logs covering its servers), grouped by format, chunked.
    pub fn build(
        wave: &WaveConfig,
        inventory: &Inventory,
        window: TimeWindow,
        options: &PlanOptions,
    ) -> Result<Self, RunnerError> {
        // Every address of every server (secondary and IPv6 ones from the inventory too), and
        // the networks the analysis counts as internal: the same scope the analysis uses.
        let scope = Scope::new(wave, inventory);
        let servers = scope.addresses();
        let networks = scope.networks();
        let objects = match &wave.source {
            Source::CloudWatch => None,
            Source::Files { dir, .. } => Some(Objects::Dir(dir.clone())),
            Source::S3 { location, .. } => {
                Some(Objects::Bucket { location: location.clone(), region: wave.aws.region.clone() })
            }
        };
        if let Some(objects) = objects {
            return Self::for_objects(objects, &servers, &networks, window, options);
        }
        let targets = log_group_targets(wave, inventory)?;
        Self::from_targets(&targets, &servers, &networks, window, options)
    }

    /// The plan for flow-log objects: one query per window over all of them. Each object
    /// names its own fields (S3 header line), and the local engine discovers them under their
    /// Insights names as CloudWatch does for the default format, so no `parse` is needed.
    pub fn for_objects(
        objects: Objects,
        servers: &BTreeSet<IpAddr>,
        networks: &BTreeSet<IpNet>,
        window: TimeWindow,
        options: &PlanOptions,
    ) -> Result<Self, RunnerError> {
        if servers.is_empty() {
            return Err(RunnerError::NoServers);
        }
        if window.end < window.start {
            return Err(RunnerError::EmptyWindow { window });
        }
        // The fields every file may have: v2, plus the keys newer formats add. A file without
        // them leaves those keys missing, and its rows simply carry no flags or direction.
        let mut fields: Vec<FlowField> = FlowFormat::default_v2().fields().to_vec();
        fields.extend([KnownField::TcpFlags, KnownField::FlowDirection].map(FlowField::Known));
        let superset = FlowFormat::from_fields(fields).expect("distinct known fields");
        let query = build_query(&superset, &host_nets(servers), networks, false, Addresses::PacketWherePresent)
            .map_err(|field| RunnerError::MissingField { log_group: objects.to_string(), field: field.to_owned() })?;
        Ok(QueryPlan {
            objects: Some(objects),
            chunks: vec![Chunk {
                number: 1,
                account: None,
                log_groups: Vec::new(),
                log_format: None,
                query,
                servers_by: None,
                part: None,
            }],
            windows: split_window(window, options.windows),
            row_limit: options.row_limit.max(1),
            max_in_flight: options.max_in_flight.max(1),
            read_before: Arc::default(),
        })
    }

    /// Builds the plan from explicit targets; [`QueryPlan::build`] derives them from a wave.
    pub fn from_targets(
        targets: &[LogGroupTarget],
        servers: &BTreeSet<IpAddr>,
        networks: &BTreeSet<IpNet>,
        window: TimeWindow,
        options: &PlanOptions,
    ) -> Result<Self, RunnerError> {
        if targets.is_empty() {
            return Err(RunnerError::NoLogGroups);
        }
        if servers.is_empty() {
            return Err(RunnerError::NoServers);
        }
        if window.end < window.start {
            return Err(RunnerError::EmptyWindow { window });
        }
        // Same-format groups of one account share a query text and credentials, so they can
        // share a chunk.
        let mut by_format: BTreeMap<ChunkKey, (FlowFormat, Vec<String>)> = BTreeMap::new();
        for t in targets {
            let key = (t.account.clone(), (!t.format.is_default()).then(|| t.format.to_log_format()));
            by_format.entry(key).or_insert_with(|| (t.format.clone(), Vec::new())).1.push(t.name.clone());
        }
        let chunk_size = options.chunk_size.clamp(1, 50);
        let mut chunks = Vec::new();
        for ((account, log_format), (format, mut groups)) in by_format {
            groups.sort();
            groups.dedup();
            let parts = fitted_parts(&format, servers, networks).map_err(|e| match e {
                Unfit::MissingField(field) => {
                    RunnerError::MissingField { log_group: groups[0].clone(), field: field.to_owned() }
                }
                Unfit::TooLong(len) => RunnerError::QueryTooLong { chunk: chunks.len() + 1, len },
            })?;
            let filters: Arc<[PartFilter]> = parts.iter().map(|p| p.filter.clone()).collect();
            for (index, fitted) in parts.into_iter().enumerate() {
                let part = (filters.len() > 1).then(|| ServerPart { index, filters: filters.clone() });
                for slice in groups.chunks(chunk_size) {
                    chunks.push(Chunk {
                        number: chunks.len() + 1,
                        account: account.clone(),
                        log_groups: slice.to_vec(),
                        log_format: log_format.clone(),
                        query: fitted.query.clone(),
                        servers_by: fitted.servers_by,
                        part: part.clone(),
                    });
                }
            }
        }
        Ok(QueryPlan {
            objects: None,
            chunks,
            windows: split_window(window, options.windows),
            row_limit: options.row_limit.max(1),
            max_in_flight: options.max_in_flight.max(1),
            read_before: Arc::default(),
        })
    }

    /// The plan that runs exactly the query `gap` names again: its chunk (number, account,
    /// query text and server part kept, so the rows a part owns are still told apart) over the
    /// gap's one window. `None` for a plan of objects, a gap no chunk is named in (read back
    /// from saved flows), or a chunk this plan does not have.
    pub fn retry(&self, gap: &CoverageGap) -> Option<QueryPlan> {
        if self.objects.is_some() {
            return None;
        }
        let chunk = self.chunks.iter().find(|c| Some(c.number) == gap.chunk)?;
        Some(QueryPlan {
            objects: None,
            chunks: vec![chunk.clone()],
            windows: vec![gap.window],
            row_limit: self.row_limit,
            max_in_flight: self.max_in_flight,
            read_before: Arc::default(),
        })
    }

    pub fn query_count(&self) -> usize {
        self.chunks.len() * self.windows.len()
    }

    /// How many queries the servers are split into (1 when they fit in one): each log group
    /// is scanned this many times.
    pub fn server_parts(&self) -> usize {
        self.chunks.iter().filter_map(|c| c.part.as_ref()).map(ServerPart::count).max().unwrap_or(1)
    }

    /// Every log group of the plan with its account, each once.
    pub fn log_group_refs(&self) -> impl Iterator<Item = LogGroupRef> + '_ {
        self.first_parts().flat_map(|c| {
            c.log_groups.iter().map(|name| LogGroupRef { account: c.account.clone(), name: name.clone() })
        })
    }

    /// Every log group of the plan, each once.
    pub fn log_groups(&self) -> impl Iterator<Item = &str> {
        self.first_parts().flat_map(|c| c.log_groups.iter().map(String::as_str))
    }

    /// The chunks that scan each log group once: every part of a split scans them all again.
    fn first_parts(&self) -> impl Iterator<Item = &Chunk> {
        self.chunks.iter().filter(|c| c.part.as_ref().is_none_or(|p| p.index == 0))
    }
}

/// The log groups a wave reads ([`resolution::log_groups`]), each with its account and format.
pub fn log_group_targets(wave: &WaveConfig, inventory: &Inventory) -> Result<Vec<LogGroupTarget>, RunnerError> {
    resolution::log_groups(wave, inventory)
        .into_iter()
        .map(|LogGroupRef { account, name }| {
            // The flow logs writing into this group: of this account, or of an account the
            // wave does not list for a group of the wave's own.
            let in_account = |fl: &FlowLog| match (&account, resolution::flow_log_account(inventory, fl)) {
                (Some(id), Some(owner)) => id == owner,
                (Some(_), None) => true,
                (None, owner) => owner.is_none_or(|o| wave.account(o).is_none()),
            };
            let mut formats: Vec<(String, FlowFormat)> = Vec::new();
            for fl in inventory.flow_logs.values().filter(|fl| fl.log_group.as_deref() == Some(name.as_str())) {
                if !in_account(fl) {
                    continue;
                }
                let format = match &fl.log_format {
                    None => FlowFormat::default_v2(),
                    Some(text) => FlowFormat::from_log_format(text)
                        .map_err(|source| RunnerError::BadLogFormat { flow_log: fl.id.clone(), source })?,
                };
                formats.push((fl.id.clone(), format));
            }
            let format = formats.first().map_or_else(FlowFormat::default_v2, |(_, f)| f.clone());
            if formats.iter().any(|(_, f)| *f != format) {
                return Err(RunnerError::MixedFormats {
                    log_group: name,
                    flow_logs: formats.into_iter().map(|(id, _)| id).collect(),
                });
            }
            Ok(LogGroupTarget { account, name, format, flow_logs: formats.into_iter().map(|(id, _)| id).collect() })
        })
        .collect()
}

/// Cuts a window into `n` consecutive windows that cover it exactly once (fewer when the
/// window has fewer seconds than `n`).
pub fn split_window(window: TimeWindow, n: usize) -> Vec<TimeWindow> {
    let seconds = window.end - window.start + 1;
    let n = i64::try_from(n.max(1)).unwrap_or(i64::MAX).min(seconds.max(1));
    (0..n)
        .map(|i| TimeWindow { start: window.start + seconds * i / n, end: window.start + seconds * (i + 1) / n - 1 })
        .collect()
}

/// The aggregating query for one format; `Err` names a required field the format lacks.
pub fn query_text(
    format: &FlowFormat,
    servers: &BTreeSet<IpAddr>,
    networks: &BTreeSet<IpNet>,
) -> Result<String, &'static str> {
    let all: Vec<IpAddr> = servers.iter().copied().collect();
    match fitted_query(format, &all, networks)? {
        Some(fitted) => Ok(fitted.query),
        None => build_query(format, &host_nets(servers), networks, !format.is_default(), addresses(format)),
    }
}

/// One query text that fits, and what its filter names.
struct Fitted {
    query: String,
    servers_by: Option<Prefixes>,
    filter: PartFilter,
}

/// Why no plan could be fitted for a format.
enum Unfit {
    MissingField(&'static str),
    /// Even one server's query is this long (the wave's networks alone are too many).
    TooLong(usize),
}

/// The queries for one format's servers: one when they fit ([`fitted_query`]), else as few
/// parts of consecutive addresses (neighbours share prefixes) as fit, each the longest run of
/// the remaining servers that does.
fn fitted_parts(
    format: &FlowFormat,
    servers: &BTreeSet<IpAddr>,
    networks: &BTreeSet<IpNet>,
) -> Result<Vec<Fitted>, Unfit> {
    let fit = |slice: &[IpAddr]| fitted_query(format, slice, networks).map_err(Unfit::MissingField);
    let all: Vec<IpAddr> = servers.iter().copied().collect();
    let mut rest = all.as_slice();
    let mut parts = Vec::new();
    while !rest.is_empty() {
        if let Some(whole) = fit(rest)? {
            parts.push(whole);
            break;
        }
        // `fits` holds a fitted query of `rest[..lo]`; `rest[..hi]` does not fit.
        let (mut lo, mut hi, mut fits) = (0, rest.len(), None);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match fit(&rest[..mid])? {
                Some(fitted) => (lo, fits) = (mid, Some(fitted)),
                None => hi = mid,
            }
        }
        let Some(fitted) = fits else {
            let one = BTreeSet::from([IpNet::from(rest[0])]);
            let len = build_query(format, &one, networks, !format.is_default(), addresses(format))
                .map_err(Unfit::MissingField)?
                .len();
            return Err(Unfit::TooLong(len));
        };
        parts.push(fitted);
        rest = &rest[lo..];
    }
    Ok(parts)
}

/// Which addresses a format's records are matched on.
fn addresses(format: &FlowFormat) -> Addresses {
    let packet = format.position(KnownField::PktSrcAddr).is_some() && format.position(KnownField::PktDstAddr).is_some();
    if packet { Addresses::Packet } else { Addresses::Interface }
}

/// The aggregating query for one format, fitted into [`MAX_QUERY_LEN`] with room for the
/// run's mark: the servers by their exact addresses, or, when that list is too long, by the
/// narrowest covering prefixes that fit. A wider filter only brings back more rows: the
/// analysis keeps the servers' own addresses, so it never changes a finding. `None` when
/// nothing fits.
fn fitted_query(
    format: &FlowFormat,
    servers: &[IpAddr],
    networks: &BTreeSet<IpNet>,
) -> Result<Option<Fitted>, &'static str> {
    let build = |nets: &BTreeSet<IpNet>| build_query(format, nets, networks, !format.is_default(), addresses(format));
    let exact = Prefixes { v4: 32, v6: 128 };
    for prefixes in std::iter::once(exact).chain(Prefixes::WIDENING) {
        let nets = prefixes.cover(servers);
        let query = build(&nets)?;
        if query.len() + MARK_ROOM <= MAX_QUERY_LEN {
            let servers_by = (prefixes != exact).then_some(prefixes);
            return Ok(Some(Fitted { query, servers_by, filter: PartFilter { prefixes, nets } }));
        }
    }
    Ok(None)
}

/// Covering prefix lengths for the servers' addresses, IPv4 and IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefixes {
    pub v4: u8,
    pub v6: u8,
}

impl Prefixes {
    /// From narrow to wide: never wider than a /16 (a /48), so the filter stays a wave's
    /// neighbourhood and not the whole landing zone.
    const WIDENING: [Prefixes; 16] = {
        let mut out = [Prefixes { v4: 32, v6: 128 }; 16];
        let mut v4 = 31u8;
        while v4 >= 16 {
            out[(31 - v4) as usize] = Prefixes { v4, v6: if v4 >= 24 { 64 } else { 48 } };
            v4 -= 1;
        }
        out
    };

    /// The prefixes of these lengths that hold `servers` (never merged into wider ones).
    fn cover(self, servers: &[IpAddr]) -> BTreeSet<IpNet> {
        servers
            .iter()
            .filter_map(|ip| IpNet::new(*ip, if ip.is_ipv4() { self.v4 } else { self.v6 }).ok())
            .map(|n| n.trunc())
            .collect()
    }
}

/// Each address as its own host network.
fn host_nets(servers: &BTreeSet<IpAddr>) -> BTreeSet<IpNet> {
    servers.iter().map(|ip| IpNet::from(*ip)).collect()
}

/// Which fields give a record's addresses. `srcaddr`/`dstaddr` show the ENI's primary
/// private IP; `pkt-srcaddr`/`pkt-dstaddr` the packet's own addresses (a secondary IP such as
/// a cluster listener, an EKS pod, the far side of a NAT gateway), so servers are matched on
/// those when the format has them (docs/domain.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Addresses {
    Interface,
    Packet,
    /// Files whose formats differ: the packet addresses where a file has them.
    PacketWherePresent,
}

impl Addresses {
    /// The source and destination expressions, and the result columns they are grouped under
    /// (names no record field has, so no alias shadows a field).
    fn fields(self) -> [(&'static str, &'static str); 2] {
        use columns as c;
        match self {
            Addresses::Interface => [("srcAddr", c::SRC), ("dstAddr", c::DST)],
            Addresses::Packet => [("pktSrcAddr", c::PACKET_SRC), ("pktDstAddr", c::PACKET_DST)],
            Addresses::PacketWherePresent => {
                [("coalesce(pktSrcAddr, srcAddr)", c::PACKET_SRC), ("coalesce(pktDstAddr, dstAddr)", c::PACKET_DST)]
            }
        }
    }
}

/// The query over events whose fields are `format`'s, discovered or (`parse`) parsed.
fn build_query(
    format: &FlowFormat,
    servers: &BTreeSet<IpNet>,
    networks: &BTreeSet<IpNet>,
    parse: bool,
    addresses: Addresses,
) -> Result<String, &'static str> {
    use columns as c;
    if let Some(missing) = REQUIRED.iter().find(|k| format.position(**k).is_none()) {
        return Err(missing.aws_name());
    }
    let has = |k: KnownField| format.position(k).is_some();
    let mut q = String::new();
    if parse {
        q.push_str(&parse_command(format));
        q.push_str("\n| ");
    }

    // Derived values first, under names no record field has: the filter and the group key
    // then read plain fields, computed once per record.
    let [(src_expr, src), (dst_expr, dst)] = addresses.fields();
    let mut derived: Vec<String> =
        [(src_expr, src), (dst_expr, dst)].iter().filter(|(e, c)| e != c).map(|(e, c)| format!("{e} as {c}")).collect();
    derived.push(format!("least(srcPort, dstPort) as {}", c::PORT));
    let _ = write!(q, "fields {}\n| ", derived.join(", "));

    let mut conversation = format!("({})", server_test([src, dst], servers));
    if !networks.is_empty() {
        let [src_in, dst_in] = [src, dst].map(|side| {
            networks
                .iter()
                .map(|net| {
                    let f = if matches!(net, IpNet::V4(_)) { "isIpv4InSubnet" } else { "isIpv6InSubnet" };
                    format!("{f}({side}, \"{net}\")")
                })
                .collect::<Vec<_>>()
                .join(" or ")
        });
        // Accepted traffic matters only between the wave's networks; rejected traffic from
        // anywhere is kept, so the analysis can count outside noise instead of never seeing it.
        let _ = write!(conversation, "\n    and ((({src_in})\n    and ({dst_in}))\n    or action = \"REJECT\")");
    }
    if has(KnownField::LogStatus) {
        let _ = write!(q, "filter logStatus = \"SKIPDATA\"\n  or ({conversation})");
    } else {
        let _ = write!(q, "filter {conversation}");
    }

    let mut aggregates = vec![format!("count(*) as {}", c::RECORDS)];
    for (field, agg, alias) in [
        (KnownField::Packets, "sum", c::PACKETS),
        (KnownField::Bytes, "sum", c::BYTES),
        (KnownField::Start, "min", c::FIRST_SEEN),
        (KnownField::End, "max", c::LAST_SEEN),
        (KnownField::SrcPort, "min", c::MIN_SRC_PORT),
        (KnownField::SrcPort, "max", c::MAX_SRC_PORT),
        (KnownField::DstPort, "min", c::MIN_DST_PORT),
        (KnownField::DstPort, "max", c::MAX_DST_PORT),
    ] {
        if has(field) {
            aggregates.push(format!("{agg}({}) as {alias}", field.insights_name()));
        }
    }
    let mut keys = vec![
        src.to_owned(),
        dst.to_owned(),
        c::PORT.to_owned(),
        c::PROTOCOL.to_owned(),
        c::ACTION.to_owned(),
        c::INTERFACE.to_owned(),
        c::LOG.to_owned(),
    ];
    for (field, column) in [
        (KnownField::LogStatus, c::LOG_STATUS),
        (KnownField::TcpFlags, c::TCP_FLAGS),
        (KnownField::FlowDirection, c::DIRECTION),
    ] {
        if has(field) {
            keys.push(column.to_owned());
        }
    }
    let _ = write!(q, "\n| stats {}\n    by {}", aggregates.join(", "), keys.join(", "));
    Ok(q)
}

/// Whether either end is a server (or inside a covering prefix of servers): IPv4 host
/// addresses as one `in` list (their text is unique), every other network as a subnet test,
/// which compares the address and not its spelling (`2001:db8::7` and `2001:db8:0:0::7` are
/// one address).
fn server_test(sides: [&str; 2], servers: &BTreeSet<IpNet>) -> String {
    let is_v4_host = |n: &&IpNet| matches!(n, IpNet::V4(v4) if v4.prefix_len() == 32);
    let v4 = servers.iter().filter(is_v4_host).map(|n| format!("\"{}\"", n.addr())).collect::<Vec<_>>().join(", ");
    let mut tests = Vec::new();
    for side in sides {
        if !v4.is_empty() {
            tests.push(format!("{side} in [{v4}]"));
        }
    }
    for net in servers.iter().filter(|n| !is_v4_host(n)) {
        let f = if matches!(net, IpNet::V4(_)) { "isIpv4InSubnet" } else { "isIpv6InSubnet" };
        for side in sides {
            tests.push(format!("{f}({side}, \"{net}\")"));
        }
    }
    tests.join(" or ")
}

/// `parse @message "* * …" as f1, f2, …` for a custom format. Field names that are not plain
/// identifiers (a `LogFormat` can hold anything between `${` and `}`) get a positional name,
/// so nothing from the format is pasted into the query unchecked.
fn parse_command(format: &FlowFormat) -> String {
    let names: Vec<String> = format
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let name = field.insights_name();
            let plain = matches!(field, FlowField::Known(_))
                || (name.starts_with(|c: char| c.is_ascii_alphabetic())
                    && name.chars().all(|c| c.is_ascii_alphanumeric()));
            if plain { name } else { format!("field{}", i + 1) }
        })
        .collect();
    let globs = vec!["*"; names.len()].join(" ");
    format!("parse @message \"{globs}\" as {}", names.join(", "))
}

/// Prints the plan for a human: windows, chunks with their log groups, and each exact query
/// text, ready to paste into the Logs Insights console. Used by `plan` and `report --dry-run`.
pub fn write_plan(out: &mut dyn io::Write, plan: &QueryPlan) -> io::Result<()> {
    if let Some(objects) = &plan.objects {
        writeln!(out, "{objects}: {} window(s) = {} queries", plan.windows.len(), plan.query_count())?;
    } else {
        writeln!(
            out,
            "{} log groups in {} chunk(s) × {} window(s) = {} queries (at most {} in flight, row limit {})",
            plan.log_groups().count(),
            plan.chunks.len(),
            plan.windows.len(),
            plan.query_count(),
            plan.max_in_flight,
            plan.row_limit,
        )?;
        let parts = plan.server_parts();
        if parts > 1 {
            writeln!(
                out,
                "the servers are split into {parts} queries per log group: even as covering prefixes up to /16 they \
                 are too many for one query of {MAX_QUERY_LEN} characters, so each log group is scanned {parts} times \
                 ({parts} × the bytes and the cost)"
            )?;
        }
    }
    writeln!(out, "\nwindows (StartQuery startTime/endTime, epoch seconds, both inclusive):")?;
    for (i, w) in plan.windows.iter().enumerate() {
        writeln!(out, "  {}. {} .. {}  ({} .. {})", i + 1, rfc3339(w.start), rfc3339(w.end), w.start, w.end)?;
    }
    for chunk in &plan.chunks {
        let format = chunk.log_format.as_deref().unwrap_or("default format");
        if plan.objects.is_some() {
            writeln!(out, "\nfields as each file's header names them")?;
        } else {
            write!(out, "\nchunk {} ({} log groups, {format}", chunk.number, chunk.log_groups.len())?;
            if let Some(account) = &chunk.account {
                write!(out, ", in account {account}")?;
            }
            if let Some(part) = &chunk.part {
                write!(out, ", servers part {} of {}", part.index + 1, part.count())?;
            }
            writeln!(out, "):")?;
        }
        for group in &chunk.log_groups {
            writeln!(out, "  {group}")?;
        }
        if let Some(p) = chunk.servers_by {
            writeln!(
                out,
                "servers matched by covering prefixes (/{} IPv4, /{} IPv6): their exact list is over the {MAX_QUERY_LEN} \
                 characters a query may have; the analysis keeps only the servers' own addresses",
                p.v4, p.v6
            )?;
        }
        writeln!(out, "query:")?;
        for line in chunk.query.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

pub(crate) fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map_or_else(|| t.to_string(), |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set<T: Ord>(items: impl IntoIterator<Item = T>) -> BTreeSet<T> {
        items.into_iter().collect()
    }

    fn target(name: &str, format: &FlowFormat) -> LogGroupTarget {
        LogGroupTarget { account: None, name: name.into(), format: format.clone(), flow_logs: vec![] }
    }

    fn options(chunk_size: usize, windows: usize) -> PlanOptions {
        PlanOptions { chunk_size, windows, row_limit: 10_000, max_in_flight: 20 }
    }

    /// The gap a failed query of chunk `chunk` over `window` leaves.
    fn gap(chunk: Option<usize>, window: TimeWindow) -> CoverageGap {
        CoverageGap {
            account: None,
            log_groups: vec![],
            window,
            reason: "query ended Failed 3 times".into(),
            unreachable: false,
            chunk,
        }
    }

    #[test]
    fn a_thousand_servers_fit_in_one_query_by_covering_prefixes() {
        let mut servers: BTreeSet<IpAddr> =
            (0..40u8).flat_map(|net| (10..35u8).map(move |host| IpAddr::from([10, 1, net, host]))).collect();
        servers.extend((0..100u16).map(|i| IpAddr::from([0x2001, 0xdb8, 0, i % 5, 0, 0, 0, i + 1])));
        assert_eq!(servers.len(), 1100);
        let nets = set(["10.0.0.0/8".parse().unwrap(), "2001:db8::/32".parse().unwrap()]);
        let v2 = FlowFormat::default_v2();
        let exact = build_query(&v2, &host_nets(&servers), &nets, false, Addresses::Interface).unwrap();
        assert!(exact.len() > MAX_QUERY_LEN, "{}", exact.len());
        let plan = QueryPlan::from_targets(
            &[target("/fl/a", &v2)],
            &servers,
            &nets,
            TimeWindow { start: 0, end: 9 },
            &options(50, 1),
        )
        .unwrap();
        let chunk = &plan.chunks[0];
        let prefixes = chunk.servers_by.expect("covering prefixes");
        assert!(chunk.query.len() <= MAX_QUERY_LEN, "{}", chunk.query.len());
        assert!((16..32).contains(&prefixes.v4) && (48..=64).contains(&prefixes.v6), "{prefixes:?}");
        // Every server is inside a prefix the filter names, on both sides.
        for ip in &servers {
            let p = if ip.is_ipv4() { prefixes.v4 } else { prefixes.v6 };
            let net = IpNet::new(*ip, p).unwrap().trunc();
            assert!(chunk.query.contains(&format!("(srcAddr, \"{net}\")")), "{ip} in {net}");
            assert!(chunk.query.contains(&format!("(dstAddr, \"{net}\")")), "{ip} in {net}");
        }
        let mut text = Vec::new();
        write_plan(&mut text, &plan).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains(&format!("servers matched by covering prefixes (/{} IPv4", prefixes.v4)), "{text}");
    }

    /// 1,000 servers each in its own /16: no covering prefix up to /16 fits them in one query.
    fn scattered() -> BTreeSet<IpAddr> {
        (0..1000u32).map(|i| IpAddr::from((((i + 1) << 16) | 7).to_be_bytes())).collect()
    }

    #[test]
    fn servers_too_scattered_for_any_prefix_are_split_into_queries_that_each_fit() {
        let servers = scattered();
        let v2 = FlowFormat::default_v2();
        let targets = [target("/fl/a", &v2), target("/fl/b", &v2)];
        let plan = QueryPlan::from_targets(
            &targets,
            &servers,
            &BTreeSet::new(),
            TimeWindow { start: 0, end: 9 },
            &options(1, 1),
        )
        .unwrap();
        let parts = plan.server_parts();
        // As few parts as the length allows: at most one more than the exact text's share.
        let exact = build_query(&v2, &host_nets(&servers), &BTreeSet::new(), false, Addresses::Interface).unwrap();
        let fewest = exact.len().div_ceil(MAX_QUERY_LEN);
        assert!(fewest >= 2 && (fewest..=fewest + 1).contains(&parts), "{parts} parts for {} characters", exact.len());
        assert_eq!(plan.chunks.len(), parts * 2, "each part scans both log groups");
        assert_eq!(plan.log_groups().collect::<Vec<_>>(), ["/fl/a", "/fl/b"]);
        let mut named = BTreeSet::new();
        for chunk in &plan.chunks {
            assert!(chunk.query.len() + MARK_ROOM <= MAX_QUERY_LEN, "{}", chunk.query.len());
            let part = chunk.part.as_ref().expect("a split chunk knows its part");
            assert_eq!(part.count(), parts);
            for ip in &servers {
                if chunk.query.contains(&format!("\"{ip}\"")) {
                    named.insert((*ip, part.index));
                }
            }
        }
        // Every server is named by exactly one part.
        assert_eq!(named.len(), servers.len());
        assert_eq!(named.iter().map(|(ip, _)| ip).collect::<BTreeSet<_>>().len(), servers.len());
        // A conversation between servers of two parts is the first part's; an address no part
        // names (the far end of a server's flow) leaves it with its server's part.
        let part = |i: usize| ServerPart { index: i, ..plan.chunks[0].part.clone().unwrap() };
        let (first, last) = (*servers.first().unwrap(), *servers.last().unwrap());
        let outside: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(part(0).owns(Some((last, first))) && !part(parts - 1).owns(Some((last, first))));
        assert!(part(parts - 1).owns(Some((outside, last))) && !part(0).owns(Some((outside, last))));
        assert!(part(0).owns(None) && !part(1).owns(None), "SKIPDATA rows are kept once");
        // A retried query is still its part's, so it keeps only the rows that part owns.
        let last = plan.chunks.last().unwrap();
        let retry = plan.retry(&gap(Some(last.number), plan.windows[0])).unwrap();
        assert_eq!(retry.chunks, std::slice::from_ref(last));
        assert_eq!(retry.server_parts(), parts);

        let mut text = Vec::new();
        write_plan(&mut text, &plan).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains(&format!("split into {parts} queries per log group")), "{text}");
        assert!(text.contains(&format!("servers part {parts} of {parts}")), "{text}");
    }

    #[test]
    fn networks_too_many_for_even_one_server_are_a_clear_error() {
        let networks: BTreeSet<IpNet> = scattered().iter().map(|ip| IpNet::new(*ip, 24).unwrap().trunc()).collect();
        let v2 = FlowFormat::default_v2();
        let err = QueryPlan::from_targets(
            &[target("/fl/a", &v2)],
            &set(["10.0.0.7".parse().unwrap()]),
            &networks,
            TimeWindow { start: 0, end: 9 },
            &options(50, 1),
        )
        .unwrap_err();
        assert!(matches!(err, RunnerError::QueryTooLong { chunk: 1, .. }), "{err}");
        assert!(err.to_string().contains("even for one server"), "{err}");
    }

    #[test]
    fn default_format_query_uses_discovered_fields_and_validated_values() {
        let servers =
            set(["10.0.0.7".parse().unwrap(), "10.0.0.6".parse().unwrap(), "2001:db8:0:0::7".parse().unwrap()]);
        let nets = set(["10.0.0.0/8".parse().unwrap(), "2001:db8::/32".parse().unwrap()]);
        let q = query_text(&FlowFormat::default_v2(), &servers, &nets).unwrap();
        assert_eq!(
            q,
            r#"fields least(srcPort, dstPort) as lowPort
| filter logStatus = "SKIPDATA"
  or ((srcAddr in ["10.0.0.6", "10.0.0.7"] or dstAddr in ["10.0.0.6", "10.0.0.7"] or isIpv6InSubnet(srcAddr, "2001:db8::7/128") or isIpv6InSubnet(dstAddr, "2001:db8::7/128"))
    and (((isIpv4InSubnet(srcAddr, "10.0.0.0/8") or isIpv6InSubnet(srcAddr, "2001:db8::/32"))
    and (isIpv4InSubnet(dstAddr, "10.0.0.0/8") or isIpv6InSubnet(dstAddr, "2001:db8::/32")))
    or action = "REJECT"))
| stats count(*) as flowRecords, sum(packets) as flowPackets, sum(bytes) as flowBytes, min(startTime) as firstSeen, max(endTime) as lastSeen, min(srcPort) as minSrcPort, max(srcPort) as maxSrcPort, min(dstPort) as minDstPort, max(dstPort) as maxDstPort
    by srcAddr, dstAddr, lowPort, protocol, action, interfaceId, @log, logStatus"#
        );
    }

    #[test]
    fn custom_format_gets_a_parse_and_its_extra_keys() {
        let format = FlowFormat::from_log_format(
            "${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${tcp-flags} ${flow-direction} ${weird\"name}",
        )
        .unwrap();
        let q = query_text(&format, &set(["10.0.0.6".parse().unwrap()]), &BTreeSet::new()).unwrap();
        assert!(
            q.starts_with(
                "parse @message \"* * * * * * * * * *\" as interfaceId, srcAddr, dstAddr, srcPort, dstPort, protocol, action, tcpFlags, flowDirection, field10\n| fields least(srcPort, dstPort) as lowPort\n| filter (srcAddr in [\"10.0.0.6\"] or dstAddr in [\"10.0.0.6\"])\n| stats count(*) as flowRecords, min(srcPort)"
            ),
            "{q}"
        );
        assert!(
            q.ends_with("by srcAddr, dstAddr, lowPort, protocol, action, interfaceId, @log, tcpFlags, flowDirection"),
            "{q}"
        );
        assert!(!q.contains("weird"));
        let no_eni = FlowFormat::from_log_format("${srcaddr} ${dstaddr}").unwrap();
        assert_eq!(query_text(&no_eni, &BTreeSet::new(), &BTreeSet::new()), Err("interface-id"));
    }

    #[test]
    fn packet_addresses_are_matched_when_the_format_has_them() {
        let v3 = FlowFormat::from_log_format(
            "${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${pkt-srcaddr} ${pkt-dstaddr}",
        )
        .unwrap();
        let servers = set(["10.0.0.6".parse().unwrap()]);
        let nets = set(["10.0.0.0/8".parse().unwrap()]);
        let q = query_text(&v3, &servers, &nets).unwrap();
        assert!(
            q.contains("\n| fields pktSrcAddr as packetSrcAddr, pktDstAddr as packetDstAddr, least(srcPort, dstPort) as lowPort\n"),
            "{q}"
        );
        assert!(q.contains("| filter (packetSrcAddr in [\"10.0.0.6\"] or packetDstAddr in [\"10.0.0.6\"])"), "{q}");
        assert!(q.contains("isIpv4InSubnet(packetSrcAddr, \"10.0.0.0/8\")"), "{q}");
        assert!(q.contains("by packetSrcAddr, packetDstAddr, lowPort,"), "{q}");
        // Only one of the two is not enough: the interface addresses stay.
        let half = FlowFormat::from_log_format(
            "${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${pkt-srcaddr}",
        )
        .unwrap();
        let q = query_text(&half, &servers, &nets).unwrap();
        assert!(q.contains("by srcAddr, dstAddr, lowPort,") && !q.contains("pktSrcAddr in"), "{q}");
        // Files differ in format: the packet address where a file has one.
        let plan = QueryPlan::for_objects(
            Objects::Dir("d".into()),
            &servers,
            &nets,
            TimeWindow { start: 0, end: 9 },
            &options(50, 1),
        )
        .unwrap();
        let q = &plan.chunks[0].query;
        assert!(
            q.starts_with(
                "fields coalesce(pktSrcAddr, srcAddr) as packetSrcAddr, coalesce(pktDstAddr, dstAddr) as packetDstAddr, least("
            ),
            "{q}"
        );
        assert!(q.contains("(packetSrcAddr in [\"10.0.0.6\"] or packetDstAddr in"), "{q}");
        assert!(q.contains("by packetSrcAddr, packetDstAddr, lowPort,"), "{q}");
    }

    /// A wave over two accounts whose flow logs both write to `/vpc/flow` (in different
    /// formats), one of them discovering its log groups.
    fn two_accounts() -> (WaveConfig, Inventory) {
        use wavegap_core::inventory::{Eni, FlowLogDestination, Vpc};
        use wavegap_core::wave::{Account, App, AwsSettings, LogGroups, Networks, Server, WindowSpec};
        let account = |id: &str, names: &[&str], discover: bool| Account {
            id: id.into(),
            name: None,
            region: None,
            assume_role_arn: None,
            external_id: None,
            log_groups: LogGroups { names: names.iter().map(|n| (*n).to_owned()).collect(), discover },
        };
        let server = |name: &str, ip: &str, account: Option<&str>| Server {
            name: name.into(),
            app: "shop".into(),
            ip: ip.parse().unwrap(),
            ips: vec![],
            instance_id: None,
            role: None,
            os: None,
            on_premises: false,
            account: account.map(str::to_owned),
        };
        let wave = WaveConfig {
            name: "w".into(),
            description: None,
            path: PathBuf::from("w.toml"),
            window: WindowSpec::Last(std::time::Duration::from_secs(3600)),
            aws: AwsSettings::default(),
            // The second lists a group and discovers; the third only lists one.
            accounts: vec![
                account("111111111111", &[], true),
                account("222222222222", &["/data/explicit"], true),
                account("333333333333", &["/legacy"], false),
            ],
            networks: Networks { internal: vec!["10.0.0.0/8".parse().unwrap()], on_premises: vec![] },
            log_groups: LogGroups { names: vec!["/central".into()], discover: false },
            apps: vec![App {
                name: "shop".into(),
                description: None,
                servers: vec![
                    server("web", "10.1.0.5", None),
                    server("db", "10.2.0.5", Some("222222222222")),
                    server("old", "10.3.0.5", None),
                ],
            }],
            expected_flows: vec![],
            source: Source::CloudWatch,
            ephemeral: wavegap_core::wave::EphemeralPolicy::default(),
            ignore: vec![],
            one_way: vec![],
            query: QuerySettings::default(),
            dependencies: vec![],
        };
        let mut inventory = Inventory::default();
        for (n, owner, format) in [(1, "111111111111", None), (2, "222222222222", Some(V5)), (3, "333333333333", None)]
        {
            let vpc = format!("vpc-{n}");
            inventory.vpcs.insert(
                vpc.clone(),
                Vpc {
                    id: vpc.clone(),
                    owner_id: Some(owner.into()),
                    name: None,
                    cidrs: vec![format!("10.{n}.0.0/16").parse().unwrap()],
                },
            );
            let eni = format!("eni-{n}");
            inventory.enis.insert(
                eni.clone(),
                Eni {
                    id: eni,
                    subnet_id: format!("subnet-{n}"),
                    vpc_id: vpc.clone(),
                    owner_id: Some(owner.into()),
                    private_ips: vec![format!("10.{n}.0.5").parse().unwrap()],
                    public_ip: None,
                    security_groups: vec![],
                    instance_id: None,
                    interface_type: None,
                    description: None,
                    status: None,
                },
            );
            inventory.flow_logs.insert(
                format!("fl-{n}"),
                FlowLog {
                    id: format!("fl-{n}"),
                    resource_id: vpc,
                    destination_type: FlowLogDestination::CloudWatchLogs,
                    log_group: Some("/vpc/flow".into()),
                    destination: None,
                    traffic_type: Some("ALL".into()),
                    log_format: format.map(str::to_owned),
                    status: None,
                    max_aggregation_interval: None,
                    created: None,
                },
            );
        }
        (wave, inventory)
    }

    const V5: &str = "${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcp-flags} ${flow-direction}";

    #[test]
    fn each_account_s_log_groups_are_queried_in_it_with_their_own_format() {
        let (wave, inventory) = two_accounts();
        let targets = log_group_targets(&wave, &inventory).unwrap();
        let found: Vec<(Option<&str>, &str, Vec<String>)> =
            targets.iter().map(|t| (t.account.as_deref(), t.name.as_str(), t.flow_logs.clone())).collect();
        // The same name in two accounts is two log groups, each with its own flow log; the
        // account that does not discover keeps only the group it lists.
        assert_eq!(
            found,
            [
                (None, "/central", vec![]),
                (Some("111111111111"), "/vpc/flow", vec!["fl-1".to_owned()]),
                (Some("222222222222"), "/data/explicit", vec![]),
                (Some("222222222222"), "/vpc/flow", vec!["fl-2".to_owned()]),
                (Some("333333333333"), "/legacy", vec![]),
            ]
        );
        let window = TimeWindow { start: 0, end: 3599 };
        let plan = QueryPlan::build(&wave, &inventory, window, &options(50, 1)).unwrap();
        let chunks: Vec<(Option<&str>, Vec<String>, bool)> =
            plan.chunks.iter().map(|c| (c.account.as_deref(), c.log_groups.clone(), c.log_format.is_some())).collect();
        assert_eq!(
            chunks,
            [
                (None, vec!["/central".to_owned()], false),
                (Some("111111111111"), vec!["/vpc/flow".to_owned()], false),
                (Some("222222222222"), vec!["/data/explicit".to_owned()], false),
                (Some("222222222222"), vec!["/vpc/flow".to_owned()], true),
                (Some("333333333333"), vec!["/legacy".to_owned()], false),
            ]
        );
        let mut printed = Vec::new();
        write_plan(&mut printed, &plan).unwrap();
        let printed = String::from_utf8(printed).unwrap();
        assert!(printed.contains("chunk 4 (1 log groups, ${version}"), "{printed}");
        assert!(printed.contains(", in account 222222222222):\n  /vpc/flow\n"), "{printed}");
    }

    #[test]
    fn chunks_group_by_format_and_respect_the_size() {
        let v5 = FlowFormat::from_log_format(&format!("{} ${{tcp-flags}}", FlowFormat::default_v2().to_log_format()))
            .unwrap();
        let mut targets: Vec<_> = (0..7).map(|i| target(&format!("/g/{i:02}"), &FlowFormat::default_v2())).collect();
        targets.push(target("/custom/a", &v5));
        let plan = QueryPlan::from_targets(
            &targets,
            &set(["10.0.0.6".parse().unwrap()]),
            &BTreeSet::new(),
            TimeWindow { start: 0, end: 299 },
            &options(3, 3),
        )
        .unwrap();
        let sizes: Vec<_> =
            plan.chunks.iter().map(|c| (c.number, c.log_groups.len(), c.log_format.is_some())).collect();
        assert_eq!(sizes, [(1, 3, false), (2, 3, false), (3, 1, false), (4, 1, true)]);
        assert_eq!(
            plan.windows,
            [
                TimeWindow { start: 0, end: 99 },
                TimeWindow { start: 100, end: 199 },
                TimeWindow { start: 200, end: 299 }
            ]
        );
        assert_eq!(plan.query_count(), 12);
        let mut text = Vec::new();
        write_plan(&mut text, &plan).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.starts_with("8 log groups in 4 chunk(s) × 3 window(s) = 12 queries"), "{text}");
        assert!(text.contains("chunk 4 (1 log groups, ${version}"), "{text}");
        assert!(text.contains("  1. 1970-01-01T00:00:00Z .. 1970-01-01T00:01:39Z  (0 .. 99)"), "{text}");
    }

    #[test]
    fn a_retry_runs_exactly_the_failed_query_again() {
        let v5 = FlowFormat::from_log_format(&format!("{} ${{tcp-flags}}", FlowFormat::default_v2().to_log_format()))
            .unwrap();
        let mut targets: Vec<_> = (0..5).map(|i| target(&format!("/g/{i:02}"), &FlowFormat::default_v2())).collect();
        targets.push(target("/custom/a", &v5));
        let servers = set(["10.0.0.6".parse().unwrap()]);
        let window = TimeWindow { start: 0, end: 299 };
        let plan = QueryPlan::from_targets(&targets, &servers, &BTreeSet::new(), window, &options(3, 3)).unwrap();
        assert_eq!(plan.chunks.len(), 3);
        let failed = TimeWindow { start: 100, end: 149 };
        let retry = plan.retry(&gap(Some(2), failed)).unwrap();
        assert_eq!(retry.chunks.len(), 1);
        let chunk = &retry.chunks[0];
        assert_eq!(
            (chunk.number, chunk.log_groups.as_slice()),
            (2, ["/g/03".to_owned(), "/g/04".to_owned()].as_slice())
        );
        assert_eq!(chunk.query, plan.chunks[1].query);
        assert_eq!(retry.windows, [failed]);
        assert_eq!(retry.query_count(), 1);
        assert_eq!((retry.row_limit, retry.max_in_flight), (plan.row_limit, plan.max_in_flight));
        assert_ne!(plan.chunks[1].query, plan.chunks[2].query);
        assert_eq!(plan.retry(&gap(Some(3), failed)).unwrap().chunks[0].query, plan.chunks[2].query);
        // Nothing to retry: no chunk named, a chunk the plan lacks, objects.
        assert_eq!(plan.retry(&gap(None, failed)), None);
        assert_eq!(plan.retry(&gap(Some(4), failed)), None);
        let objects =
            QueryPlan::for_objects(Objects::Dir("d".into()), &servers, &BTreeSet::new(), window, &options(50, 1))
                .unwrap();
        assert_eq!(objects.retry(&gap(Some(1), failed)), None);
    }

    #[test]
    fn files_plans_have_one_default_format_query_per_window() {
        let servers = set(["10.0.0.6".parse().unwrap()]);
        let plan = QueryPlan::for_objects(
            Objects::Dir("data/flowlogs".into()),
            &servers,
            &BTreeSet::new(),
            TimeWindow { start: 0, end: 9 },
            &options(50, 2),
        )
        .unwrap();
        assert_eq!(plan.query_count(), 2);
        let q = &plan.chunks[0].query;
        assert!(q.starts_with("fields coalesce(") && q.contains("\n| filter logStatus"), "{q}");
        assert!(q.ends_with("interfaceId, @log, logStatus, tcpFlags, flowDirection"), "{q}");
        let mut text = Vec::new();
        write_plan(&mut text, &plan).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.starts_with("flow-log files under data/flowlogs: 2 window(s) = 2 queries\n"), "{text}");
        assert!(!text.contains("chunk"), "{text}");
    }

    #[test]
    fn split_window_covers_every_second_once() {
        for (window, n) in [((0, 299), 3), ((10, 20), 4), ((5, 5), 3), ((0, 1), 1), ((100, 1099), 7)] {
            let w = TimeWindow { start: window.0, end: window.1 };
            let parts = split_window(w, n);
            assert_eq!(parts.first().unwrap().start, w.start);
            assert_eq!(parts.last().unwrap().end, w.end);
            for pair in parts.windows(2) {
                assert_eq!(pair[0].end + 1, pair[1].start, "{parts:?}");
                assert!(pair[0].start <= pair[0].end, "{parts:?}");
            }
        }
        assert_eq!(split_window(TimeWindow { start: 5, end: 5 }, 3).len(), 1);
    }

    #[test]
    fn plans_refuse_what_cannot_run() {
        let t = [target("/g", &FlowFormat::default_v2())];
        let one = set(["10.0.0.6".parse().unwrap()]);
        let w = TimeWindow { start: 0, end: 10 };
        let err = |targets: &[LogGroupTarget], servers: &BTreeSet<IpAddr>| {
            QueryPlan::from_targets(targets, servers, &BTreeSet::new(), w, &options(50, 1)).unwrap_err().to_string()
        };
        assert!(err(&[], &one).starts_with("no log groups to query"));
        assert!(err(&t, &BTreeSet::new()).starts_with("the wave has no servers"));
    }
}
