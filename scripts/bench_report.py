#!/usr/bin/env python3
"""Benchmark the job users run: `wavegap report` of whole waves over the bench set, end to end
(inventory snapshot, query, analysis, every report file), with the sizes of what it writes.

Two waves are built from the set's truth with its real apps and server names: `wave-01` (the
first wave of the set, 30 servers) and `every-app` (every app of the set). Each report runs
RUNS times with the previous report removed (no baseline), each run paired with the report's
query alone (the text `wavegap plan` prints, through `wavegap query`); the medians of wall time
and peak RSS are printed, with the report/query ratio as the median of each run's ratio to the
query run beside it, then the outputs of the last run: report.md in characters,
summary.md, report.html, findings.json and flows.json in bytes, the findings and proposals,
and how long jq takes to read findings.json (when jq is installed).

Targets (issue 12), both waves: the report within 1.3 x its query alone, peak RSS <= 200 MB.
For wave-01: report.md <= 65,536 characters (a GitHub comment), summary.md <= 8 KB (a ticket
comment or $GITHUB_STEP_SUMMARY); every-app is not held to the sizes.

Usage: bench_report.py --wavegap BIN --data DIR [--runs N]
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_query import timed  # noqa: E402
from bench_report_query import bench_set, plan_query, query_cmd, write_wave  # noqa: E402


def apps_of(truth, names):
    """The named apps of the truth, each with its (server name, ip) pairs."""
    by_name = {a['name']: a for a in truth['apps']}
    return {n: [(s['name'], s['ip']) for s in by_name[n]['servers']] for n in names}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--wavegap', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--runs', type=int, default=3)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='wavegap-report-bench-')
    truth, inventory, networks, window = bench_set(a.data, tmp)
    waves = {
        'wave-01': apps_of(truth, next(w['apps'] for w in truth['waves'] if w['name'] == 'wave-01')),
        'every-app': apps_of(truth, [x['name'] for x in truth['apps']]),
    }
    missed = []
    print(f'data: {a.data}')
    for name, apps in waves.items():
        wave = os.path.join(tmp, f'{name}.toml')
        write_wave(wave, name, a.data, inventory, apps, networks, window)
        out = os.path.join(tmp, name)
        query = query_cmd(a.wavegap, plan_query(a.wavegap, wave), a.data)
        times, rss, query_times = [], [], []
        for _ in range(a.runs):
            shutil.rmtree(out, ignore_errors=True)
            wall, mb = timed([a.wavegap, 'report', wave, '--out', out, '--no-baseline', '--format', 'plain', '-q'],
                             os.path.join(tmp, f'{name}.stdout'))
            times.append(wall)
            rss.append(mb)
            query_times.append(timed(query, os.path.join(tmp, f'{name}.csv'))[0])
        size = {f: os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)}
        md_chars = len(open(os.path.join(out, 'report.md'), encoding='utf-8').read())
        doc = json.load(open(os.path.join(out, 'findings.json')))
        findings = {k: len(v) for k, v in doc['findings'].items()}
        servers = sum(len(s) for s in apps.values())
        print(f'{name} ({len(apps)} apps, {servers} servers): median {statistics.median(times):.2f} s, '
              f'peak RSS {statistics.median(rss):.0f} MB over {a.runs} runs')
        print(f'  findings {findings}, proposals {len(doc["proposals"])}')
        print(f'  report.md {md_chars:,} characters, summary.md {size["summary.md"]:,} B, '
              f'report.html {size["report.html"]:,} B, findings.json {size["findings.json"]:,} B, '
              f'findings.csv {size["findings.csv"]:,} B, fix.sh {size["fix.sh"]:,} B, flows.json.gz {size["flows.json.gz"]:,} B')
        if shutil.which('jq'):
            jq = timed(['jq', '.findings.rejected | length', os.path.join(out, 'findings.json')],
                       os.path.join(tmp, 'jq.out'))[0]
            print(f'  jq reads findings.json in {jq:.2f} s')
        report_s, query_s, peak = statistics.median(times), statistics.median(query_times), statistics.median(rss)
        # Each report against the query run beside it: the machine's drift between rounds cancels.
        ratio = statistics.median(r / q for r, q in zip(times, query_times))
        checks = [(f'{name} report / its query alone = {ratio:.2f} (median of the {a.runs} paired runs; medians '
                   f'{report_s:.2f} s against {query_s:.2f} s; target <= 1.30)', ratio <= 1.3),
                  (f'{name} peak RSS {peak:.0f} MB (target <= 200)', peak <= 200)]
        if name == 'wave-01':  # the size targets are a 30-server wave's; every-app is measured only
            checks += [(f'{name} report.md {md_chars:,} characters (target <= 65,536)', md_chars <= 65_536),
                       (f'{name} summary.md {size["summary.md"]:,} B (target <= 8,192)', size['summary.md'] <= 8192)]
        for line, ok in checks:
            print(f'  {line}{"" if ok else "  MISSED"}')
            if not ok:
                missed.append(line)
    shutil.rmtree(tmp, ignore_errors=True)
    if missed:
        sys.exit(1)


if __name__ == '__main__':
    main()
