#!/usr/bin/env python3
"""Benchmark `wavegap query` against the DuckDB and Polars peers of ../shared/bench.

Runs the seed triage (rejected internal flows touching the wave's servers) through each tool,
alternating tools within every round, and reports the median whole-process wall time, the
peak RSS (from /usr/bin/time -v) and wavegap's ratios; check_triage.py must say MATCH for
wavegap's answer. Exits non-zero when an answer differs or a target is missed.
Usage: bench_query.py --wavegap BIN --data DIR --bench-kit DIR [--runs N]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

TRIAGE = """filter action="REJECT" and dstAddr like /^(10\\.|192\\.168\\.)/ and srcAddr like /^(10\\.|192\\.168\\.)/
  and (srcAddr in [{ips}] or dstAddr in [{ips}])
| stats count(*) as count by srcAddr as srcaddr, dstAddr as dstaddr, dstPort as dstport, protocol
| sort count desc"""


def timed(cmd, out_path):
    """Runs cmd with stdout to out_path; returns (wall seconds, peak RSS MB)."""
    with open(out_path, 'w') as out:
        p = subprocess.run(['/usr/bin/time', '-v'] + cmd, stdout=out, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f'failed ({p.returncode}): {" ".join(cmd[:3])} …\n{p.stderr[-2000:]}')
    wall = re.search(r'Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)', p.stderr)
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r'Maximum resident set size \(kbytes\): (\d+)', p.stderr).group(1)) / 1024
    return seconds, rss


def rounds(tools, runs, out_dir):
    """Runs every tool once per round, the order rotating from round to round so no tool
    always goes first; each tool's stdout goes to out_dir/<tool>.csv. Returns the wall times
    and peak RSS per tool, one entry per round."""
    times = {t: [] for t in tools}
    rss = {t: [] for t in tools}
    for r in range(runs):
        order = list(tools)
        order = order[r % len(order):] + order[:r % len(order)]
        for t in order:
            w, m = timed(tools[t], os.path.join(out_dir, f'{t}.csv'))
            times[t].append(w)
            rss[t].append(m)
        print(f'round {r + 1}: ' + ', '.join(f'{t} {times[t][-1]:.2f}s' for t in tools), file=sys.stderr)
    return times, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--wavegap', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--bench-kit', required=True)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--python', default=sys.executable)
    ap.add_argument('--wavegap-only', action='store_true', help='skip the peers (RSS checks)')
    ap.add_argument('--baseline-rss', type=float, help="wavegap's median peak RSS (MB) on the 8 M set, to compare")
    a = ap.parse_args()
    ips_file = os.path.join(a.data, 'waves/wave-01.ips')
    ips = ','.join(f'"{x.strip()}"' for x in open(ips_file) if x.strip())
    peers = os.path.join(a.bench_kit, 'peers')
    tools = {'wavegap': [a.wavegap, 'query', TRIAGE.format(ips=ips), '--files', a.data, '--output', 'csv', '--limit', '1000000', '-q']}
    if not a.wavegap_only:
        tools['duckdb'] = [a.python, os.path.join(peers, 'duckdb_triage.py'), a.data, ips_file]
        tools['polars'] = [a.python, os.path.join(peers, 'polars_triage.py'), a.data, ips_file]
    tmp = tempfile.mkdtemp(prefix='wavegap-bench-')
    times, rss = rounds(tools, a.runs, tmp)
    check = subprocess.run([a.python, os.path.join(peers, 'check_triage.py'), os.path.join(a.data, 'truth.json'),
                            ips_file] + [os.path.join(tmp, f'{t}.csv') for t in tools], capture_output=True, text=True)
    print(check.stdout.strip())
    print(f'data: {a.data}')
    print(f'{"tool":<8} {"median s":>9} {"median peak RSS MB":>19}')
    med = {t: statistics.median(times[t]) for t in tools}
    mrss = {t: statistics.median(rss[t]) for t in tools}
    for t in tools:
        print(f'{t:<8} {med[t]:>9.2f} {mrss[t]:>19.1f}')
    missed = []

    def target(line, ok):
        print(f'{line}{"" if ok else "  MISSED"}')
        if not ok:
            missed.append(line)

    if not a.wavegap_only:
        ratio = med['wavegap'] / med['polars']
        target(f'wavegap / polars = {ratio:.2f}  (target <= 0.80)', ratio <= 0.80)
        print(f'wavegap / duckdb = {med["wavegap"] / med["duckdb"]:.2f}')
    target(f'wavegap peak RSS = {mrss["wavegap"]:.1f} MB  (target <= 200)', mrss['wavegap'] <= 200)
    if a.baseline_rss:
        growth = mrss['wavegap'] / a.baseline_rss - 1
        target(f'wavegap peak RSS vs the 8 M set = {growth:+.1%}  (target <= +10 %)', growth <= 0.10)
    if check.returncode != 0 or missed:
        sys.exit(check.returncode or 1)

if __name__ == '__main__':
    main()
