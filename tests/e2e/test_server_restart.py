"""Restart the server: the case is still there, identical, and its path goes on from the same
version. In-process (the app's lifespan closed and a new app opened) and with a real
`parcours serve` subprocess stopped by SIGTERM or killed by SIGKILL; on both stores. The kills at
random moments under writing agents, in a loop, are in test_server_restart_loop.py (a file of its
own, so that the two share the test processes)."""

import signal
from pathlib import Path

import httpx

from adapters.settings import Settings
from tests.e2e.helpers import (
    AGENT_AAVE,
    FULL_PATH,
    ISSUE_RDV,
    Json,
    Server,
    api_client,
    log_position,
    post_path,
    read_case,
)

NEXT_STEP: Json = {**ISSUE_RDV, "effective_on": "2025-04-01", "numero": 5}
"""The outcome of the RDV left pending at the end of the path (n°5, on 2025-04-01)."""
LAST = len(FULL_PATH)
"""The case's version once the whole path is recorded (one event a step)."""


def _snapshot(client: httpx.Client, case_id: str) -> tuple[Json, list[Json], str, int, Json]:
    """Everything a reader sees of the case: state, timeline, ETag, log position, and the
    list of its structure caught up to that position."""
    state, timeline, etag = read_case(client, case_id)
    position = log_position(client)
    page = client.get("/dossiers", params={"structure_id": "aave-77", "after": position})
    assert page.status_code == 200, page.text
    return state, timeline, etag, position, page.json()["items"]


def _goes_on(client: httpx.Client, case_id: str, etag: str) -> None:
    """After the restart, the next step is recorded on top of the version read back."""
    response = client.post(
        f"/dossiers/{case_id}/issue-rdv",
        json=NEXT_STEP,
        headers={**AGENT_AAVE, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == LAST + 1
    state, timeline, _ = read_case(client, case_id)
    assert (state["rdv_seen"], state["rdv_en_attente"]) == (1, 0)
    assert [e["version"] for e in timeline] == list(range(1, LAST + 2))


def _check_before(snapshot: tuple[Json, list[Json], str, int, Json], case_id: str) -> None:
    state, timeline, etag, _, listed = snapshot
    assert etag == f'"{LAST}"'
    assert state["version"] == LAST
    assert len(timeline) == LAST
    assert [row["case_id"] for row in listed] == [case_id]


def test_after_closing_and_reopening_the_app_the_case_is_unchanged(settings: Settings) -> None:
    with api_client(settings) as client:
        case_id = post_path(client)
        before = _snapshot(client, case_id)
    _check_before(before, case_id)

    with api_client(settings) as client:
        assert _snapshot(client, case_id) == before
        _goes_on(client, case_id, before[2])


def test_a_real_server_stopped_by_sigterm_and_started_again_serves_the_same_case(
    settings: Settings, tmp_path: Path
) -> None:
    first = Server(settings, tmp_path / "first.log")
    try:
        with first.client() as client:
            case_id = post_path(client, FULL_PATH)
            before = _snapshot(client, case_id)
        first.stop_gracefully()
    finally:
        first.kill_if_running()
    _check_before(before, case_id)

    second = Server(settings, tmp_path / "second.log")
    try:
        with second.client() as client:
            assert _snapshot(client, case_id) == before
            _goes_on(client, case_id, before[2])
        second.stop_gracefully()
    finally:
        second.kill_if_running()


def test_a_real_server_killed_by_sigkill_loses_no_answered_step(
    settings: Settings, tmp_path: Path
) -> None:
    """Every step the server answered is durable: a SIGKILL right after the last answer, with
    no shutdown at all, loses none of them."""
    *earlier, (slug, body, author) = FULL_PATH
    first = Server(settings, tmp_path / "first.log")
    try:
        with first.client() as client:
            case_id = post_path(client, earlier)
            _, timeline_before, _ = read_case(client, case_id)
            last = client.post(f"/dossiers/{case_id}/{slug}", json=body, headers=author)
            assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    finally:
        first.kill_if_running()
    assert last.status_code == 200, last.text
    assert "Application shutdown complete." not in first.output()

    second = Server(settings, tmp_path / "second.log")
    try:
        with second.client() as client:
            _, timeline, etag = read_case(client, case_id)
            assert etag == f'"{LAST}"'
            assert timeline[: LAST - 1] == timeline_before
            last_event = timeline[LAST - 1]
            assert (last_event["version"], last_event["event"]["type"]) == (LAST, "RdvPlanifie")
            assert log_position(client) == last.json()["position"]
            _goes_on(client, case_id, etag)
        second.stop_gracefully()
    finally:
        second.kill_if_running()
