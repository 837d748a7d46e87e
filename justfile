# wavegap's everyday commands. `just --list` shows them.

set shell := ["bash", "-euo", "pipefail", "-c"]
set positional-arguments

export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", env_var("HOME") / ".cache/wavegap/target")
export INSTA_UPDATE := env_var_or_default("INSTA_UPDATE", "no")

# list the recipes
default:
    @just --list

# resolve, query, analyse and write reports/WAVE/ (a name in waves/ or a path)
[group('run')]
report WAVE *ARGS:
    cargo run --quiet --release -p wavegap -- report "$@"

# install the wavegap binary into ~/.cargo/bin
[group('run')]
install:
    cargo install --locked --path crates/wavegap

# the shipped demo wave, offline: writes reports/demo/
[group('run')]
demo:
    just report demo

# validate wave files (all of waves/ by default)
[group('run')]
check *WAVES:
    cargo run --quiet -p wavegap -- check "$@"

# install what the tests use: moto, DuckDB, Polars (.venv) and headless Chromium
[group('dev')]
setup:
    scripts/setup-python.sh
    scripts/setup-browser.sh

# every test of the workspace
[group('dev')]
test *ARGS: setup
    cargo test --workspace --lib --bins --tests "$@"

# format check and clippy with warnings as errors
[group('dev')]
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# format the code
[group('dev')]
fmt:
    cargo fmt --all

# review and accept changed insta snapshots
[group('dev')]
snap:
    INSTA_UPDATE=always cargo test --workspace --lib --bins --tests
    @git status --short -- '*.snap'

# what CI runs: lint, then every test
[group('dev')]
ci: lint test

# fan-out benchmark: 120 log groups × 3 windows against the test endpoint at 2 s latency
[group('bench')]
bench-fanout:
    d="$HOME/.cache/wavegap/data/fanout"; \
    [ -d "$d/cwl" ] || python3 ../shared/bench/gen_flowlogs.py --scale small --apps 40 --format cwl --out "$d" --seed 7; \
    cargo bench -p wavegap-runner --bench fanout -- "$d"

# query benchmark: the seed triage and the report's query through `wavegap query` against DuckDB (and Polars), and whole `wavegap report` runs, 8 M records
[group('bench')]
bench: setup
    scripts/bench-query.sh

# rendering benchmark: 10,000 findings to every report format
[group('bench')]
bench-render:
    cargo bench -p wavegap-reporter --bench render

# accuracy against the bench generator's ground truth on fresh seeds
[group('bench')]
accuracy:
    cargo run -q -p wavegap-accuracy -- --fresh 5
