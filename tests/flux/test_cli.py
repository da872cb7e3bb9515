"""`parcours flux import FILE…` prints each report and fails when a file is refused."""

from pathlib import Path

import pytest

from api.cli.main import main
from tests.flux.helpers import FIXTURES


def test_cli_imports_and_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PARCOURS_STORE", "sqlite")
    monkeypatch.setenv("PARCOURS_DATA_DIR", str(tmp_path))
    main(["flux", "import", str(FIXTURES / "RSABEM.xml")])
    out = capsys.readouterr()
    assert "RSABEM.xml: importe" in out.out
    assert "événements 2 (DroitSuspendu 1, EntreeEnregistree 1)" in out.out
    assert "2/2" in out.err  # the progress bar
    with pytest.raises(SystemExit) as refused:
        main(["flux", "import", str(FIXTURES / "RSABEI_invalid.xml")])
    assert refused.value.code == 1
    assert "rejet: ligne 12" in capsys.readouterr().out
