"""The API's conventions on both stores: a stale `If-Match` is 412 Precondition Failed and
writes nothing; a case read again with `If-None-Match` is 304 while it has not changed; every
list pages with `limit` and `offset` into one envelope, and announces its next page in an
RFC 8288 `Link` header that a client follows to the end; every CSV answer starts with the BOM."""

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from tests.e2e.helpers import (
    AGENT_CCAS,
    AUDITEUR,
    REFERENT,
    api_client,
    create_case,
    log_position,
    orient,
)

LINK = re.compile(r'^<([^>]+)>; rel="next"$')


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with api_client(settings) as c:
        yield c


def test_a_stale_if_match_is_412_and_writes_nothing(client: TestClient) -> None:
    case_id = create_case(client)
    orient(client, case_id)
    etag = client.get(f"/dossiers/{case_id}").headers["ETag"]
    assert etag == '"2"'
    before = log_position(client)
    stale = client.post(
        f"/dossiers/{case_id}/referent", json=REFERENT, headers={**AGENT_CCAS, "If-Match": '"1"'}
    )
    assert stale.status_code == 412, stale.text
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["field"] == "If-Match"
    assert stale.json()["code"] == "version_perimee"
    assert log_position(client) == before
    fresh = client.post(
        f"/dossiers/{case_id}/referent", json=REFERENT, headers={**AGENT_CCAS, "If-Match": etag}
    )
    assert fresh.status_code == 200, fresh.text
    assert fresh.headers["ETag"] == '"3"'


def test_a_conditional_read_is_304_until_the_case_changes(client: TestClient) -> None:
    case_id = create_case(client)
    first = client.get(f"/dossiers/{case_id}")
    etag = first.headers["ETag"]
    again = client.get(f"/dossiers/{case_id}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag
    for variant in (f"W/{etag}", f'"99", {etag}', "*"):
        assert (
            client.get(f"/dossiers/{case_id}", headers={"If-None-Match": variant}).status_code
            == 304
        )
    timeline = client.get(f"/dossiers/{case_id}/evenements")
    assert timeline.headers["ETag"] == etag
    assert (
        client.get(f"/dossiers/{case_id}/evenements", headers={"If-None-Match": etag}).status_code
        == 304
    )
    orient(client, case_id)
    changed = client.get(f"/dossiers/{case_id}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] == '"2"'
    assert changed.json()["version"] == 2
    # A read at a date is another representation: never answered 304 from the current ETag.
    dated = client.get(
        f"/dossiers/{case_id}", params={"as_of": "2024-12-31"}, headers={"If-None-Match": '"2"'}
    )
    assert dated.status_code == 200


def test_a_list_is_followed_to_its_end_through_link_headers(client: TestClient) -> None:
    created = {create_case(client) for _ in range(5)}
    position = log_position(client)
    url: str | None = f"/dossiers?limit=2&after={position}"
    seen: list[str] = []
    pages = 0
    while url is not None:
        page = client.get(url, headers=AUDITEUR)
        assert page.status_code == 200, page.text
        body = page.json()
        assert set(body) >= {"items", "total", "limit", "offset"}
        assert body["total"] == 5
        assert body["limit"] == 2
        seen += [row["case_id"] for row in body["items"]]
        pages += 1
        link = page.headers.get("Link")
        if link is None:
            url = None
            continue
        match = LINK.match(link)
        assert match, link
        url = match.group(1)
        assert url.startswith("/dossiers?")
        assert f"after={position}" in url  # the other parameters are kept
    assert pages == 3
    assert sorted(seen) == sorted(created)
    last = client.get("/dossiers?limit=5", headers=AUDITEUR)
    assert "Link" not in last.headers  # nothing after the whole list


def test_every_csv_answer_starts_with_the_bom(client: TestClient) -> None:
    create_case(client)
    csv = {"Accept": "text/csv"}
    answers = {
        "/statistiques/table-3-1": client.get(
            "/statistiques/table-3-1",
            params={"du": "2024-01-01", "au": "2024-12-31"},
            headers={**AUDITEUR, **csv},
        ),
        "/a-traiter": client.get("/a-traiter", headers={**AGENT_CCAS, **csv}),
        "/audit/acces": client.get("/audit/acces", headers={**AUDITEUR, **csv}),
    }
    for route, answer in answers.items():
        assert answer.status_code == 200, (route, answer.text)
        assert answer.headers["content-type"].startswith("text/csv"), route
        assert answer.content.startswith(b"\xef\xbb\xbf"), route
        assert ";" in answer.content.decode("utf-8-sig").splitlines()[0], route


def test_the_openapi_document_names_the_link_header_of_every_list(
    sqlite_settings: Settings,
) -> None:
    with api_client(sqlite_settings) as client:
        spec = client.get("/openapi.json").json()
    lists = {
        (method, path): op["responses"]["200"]
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if any(p["name"] == "offset" for p in op.get("parameters", []))
    }
    assert ("get", "/dossiers") in lists
    assert ("get", "/audit/acces") in lists
    for where, answer in lists.items():
        assert "Link" in answer.get("headers", {}), where
