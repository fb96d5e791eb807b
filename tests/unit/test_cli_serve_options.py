"""``cirrostack serve``'s connection limits: positive seconds only, refused before anything runs."""

from __future__ import annotations

import pytest

from cirrostack.cli import main


@pytest.mark.parametrize("option", ["--head-timeout", "--body-timeout"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_timeouts_must_be_positive_seconds(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main.main(["serve", option, value])
    assert stopped.value.code == 2
    assert "is not a number of seconds above 0" in capsys.readouterr().err
