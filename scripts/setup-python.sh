#!/usr/bin/env bash
# Creates `.venv` with the Python tools the tests and benchmarks use: moto (the EC2 emulator
# for resolver tests), DuckDB and Polars (the independent engines the query tests and the
# benchmark compare against). Idempotent: a venv that already has them is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import moto, duckdb, polars, flask_cors' >/dev/null 2>&1; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'moto[server]' duckdb polars
fi
test -x "$venv/bin/moto_server"
