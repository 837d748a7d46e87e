//! VPC Flow Logs records: field names, formats and the line parser.
//!
//! A flow log's format is an ordered list of fields. It comes from the header line of an S3
//! object, from the `LogFormat` string that `DescribeFlowLogs` returns
//! (`${srcaddr} ${dstaddr} …`), or is the default version 2 order. Lines are split into
//! borrowed `&str` slices without copying ([`split_fields`]); typed accessors parse only the
//! fields a caller asks for, because the local source reads hundreds of millions of lines and
//! most queries touch a handful of fields.

use std::fmt;
use std::net::IpAddr;

/// A flow-log field, by its AWS (kebab-case) name.
///
/// Every field of versions 2 to 7 and the newer ones is known; any other name is kept as
/// [`FlowField::Other`] so that a format AWS adds tomorrow still parses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowField {
    Known(KnownField),
    Other(String),
}

macro_rules! known_fields {
    ($($variant:ident = $aws:literal / $insights:literal,)*) => {
        /// The flow-log fields AWS documents.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum KnownField { $($variant,)* }

        impl KnownField {
            /// Every known field, in documentation order.
            pub const ALL: &'static [KnownField] = &[$(KnownField::$variant,)*];

            /// The name in a `LogFormat` string and in S3 header lines (`srcaddr`, `log-status`).
            pub const fn aws_name(self) -> &'static str {
                match self { $(KnownField::$variant => $aws,)* }
            }

            /// The name Logs Insights discovers the field under (`srcAddr`, `logStatus`).
            pub const fn insights_name(self) -> &'static str {
                match self { $(KnownField::$variant => $insights,)* }
            }

            pub fn from_aws_name(name: &str) -> Option<Self> {
                match name { $($aws => Some(KnownField::$variant),)* _ => None }
            }

            pub fn from_insights_name(name: &str) -> Option<Self> {
                match name { $($insights => Some(KnownField::$variant),)* _ => None }
            }
        }
    };
}

known_fields! {
    // v2
    Version = "version" / "version",
    AccountId = "account-id" / "accountId",
    InterfaceId = "interface-id" / "interfaceId",
    SrcAddr = "srcaddr" / "srcAddr",
    DstAddr = "dstaddr" / "dstAddr",
    SrcPort = "srcport" / "srcPort",
    DstPort = "dstport" / "dstPort",
    Protocol = "protocol" / "protocol",
    Packets = "packets" / "packets",
    Bytes = "bytes" / "bytes",
    Start = "start" / "startTime",
    End = "end" / "endTime",
    Action = "action" / "action",
    LogStatus = "log-status" / "logStatus",
    // v3
    VpcId = "vpc-id" / "vpcId",
    SubnetId = "subnet-id" / "subnetId",
    InstanceId = "instance-id" / "instanceId",
    TcpFlags = "tcp-flags" / "tcpFlags",
    Type = "type" / "type",
    PktSrcAddr = "pkt-srcaddr" / "pktSrcAddr",
    PktDstAddr = "pkt-dstaddr" / "pktDstAddr",
    // v4
    Region = "region" / "region",
    AzId = "az-id" / "azId",
    SublocationType = "sublocation-type" / "sublocationType",
    SublocationId = "sublocation-id" / "sublocationId",
    // v5
    PktSrcAwsService = "pkt-src-aws-service" / "pktSrcAwsService",
    PktDstAwsService = "pkt-dst-aws-service" / "pktDstAwsService",
    FlowDirection = "flow-direction" / "flowDirection",
    TrafficPath = "traffic-path" / "trafficPath",
    // v6 (transit gateway)
    ResourceType = "resource-type" / "resourceType",
    TgwId = "tgw-id" / "tgwId",
    TgwAttachmentId = "tgw-attachment-id" / "tgwAttachmentId",
    TgwSrcVpcAccountId = "tgw-src-vpc-account-id" / "tgwSrcVpcAccountId",
    TgwDstVpcAccountId = "tgw-dst-vpc-account-id" / "tgwDstVpcAccountId",
    TgwSrcVpcId = "tgw-src-vpc-id" / "tgwSrcVpcId",
    TgwDstVpcId = "tgw-dst-vpc-id" / "tgwDstVpcId",
    TgwSrcSubnetId = "tgw-src-subnet-id" / "tgwSrcSubnetId",
    TgwDstSubnetId = "tgw-dst-subnet-id" / "tgwDstSubnetId",
    TgwSrcEni = "tgw-src-eni" / "tgwSrcEni",
    TgwDstEni = "tgw-dst-eni" / "tgwDstEni",
    TgwSrcAzId = "tgw-src-az-id" / "tgwSrcAzId",
    TgwDstAzId = "tgw-dst-az-id" / "tgwDstAzId",
    TgwPairAttachmentId = "tgw-pair-attachment-id" / "tgwPairAttachmentId",
    PacketsLostNoRoute = "packets-lost-no-route" / "packetsLostNoRoute",
    PacketsLostBlackhole = "packets-lost-blackhole" / "packetsLostBlackhole",
    PacketsLostMtuExceeded = "packets-lost-mtu-exceeded" / "packetsLostMtuExceeded",
    PacketsLostTtlExpired = "packets-lost-ttl-expired" / "packetsLostTtlExpired",
    // v7 (ECS)
    EcsClusterArn = "ecs-cluster-arn" / "ecsClusterArn",
    EcsClusterName = "ecs-cluster-name" / "ecsClusterName",
    EcsContainerInstanceArn = "ecs-container-instance-arn" / "ecsContainerInstanceArn",
    EcsContainerInstanceId = "ecs-container-instance-id" / "ecsContainerInstanceId",
    EcsContainerId = "ecs-container-id" / "ecsContainerId",
    EcsSecondContainerId = "ecs-second-container-id" / "ecsSecondContainerId",
    EcsServiceName = "ecs-service-name" / "ecsServiceName",
    EcsTaskDefinitionArn = "ecs-task-definition-arn" / "ecsTaskDefinitionArn",
    EcsTaskArn = "ecs-task-arn" / "ecsTaskArn",
    EcsTaskId = "ecs-task-id" / "ecsTaskId",
    // newer
    RejectReason = "reject-reason" / "rejectReason",
    ResourceId = "resource-id" / "resourceId",
    EncryptionStatus = "encryption-status" / "encryptionStatus",
}

impl FlowField {
    /// A field from its AWS name; unknown names are kept, never rejected.
    pub fn from_aws_name(name: &str) -> Self {
        KnownField::from_aws_name(name).map_or_else(|| FlowField::Other(name.to_owned()), FlowField::Known)
    }

    pub fn aws_name(&self) -> &str {
        match self {
            FlowField::Known(k) => k.aws_name(),
            FlowField::Other(name) => name,
        }
    }

    /// The Insights name: the documented camelCase name, or the camelCase of an unknown one.
    pub fn insights_name(&self) -> String {
        match self {
            FlowField::Known(k) => k.insights_name().to_owned(),
            FlowField::Other(name) => camel_case(name),
        }
    }

    pub fn known(&self) -> Option<KnownField> {
        match self {
            FlowField::Known(k) => Some(*k),
            FlowField::Other(_) => None,
        }
    }
}

impl fmt::Display for FlowField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.aws_name())
    }
}

fn camel_case(kebab: &str) -> String {
    let mut out = String::with_capacity(kebab.len());
    let mut upper = false;
    for c in kebab.chars() {
        if c == '-' || c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Why a format could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("the flow-log format is empty")]
    Empty,
    #[error("the flow-log format names field `{0}` twice")]
    Duplicate(String),
    #[error("the flow-log format has `{0}` where a `${{field}}` placeholder was expected")]
    NotAPlaceholder(String),
}

/// The ordered field list of one flow log.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowFormat {
    fields: Vec<FlowField>,
    /// Position of each known field, indexed by `KnownField as usize`.
    positions: Vec<Option<usize>>,
}

impl FlowFormat {
    /// The default (version 2) format.
    pub fn default_v2() -> Self {
        Self::from_fields(KnownField::ALL[..14].iter().copied().map(FlowField::Known).collect())
            .expect("the default format is valid")
    }

    pub fn from_fields(fields: Vec<FlowField>) -> Result<Self, FormatError> {
        if fields.is_empty() {
            return Err(FormatError::Empty);
        }
        let mut positions = vec![None; KnownField::ALL.len()];
        for (i, field) in fields.iter().enumerate() {
            if fields[..i].contains(field) {
                return Err(FormatError::Duplicate(field.aws_name().to_owned()));
            }
            if let FlowField::Known(k) = field {
                positions[*k as usize] = Some(i);
            }
        }
        Ok(Self { fields, positions })
    }

    /// A format from an S3 object's header line (`version account-id interface-id …`).
    pub fn from_header(line: &str) -> Result<Self, FormatError> {
        Self::from_fields(line.split_ascii_whitespace().map(FlowField::from_aws_name).collect())
    }

    /// A format from a `LogFormat` string (`${version} ${srcaddr} …`).
    pub fn from_log_format(log_format: &str) -> Result<Self, FormatError> {
        let fields = log_format
            .split_ascii_whitespace()
            .map(|token| {
                token
                    .strip_prefix("${")
                    .and_then(|t| t.strip_suffix('}'))
                    .filter(|name| !name.is_empty())
                    .map(FlowField::from_aws_name)
                    .ok_or_else(|| FormatError::NotAPlaceholder(token.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_fields(fields)
    }

    /// The `LogFormat` string of this format.
    pub fn to_log_format(&self) -> String {
        self.fields.iter().map(|f| format!("${{{}}}", f.aws_name())).collect::<Vec<_>>().join(" ")
    }

    pub fn fields(&self) -> &[FlowField] {
        &self.fields
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Where a known field sits in a line of this format.
    pub fn position(&self, field: KnownField) -> Option<usize> {
        self.positions[field as usize]
    }

    /// Where a field sits, looked up by its Insights name (known or not).
    pub fn position_of_insights_name(&self, name: &str) -> Option<usize> {
        match KnownField::from_insights_name(name) {
            Some(k) => self.position(k),
            None => self.fields.iter().position(|f| f.insights_name() == name),
        }
    }

    /// Whether this is exactly the default version 2 format.
    pub fn is_default(&self) -> bool {
        *self == Self::default_v2()
    }
}

/// Splits a line on runs of ASCII whitespace into `out` (cleared first), without copying.
///
/// AWS separates fields with one space, but S3 objects rewritten by other tools may use more,
/// and a trailing `\r` must not end up in the last field.
pub fn split_fields<'a>(line: &'a str, out: &mut Vec<&'a str>) {
    out.clear();
    out.extend(line.split_ascii_whitespace());
}

/// `ACCEPT` or `REJECT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    Accept,
    Reject,
}

impl Action {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ACCEPT" => Some(Action::Accept),
            "REJECT" => Some(Action::Reject),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "ACCEPT",
            Action::Reject => "REJECT",
        }
    }
}

/// `OK`, `NODATA` or `SKIPDATA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogStatus {
    Ok,
    NoData,
    SkipData,
}

impl LogStatus {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "OK" => Some(LogStatus::Ok),
            "NODATA" => Some(LogStatus::NoData),
            "SKIPDATA" => Some(LogStatus::SkipData),
            _ => None,
        }
    }
}

/// `ingress` or `egress`: on which side of the ENI the record was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowDirection {
    Ingress,
    Egress,
}

impl FlowDirection {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ingress" => Some(FlowDirection::Ingress),
            "egress" => Some(FlowDirection::Egress),
            _ => None,
        }
    }
}

/// Times above this are milliseconds, not seconds (seen in the wild from some exporters).
const MILLIS_THRESHOLD: u64 = 1 << 31;

/// Parses a `start`/`end` value to Unix seconds, accepting milliseconds above 2^31.
pub fn parse_epoch_seconds(s: &str) -> Option<i64> {
    epoch_seconds(s.parse().ok()?)
}

/// A `start`/`end` number as Unix seconds: milliseconds above 2^31.
pub fn epoch_seconds(v: u64) -> Option<i64> {
    let secs = if v > MILLIS_THRESHOLD { v / 1000 } else { v };
    i64::try_from(secs).ok()
}

/// What is wrong with one line. The caller adds the file and line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("expected {expected} fields, found {found}")]
    FieldCount { expected: usize, found: usize },
    #[error("field `{field}` has invalid value `{value}`")]
    InvalidValue { field: &'static str, value: String },
}

/// A parsed flow-log record: the split line plus typed access to the fields that matter.
///
/// Values borrow from the line. A field the format lacks, or that holds `-`, is `None`.
#[derive(Debug, Clone)]
pub struct FlowRecord<'a> {
    pub version: Option<u8>,
    pub account_id: Option<&'a str>,
    pub interface_id: Option<&'a str>,
    pub src_addr: Option<IpAddr>,
    pub dst_addr: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    pub protocol: Option<u8>,
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub action: Option<Action>,
    pub log_status: Option<LogStatus>,
    pub tcp_flags: Option<u16>,
    pub pkt_src_addr: Option<IpAddr>,
    pub pkt_dst_addr: Option<IpAddr>,
    pub flow_direction: Option<FlowDirection>,
    /// Every field as written, in format order (`-` included).
    pub raw: Vec<&'a str>,
}

impl<'a> FlowRecord<'a> {
    /// Parses and validates every typed field of one line.
    pub fn parse(line: &'a str, format: &FlowFormat) -> Result<Self, RecordError> {
        use KnownField as K;
        fn typed<T>(
            k: KnownField,
            v: Option<&str>,
            parse: impl Fn(&str) -> Option<T>,
        ) -> Result<Option<T>, RecordError> {
            v.map(|v| parse(v).ok_or_else(|| RecordError::InvalidValue { field: k.aws_name(), value: v.to_owned() }))
                .transpose()
        }
        let mut raw = Vec::with_capacity(format.len());
        split_fields(line, &mut raw);
        if raw.len() != format.len() {
            return Err(RecordError::FieldCount { expected: format.len(), found: raw.len() });
        }
        let get = |k: KnownField| format.position(k).map(|i| raw[i]).filter(|v| *v != "-");
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        Ok(FlowRecord {
            version: typed(K::Version, get(K::Version), |s| s.parse().ok())?,
            account_id: get(K::AccountId),
            interface_id: get(K::InterfaceId),
            src_addr: typed(K::SrcAddr, get(K::SrcAddr), ip)?,
            dst_addr: typed(K::DstAddr, get(K::DstAddr), ip)?,
            src_port: typed(K::SrcPort, get(K::SrcPort), |s| s.parse().ok())?,
            dst_port: typed(K::DstPort, get(K::DstPort), |s| s.parse().ok())?,
            protocol: typed(K::Protocol, get(K::Protocol), |s| s.parse().ok())?,
            packets: typed(K::Packets, get(K::Packets), |s| s.parse().ok())?,
            bytes: typed(K::Bytes, get(K::Bytes), |s| s.parse().ok())?,
            start: typed(K::Start, get(K::Start), parse_epoch_seconds)?,
            end: typed(K::End, get(K::End), parse_epoch_seconds)?,
            action: typed(K::Action, get(K::Action), Action::parse)?,
            log_status: typed(K::LogStatus, get(K::LogStatus), LogStatus::parse)?,
            tcp_flags: typed(K::TcpFlags, get(K::TcpFlags), |s| s.parse().ok())?,
            pkt_src_addr: typed(K::PktSrcAddr, get(K::PktSrcAddr), ip)?,
            pkt_dst_addr: typed(K::PktDstAddr, get(K::PktDstAddr), ip)?,
            flow_direction: typed(K::FlowDirection, get(K::FlowDirection), FlowDirection::parse)?,
            raw,
        })
    }

    /// The raw value of any field, `-` included; `None` when the format lacks it.
    pub fn get(&self, format: &FlowFormat, field: KnownField) -> Option<&'a str> {
        format.position(field).map(|i| self.raw[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_ok(line: &str, expect: impl FnOnce(&FlowRecord<'_>)) {
        let format = FlowFormat::default_v2();
        let record = FlowRecord::parse(line, &format).unwrap_or_else(|e| panic!("{line}: {e}"));
        expect(&record);
    }

    fn check_err(format: &FlowFormat, line: &str, expected: &RecordError) {
        assert_eq!(FlowRecord::parse(line, format).unwrap_err(), *expected, "{line}");
    }

    #[test]
    fn documented_accept_record() {
        check_ok(
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
            |r| {
                assert_eq!(r.version, Some(2));
                assert_eq!(r.account_id, Some("123456789010"));
                assert_eq!(r.interface_id, Some("eni-1235b8ca123456789"));
                assert_eq!(r.src_addr, Some("172.31.16.139".parse().unwrap()));
                assert_eq!(r.dst_addr, Some("172.31.16.21".parse().unwrap()));
                assert_eq!((r.src_port, r.dst_port, r.protocol), (Some(20641), Some(22), Some(6)));
                assert_eq!((r.packets, r.bytes), (Some(20), Some(4249)));
                assert_eq!((r.start, r.end), (Some(1_418_530_010), Some(1_418_530_070)));
                assert_eq!(r.action, Some(Action::Accept));
                assert_eq!(r.log_status, Some(LogStatus::Ok));
            },
        );
    }

    #[test]
    fn documented_reject_record() {
        check_ok(
            "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
            |r| {
                assert_eq!(r.dst_port, Some(3389));
                assert_eq!(r.action, Some(Action::Reject));
            },
        );
    }

    #[test]
    fn documented_nodata_and_skipdata_records() {
        for (line, status) in [
            ("2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA", LogStatus::NoData),
            (
                "2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA",
                LogStatus::SkipData,
            ),
        ] {
            check_ok(line, |r| {
                assert_eq!(r.log_status, Some(status));
                assert_eq!((r.src_addr, r.dst_addr, r.src_port, r.protocol, r.packets), (None, None, None, None, None));
                assert_eq!(r.action, None);
                assert_eq!(r.start, Some(1_431_280_876));
            });
        }
    }

    #[test]
    fn documented_ping_with_nacl_dropped_response() {
        check_ok(
            "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK",
            |r| {
                assert_eq!(r.protocol, Some(1));
                assert_eq!((r.src_port, r.dst_port), (Some(0), Some(0)));
                assert_eq!(r.action, Some(Action::Accept));
            },
        );
        check_ok(
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK",
            |r| {
                assert_eq!(r.src_addr, Some("172.31.16.139".parse().unwrap()));
                assert_eq!(r.action, Some(Action::Reject));
            },
        );
    }

    #[test]
    fn several_spaces_and_trailing_cr_are_fine() {
        check_ok("2  123456789010\teni-1 10.0.0.1   10.0.0.2 1 2 6 1 1 1418530010 1418530070 ACCEPT OK\r", |r| {
            assert_eq!(r.interface_id, Some("eni-1"));
            assert_eq!(r.log_status, Some(LogStatus::Ok));
        });
    }

    #[test]
    fn milliseconds_above_2_pow_31_become_seconds() {
        check_ok("2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1418530010000 1418530070999 ACCEPT OK", |r| {
            assert_eq!((r.start, r.end), (Some(1_418_530_010), Some(1_418_530_070)));
        });
        assert_eq!(parse_epoch_seconds("2147483649"), Some(2_147_483));
        assert_eq!(parse_epoch_seconds("2147483648"), Some(2_147_483_648));
        assert_eq!(parse_epoch_seconds("2147483647"), Some(2_147_483_647));
    }

    #[test]
    fn ipv6_addresses_parse() {
        check_ok("2 1 eni-1 2001:db8::1 fe80::2 443 50000 6 1 1 1 2 ACCEPT OK", |r| {
            assert_eq!(r.src_addr, Some("2001:db8::1".parse().unwrap()));
            assert!(r.dst_addr.unwrap().is_ipv6());
        });
    }

    #[test]
    fn malformed_lines_are_errors_not_wrong_values() {
        let v2 = FlowFormat::default_v2();
        let bad = |field: &'static str, value: &str| RecordError::InvalidValue { field, value: value.to_owned() };
        check_err(&v2, "", &RecordError::FieldCount { expected: 14, found: 0 });
        check_err(
            &v2,
            "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT",
            &RecordError::FieldCount { expected: 14, found: 13 },
        );
        check_err(
            &v2,
            "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK extra",
            &RecordError::FieldCount { expected: 14, found: 15 },
        );
        check_err(&v2, "2 1 eni-1 10.0.0.300 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK", &bad("srcaddr", "10.0.0.300"));
        check_err(&v2, "2 1 eni-1 10.0.0.1 10.0.0.2 65536 2 6 1 1 1 2 ACCEPT OK", &bad("srcport", "65536"));
        check_err(&v2, "2 1 eni-1 10.0.0.1 10.0.0.2 1 -2 6 1 1 1 2 ACCEPT OK", &bad("dstport", "-2"));
        check_err(&v2, "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 256 1 1 1 2 ACCEPT OK", &bad("protocol", "256"));
        check_err(&v2, "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 x 1 1 2 ACCEPT OK", &bad("packets", "x"));
        check_err(&v2, "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1.5 1 2 ACCEPT OK", &bad("bytes", "1.5"));
        check_err(&v2, "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 yesterday 2 ACCEPT OK", &bad("start", "yesterday"));
        check_err(&v2, "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 accept OK", &bad("action", "accept"));
        check_err(&v2, "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT FINE", &bad("log-status", "FINE"));
        check_err(&v2, "v2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK", &bad("version", "v2"));
        check_err(
            &v2,
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
            &bad("version", "version"),
        );
    }

    #[test]
    fn header_line_gives_the_format_and_keeps_unknown_fields() {
        let format = FlowFormat::from_header("srcaddr dstaddr tcp-flags some-future-field action").unwrap();
        assert_eq!(format.len(), 5);
        assert_eq!(format.position(KnownField::TcpFlags), Some(2));
        assert_eq!(format.fields()[3], FlowField::Other("some-future-field".into()));
        assert_eq!(format.position_of_insights_name("someFutureField"), Some(3));
        assert_eq!(format.position_of_insights_name("tcpFlags"), Some(2));
        let r = FlowRecord::parse("10.0.0.1 10.0.0.2 18 whatever REJECT", &format).unwrap();
        assert_eq!(r.tcp_flags, Some(18));
        assert_eq!(r.raw[3], "whatever");
        assert_eq!(r.action, Some(Action::Reject));
        assert_eq!(r.version, None);
    }

    #[test]
    fn log_format_string_round_trips() {
        let text = "${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${srcaddr} ${pkt-srcaddr} ${flow-direction} ${traffic-path} ${reject-reason}";
        let format = FlowFormat::from_log_format(text).unwrap();
        assert_eq!(format.to_log_format(), text);
        assert_eq!(format.fields()[9], FlowField::Known(KnownField::RejectReason));
        assert_eq!(
            FlowFormat::from_log_format(&FlowFormat::default_v2().to_log_format()).unwrap(),
            FlowFormat::default_v2()
        );
        assert!(FlowFormat::default_v2().is_default());
    }

    #[test]
    fn bad_formats_are_rejected() {
        assert_eq!(FlowFormat::from_header("  "), Err(FormatError::Empty));
        assert_eq!(FlowFormat::from_header("srcaddr srcaddr"), Err(FormatError::Duplicate("srcaddr".into())));
        assert_eq!(
            FlowFormat::from_log_format("${srcaddr} dstaddr"),
            Err(FormatError::NotAPlaceholder("dstaddr".into()))
        );
        assert_eq!(FlowFormat::from_log_format("${}"), Err(FormatError::NotAPlaceholder("${}".into())));
    }

    #[test]
    fn every_known_field_round_trips_its_names() {
        for &k in KnownField::ALL {
            assert_eq!(KnownField::from_aws_name(k.aws_name()), Some(k));
            assert_eq!(KnownField::from_insights_name(k.insights_name()), Some(k));
        }
    }

    #[test]
    fn unknown_fields_get_a_camel_case_insights_name() {
        assert_eq!(FlowField::from_aws_name("packets-lost-future").insights_name(), "packetsLostFuture");
        assert_eq!(FlowField::from_aws_name("plain").insights_name(), "plain");
    }

    #[test]
    fn v5_record_with_pkt_addresses_and_direction() {
        let format = FlowFormat::from_log_format(
            "${version} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr} ${tcp-flags} ${flow-direction} ${action} ${log-status}",
        )
        .unwrap();
        let r =
            FlowRecord::parse("5 eni-1 10.0.250.4 10.0.0.6 203.0.113.5 10.0.0.6 2 ingress ACCEPT OK", &format).unwrap();
        assert_eq!(r.pkt_src_addr, Some("203.0.113.5".parse().unwrap()));
        assert_eq!(r.flow_direction, Some(FlowDirection::Ingress));
        assert_eq!(r.tcp_flags, Some(2));
        let err = FlowRecord::parse("5 eni-1 10.0.250.4 10.0.0.6 - - 2 sideways ACCEPT OK", &format).unwrap_err();
        assert_eq!(err, RecordError::InvalidValue { field: "flow-direction", value: "sideways".into() });
    }
}
