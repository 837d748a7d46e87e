#!/usr/bin/env python3
"""Benchmark the query a report runs: `wavegap query` with the text `wavegap plan` prints for a
files wave over the bench set, against DuckDB computing the same aggregation
(scripts/duckdb_report_query.py), and against wavegap's own seed triage on the same files.

The waves are built from the set's truth the way the accuracy harness builds its wave: the
servers of waves/wave-01.ips (1 x), then as many more again from the following waves' .ips
files (2 x, 4 x); networks 10.0.0.0/8 and the truth's on-premises networks; the truth's
EC2-shaped inventory as the snapshot. Every tool runs once per round, the order rotating from
round to round; medians of whole-process wall time and peak RSS (/usr/bin/time -v). DuckDB's
answer is compared with wavegap's row by row at every scale (the last run's outputs).

Targets (issue 12): report query <= 0.25 x DuckDB and <= 1.5 x wavegap's triage; the scale line
shows the cost at 1 x, 2 x and 4 x the servers (flat: 4 x within 1.25 x of 1 x). More servers
also mean more records that match; the `listed-4x` run holds the matching records at 1 x and
lists 4 x the servers (the 1 x query with addresses of the benchmarking range 198.18.0.0/15,
which no record holds, added to its `in` lists): the cost of the lists alone. With `--more DIR`
(the 10 M set) the 1 x query of that set runs in the same rounds, and its time is set against
the bytes each set holds.
With `--floor BIN` (bench/floor: the same aggregation written by hand for these files, with no
query language and no checks) that program runs at 1 x and 4 x in the same rounds and its
answers are compared too: the lower bound of the time any reader of the same gzip text takes
here, printed next to the targets.
Exits non-zero when an answer differs or a target is missed.
Usage: bench_report_query.py --wavegap BIN --data DIR [--more DIR] [--floor BIN] [--runs N] [--python PY]
"""
import argparse
import csv
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_query import TRIAGE, rounds, timed  # noqa: E402

SCALES = (1, 2, 4)


def servers(data, count):
    """The first `count` server IPs of waves/wave-01.ips, wave-02.ips, … in order."""
    ips = []
    n = 1
    while len(ips) < count:
        path = os.path.join(data, f'waves/wave-{n:02d}.ips')
        if not os.path.exists(path):
            sys.exit(f'only {len(ips)} servers in the set, {count} wanted')
        ips += [x.strip() for x in open(path) if x.strip() and x.strip() not in ips]
        n += 1
    return ips[:count]


def write_wave(path, name, data, inventory, apps, networks, window):
    """A files wave over the set: `apps` maps an app name to its (server name, ip) pairs."""
    internal = [n for n in networks if n.startswith('10.')]
    onprem = [n for n in networks if not n.startswith('10.')]
    lines = [f'name = "{name}"', '[source]', f'files = "{data}"', f'inventory = "{inventory}"', '[window]',
             f'start = "{window[0]}"', f'end = "{window[1]}"', '[networks]',
             'internal = [' + ', '.join(f'"{n}"' for n in internal) + ']',
             'on-premises = [' + ', '.join(f'"{n}"' for n in onprem) + ']']
    for app, servers in apps.items():
        lines += ['[[apps]]', f'name = "{app}"']
        for server, ip in servers:
            lines += ['[[apps.servers]]', f'name = "{server}"', f'ip = "{ip}"']
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def bench_set(data, tmp):
    """The set's truth, its inventory written to tmp, its networks and its window."""
    truth = json.load(open(os.path.join(data, 'truth.json')))
    inventory = os.path.join(tmp, 'inventory.json')
    with open(inventory, 'w') as f:
        json.dump(truth['inventory'], f)
    networks = ['10.0.0.0/8'] + truth['onprem']['networks']
    gen = truth['generator']['args']
    end = datetime.datetime.fromtimestamp(gen['start_epoch'] + gen['hours'] * 3600, datetime.timezone.utc)
    return truth, inventory, networks, (gen['start'], end.strftime('%Y-%m-%dT%H:%M:%SZ'))


def plan_query(wavegap, wave):
    """The one query text of `wavegap plan WAVE` (a files wave has one window)."""
    out = subprocess.run([wavegap, 'plan', wave], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    start = lines.index('query:') + 1
    body = []
    for line in lines[start:]:
        if not line.startswith('  '):
            break
        body.append(line[2:])
    return '\n'.join(body)


def query_cmd(wavegap, query, data):
    """`wavegap query` of `query` over the set `data`, every row as CSV."""
    return [wavegap, 'query', query, '--files', data, '--output', 'csv', '--limit', '10000000', '-q']


def wave_query(wavegap, data, tmp, name, ips):
    """The report query `wavegap plan` prints for a files wave of the servers `ips` over the set
    `data` (its inventory and networks from the set's truth, written under `tmp`)."""
    _, inventory, networks, window = bench_set(data, tmp)
    wave = os.path.join(tmp, f'{name}.toml')
    apps = {'bench': [(f'server-{i:03d}', ip) for i, ip in enumerate(ips)]}
    write_wave(wave, name, data, inventory, apps, networks, window)
    return plan_query(wavegap, wave)


def padded(query, extra):
    """`query` with the addresses `extra` added to each of its `in [...]` lists."""
    add = ''.join(f', "{ip}"' for ip in extra)
    return re.sub(r'(in \[[^\]]*)\]', lambda m: m.group(1) + add + ']', query)


def set_bytes(data):
    """The bytes of a set's flow-log objects."""
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(data, 'AWSLogs')) for f in fs)


def matching(path):
    """The records a report query's answer counts (its flowRecords column)."""
    with open(path) as f:
        return sum(int(r['flowRecords']) for r in csv.DictReader(f))


def rows(path, header):
    with open(path) as f:
        r = list(csv.reader(f))
    return sorted(r[1:] if header else r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--wavegap', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--python', default=sys.executable)
    ap.add_argument('--more', help='a larger set (the 10 M set) to run the 1 x query over too')
    ap.add_argument('--floor', help='the hand-written aggregation (bench/floor) to run as the lower bound')
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    tmp = tempfile.mkdtemp(prefix='wavegap-report-bench-')
    networks = bench_set(a.data, tmp)[2]
    base = sum(1 for x in open(os.path.join(a.data, 'waves/wave-01.ips')) if x.strip())
    tools = {}
    peers = {}
    for k in SCALES:
        ips = servers(a.data, base * k)
        query = wave_query(a.wavegap, a.data, tmp, f'report-{k}x', ips)
        ips_path = os.path.join(tmp, f'servers-{k}x.txt')
        with open(ips_path, 'w') as f:
            f.write('\n'.join(ips) + '\n')
        tools[f'report-{k}x'] = query_cmd(a.wavegap, query, a.data)
        peers[k] = [a.python, os.path.join(here, 'duckdb_report_query.py'), a.data, '--servers', ips_path,
                    '--networks', ','.join(networks)]
        if a.floor and k in (1, 4):
            tools[f'floor-{k}x'] = [a.floor, a.data, '--servers', ips_path, '--networks', ','.join(networks)]
        if k == 1:
            print(f'report query of a {len(ips)}-server wave (wavegap plan):\n{query}\n', file=sys.stderr)
            unused = [f'198.18.{i // 250}.{i % 250 + 1}' for i in range(3 * len(ips))]
            tools['listed-4x'] = query_cmd(a.wavegap, padded(query, unused), a.data)
    if a.more:
        more_tmp = os.path.join(tmp, 'more')
        os.makedirs(more_tmp)
        query = wave_query(a.wavegap, a.more, more_tmp, 'more-1x', servers(a.more, base))
        tools['more-1x'] = query_cmd(a.wavegap, query, a.more)
    tools['duckdb-1x'] = peers[1]
    ips = ','.join(f'"{x}"' for x in servers(a.data, base))
    tools['triage'] = [a.wavegap, 'query', TRIAGE.format(ips=ips), '--files', a.data, '--output', 'csv',
                       '--limit', '1000000', '-q']
    times, rss = rounds(tools, a.runs, tmp)
    # Row by row at every scale: DuckDB's answer against wavegap's last one.
    differ = False
    for k in SCALES:
        if k != 1:
            timed(peers[k], os.path.join(tmp, f'duckdb-{k}x.csv'))
        mine = rows(os.path.join(tmp, f'report-{k}x.csv'), header=True)
        theirs = rows(os.path.join(tmp, f'duckdb-{k}x.csv'), header=False)
        same = mine == theirs
        differ |= not same
        print(f'{"MATCH" if same else "DIFFER"} report-{k}x: wavegap {len(mine)} rows, DuckDB {len(theirs)} rows')
        if not same:
            for row in [x for x in mine if x not in set(map(tuple, theirs))][:5]:
                print('  only wavegap:', ','.join(row))
            for row in [x for x in theirs if x not in set(map(tuple, mine))][:5]:
                print('  only DuckDB: ', ','.join(row))
        if f'floor-{k}x' in tools:
            same = rows(os.path.join(tmp, f'floor-{k}x.csv'), header=False) == mine
            differ |= not same
            print(f'{"MATCH" if same else "DIFFER"} floor-{k}x: the answer of report-{k}x')
    same = rows(os.path.join(tmp, 'listed-4x.csv'), header=True) == rows(os.path.join(tmp, 'report-1x.csv'), True)
    differ |= not same
    print(f'{"MATCH" if same else "DIFFER"} listed-4x: the answer of report-1x')
    med = {t: statistics.median(times[t]) for t in tools}
    mrss = {t: statistics.median(rss[t]) for t in tools}
    print(f'data: {a.data}')
    print(f'{"run":<11} {"median s":>9} {"median peak RSS MB":>19}')
    for t in tools:
        print(f'{t:<11} {med[t]:>9.2f} {mrss[t]:>19.1f}')
    missed = []

    def target(line, ok):
        print(f'{line}{"" if ok else "  MISSED"}')
        if not ok:
            missed.append(line)

    ratio = med['report-1x'] / med['duckdb-1x']
    target(f'report query / duckdb = {ratio:.2f}  (target <= 0.25)', ratio <= 0.25)
    ratio = med['report-1x'] / med['triage']
    target(f'report query / triage = {ratio:.2f}  (target <= 1.50)', ratio <= 1.50)
    scale = ', '.join(f'{k} x ({base * k} servers) {med[f"report-{k}x"]:.2f} s {mrss[f"report-{k}x"]:.0f} MB'
                      for k in SCALES)
    print(f'scale: {scale}')
    ratio = med['report-4x'] / med['report-1x']
    target(f'report query at 4 x / 1 x the servers = {ratio:.2f}  (target <= 1.25)', ratio <= 1.25)
    matched = ', '.join(f'{k} x {matching(os.path.join(tmp, f"report-{k}x.csv")):,}' for k in SCALES)
    print(f'  records matching: {matched}; the lists alone (listed-4x: 4 x the servers listed, 1 x matching)'
          f' = {med["listed-4x"] / med["report-1x"]:.2f} x 1 x')
    if a.floor:
        print(f'hand-written floor: {med["floor-1x"] / med["triage"]:.2f} x the triage at 1 x; the report query '
              f'{med["report-1x"] / med["floor-1x"]:.2f} x the floor at 1 x, {med["report-4x"] / med["floor-4x"]:.2f} x '
              f'at 4 x; the floor at 4 x / 1 x the servers = {med["floor-4x"] / med["floor-1x"]:.2f}')
    if a.more:
        size, more = set_bytes(a.data), set_bytes(a.more)
        print(f'larger set: the 1 x query over {a.more} ({more:,} gz bytes) {med["more-1x"]:.2f} s, over {a.data} '
              f'({size:,} gz bytes) {med["report-1x"]:.2f} s: {med["more-1x"] / med["report-1x"]:.2f} x the time for '
              f'{more / size:.2f} x the bytes')
    if differ or missed:
        sys.exit(1)


if __name__ == '__main__':
    main()
