#!/usr/bin/env python3
"""The aggregation of wavegap's report query, in DuckDB, over the same S3 tree of .log.gz objects.

The same filter and group keys as the query `wavegap plan` prints for a files wave over the
version 2 files of the bench set (no packet addresses, so `coalesce(pktSrcAddr, srcAddr)` is
`srcaddr`; no `tcp-flags` or `flow-direction`, so those keys are missing):

    logStatus = "SKIPDATA"
      or ((src in SERVERS or dst in SERVERS)
          and ((src in a NETWORK and dst in a NETWORK) or action = "REJECT"))
    | stats count, sum(packets), sum(bytes), min(start), max(end), min/max(srcport), min/max(dstport)
      by src, dst, least(srcport, dstport), protocol, action, interface-id, @log, log-status,
         tcpFlags, flowDirection

Columns are typed (integers for ports, counters and times, `-` read as NULL), DuckDB's fastest
way to read these files; NULLs are printed back as Insights shows them (`-` where the record
had `-`, nothing where Insights has no value). `@log` is `account-id:flow-log-id` from the
object's name, as wavegap's files source gives it. Subnet tests read dotted quads as AWS
writes them (the bench compares every row with wavegap's, so a difference would show).

usage: duckdb_report_query.py DATA --servers FILE --networks CIDR,... [--threads N] > out.csv
Prints CSV in the order of wavegap's columns, rows sorted.
"""
import argparse
import csv
import ipaddress
import os
import sys

import duckdb

GLOB = 'AWSLogs/*/vpcflowlogs/*/*/*/*/*.log.gz'
COLUMNS = {'version': 'INTEGER', 'account-id': 'VARCHAR', 'interface-id': 'VARCHAR', 'srcaddr': 'VARCHAR',
           'dstaddr': 'VARCHAR', 'srcport': 'BIGINT', 'dstport': 'BIGINT', 'protocol': 'BIGINT',
           'packets': 'BIGINT', 'bytes': 'BIGINT', 'start': 'BIGINT', 'end': 'BIGINT',
           'action': 'VARCHAR', 'log-status': 'VARCHAR'}


def quote(s):
    return "'" + s.replace("'", "''") + "'"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('data')
    ap.add_argument('--servers', required=True, help='file with one server IP per line')
    ap.add_argument('--networks', required=True, help='the wave\'s internal and on-premises networks, comma-separated')
    ap.add_argument('--threads', type=int, default=0)
    a = ap.parse_args()
    servers = [x.strip() for x in open(a.servers) if x.strip()]
    nets = [ipaddress.ip_network(n, strict=False) for n in a.networks.split(',') if n]
    if any(n.version != 4 for n in nets) or any(ipaddress.ip_address(s).version != 4 for s in servers):
        sys.exit('duckdb_report_query.py: IPv4 networks and servers only')
    con = duckdb.connect()
    if a.threads:
        con.execute(f'SET threads = {a.threads}')
    # The address of a dotted quad as a number; NULL for `-` (NULL) and anything else.
    con.execute("""CREATE MACRO ip4(s) AS
        CASE WHEN s LIKE '%.%.%.%' THEN
            (TRY_CAST(split_part(s, '.', 1) AS BIGINT) << 24) + (TRY_CAST(split_part(s, '.', 2) AS BIGINT) << 16)
            + (TRY_CAST(split_part(s, '.', 3) AS BIGINT) << 8) + TRY_CAST(split_part(s, '.', 4) AS BIGINT)
        END""")
    in_servers = ', '.join(quote(s) for s in servers)
    in_nets = lambda col: '(' + ' OR '.join(
        f'ip4({col}) BETWEEN {int(n.network_address)} AND {int(n.broadcast_address)}' for n in nets) + ')'
    cols = ', '.join(f'{quote(k)}: {quote(v)}' for k, v in COLUMNS.items())
    glob = quote(os.path.join(a.data, GLOB))
    dash = lambda e: f"coalesce(CAST({e} AS VARCHAR), '-')"
    rows = con.execute(f"""
        SELECT {dash('srcaddr')}, {dash('dstaddr')}, least(srcport, dstport), {dash('protocol')}, {dash('action')},
               "interface-id", split_part(parse_filename(filename), '_', 1) || ':' || split_part(parse_filename(filename), '_', 4),
               "log-status", NULL, NULL,
               count(*), sum(packets), sum(bytes), min(start), max("end"),
               {dash('min(srcport)')}, {dash('max(srcport)')}, {dash('min(dstport)')}, {dash('max(dstport)')}
        FROM read_csv({glob}, delim = ' ', header = true, nullstr = '-', auto_detect = false,
                      columns = {{{cols}}}, filename = true)
        WHERE "log-status" = 'SKIPDATA'
           OR ((srcaddr IN ({in_servers}) OR dstaddr IN ({in_servers}))
               AND ((({in_nets('srcaddr')}) AND ({in_nets('dstaddr')})) OR action = 'REJECT'))
        GROUP BY ALL
    """).fetchall()
    out = csv.writer(sys.stdout, lineterminator='\n')
    text = [['' if v is None else str(v) for v in r] for r in rows]
    text.sort()
    out.writerows(text)


if __name__ == '__main__':
    main()
