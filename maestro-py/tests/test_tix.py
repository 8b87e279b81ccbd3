"""TiX measurement analysis through the wheel, checked against the original service's values."""

import csv
import tarfile
from pathlib import Path

import pytest

import maestro

TIX_DATA = Path(__file__).resolve().parents[2] / "maestro-tix" / "tests" / "data"


def extract(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as t:
        t.extractall(into)
    return into


def expected_usage() -> dict:
    with open(TIX_DATA / "expected" / "batches_usage.tsv") as f:
        return {(r["archive"], r["batch_dir"]): r for r in csv.DictReader(f, delimiter="\t")}


def test_analyse_tix_batch_reproduces_the_reference(tmp_path: Path) -> None:
    root = extract(TIX_DATA / "batches" / "batch-test-report-1b.tar.gz", tmp_path)
    want = expected_usage()
    dirs = sorted(p for p in root.rglob("*") if p.is_dir() and p.name.isdigit() and any(p.glob("*.json")))
    assert dirs
    checked = 0
    for d in dirs:
        exp = want.get(("batch-test-report-1b", d.name))
        if exp is None:
            continue
        out = maestro.analyse_tix_batch(d)
        assert out["files"] == int(exp["n_report_files"])
        batch = out["batch"]
        assert batch["ok"], batch
        assert batch["body"]["upUsage"] == pytest.approx(min(float(exp["up_usage"]), 1.0), rel=1e-12)
        assert batch["body"]["downUsage"] == pytest.approx(min(float(exp["down_usage"]), 1.0), rel=1e-12)
        assert batch["key"].startswith("tix:")
        checked += 1
    assert checked == len(dirs)


def test_engine_method_and_missing_directory(engine: maestro.Engine, tmp_path: Path) -> None:
    with pytest.raises(maestro.ProviderError, match="no_such_dir"):
        engine.analyse_tix_batch(tmp_path / "no_such_dir")


def test_process_tix_installation_records_results(engine: maestro.Engine, tmp_path: Path) -> None:
    base = extract(TIX_DATA / "installations" / "batch-test-2.tar.gz", tmp_path / "reports")
    inst_dirs = [p for p in base.rglob("*") if p.is_dir() and p.parent.parent == base]
    assert inst_dirs, "the archive holds {user}/{installation}/"
    inst = inst_dirs[0]
    config = {"base_path": str(base), "dispose_files": False}
    report = engine.process_tix_installation(inst.parent.name, inst.name, config)
    assert report["status"] == "processed", report
    assert report["user"] == inst.parent.name and report["installation"] == inst.name
    assert len(report["results"]) > 0
    # Files were kept (dispose_files=False): the same batches again give the same keys.
    again = engine.process_tix(config)
    (one,) = again["installations"]
    assert one["results"] == report["results"]
    with pytest.raises(maestro.ConfigError) as e:
        engine.process_tix({"base_path": str(base), "usage": "sometimes"})
    assert e.value.problems[0][0] == "tix.usage"
