//! Snapshots: written, loaded, split into per-call files, and the bench generator's shape.

use std::fs;
use std::path::Path;

use wavegap_resolver::ec2json::Snapshot;
use wavegap_resolver::snapshot::MAX_SNAPSHOT_BYTES;
use wavegap_resolver::{Error, load_inventory, load_snapshot, testing};

/// Writes each top-level key of a snapshot as its own `describe-….json`, like AWS CLI outputs.
fn split_into_cli_files(snapshot: &Snapshot, dir: &Path) {
    let value = serde_json::to_value(snapshot).unwrap();
    for (key, items) in value.as_object().unwrap() {
        let name = format!("describe-{}.json", key.to_ascii_lowercase());
        let mut obj = serde_json::Map::new();
        obj.insert(key.clone(), items.clone());
        fs::write(dir.join(name), serde_json::to_string_pretty(&obj).unwrap()).unwrap();
    }
}

#[tokio::test]
async fn snapshot_file_and_cli_directory_load_the_same_inventory() {
    let moto = testing::moto();
    let seeded = testing::seed(&moto).await;
    let wave = testing::wave(&seeded);
    let resolved = moto.resolver().resolve(&wave).await.expect("resolve");
    let tmp = tempfile::tempdir().unwrap();

    let file = tmp.path().join("inventory.json");
    std::fs::write(&file, wavegap_resolver::snapshot::to_json(&resolved.snapshot)).unwrap();
    let loaded = load_snapshot(&file).unwrap();
    assert_eq!(loaded, resolved.snapshot);
    assert_eq!(&loaded.to_inventory().unwrap(), resolved.inventory());

    let dir = tmp.path().join("cli");
    fs::create_dir(&dir).unwrap();
    split_into_cli_files(&resolved.snapshot, &dir);
    // A second copy of some VPCs (as from a re-run describe-vpcs) must not duplicate anything.
    fs::write(
        dir.join("more-vpcs.json"),
        serde_json::json!({ "Vpcs": resolved.snapshot.vpcs, "NextToken": null }).to_string(),
    )
    .unwrap();
    assert_eq!(&load_inventory(&dir).unwrap(), resolved.inventory());

    // The saved file has the EC2 response keys, PascalCase, sorted by id.
    let text = fs::read_to_string(&file).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    for key in wavegap_resolver::ec2json::SNAPSHOT_KEYS {
        assert!(keys.contains(&key), "{key} missing");
    }
    let eni = &value["NetworkInterfaces"][0];
    assert!(eni["NetworkInterfaceId"].as_str().unwrap().starts_with("eni-"));
    assert!(eni["PrivateIpAddresses"][0]["Primary"].is_boolean());
    let pl = &value["ManagedPrefixLists"][0];
    assert_eq!(pl["Entries"].as_array().unwrap().len(), 2);
    // Saving twice gives the same bytes (deterministic output).
    std::fs::write(&file, wavegap_resolver::snapshot::to_json(&resolved.snapshot)).unwrap();
    assert_eq!(fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn inventory_round_trips_through_ec2_json() {
    let text = include_str!("../fixtures/bench-demo-inventory.json");
    let snapshot: Snapshot = serde_json::from_str(text).unwrap();
    let inventory = snapshot.to_inventory().unwrap();
    let back = Snapshot::from_inventory(&inventory).to_inventory().unwrap();
    assert_eq!(back, inventory);
}

#[test]
fn the_bench_generators_inventory_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("inventory.json");
    fs::write(&file, include_str!("../fixtures/bench-demo-inventory.json")).unwrap();
    let inv = load_inventory(&file).unwrap();
    assert_eq!(inv.vpcs.len(), 2);
    assert_eq!(inv.subnets.len(), 4);
    assert_eq!(inv.enis.len(), 8);
    assert_eq!(inv.instances.len(), 6);
    assert_eq!(inv.security_groups.len(), 6);
    assert_eq!(inv.nacls.len(), 3);
    assert_eq!(inv.flow_logs.len(), 2);
    assert_eq!(inv.nat_gateways.len(), 1);
    let web = inv.eni_by_ip("10.0.0.6".parse().unwrap()).expect("web server");
    assert!(inv.flow_logs_for_eni(web).next().is_some());
    let fs01 = inv.instances.values().find(|i| i.name.as_deref() == Some("fs01")).unwrap();
    assert_eq!(fs01.platform, Some(wavegap_core::inventory::Os::Windows));
    let acl = inv.nacls.values().find(|a| a.name.as_deref() == Some("acl-app-vpc-01-servers")).unwrap();
    assert_eq!(acl.entries.iter().filter(|e| e.rule_number == 32767).count(), 2);
}

#[test]
fn load_errors_name_the_file_and_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let check = |name: &str, content: Option<&str>, expected: &str| {
        let path = tmp.path().join(name);
        if let Some(c) = content {
            fs::write(&path, c).unwrap();
        }
        let err = load_inventory(&path).unwrap_err();
        let shown = err.to_string().replace(&tmp.path().display().to_string(), "TMP");
        assert_eq!(shown, expected, "{err:?}");
        err
    };
    let err = check("missing.json", None, "cannot read TMP/missing.json");
    assert!(matches!(err, Error::Read { .. }));
    check("bad.json", Some("{\"Vpcs\": [}"), "TMP/bad.json: not valid EC2 JSON");
    check(
        "other.json",
        Some("{\"Buckets\": []}"),
        "TMP/other.json: none of the EC2 response keys (Vpcs, Subnets, NetworkInterfaces, Reservations, SecurityGroups, NetworkAcls, FlowLogs, ManagedPrefixLists, VpcPeeringConnections, NatGateways)\nhint: a snapshot holds the output of `aws ec2 describe-… --output json`, e.g. {\"Vpcs\": [...]}",
    );
    check(
        "cidr.json",
        Some("{\"Vpcs\": [{\"VpcId\": \"vpc-1\", \"CidrBlock\": \"10.0.0.0/33\"}]}"),
        "Vpcs[0]: invalid CidrBlock `10.0.0.0/33` in vpc-1",
    );
    check(
        "subnetless.json",
        Some(
            "{\"NetworkInterfaces\": [{\"NetworkInterfaceId\": \"eni-1\", \"SubnetId\": \"subnet-1\", \"VpcId\": \"vpc-1\"}, {\"NetworkInterfaceId\": \"eni-2\", \"VpcId\": \"vpc-1\"}]}",
        ),
        "NetworkInterfaces[1]: eni-2 has no SubnetId",
    );
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    assert!(matches!(load_snapshot(&empty).unwrap_err(), Error::EmptyDirectory { .. }));
    // A device is never read (it would not end), nor is a file larger than any snapshot.
    let err = load_snapshot(Path::new("/dev/zero")).unwrap_err();
    assert!(matches!(err, Error::NotAFile { .. }), "{err:?}");
    assert!(err.to_string().starts_with("/dev/zero: not a regular file or directory"), "{err}");
    let huge = tmp.path().join("huge.json");
    fs::File::create(&huge).unwrap().set_len(MAX_SNAPSHOT_BYTES + 1).unwrap();
    let err = load_snapshot(&huge).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("more than the 1 GiB a snapshot may have"), "{err}");
}

#[test]
fn the_shipped_demo_inventory_loads() {
    let inv = load_inventory(&testing::repo_root().join("waves/demo/inventory.json")).unwrap();
    for ip in ["10.0.0.6", "10.0.0.7", "10.0.0.8"] {
        let eni = inv.eni_by_ip(ip.parse().unwrap()).unwrap_or_else(|| panic!("{ip}"));
        assert!(inv.nacl_for_subnet(&eni.subnet_id).is_some(), "{ip}");
        assert!(inv.flow_logs_for_eni(eni).next().is_some(), "{ip}");
        for sg in &eni.security_groups {
            assert!(inv.security_groups.contains_key(sg), "{sg}");
        }
    }
}

#[test]
fn raw_cli_prefix_lists_and_entries_attached_with_jq_load() {
    let tmp = tempfile::tempdir().unwrap();
    // `aws ec2 describe-managed-prefix-lists` prints `PrefixLists`; the README's jq recipe
    // attaches the entries as `ManagedPrefixLists[].Entries`.
    fs::write(
        tmp.path().join("describe-managed-prefix-lists.json"),
        r#"{"PrefixLists": [{"PrefixListId": "pl-1", "PrefixListName": "raw", "MaxEntries": 5}]}"#,
    )
    .unwrap();
    fs::write(
        tmp.path().join("prefix-list-pl-2.json"),
        r#"{"ManagedPrefixLists": [{"PrefixListId": "pl-2", "Entries": [{"Cidr": "192.168.0.0/24"}]}]}"#,
    )
    .unwrap();
    let inv = load_inventory(tmp.path()).unwrap();
    assert_eq!(inv.prefix_lists["pl-1"].name.as_deref(), Some("raw"));
    assert!(inv.prefix_lists["pl-1"].entries.is_empty());
    assert_eq!(inv.prefix_lists["pl-2"].entries, ["192.168.0.0/24".parse().unwrap()]);
}
