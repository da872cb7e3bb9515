"""Logs are JSON lines, and every line written while serving a request carries its request id."""

import json
import logging

import pytest
import structlog

from adapters.logging import configure_logging
from adapters.settings import Settings
from tests.e2e.helpers import api_client


def test_request_lines_are_json_with_the_request_id(
    sqlite_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO")
    try:
        with api_client(sqlite_settings) as client:
            capsys.readouterr()
            response = client.post(
                "/dossiers",
                json={
                    "effective_on": "2024-01-03",
                    "numero_dossier": "CAF-1",
                    "organisme_payeur": "caf",
                    "date_flux": "2024-01-04",
                    "date_reception_flux": "2024-01-08",
                },
                headers={"X-Request-ID": "req-42"},
            )
            assert response.status_code == 201
            assert response.headers["X-Request-ID"] == "req-42"
            lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    request_lines = [line for line in lines if line.get("event") == "request"]
    assert request_lines, lines
    assert request_lines[0]["request_id"] == "req-42"
    assert request_lines[0]["status"] == 201
    assert all(line.get("request_id") == "req-42" for line in request_lines)
