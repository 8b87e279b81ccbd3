"""Binding overhead: the archived TiX batches analysed from a Python loop through the wheel,
against the same work in Rust (maestro-tix's `bench_batches` example).

Run with (from the repository root, the wheel built with --release and installed):

    python maestro-py/bench/bench_tix.py            # also runs the Rust example for the ratio
    python maestro-py/bench/bench_tix.py --no-rust  # the Python loop only

Per batch directory both sides parse the report files, run the reference batch selection,
analyse every selected batch and analyse the directory as one batch. The Python side also builds
the results-API body of each analysis and converts everything to dicts. Extracting the archives
is not timed.
"""

import argparse
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import List

import maestro

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "maestro-tix" / "tests" / "data" / "batches"


def batch_dirs(root: Path) -> List[Path]:
    """Directories named by a Unix second that hold report files (as the Rust example)."""
    return sorted(p for p in root.rglob("*") if p.is_dir() and p.name.isdigit() and any(p.glob("*.json")))


def python_loop(dirs: List[Path]) -> float:
    ok = selected = 0
    t = time.perf_counter()
    for d in dirs:
        out = maestro.analyse_tix_batch(d)
        selected += len(out["selections"])
        ok += bool(out["batch"] and out["batch"]["ok"])
    total = time.perf_counter() - t
    print(f"python: {len(dirs)} directories, archived batches ok {ok}, selection loop {selected} batches")
    return total


def rust_total_ms() -> float:
    out = subprocess.run(
        ["cargo", "run", "-q", "--release", "-p", "maestro-tix", "--example", "bench_batches"],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout
    print(out.strip())
    m = re.search(r"total: ([0-9.]+) ms", out)
    if not m:
        sys.exit(f"cannot read the Rust total from:\n{out}")
    return float(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-rust", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="Python loops; the best is reported")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for archive in sorted(DATA.glob("*.tar.gz")):
            with tarfile.open(archive) as t:
                t.extractall(Path(tmp) / archive.name.removesuffix(".tar.gz"))
        dirs = batch_dirs(Path(tmp))
        best = min(python_loop(dirs) for _ in range(args.repeat))
    print(f"python total: {best * 1e3:.1f} ms ({best * 1e3 / len(dirs):.2f} ms per directory)")
    if not args.no_rust:
        rust = rust_total_ms()
        print(f"rust total: {rust:.1f} ms; python/rust = {best * 1e3 / rust:.3f}")


if __name__ == "__main__":
    main()
