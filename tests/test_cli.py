"""lambdasmith.cli: the service CLIs take the data directory as a value."""

from __future__ import annotations

import os


def test_clis_pass_the_data_dir_as_a_value(tmp_path, monkeypatch, capsys):
    from lambdasmith.cli import main

    monkeypatch.delenv("LAMBDASMITH_DATA_DIR", raising=False)
    assert main(["wardrobe", "token", "ana", "--data-dir", str(tmp_path)]) == 0
    assert main(["badges", "register-org", "acme", "--type", "testdata", "--secret", "k", "--allow-weak", "--data-dir", str(tmp_path)]) == 0
    assert "LAMBDASMITH_DATA_DIR" not in os.environ
    assert (tmp_path / "lambdasmith.db").exists()  # the secret and the org went to the given directory
    assert capsys.readouterr().out.splitlines()[-1] == "acme testdata: registered"
