//! Value parsers shared by validation: names, addresses, networks, services, durations, times.

#[allow(clippy::wildcard_imports)]
use super::*;

/// RFC 1918: what "internal" means when a wave does not say.
pub(super) fn default_internal() -> Vec<IpNet> {
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].iter().filter_map(|s| s.parse().ok()).collect()
}

/// Syslog, SNMP traps, `NetFlow` and `sFlow`: sent without any answer by design.
pub(super) fn default_one_way() -> Vec<OneWay> {
    [514, 162, 2055, 6343]
        .into_iter()
        .map(|port| OneWay { service: Service { protocol: proto::UDP, port }, peer: None })
        .collect()
}

pub(super) fn is_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && !s.starts_with('.')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

pub(super) fn check_name(v: &At<'_, impl AsRef<str>>, what: &str) -> Result<(), WaveError> {
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
pub(super) fn parse_ip_at(v: &At<'_, &String>, what: &str, hint: &str) -> Result<IpAddr, WaveError> {
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

pub(super) fn parse_net_at(v: &At<'_, &String>) -> Result<IpNet, WaveError> {
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
pub(super) fn parse_service_at(v: &At<'_, &String>) -> Result<Service, WaveError> {
    let expected = "\"tcp/PORT\", \"udp/PORT\", \"icmp\" or \"icmpv6\", such as \"tcp/1433\"";
    Service::parse(v.value).map_err(|e| {
        let hint = e.hint();
        v.error(K::Invalid, e.to_string()).expected(expected).hint(hint)
    })
}

pub(super) fn parse_duration_at(v: &At<'_, impl AsRef<str>>) -> Result<Duration, WaveError> {
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
pub(super) fn short_reason(reason: &str) -> &str {
    reason.split(", supported units").next().unwrap_or(reason)
}

/// An RFC 3339 instant with an offset, as a string or a TOML offset date-time.
pub(super) fn parse_time_at(v: &At<'_, &toml::Value>) -> Result<i64, WaveError> {
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
pub(super) fn is_role_arn(s: &str) -> bool {
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
pub(super) fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("i-").is_some_and(|hex| {
        matches!(hex.len(), 8 | 17) && hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

/// Why AWS would refuse a log group name, if it would.
pub(super) fn log_group_problem(name: &str) -> Option<&'static str> {
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

/// A 12-digit AWS account id.
pub(super) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

pub(super) fn check_region(r: &At<'_, impl AsRef<str>>) -> Result<(), WaveError> {
    let region = r.value.as_ref();
    if crate::wave::is_region_name(region) {
        return Ok(());
    }
    Err(r
        .error(K::Invalid, format!("invalid AWS region `{region}`"))
        .expected("a region code such as \"eu-west-1\" or \"us-gov-west-1\"")
        .hint("use the code, not the display name (\"eu-west-1\", not \"Europe (Ireland)\")"))
}

pub(super) fn check_role(r: &At<'_, impl AsRef<str>>) -> Result<(), WaveError> {
    let arn = r.value.as_ref();
    if is_role_arn(arn) {
        return Ok(());
    }
    Err(r
        .error(K::Invalid, format!("invalid role ARN `{arn}`"))
        .expected("\"arn:aws:iam::123456789012:role/Name\"")
        .hint("copy the ARN from the IAM console's role summary"))
}

/// An external id, which is only sent when a role is assumed.
pub(super) fn check_external_id(e: &At<'_, impl AsRef<str>>, has_role: bool) -> Result<(), WaveError> {
    if !has_role {
        return Err(e
            .error(K::Conflict, "external-id without assume-role-arn")
            .hint("an external id is only sent when assuming a role: set `assume-role-arn` too"));
    }
    let id = e.value.as_ref();
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c);
    if !(2..=1224).contains(&id.len()) || !id.chars().all(ok_char) {
        return Err(e
            .error(K::Invalid, "invalid external id")
            .expected("2 to 1224 characters of letters, digits and `+=,.@:/-_`"));
    }
    Ok(())
}
