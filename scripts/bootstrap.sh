#!/usr/bin/env bash
# Installs the tools wavegap's recipes need and nothing else: `just` (from PyPI's rust-just
# wheel, or crates.io when pip is missing). Safe to run again: it skips what is there.
set -euo pipefail

if ! command -v just >/dev/null 2>&1; then
  if command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check rust-just || true
    hash -r
  fi
  if ! command -v just >/dev/null 2>&1; then
    cargo install --locked just
  fi
fi
just --version
