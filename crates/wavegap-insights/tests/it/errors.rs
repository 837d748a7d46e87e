use wavegap_insights::{Query, QueryError};

#[track_caller]
fn check(query: &str, line: usize, column: usize, token: &str, message: &str) {
    let err: QueryError = Query::parse(query).expect_err(query);
    assert_eq!((err.line, err.column, err.token.as_str()), (line, column, token), "{query}: {err}");
    assert!(err.message.contains(message), "{query}: {}", err.message);
}

#[test]
fn malformed_queries_point_at_the_token() {
    check("", 1, 1, "end of query", "empty");
    check("stats count(*) by srcAddr |", 1, 28, "end of query", "expected a command");
    check("filter srcAddr = ", 1, 18, "end of query", "value was expected");
    check("fields srcAddr\n| pattern @message", 2, 3, "pattern", "not supported");
    check("fields srcAddr\n| frobnicate x", 2, 3, "frobnicate", "unknown command");
    check("filter nosuchfn(srcAddr)", 1, 8, "nosuchfn", "unknown or unsupported function");
    check("filter srcAddr like /[/", 1, 21, "/[/", "invalid regular expression");
    check("filter srcAddr = \"abc", 1, 18, "\"abc", "unterminated string");
    check("stats srcAddr by dstAddr", 1, 7, "srcAddr", "aggregate function");
    check("filter sum(bytes) > 1", 1, 8, "sum", "only allowed in `stats`");
    check("limit 0", 1, 7, "0", "positive whole number");
    check("stats count(*) by bin(srcAddr)", 1, 19, "bin", "time span");
    check("filter isIpv4InSubnet(srcAddr, \"10.0.0.0/33\")", 1, 8, "isIpv4InSubnet", "CIDR");
    check("parse @message \"* *\" as a", 1, 16, "\"* *\"", "2 `*` but 1 field");
    check("stats count(*) | parse @message \"*\" as a", 1, 18, "parse", "not supported");
    check("filter srcAddr = 1 srcPort", 1, 20, "srcPort", "expected `|`");
    check("filter a in 1", 1, 13, "1", "`[`");
    check("stats pct(bytes) by a", 1, 7, "pct", "takes 2 argument");
}

#[test]
fn error_message_names_line_column_and_token() {
    let err = Query::parse("fields a\n  | filter b = ").unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed query at line 2, column 16 near `end of query`: the query ends where a value was expected"
    );
}

/// Thousands of parentheses, `not`s or nested calls are a located error, not a stack overflow;
/// nesting a real query would use still parses.
#[test]
fn hostile_nesting_is_a_located_error() {
    let deep = |open: &str, close: &str, n: usize| format!("filter {}srcPort = 1{}", open.repeat(n), close.repeat(n));
    for query in [
        deep("(", ")", 4_500),
        deep("not ", "", 10_000),
        format!("filter {}srcPort{} = 1", "abs(".repeat(5_000), ")".repeat(5_000)),
        format!("filter srcPort = {}1", "-".repeat(10_000)),
        format!("filter srcPort = 2{}", "^2".repeat(10_000)),
    ] {
        let err = Query::parse(&query).expect_err("too deep");
        assert!(err.message.contains("nests deeper than 128 levels"), "{}", err.message);
        assert_eq!(err.line, 1);
    }
    Query::parse(&deep("(", ")", 40)).unwrap();
    Query::parse(&deep("not ", "", 40)).unwrap();
}
