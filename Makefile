# One entry point for developers and CI.
.PHONY: demo test bench fmt clippy

## Run the demo pipeline on an embedded SQLite file (no services needed).
demo:
	cargo run -p maestro-server -- demo

## The whole test suite (starts PostgreSQL/moto if they are not running).
test:
	bash scripts/test.sh

## Benchmarks (see docs/benchmarks.md).
bench:
	cargo run --release -p maestro-store --example bench_sync -- sqlite 1000000

fmt:
	cargo fmt --all

clippy:
	cargo clippy --workspace --all-targets
