//! Turning values into the words and escapes the reports use.

use std::borrow::Cow;
use std::fmt::Write as _;

use wavegap_core::findings::{LikelyCause, Suppression};
use wavegap_core::inventory::{Inventory, NaclEntry, PortMatch, Protocol, SgPeer, SgRule, proto};

/// `tcp`, `udp`, `icmp`, or the protocol number.
pub fn protocol_name(p: u8) -> String {
    match p {
        proto::TCP => "tcp".into(),
        proto::UDP => "udp".into(),
        proto::ICMP => "icmp".into(),
        proto::ICMPV6 => "icmpv6".into(),
        n => format!("proto-{n}"),
    }
}

/// Where an unanswered flow's answer most likely got lost, in a sentence.
pub fn likely_cause(cause: LikelyCause) -> &'static str {
    match cause {
        LikelyCause::OnPremises => {
            "no answer from on-premises: an on-premises firewall, a missing route back to AWS, or a host that is down"
        }
        LikelyCause::NoInterface => {
            "no interface holds this address: the instance was terminated, is not launched yet, or moved to another \
             address"
        }
        LikelyCause::AwsPeerSilent => {
            "the AWS peer never answered and no REJECT was logged: the service is not listening, the host is down or \
             its own firewall drops it"
        }
        LikelyCause::Elsewhere => "no answer: a firewall or route outside AWS, or a host that is down",
    }
}

/// Why an unanswered flow is held back, in a sentence.
pub fn suppression(s: &Suppression) -> String {
    match s {
        Suppression::Skipdata { enis } => {
            format!(
                "{} had SKIPDATA records in the window: the answer may be among the dropped records",
                enis.join(", ")
            )
        }
        Suppression::ShortWindow => {
            "the window is shorter than the aggregation interval plus the delivery lag".to_owned()
        }
        Suppression::InDeliveryLag => {
            "first seen within the delivery lag of the window end: the answer may not be delivered yet".to_owned()
        }
    }
}

/// `tcp/443`, or `icmp` for protocols without ports.
pub fn service(protocol: u8, port: u16) -> String {
    if matches!(protocol, proto::TCP | proto::UDP) {
        format!("{}/{port}", protocol_name(protocol))
    } else {
        protocol_name(protocol)
    }
}

/// The well-known name of a service, or an empty string.
pub fn service_name(protocol: u8, port: u16) -> &'static str {
    match (protocol, port) {
        (proto::TCP, 21) => "FTP",
        (proto::TCP, 22) => "SSH",
        (proto::TCP, 23) => "Telnet",
        (proto::TCP, 25) => "SMTP",
        (proto::TCP | proto::UDP, 53) => "DNS",
        (proto::TCP | proto::UDP, 88) => "Kerberos",
        (proto::TCP, 80) => "HTTP",
        (proto::UDP, 123) => "NTP",
        (proto::TCP, 135) => "MS RPC",
        (proto::TCP, 139) => "NetBIOS session",
        (proto::UDP, 161) => "SNMP",
        (proto::UDP, 162) => "SNMP trap",
        (proto::TCP | proto::UDP, 389) => "LDAP",
        (proto::TCP, 443) => "HTTPS",
        (proto::TCP, 445) => "SMB",
        (proto::UDP, 514) => "syslog",
        (proto::TCP, 636) => "LDAPS",
        (proto::TCP, 1433) => "SQL Server",
        (proto::UDP, 1434) => "SQL Server Browser",
        (proto::TCP, 1521) => "Oracle",
        (proto::UDP, 2055) => "NetFlow",
        (proto::TCP, 3268) => "Global Catalog",
        (proto::TCP, 3306) => "MySQL",
        (proto::TCP, 3389) => "RDP",
        (proto::TCP, 5432) => "PostgreSQL",
        (proto::TCP, 5985) => "WinRM",
        (proto::TCP, 5986) => "WinRM (HTTPS)",
        (proto::TCP, 6379) => "Redis",
        (proto::TCP, 8080) => "HTTP (alt)",
        (proto::TCP, 8443) => "HTTPS (alt)",
        (proto::TCP, 9200) => "Elasticsearch",
        (proto::TCP, 49152..=65535) => "dynamic port",
        _ => "",
    }
}

/// `2026-03-02 09:00:00 UTC`.
pub fn time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map_or_else(|| unix.to_string(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// `2026-03-02T09:00:00Z`.
pub fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map_or_else(|| unix.to_string(), |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// `1h`, `2h 30m`, `45s`.
pub fn duration(seconds: i64) -> String {
    let (d, h, m, s) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
    let mut out = String::new();
    for (v, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if v > 0 {
            if !out.is_empty() {
                out.push(' ');
            }
            let _ = write!(out, "{v}{unit}");
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

/// Decimal units, as AWS prices scanned data per GB.
#[allow(clippy::cast_precision_loss)]
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// `12,345`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn rule_protocol(p: Protocol) -> String {
    match p {
        Protocol::All => "all traffic".into(),
        Protocol::Number(n) => protocol_name(n),
    }
}

pub fn ports(p: PortMatch) -> String {
    match p {
        PortMatch::Any => String::new(),
        PortMatch::Ports(r) if r.from == r.to => r.from.to_string(),
        PortMatch::Ports(r) if r.from == 0 && r.to == 65535 => "all ports".into(),
        PortMatch::Ports(r) => format!("{}-{}", r.from, r.to),
        PortMatch::Icmp(i) => match (i.icmp_type, i.code) {
            (None, _) => "any type".into(),
            (Some(t), None) => format!("type {t}"),
            (Some(t), Some(c)) => format!("type {t} code {c}"),
        },
    }
}

/// `sg-0abc (orders-app)` when the inventory knows the group's name.
pub fn group_ref(inventory: &Inventory, group_id: &str) -> String {
    match inventory.security_groups.get(group_id) {
        Some(g) if !g.name.is_empty() => format!("{group_id} ({})", one_line(&g.name)),
        _ => group_id.to_owned(),
    }
}

pub fn sg_peer(inventory: &Inventory, peer: &SgPeer) -> String {
    match peer {
        SgPeer::Cidr(net) => net.to_string(),
        SgPeer::PrefixList(id) => match inventory.prefix_lists.get(id).and_then(|p| p.name.as_deref()) {
            Some(name) => format!("{id} ({})", one_line(name)),
            None => id.clone(),
        },
        SgPeer::Group { group_id, .. } => group_ref(inventory, group_id),
    }
}

/// `tcp 1433 from sg-0abc (orders-app)`, one line (descriptions lose their line breaks).
pub fn sg_rule(inventory: &Inventory, rule: &SgRule, egress: bool) -> String {
    let mut out = rule_protocol(rule.protocol);
    let p = ports(rule.ports);
    if !p.is_empty() && rule.protocol != Protocol::All {
        out.push(' ');
        out.push_str(&p);
    }
    out.push_str(if egress { " to " } else { " from " });
    out.push_str(&sg_peer(inventory, &rule.peer));
    if let Some(d) = rule.description.as_deref().filter(|d| !d.trim().is_empty()) {
        out.push_str("  # ");
        out.push_str(&one_line(d));
    }
    out
}

/// `100 allow tcp 80 from 192.168.0.0/16`, `* deny all traffic from 0.0.0.0/0`.
pub fn nacl_entry(entry: &NaclEntry) -> String {
    let number = if entry.rule_number >= wavegap_core::inventory::NACL_DEFAULT_RULE_NUMBER {
        "*".to_owned()
    } else {
        entry.rule_number.to_string()
    };
    let mut out = format!("{number:>5} {} {}", entry.action.as_str(), rule_protocol(entry.protocol));
    let p = ports(entry.ports);
    if !p.is_empty() && entry.protocol != Protocol::All {
        out.push(' ');
        out.push_str(&p);
    }
    out.push_str(if entry.egress { " to " } else { " from " });
    out.push_str(&entry.cidr.to_string());
    out
}

/// Replaces line breaks and other control characters with spaces: text from flow logs and
/// configuration must never start a new line in a diff, a comment or a table row.
pub fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Escapes text for a Markdown table cell or paragraph: Markdown metacharacters get a
/// backslash, `<`, `>` and `&` become entities (GitHub and GitLab pass some raw HTML through).
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // With `[` and `]` escaped no link or image can form, so `(`, `)` and `!` stay as they are.
            '\\' | '`' | '*' | '_' | '[' | ']' | '{' | '}' | '#' | '+' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Markdown inline code: a backtick run longer than any inside, on one line.
pub fn inline_code(s: &str) -> String {
    // A `|` would end a table cell even inside a code span.
    let body = one_line(s).replace('|', "\\|");
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest + 1);
    if body.contains('`') { format!("{ticks} {body} {ticks}") } else { format!("`{body}`") }
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break; a leading
/// `=`, `+`, `-` or `@` is prefixed with `'` so no spreadsheet reads the data as a formula.
/// Borrowed when the field needs none of that, as most do.
pub fn csv_field(s: &str) -> Cow<'_, str> {
    let s = if s.chars().any(char::is_control) { Cow::Owned(one_line(s)) } else { Cow::Borrowed(s) };
    let s = if s.starts_with(['=', '+', '-', '@']) { Cow::Owned(format!("'{s}")) } else { s };
    if s.contains([',', '"']) { Cow::Owned(format!("\"{}\"", s.replace('"', "\"\""))) } else { s }
}

/// A single-quoted POSIX shell word.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@%+".contains(&b)) {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A Terraform (HCL) string literal: JSON escapes plus `${`/`%{` so nothing interpolates.
pub fn hcl_string(s: &str) -> String {
    let json = serde_json::Value::String(s.to_owned()).to_string();
    json.replace("${", "$${").replace("%{", "%%{")
}

/// Escapes text for XML/SVG content and attribute values.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A Markdown code fence longer than any backtick run inside `body`.
pub fn fence(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// A lower-case identifier made of `[a-z0-9_]`, for anchors and Terraform resource names.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() { "x".into() } else { trimmed.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(f: fn(&str) -> String, input: &str, expected: &str) {
        assert_eq!(f(input), expected, "{input:?}");
    }

    /// `csv_field` makes a new string exactly for the fields it changes.
    #[test]
    fn plain_csv_fields_are_the_unchanged_ones() {
        for s in [
            "",
            "web01",
            "10.0.0.5",
            "tcp/443",
            "a b",
            "a,b",
            "say \"hi\"",
            "=1+1",
            "+1",
            "-1",
            "@x",
            "x=1",
            "a\nb",
            "tab\there",
            "\u{7f}",
            "é",
            "x-y",
            "2024-05-06 00:00:00",
            "a;b",
        ] {
            let field = csv_field(s);
            assert_eq!(matches!(field, Cow::Borrowed(_)), field == s, "{s:?}");
        }
    }

    #[test]
    fn escapes() {
        check(markdown, "a|b *c* <script>", r"a\|b \*c\* &lt;script&gt;");
        check(markdown, "x\ny", "x y");
        check(shell_quote, "sg-0abc", "sg-0abc");
        check(shell_quote, "it's $(rm -rf /)", r"'it'\''s $(rm -rf /)'");
        check(shell_quote, "", "''");
        check(hcl_string, "a ${b} %{c} \"d\"\n", r#""a $${b} %%{c} \"d\"\n""#);
        check(xml, "<a href='x'>&</a>", "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
        check(one_line, "a\r\nb", "a  b");
        check(slug, "Orders <App> 2", "orders-app-2");
        check(slug, "<>", "x");
        check(fence, "a ``` b", "````");
        check(fence, "plain", "```");
        check(inline_code, "sg-1", "`sg-1`");
        check(inline_code, "a`b", "`` a`b ``");
        check(|s| csv_field(s).into_owned(), "plain", "plain");
        check(|s| csv_field(s).into_owned(), "a, \"b\"", "\"a, \"\"b\"\"\"");
        check(|s| csv_field(s).into_owned(), "=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0");
    }

    #[test]
    fn numbers_and_times() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500), "1.5 kB");
        assert_eq!(bytes(2_340_000_000), "2.3 GB");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(duration(3600), "1h");
        assert_eq!(duration(5430), "1h 30m 30s");
        assert_eq!(time(1_772_442_000), "2026-03-02 09:00:00 UTC");
        assert_eq!(rfc3339(1_772_442_000), "2026-03-02T09:00:00Z");
        assert_eq!(service(6, 443), "tcp/443");
        assert_eq!(service(1, 0), "icmp");
        assert_eq!(service_name(17, 1434), "SQL Server Browser");
    }
}
