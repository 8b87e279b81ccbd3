"""One exception hierarchy, with the Rust messages: bad config names the field, missing files
name the file."""

from pathlib import Path

import pytest

import maestro


def test_hierarchy() -> None:
    for cls in (maestro.ConfigError, maestro.ProviderError, maestro.StorageError, maestro.PublishError):
        assert issubclass(cls, maestro.MaestroError)
    assert issubclass(maestro.MaestroError, Exception)


def test_bad_config_names_every_field(engine: maestro.Engine) -> None:
    with pytest.raises(maestro.ConfigError) as e:
        engine.run(
            {
                "tenant": "acme",
                "colour": "blue",
                "pipeline": {"batch_size": 0},
                "sources": [{"type": "ftp"}, {"type": "file", "connection": "c", "paths": ["a.txt"]}],
            }
        )
    paths = [p for p, _ in e.value.problems]
    assert paths == ["colour", "pipeline.batch_size", "sources[0].type", "sources[1].paths[0]"]
    assert "no provider named `ftp`; known: file" in str(e.value)
    assert "expected a .json, .yaml or .yml file" in str(e.value)


def test_config_may_not_name_another_database(engine: maestro.Engine, inventory: Path) -> None:
    with pytest.raises(maestro.ConfigError) as e:
        engine.run({"database": "sqlite://elsewhere.db", "sources": [{"type": "file", "connection": "c", "paths": [str(inventory)]}]})
    assert e.value.problems[0][0] == "database"


def test_missing_config_file(engine: maestro.Engine, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(maestro.ConfigError, match="cannot read config") as e:
        engine.run(missing)
    assert str(missing) in str(e.value)


def test_config_file_with_a_syntax_error(engine: maestro.Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [\n")
    with pytest.raises(maestro.ConfigError, match="not valid YAML/JSON"):
        engine.run(bad)


def test_missing_input_file_raises_provider_error_with_the_report(engine: maestro.Engine, tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(maestro.ProviderError) as e:
        engine.import_file(missing)
    assert str(missing) in str(e.value) and "No such file" in str(e.value)
    assert e.value.result["status"] == "failed"
    assert engine.run_report(e.value.result["run_id"])["status"] == "failed", "the failed run is recorded"
    report = engine.import_file(missing, check=False)
    assert report["status"] == "failed"


def test_malformed_input_names_line_and_column(engine: maestro.Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"servers": [\n  {"unique_id": "a",}\n]}')
    with pytest.raises(maestro.ProviderError, match=r"bad.json` line 2 column"):
        engine.import_file(bad)


def test_unreachable_or_bad_database_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(maestro.StorageError, match="unknown database URL scheme `mysql`"):
        maestro.Engine("mysql://localhost/x")
    with pytest.raises(maestro.StorageError):
        maestro.Engine(f"sqlite://{tmp_path}/no/such/dir/x.db")


def test_bad_argument_types(engine: maestro.Engine) -> None:
    with pytest.raises(TypeError, match="path"):
        engine.import_file(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="dict keys must be strings"):
        engine.run({"tenant": "acme", "sources": [{1: "x"}]})
    with pytest.raises(maestro.ConfigError, match="tenant"):
        maestro.Engine("sqlite::memory:", tenant=" ")
