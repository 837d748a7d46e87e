//! A proposed change as the commands that make it: the AWS CLI call fix.sh runs, the query
//! that tells a network ACL entry already there from a rule number taken by another entry,
//! and the Terraform resource fix.tf and the HTML report show, laid out as `terraform fmt`
//! writes it.

use std::fmt::Write as _;

use wavegap_core::findings::RuleChange;
use wavegap_core::inventory::{NaclEntry, PortMatch, Protocol, SgPeer, SgRule};

use crate::format;

/// The commands of one proposal. Every string is ready for its file: shell words for the
/// CLI, HCL for Terraform.
#[derive(Debug, Clone)]
pub struct Commands {
    /// The `aws` arguments (`ec2 authorize-security-group-ingress --group-id …`), each a
    /// shell word, without `aws` itself, the region or the profile (fix.sh adds them).
    pub cli_args: String,
    /// For a network ACL entry: a `describe-network-acls --query` expression that prints 1
    /// when the entry at that rule number is exactly the proposed one.
    pub present_query: Option<String>,
    /// The Terraform resource, named `tf_name`.
    pub terraform: String,
}

/// A Terraform attribute with its value as an HCL literal.
struct TfAttr {
    key: &'static str,
    value: String,
}

pub fn commands(change: &RuleChange, proposal: &str, tf_name: &str) -> Commands {
    match change {
        RuleChange::SgRule { group_id, egress, rule, .. } => Commands {
            cli_args: sg_cli(group_id, *egress, rule, proposal),
            present_query: None,
            terraform: terraform_block(
                if *egress { "aws_vpc_security_group_egress_rule" } else { "aws_vpc_security_group_ingress_rule" },
                tf_name,
                &sg_tf(group_id, rule, proposal),
            ),
        },
        RuleChange::NaclEntry { acl_id, entry, .. } => Commands {
            cli_args: nacl_cli(acl_id, entry),
            present_query: Some(nacl_present_query(entry)),
            terraform: terraform_block("aws_network_acl_rule", tf_name, &nacl_tf(acl_id, entry)),
        },
    }
}

/// The whole command for a person to copy: `aws …` with the wave's region and profile.
pub fn cli_line(cli_args: &str, region: Option<&str>, profile: Option<&str>) -> String {
    let mut line = format!("aws {cli_args}");
    for (flag, value) in [("--region", region), ("--profile", profile)] {
        if let Some(v) = value {
            let _ = write!(line, " {flag} {}", format::shell_quote(v));
        }
    }
    line
}

/// A Terraform resource block as `terraform fmt` writes it: two-space indent, the `=` of
/// consecutive one-line attributes aligned one column after the longest name.
fn terraform_block(tf_type: &str, name: &str, attrs: &[TfAttr]) -> String {
    let width = attrs.iter().map(|a| a.key.len()).max().unwrap_or(0);
    let mut out = format!("resource \"{tf_type}\" \"{name}\" {{\n");
    for a in attrs {
        let _ = writeln!(out, "  {:<width$} = {}", a.key, a.value);
    }
    out.push('}');
    out
}

/// `FromPort`/`ToPort` of a rule: none when it matches every protocol.
fn from_to(protocol: Protocol, ports: PortMatch) -> Option<(i32, i32)> {
    if protocol == Protocol::All { None } else { ports.ec2_from_to() }
}

fn description(rule: &SgRule, proposal: &str) -> String {
    rule.description.as_deref().map_or_else(|| format!("wavegap {proposal}"), format::one_line)
}

fn sg_cli(group_id: &str, egress: bool, rule: &SgRule, proposal: &str) -> String {
    let mut perm = serde_json::Map::new();
    perm.insert("IpProtocol".into(), rule.protocol.ec2_name().into());
    if let Some((from, to)) = from_to(rule.protocol, rule.ports) {
        perm.insert("FromPort".into(), from.into());
        perm.insert("ToPort".into(), to.into());
    }
    let mut peer = serde_json::Map::new();
    let key = match &rule.peer {
        SgPeer::Cidr(net) => {
            let (k, list) = if net.addr().is_ipv4() { ("CidrIp", "IpRanges") } else { ("CidrIpv6", "Ipv6Ranges") };
            peer.insert(k.into(), net.to_string().into());
            list
        }
        SgPeer::PrefixList(id) => {
            peer.insert("PrefixListId".into(), id.clone().into());
            "PrefixListIds"
        }
        SgPeer::Group { group_id, owner_id, .. } => {
            peer.insert("GroupId".into(), group_id.clone().into());
            if let Some(owner) = owner_id {
                peer.insert("UserId".into(), owner.clone().into());
            }
            "UserIdGroupPairs"
        }
    };
    let description = description(rule, proposal);
    if !description.is_empty() {
        peer.insert("Description".into(), description.into());
    }
    perm.insert(key.into(), serde_json::Value::Array(vec![peer.into()]));
    let json = serde_json::Value::Array(vec![perm.into()]).to_string();
    let command = if egress { "authorize-security-group-egress" } else { "authorize-security-group-ingress" };
    words(&["ec2", command, "--group-id", group_id, "--ip-permissions", &json])
}

fn nacl_cli(acl_id: &str, entry: &NaclEntry) -> String {
    let rule_number = entry.rule_number.to_string();
    let protocol = entry.protocol.ec2_number();
    let mut args: Vec<String> = [
        "ec2",
        "create-network-acl-entry",
        "--network-acl-id",
        acl_id,
        if entry.egress { "--egress" } else { "--ingress" },
        "--rule-number",
        &rule_number,
        "--protocol",
        &protocol,
    ]
    .map(str::to_owned)
    .to_vec();
    if let Some((a, b)) = from_to(entry.protocol, entry.ports) {
        if is_icmp(entry) {
            args.extend(["--icmp-type-code".into(), format!("Type={a},Code={b}")]);
        } else {
            args.extend(["--port-range".into(), format!("From={a},To={b}")]);
        }
    }
    args.push(if entry.cidr.addr().is_ipv4() { "--cidr-block" } else { "--ipv6-cidr-block" }.into());
    args.push(entry.cidr.to_string());
    args.push("--rule-action".into());
    args.push(entry.action.as_str().to_owned());
    words(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A `JMESPath` expression over `describe-network-acls` output (strings as JSON literals in backticks, so
/// the shell word needs no quote escapes): the number of entries equal to `entry` in
/// every field the API compares (1 when it is there, 0 when the number holds another entry).
fn nacl_present_query(entry: &NaclEntry) -> String {
    let mut tests = vec![
        format!("RuleNumber==`{}`", entry.rule_number),
        format!("Egress==`{}`", entry.egress),
        format!("RuleAction==`\"{}\"`", entry.action.as_str()),
        format!("Protocol==`\"{}\"`", entry.protocol.ec2_number()),
        if entry.cidr.addr().is_ipv4() {
            format!("CidrBlock==`\"{}\"`", entry.cidr)
        } else {
            format!("Ipv6CidrBlock==`\"{}\"`", entry.cidr)
        },
    ];
    if let Some((a, b)) = from_to(entry.protocol, entry.ports) {
        let (field, from, to) =
            if is_icmp(entry) { ("IcmpTypeCode", "Type", "Code") } else { ("PortRange", "From", "To") };
        tests.push(format!("{field}.{from}==`{a}` && {field}.{to}==`{b}`"));
    }
    format!("length(NetworkAcls[0].Entries[?{}])", tests.join(" && "))
}

/// A NACL entry's `from_to` is an ICMP type and code, not a port range.
fn is_icmp(entry: &NaclEntry) -> bool {
    matches!(entry.ports, PortMatch::Icmp(_))
}

fn words(args: &[&str]) -> String {
    args.iter().map(|a| format::shell_quote(a)).collect::<Vec<_>>().join(" ")
}

fn attr(key: &'static str, value: String) -> TfAttr {
    TfAttr { key, value }
}

fn sg_tf(group_id: &str, rule: &SgRule, proposal: &str) -> Vec<TfAttr> {
    let mut attrs = vec![
        attr("security_group_id", format::hcl_string(group_id)),
        attr("ip_protocol", format::hcl_string(&rule.protocol.ec2_name())),
    ];
    if let Some((from, to)) = from_to(rule.protocol, rule.ports) {
        attrs.push(attr("from_port", from.to_string()));
        attrs.push(attr("to_port", to.to_string()));
    }
    match &rule.peer {
        SgPeer::Cidr(net) if net.addr().is_ipv4() => {
            attrs.push(attr("cidr_ipv4", format::hcl_string(&net.to_string())));
        }
        SgPeer::Cidr(net) => attrs.push(attr("cidr_ipv6", format::hcl_string(&net.to_string()))),
        SgPeer::PrefixList(id) => attrs.push(attr("prefix_list_id", format::hcl_string(id))),
        SgPeer::Group { group_id, .. } => {
            attrs.push(attr("referenced_security_group_id", format::hcl_string(group_id)));
        }
    }
    attrs.push(attr("description", format::hcl_string(&description(rule, proposal))));
    attrs
}

fn nacl_tf(acl_id: &str, entry: &NaclEntry) -> Vec<TfAttr> {
    let mut attrs = vec![
        attr("network_acl_id", format::hcl_string(acl_id)),
        attr("rule_number", entry.rule_number.to_string()),
        attr("egress", entry.egress.to_string()),
        attr("protocol", format::hcl_string(&entry.protocol.ec2_number())),
        attr("rule_action", format::hcl_string(entry.action.as_str())),
    ];
    if entry.cidr.addr().is_ipv4() {
        attrs.push(attr("cidr_block", format::hcl_string(&entry.cidr.to_string())));
    } else {
        attrs.push(attr("ipv6_cidr_block", format::hcl_string(&entry.cidr.to_string())));
    }
    if let Some((a, b)) = from_to(entry.protocol, entry.ports) {
        let (from, to) = if is_icmp(entry) { ("icmp_type", "icmp_code") } else { ("from_port", "to_port") };
        attrs.extend([attr(from, a.to_string()), attr(to, b.to_string())]);
    }
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_blocks_align_their_equals_signs() {
        let attrs = [attr("network_acl_id", "\"acl-1\"".into()), attr("egress", "false".into())];
        assert_eq!(
            terraform_block("aws_network_acl_rule", "p1", &attrs),
            "resource \"aws_network_acl_rule\" \"p1\" {\n  network_acl_id = \"acl-1\"\n  egress         = false\n}"
        );
    }

    #[test]
    fn the_copied_command_names_region_and_profile() {
        assert_eq!(cli_line("ec2 x", Some("eu-west-1"), None), "aws ec2 x --region eu-west-1");
        assert_eq!(cli_line("ec2 x", Some("eu-west-1"), Some("a b")), "aws ec2 x --region eu-west-1 --profile 'a b'");
        assert_eq!(cli_line("ec2 x", None, None), "aws ec2 x");
    }
}
