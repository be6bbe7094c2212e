import json
import stat
from datetime import UTC, datetime
from pathlib import Path

from strangler_runner.state import ComponentRecord, RunRecord, StateDir


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secrets_are_generated_on_first_run_readable_by_the_owner_only(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state")
    state.create()

    generated = state.load_or_create_secrets()

    assert len(generated.jwt_secret) >= 32
    assert generated.admin_token != generated.jwt_secret
    assert _mode(state.secrets_file) == 0o600
    assert json.loads(state.secrets_file.read_text())["jwt_secret"] == generated.jwt_secret


def test_secrets_are_reused_on_later_runs(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    state.create()
    first = state.load_or_create_secrets()

    again = StateDir(tmp_path).load_or_create_secrets()

    assert again == first
    assert _mode(state.secrets_file) == 0o600


def test_a_secret_introduced_later_is_added_without_replacing_existing_ones(
    tmp_path: Path,
) -> None:
    state = StateDir(tmp_path)
    state.create()
    state.secrets_file.write_text(json.dumps({"jwt_secret": "kept-from-an-older-runner"}))
    state.secrets_file.chmod(0o644)

    loaded = state.load_or_create_secrets()

    assert loaded.jwt_secret == "kept-from-an-older-runner"
    assert loaded.admin_token
    assert json.loads(state.secrets_file.read_text())["admin_token"] == loaded.admin_token
    assert _mode(state.secrets_file) == 0o600


def test_the_run_record_is_written_read_back_and_removed(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    state.create()
    record = RunRecord(
        runner_pid=4242,
        runner_start_ticks=None,
        started_at=datetime.now(UTC),
        phase="running",
        components=[
            ComponentRecord(
                name="smtp-sink",
                pid=4243,
                urls={"mail viewer": "http://127.0.0.1:8025"},
                health_url="http://127.0.0.1:8025/health/ready",
            )
        ],
    )

    state.write_run_record(record)
    read_back = state.read_run_record()
    state.remove_run_record()

    assert read_back == record
    assert state.read_run_record() is None


def test_a_missing_or_unreadable_run_record_reads_as_none(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    state.create()
    assert state.read_run_record() is None

    state.run_file.write_text("{not json")

    assert state.read_run_record() is None
