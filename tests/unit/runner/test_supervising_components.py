from pathlib import Path

import pytest
from strangler_runner.components import system_components
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import LocalSecrets, StateDir
from strangler_runner.supervisor import restart_delay, stop_tiers


@pytest.fixture
def settings(tmp_path: Path) -> RunnerSettings:
    return RunnerSettings(state_dir=tmp_path / "state")


def test_restarts_back_off_from_one_second_doubling_to_at_most_thirty() -> None:
    assert [restart_delay(failures) for failures in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert restart_delay(1000) == 30


def test_the_gateway_stops_first_and_the_broker_last(
    settings: RunnerSettings,
) -> None:
    secrets = LocalSecrets(jwt_secret="jwt", admin_token="admin")
    components = system_components(settings, secrets, StateDir(settings.state_dir))

    tiers = [[component.name for component in tier] for tier in stop_tiers(components)]

    assert tiers[0] == ["notifications", "gateway"]  # nothing calls notifications: it reacts
    billing_tier = next(tier for tier in tiers if "billing" in tier)
    assert tiers.index(billing_tier) < tiers.index(["legacy-monolith"])
    assert "auth" in tiers[1]
    assert "broker" in tiers[-1]
    assert sorted(name for tier in tiers for name in tier) == sorted(c.name for c in components)


def test_the_monolith_and_billing_start_only_once_the_broker_is_healthy(
    settings: RunnerSettings,
) -> None:
    secrets = LocalSecrets(jwt_secret="jwt", admin_token="admin")
    components = system_components(settings, secrets, StateDir(settings.state_dir))

    needs = {component.name: component.needs for component in components}

    assert needs["legacy-monolith"] == ("broker",)
    assert needs["billing"] == ("broker",)
    assert needs["broker"] == ()
    assert needs["gateway"] == ()
