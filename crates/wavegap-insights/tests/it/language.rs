use wavegap_core::flowlog::FlowFormat;
use wavegap_insights::{Event, Query};

use crate::{LINES, check, events, run};

#[test]
fn aws_sample_queries_run_unchanged() {
    check(
        "stats sum(packets) as packetsTransferred by srcAddr, dstAddr | sort packetsTransferred desc | limit 15",
        "srcAddr=10.0.0.6 dstAddr=192.168.20.5 packetsTransferred=314
         srcAddr=172.31.16.139 dstAddr=172.31.16.21 packetsTransferred=20
         srcAddr=172.31.9.69 dstAddr=172.31.9.12 packetsTransferred=20
         srcAddr=192.168.1.9 dstAddr=10.0.0.6 packetsTransferred=10
         srcAddr=10.0.0.7 dstAddr=10.0.0.8 packetsTransferred=6
         srcAddr=172.31.16.139 dstAddr=203.0.113.12 packetsTransferred=4
         srcAddr=203.0.113.12 dstAddr=172.31.16.139 packetsTransferred=4
         srcAddr=- dstAddr=-",
    );
    check(
        r#"filter isIpv4InSubnet(srcAddr, "172.31.0.0/16") | stats sum(bytes) as bytesTransferred by dstAddr | sort bytesTransferred desc | limit 15"#,
        "dstAddr=172.31.16.21 bytesTransferred=4249
         dstAddr=172.31.9.12 bytesTransferred=4249
         dstAddr=203.0.113.12 bytesTransferred=336",
    );
    check("filter protocol=17 | stats count(*) by srcAddr", "srcAddr=10.0.0.6 count(*)=1");
    check(
        r#"filter logStatus="SKIPDATA" | stats count(*) by bin(1h) as t | sort t"#,
        "t=2015-05-10 18:00:00.000 count(*)=1",
    );
    check(
        "filter (dstAddr like '10.0.0.8' and srcAddr like '10.0.') | stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10",
        "srcAddr=10.0.0.7 dstAddr=10.0.0.8 bytesTransferred=312",
    );
}

#[test]
fn hand_written_triage_runs_unchanged() {
    check(
        r#"filter action="REJECT" and dstAddr like /^(10\.|192\.168\.)/ and srcAddr like /^(10\.|192\.168\.)/
  and (srcAddr = "10.0.0.6" or dstAddr = "10.0.0.6" or srcAddr = "10.0.0.7" or dstAddr = "10.0.0.7")
| stats count(*) as records by srcAddr, dstAddr, dstPort, protocol
| sort records desc | limit 5"#,
        "srcAddr=10.0.0.7 dstAddr=10.0.0.8 dstPort=1433 protocol=6 records=2
         srcAddr=192.168.1.9 dstAddr=10.0.0.6 dstPort=443 protocol=6 records=1",
    );
}

#[test]
fn planner_queries_run() {
    check(
        r#"fields least(srcPort, dstPort) as port
| filter (srcAddr in ["10.0.0.6","10.0.0.7"] or dstAddr in ["10.0.0.6","10.0.0.7"]) and (isIpv4InSubnet(srcAddr, "10.0.0.0/8") or isIpv4InSubnet(srcAddr, "192.168.0.0/16"))
| stats count(*) as records, sum(packets) as packets, sum(bytes) as bytes, min(startTime) as firstSeen, max(endTime) as lastSeen,
  min(srcPort) as minSrcPort, max(srcPort) as maxSrcPort, min(dstPort) as minDstPort, max(dstPort) as maxDstPort
  by srcAddr, dstAddr, port, protocol, action, interfaceId, @log
| limit 10000"#,
        "srcAddr=10.0.0.6 dstAddr=192.168.20.5 port=514 protocol=17 action=ACCEPT interfaceId=eni-33333333ccccccccc @log=123456789010:vpc-flow-logs records=1 packets=314 bytes=118378 firstSeen=1714953762 lastSeen=1714954199 minSrcPort=58367 maxSrcPort=58367 minDstPort=514 maxDstPort=514
         srcAddr=10.0.0.7 dstAddr=10.0.0.8 port=1433 protocol=6 action=REJECT interfaceId=eni-22222222bbbbbbbbb @log=123456789010:vpc-flow-logs records=2 packets=6 bytes=312 firstSeen=1714953732 lastSeen=1714953813 minSrcPort=56691 maxSrcPort=56692 minDstPort=1433 maxDstPort=1433
         srcAddr=192.168.1.9 dstAddr=10.0.0.6 port=443 protocol=6 action=REJECT interfaceId=eni-33333333ccccccccc @log=123456789010:vpc-flow-logs records=1 packets=10 bytes=5000 firstSeen=1714953700 lastSeen=1714953760 minSrcPort=50000 maxSrcPort=50000 minDstPort=443 maxDstPort=443",
    );
    check(
        r#"filter logStatus = "SKIPDATA" | stats count(*) as records by interfaceId"#,
        "interfaceId=eni-11111111aaaaaaaaa records=1",
    );
}

#[test]
fn custom_formats_via_parse_at_message() {
    let format = FlowFormat::from_header("version interface-id srcaddr dstaddr tcp-flags action").unwrap();
    let lines = [
        "3 eni-1 10.0.0.1 10.0.0.2 2 ACCEPT",
        "3 eni-1 10.0.0.1 10.0.0.2 18 ACCEPT",
        "3 eni-2 10.0.0.2 10.0.0.1 19 REJECT",
    ];
    let evs: Vec<Event<'_>> = lines
        .iter()
        .map(|m| Event { message: m, timestamp: 0, ingestion_time: 0, log_stream: None, log: "1:g", format: &format })
        .collect();
    let q = Query::parse(
        r#"parse @message "* * * * * *" as v, eni, src, dst, flags, act | stats count(*) as n by src, flags, @logStream | sort n desc"#,
    )
    .unwrap();
    let r = q.run(evs.iter().copied());
    assert_eq!(
        crate::render(&r),
        "src=10.0.0.1 flags=18 @logStream=eni-1 n=1\nsrc=10.0.0.1 flags=2 @logStream=eni-1 n=1\nsrc=10.0.0.2 flags=19 @logStream=eni-2 n=1"
            .replace("flags=18 @logStream=eni-1 n=1\nsrc=10.0.0.1 flags=2", "flags=2 @logStream=eni-1 n=1\nsrc=10.0.0.1 flags=18")
    );
    // Discovered camelCase fields of the custom format, and the regex form of parse.
    let q = Query::parse(r"filter tcpFlags = 2 or tcpFlags = 19 | parse @message /^(?<ver>\d+) (?<eni>\S+)/ | stats count(*) by eni, ver").unwrap();
    assert_eq!(crate::render(&q.run(evs.iter().copied())), "eni=eni-1 ver=3 count(*)=1\neni=eni-2 ver=3 count(*)=1");
}

#[test]
fn comparisons_are_numeric_when_both_sides_are_numbers() {
    check("filter dstPort = \"443\" | stats count(*) as n", "n=1");
    check("filter dstPort > 1000 and dstPort < 2000 | stats count(*) as n", "n=2");
    check("filter dstPort >= 3389 | stats count(*) as n", "n=1");
    check("filter srcAddr > \"192\" | stats count(*) as n", "n=2");
    // `-` is text, so it differs from 6: two ICMP, one UDP and the NODATA/SKIPDATA records.
    check("filter protocol != 6 | stats count(*) as n", "n=5");
    check("filter srcAddr not in [\"10.0.0.7\", \"10.0.0.6\"] | stats count(*) as n", "n=7");
    check("filter dstPort in [22, 443] | stats count(*) as n", "n=2");
    check("filter srcAddr not like /^10\\./ | stats count(*) as n", "n=7");
    check("filter srcAddr =~ /^10\\./ | stats count(*) as n", "n=3");
    check("filter not (action = \"ACCEPT\") | stats count(*) as n", "n=7");
    check("filter (bytes + 1) * 2 > 10000 and bytes % 2 = 0 | stats count(*) as n", "n=2");
    check("filter packets ^ 2 = 400 | stats count(*) as n", "n=2");
}

#[test]
fn functions() {
    check(
        "filter srcAddr = \"10.0.0.6\" | fields concat(srcAddr, \":\", srcPort) as a, strlen(interfaceId) as b, toupper(action) as c, tolower(\"AbC\") as d, abs(-2.5) as e, floor(2.7) as f, ceil(2.1) as g, greatest(srcPort, dstPort) as h, least(srcPort, dstPort) as i, isValidIp(srcAddr) as j, isValidIpV6(srcAddr) as k, ispresent(nothere) as l, coalesce(nothere, dstAddr) as m, fromMillis(0) as n, toMillis(@timestamp) as o",
        "a=10.0.0.6:58367 b=21 c=ACCEPT d=abc e=2.5 f=2 g=3 h=58367 i=514 j=1 k=0 l=0 m=192.168.20.5 n=1970-01-01 00:00:00.000 o=1714953762000",
    );
    check(
        "filter isIpInSubnet(srcAddr, \"192.168.0.0/16\") or isIpv6InSubnet(srcAddr, \"2001:db8::/32\") | fields srcAddr",
        "srcAddr=192.168.1.9",
    );
    check(
        "filter interfaceId = \"eni-33333333ccccccccc\" | fields substr(interfaceId, 0, 3) as a, replace(action, \"E\", \"e\") as b, strcontains(action, \"CC\") as c, trim(\"  x \") as d | sort a",
        "a=eni b=ACCePT c=1 d=x\na=eni b=ReJeCT c=0 d=x",
    );
}

#[test]
fn aggregates() {
    check(
        "filter logStatus = \"OK\" | stats count(*) as n, count(srcAddr) as c, count_distinct(srcAddr) as d, sum(bytes) as s, avg(packets) as a, min(srcAddr) as mi, max(dstPort) as ma, pct(bytes, 50) as p50, pct(bytes, 90) as p90, stddev(packets) as sd, earliest(srcAddr) as e, latest(srcAddr) as l",
        "n=8 c=8 d=6 s=132860 a=47.25 mi=10.0.0.6 ma=3389 p50=336 p90=118378 sd=108.02479874018347 e=172.31.16.139 l=10.0.0.7",
    );
    check("filter logStatus = \"NOPE\" | stats count(*) as n, sum(bytes) as s", "n=0");
    check("stats count(*) as n by action | sort n desc", "action=REJECT n=5\naction=ACCEPT n=3\naction=- n=2");
    check(
        "stats sum(bytes) / 1000 as kb, count(*) * 2 as twice by protocol | filter twice > 2 | sort kb desc",
        "protocol=6 kb=13.81 twice=10\nprotocol=1 kb=0.672 twice=4\nprotocol=- twice=4",
    );
    // A key that names a column and one computed from it give the same order.
    for key in ["kb", "kb * 1"] {
        check(
            &format!("stats sum(bytes) / 1000 as kb by protocol | sort {key} desc"),
            "protocol=17 kb=118.378\nprotocol=6 kb=13.81\nprotocol=1 kb=0.672\nprotocol=-",
        );
    }
    check(
        "stats count(*) as n by bin(1h) | sort bin(1h) desc | limit 2",
        "bin(1h)=2024-05-06 00:00:00.000 n=4\nbin(1h)=2015-05-29 16:00:00.000 n=2",
    );
    check("stats count(*) as n by action | stats sum(n) as total, count(*) as groups", "total=10 groups=3");
}

#[test]
fn records_fields_display_sort_dedup_limit() {
    check(
        "fields @timestamp, srcAddr, dstPort | filter action = \"REJECT\" | sort dstPort desc | limit 3",
        "@timestamp=2014-12-14 04:06:50.000 srcAddr=172.31.9.69 dstPort=3389
         @timestamp=2024-05-06 00:03:12.000 srcAddr=10.0.0.7 dstPort=1433
         @timestamp=2024-05-06 00:02:12.000 srcAddr=10.0.0.7 dstPort=1433",
    );
    check(
        "filter action = \"REJECT\" | fields srcAddr, dstAddr | dedup srcAddr | display srcAddr",
        "srcAddr=10.0.0.7\nsrcAddr=192.168.1.9\nsrcAddr=172.31.16.139\nsrcAddr=172.31.9.69",
    );
    // Newest first without sort; the API-level limit caps rows.
    let q = Query::parse("fields @logStream, @log, @message | filter protocol = 17").unwrap();
    let format = FlowFormat::default_v2();
    let r = q.run(events(LINES, &format));
    assert_eq!(r.columns(), ["@logStream", "@log", "@message"]);
    assert_eq!(r.get(0, "@message"), Some(LINES[8]));
    let r = q.executor().with_limit(1);
    let _ = r;
    let q = Query::parse("fields @timestamp | filter ispresent(srcPort)").unwrap();
    let mut exec = q.executor().with_limit(2);
    exec.push_all(events(LINES, &format));
    let r = exec.finish();
    assert_eq!(crate::render(&r), "@timestamp=2024-05-06 00:03:12.000\n@timestamp=2024-05-06 00:02:42.000");
    assert_eq!((r.statistics.records_scanned, r.statistics.records_matched), (10, 10));
}

#[test]
fn backticks_comments_and_case() {
    check(
        "# rejected only\nFILTER `action` = \"REJECT\" AND `srcAddr` LIKE \"10.\" # trailing\n| STATS count(*) AS n BY `dstPort`",
        "dstPort=1433 n=2",
    );
}

#[test]
fn parallel_partials_merge_to_the_same_answer() {
    let format = FlowFormat::default_v2();
    for text in [
        "stats count(*) as n, sum(bytes) as b, avg(bytes) as a, stddev(bytes) as s, pct(bytes, 50) as p, count_distinct(dstAddr) as d, earliest(srcAddr) as e, latest(srcAddr) as l, min(srcAddr) as mi, max(srcAddr) as ma by action",
        "fields srcAddr, @timestamp | sort @timestamp desc | limit 4",
        "filter ispresent(srcPort) | fields srcAddr",
    ] {
        let q = Query::parse(text).unwrap();
        let whole = q.run(events(LINES, &format));
        let mut merged = q.executor();
        for chunk in LINES.chunks(3) {
            let mut part = q.executor();
            part.push_all(events(chunk, &format));
            merged.merge(part);
        }
        assert_eq!(whole, merged.finish(), "{text}");
    }
}

#[test]
fn lines_that_do_not_match_the_format_have_only_system_fields() {
    let format = FlowFormat::default_v2();
    let lines = ["garbage line", LINES[0]];
    let q = Query::parse("stats count(*) as n, count(srcAddr) as c, count(@message) as m").unwrap();
    let mut bad = Vec::new();
    let mut exec = q.executor();
    exec.push_checked(events(&lines, &format), |e| bad.push(e.message.to_owned()));
    assert_eq!(crate::render(&exec.finish()), "n=2 c=1 m=2");
    assert_eq!(bad, ["garbage line"]);
    assert_eq!(run("fields @message | filter srcAddr = \"x\"", &lines).len(), 0);
}

#[test]
fn in_lists_compare_as_numbers_or_text_like_any_comparison() {
    // Numbers and text in one list: `dstPort` is text that reads as a number.
    check("filter dstPort in [443, \"22\", \"abc\"] | stats count(*) as n", "n=2");
    check("filter protocol in [\"06\", \"1.0\"] | stats count(*) as n", "n=7");
    check("filter dstPort in [\"-\"] | stats count(*) as n", "n=2");
    check("filter srcAddr in [\"10.0.0.6\", 17, \"172.31.16.139\"] | stats count(*) as n", "n=3");
    check("filter srcAddr not in [\"-\", \"10.0.0.7\"] | stats count(*) as n", "n=6");
    // Text compares as written: an address in another spelling is another text.
    check("filter srcAddr in [\"010.0.0.6\", \"10.0.0.6 \"] | stats count(*) as n", "n=0");
    // A missing value is in no list and, as with `!=`, not outside one either.
    check("filter nothere in [\"x\"] | stats count(*) as n", "n=0");
    check("filter nothere not in [\"x\"] | stats count(*) as n", "n=0");
    // A computed number against text and numbers.
    check("filter least(srcPort, dstPort) in [\"22\", 443, 514] | stats count(*) as n", "n=3");
    check("filter least(srcPort, dstPort) not in [0] | stats count(*) as n", "n=6");
    // Items that are not constants are compared one by one (`-` = `-` on the two NODATA and
    // SKIPDATA records).
    check("filter srcAddr in [dstAddr, \"10.0.0.6\"] | stats count(*) as n", "n=3");
}

#[test]
fn computed_fields_feed_tests_and_keys() {
    check(
        "fields coalesce(pktSrcAddr, srcAddr) as a, least(srcPort, dstPort) as p
| filter a in [\"10.0.0.7\", \"192.168.1.9\"] and p in [1433, 443]
| stats count(*) as n by a, p",
        "a=10.0.0.7 p=1433 n=2\na=192.168.1.9 p=443 n=1",
    );
    // One computation read by several subnet tests, a test and a key.
    check(
        r#"filter isIpv4InSubnet(coalesce(nothere, srcAddr), "172.31.0.0/16") and not isIpv4InSubnet(coalesce(nothere, srcAddr), "172.31.16.0/24")
| stats count(*) as n by coalesce(nothere, srcAddr) as a"#,
        "a=172.31.9.69 n=1",
    );
    // A name defined twice: each test reads the definition in force where it is written.
    check(
        r#"fields srcAddr as a | filter a in ["10.0.0.7"] | fields dstAddr as a | stats count(*) as n by a"#,
        "a=10.0.0.8 n=2",
    );
    check(r#"fields coalesce(srcAddr, "x") as a | filter a = "-" | stats count(*) as n by a"#, "a=- n=2");
}

#[test]
fn subnet_tests_read_each_family_as_their_function_does() {
    let format = FlowFormat::from_header("version srcaddr dstaddr action").unwrap();
    let lines = [
        "5 2001:db8::6 10.0.0.1 ACCEPT",
        "5 10.0.0.6 2001:db8::1 REJECT",
        "5 ::ffff:10.0.0.6 - ACCEPT",
        "5 010.0.0.6 x ACCEPT",
        "5 - - -",
    ];
    let evs: Vec<Event<'_>> = lines
        .iter()
        .map(|m| Event { message: m, timestamp: 0, ingestion_time: 0, log_stream: None, log: "1:g", format: &format })
        .collect();
    let count = |text: &str| {
        let q = Query::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        crate::render(&q.run(evs.iter().copied()))
    };
    for (filter, n) in [
        (r#"isIpv4InSubnet(srcAddr, "0.0.0.0/0")"#, 1),
        (r#"isIpv6InSubnet(srcAddr, "::/0")"#, 2),
        (r#"isIpInSubnet(srcAddr, "10.0.0.0/8")"#, 1),
        (r#"isIpInSubnet(srcAddr, "::ffff:0:0/96")"#, 1),
        (
            r#"isIpv6InSubnet(srcAddr, "2001:db8::/32") or isIpv4InSubnet(srcAddr, "10.0.0.0/8") or isIpv6InSubnet(srcAddr, "::ffff:0:0/96")"#,
            3,
        ),
        (r#"isIpv4InSubnet(dstAddr, "10.0.0.0/8") and srcAddr in ["2001:db8::6"]"#, 1),
        (r#"srcAddr in ["2001:DB8::6"]"#, 0),
        (r#"isIpv4InSubnet(srcAddr, "10.0.0.0/8") and isIpv6InSubnet(dstAddr, "2001:db8::/64")"#, 1),
        (r#"not isIpv4InSubnet(srcAddr, "10.0.0.0/8")"#, 4),
        (r#"isIpv4InSubnet(nothere, "0.0.0.0/0") or isIpv6InSubnet(nothere, "::/0")"#, 0),
    ] {
        assert_eq!(count(&format!("filter {filter} | stats count(*) as n")), format!("n={n}"), "{filter}");
    }
}

#[test]
fn one_query_over_formats_with_and_without_packet_addresses() {
    let v2 = FlowFormat::default_v2();
    let v5 = FlowFormat::from_header("version srcaddr dstaddr pkt-srcaddr pkt-dstaddr action").unwrap();
    let packet_lines = ["5 10.0.0.5 10.0.0.8 10.0.0.7 10.0.0.8 REJECT", "5 10.0.0.7 10.0.0.8 - 10.0.0.8 ACCEPT"];
    let mut evs = crate::events(LINES, &v2);
    evs.extend(packet_lines.iter().map(|m| Event {
        message: m,
        timestamp: 0,
        ingestion_time: 0,
        log_stream: None,
        log: "1:g",
        format: &v5,
    }));
    let q = Query::parse(
        r#"filter coalesce(pktSrcAddr, srcAddr) in ["10.0.0.7"] or coalesce(pktSrcAddr, srcAddr) = "-"
| stats count(*) as n by coalesce(pktSrcAddr, srcAddr) as a, action"#,
    )
    .unwrap();
    // v2 lines have no packet address (srcAddr counts); a `-` packet address is text, not
    // missing, so it wins over srcAddr.
    let want = "a=- action=- n=2\na=- action=ACCEPT n=1\na=10.0.0.7 action=REJECT n=3";
    assert_eq!(crate::render(&q.run(evs.iter().copied())), want);
    // The same, the events alternating formats in chunks merged afterwards.
    let mut merged = q.executor();
    for chunk in evs.chunks(3) {
        let mut part = q.executor();
        part.push_all(chunk.iter().copied());
        merged.merge(part);
    }
    assert_eq!(crate::render(&merged.finish()), want);
}

#[test]
fn stats_rows_are_in_key_order_numbers_before_text_missing_last() {
    check(
        "stats count(*) as n by dstPort",
        "dstPort=0 n=2\ndstPort=22 n=1\ndstPort=443 n=1\ndstPort=514 n=1\ndstPort=1433 n=2\ndstPort=3389 n=1\ndstPort=- n=2",
    );
    check(
        "filter protocol != 6 | stats count(*) as n by least(srcPort, dstPort) as p, protocol, nothere",
        "p=0 protocol=1 n=2\np=514 protocol=17 n=1\nprotocol=- n=2",
    );
    check(
        "stats count(*) as n by concat(action, \"\") as a, srcAddr like \"10.\" as ten | limit 3",
        "a=- ten=0 n=2\na=ACCEPT ten=0 n=2\na=ACCEPT ten=1 n=1",
    );
}

/// `Executor::unordered` changes the order of a `stats` result, never its rows; under a
/// limit that does not hold every group the key order still picks them.
#[test]
fn unordered_stats_give_the_same_rows_and_a_limit_keeps_the_key_order() {
    let format = FlowFormat::default_v2();
    let rows = |query: &str, unordered: bool, limit: usize| {
        let q = Query::parse(query).unwrap();
        let exec = q.executor().with_limit(limit);
        let mut exec = if unordered { exec.unordered() } else { exec };
        exec.push_all(events(LINES, &format));
        crate::render(&exec.finish()).lines().map(str::to_owned).collect::<Vec<_>>()
    };
    let query = "stats count(*) as n, sum(bytes) as b by srcAddr, dstAddr, dstPort";
    let sorted = rows(query, false, 10_000);
    let mut any = rows(query, true, 10_000);
    assert_eq!(sorted.len(), 8);
    any.sort();
    let mut sorted_by_text = sorted.clone();
    sorted_by_text.sort();
    assert_eq!(any, sorted_by_text);
    assert_eq!(rows(query, true, 3), sorted[..3]);
}
