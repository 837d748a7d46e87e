#!/usr/bin/env python3
"""DuckDB's answers to the queries of the accuracy test (tests/it/accuracy.rs).

usage: duckdb_answers.py DATA_DIR IPS_FILE > answers.json

Each entry is the SQL an independent engine runs for one Logs Insights query, with the
semantics wavegap-insights documents: values are text as written ('-' included), numbers are
compared as numbers, sums skip non-numbers, ordering without `sort` is by the `by` keys
ascending, ties in `sort` are broken the same way. Output: {name: [[value or null, ...], ...]}.
"""
import json
import os
import sys

import duckdb

data, ips_path = sys.argv[1], sys.argv[2]
ips = [x.strip() for x in open(ips_path) if x.strip()]
ip_list = ', '.join(f"'{ip}'" for ip in ips)
glob = os.path.join(data, 'AWSLogs/*/vpcflowlogs/*/*/*/*/*.log.gz').replace("'", "''")

con = duckdb.connect()
con.execute(f"""
CREATE TABLE raw AS SELECT * FROM read_csv('{glob}', delim = ' ', header = true,
    all_varchar = true, filename = true)
""")
# Typed views of the text columns; '-' and other non-numbers become NULL where a number is needed.
con.execute(r"""
CREATE VIEW f AS SELECT
    srcaddr, dstaddr, action, "log-status" AS logstatus, "interface-id" AS eni,
    TRY_CAST(srcport AS BIGINT) AS srcport, TRY_CAST(dstport AS BIGINT) AS dstport,
    TRY_CAST(protocol AS BIGINT) AS protocol, TRY_CAST(packets AS BIGINT) AS packets,
    TRY_CAST(bytes AS BIGINT) AS bytes, TRY_CAST(start AS BIGINT) AS start_s,
    TRY_CAST("end" AS BIGINT) AS end_s, dstport AS dstport_text, protocol AS protocol_text,
    regexp_extract(filename, '([0-9]+)_vpcflowlogs_[^_]+_(fl-[0-9a-f]+)_', ['a', 'f']) AS parts
FROM raw
""")

internal = "regexp_matches({c}, '^(10\\.|192\\.168\\.)')"
hour = "strftime(to_timestamp(floor(start_s / {s}) * {s}), '%Y-%m-%d %H:%M:%S.000')"
queries = {
    'sample_packets': """
        SELECT srcaddr, dstaddr, sum(packets) AS p FROM f GROUP BY ALL
        ORDER BY p DESC NULLS LAST, srcaddr, dstaddr LIMIT 15""",
    'sample_subnet_unchanged': """
        SELECT dstaddr, sum(bytes) AS b FROM f WHERE srcaddr LIKE '192.0.2.%' GROUP BY ALL
        ORDER BY b DESC NULLS LAST, dstaddr LIMIT 15""",
    'sample_subnet': """
        SELECT dstaddr, sum(bytes) AS b FROM f WHERE srcaddr LIKE '10.0.%' GROUP BY ALL
        ORDER BY b DESC NULLS LAST, dstaddr LIMIT 15""",
    'sample_udp': """
        SELECT srcaddr, count(*) FROM f WHERE protocol = 17 GROUP BY ALL ORDER BY srcaddr""",
    'sample_skipdata': f"""
        SELECT {hour.format(s=3600)} AS t, count(*) FROM f WHERE logstatus = 'SKIPDATA'
        GROUP BY ALL ORDER BY t""",
    'sample_bin_reject': f"""
        SELECT {hour.format(s=300)} AS t, count(*) FROM f WHERE action = 'REJECT'
        GROUP BY ALL ORDER BY t""",
    'sample_like': """
        SELECT srcaddr, dstaddr, sum(bytes) AS b FROM f
        WHERE contains(dstaddr, '10.0.20.') AND contains(srcaddr, '10.0.10.')
        GROUP BY ALL ORDER BY b DESC NULLS LAST, srcaddr, dstaddr LIMIT 10""",
    'triage_unchanged': f"""
        SELECT * FROM (SELECT srcaddr, dstaddr, dstport_text AS dp, protocol_text AS pr, count(*) AS n FROM f
        WHERE action = 'REJECT' AND {internal.format(c='dstaddr')} AND {internal.format(c='srcaddr')}
          AND (srcaddr = '10.0.0.6' OR dstaddr = '10.0.0.6' OR srcaddr = '10.0.0.7' OR dstaddr = '10.0.0.7')
        GROUP BY ALL) ORDER BY n DESC, srcaddr, dstaddr, TRY_CAST(dp AS BIGINT), TRY_CAST(pr AS BIGINT) LIMIT 5""",
    'triage_wave': f"""
        SELECT * FROM (SELECT srcaddr, dstaddr, dstport_text AS dp, protocol_text AS pr, count(*) AS n FROM f
        WHERE action = 'REJECT' AND {internal.format(c='dstaddr')} AND {internal.format(c='srcaddr')}
          AND (srcaddr IN ({ip_list}) OR dstaddr IN ({ip_list}))
        GROUP BY ALL) ORDER BY n DESC, srcaddr, dstaddr, TRY_CAST(dp AS BIGINT), TRY_CAST(pr AS BIGINT)""",
    'planner': f"""
        SELECT * FROM (SELECT srcaddr, dstaddr, least(srcport, dstport) AS port, protocol_text AS pr, action, eni,
               parts.a || ':' || parts.f AS log,
               count(*), sum(packets), sum(bytes), min(start_s), max(end_s),
               min(srcport), max(srcport), min(dstport), max(dstport)
        FROM f
        WHERE (srcaddr IN ({ip_list}) OR dstaddr IN ({ip_list}))
          AND (srcaddr LIKE '10.%' OR srcaddr LIKE '192.168.%'
               OR regexp_matches(srcaddr, '^172\\.(1[6-9]|2[0-9]|3[01])\\.'))
        GROUP BY ALL)
        ORDER BY srcaddr, dstaddr, port, TRY_CAST(pr AS BIGINT), action, eni, log LIMIT 10000""",
    'skipdata_per_eni': """
        SELECT eni, count(*) FROM f WHERE logstatus = 'SKIPDATA' GROUP BY ALL ORDER BY eni""",
    'nodata_per_eni': """
        SELECT eni, count(*) FROM f WHERE logstatus = 'NODATA' GROUP BY ALL ORDER BY eni""",
    'per_action': """
        SELECT action, count(*), count(DISTINCT dstaddr), avg(bytes), min(dstport), max(bytes)
        FROM f GROUP BY ALL ORDER BY action""",
}


def text(v):
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


answers = {name: [[text(v) for v in row] for row in con.execute(sql).fetchall()]
           for name, sql in queries.items()}
json.dump(answers, sys.stdout, indent=1)
