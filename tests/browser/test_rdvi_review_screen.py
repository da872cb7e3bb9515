"""rdv-insertion's review queue in a real browser, on both stores: a signed delivery (the guide's
sample 01) convokes two people parcours does not know, so two items wait. An orientation officer
reaches « À revoir (rdv-insertion) » from the header by keyboard, sees when each was received,
the RDV's date and motif, the person and the reason; a malformed case id comes back next to its
field with the form as typed and nothing written; she finds the case by the search and links the
first item to it, and the case's timeline then shows the RDV; she dismisses the other with a
motif, kept on the item. A post without the form's CSRF token writes nothing. axe-core finds nothing serious or critical. An agent has no such
screen."""

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest

from adapters.identity import Identite, IdentityStore
from adapters.settings import Settings
from tests.browser.test_screens import accessible, log_in, shot
from tests.connectors.rdvi import PATH, SECRET, sample
from tests.e2e.helpers import EPISODE_1, ORIENTEUR, Server, post_steps, wait_until

SCREEN = "/ecrans/rdv-insertion/a-revoir"


@pytest.fixture(scope="module")
def server(
    chromium: object, store_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`parcours serve --avec-projection` with rdv-insertion's secret: it processes the inbox."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    served = Server(
        store_settings,
        log,
        "--avec-projection",
        PARCOURS_LOG_LEVEL="WARNING",
        PARCOURS_RDVI_SECRETS=f"cd94={SECRET}",
    )
    try:
        yield served
    finally:
        served.kill_if_running()


def queue(server: Server, etat: str = "ouvert") -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{server.base_url}{PATH}/a-revoir?etat={etat}", headers=ORIENTEUR, timeout=60
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


@pytest.fixture(scope="module")
def story(server: Server, store_settings: Settings) -> tuple[str, list[dict[str, Any]]]:
    """A case oriented, its référent named, no RDV yet, whose person (Anne Durand) the vault
    knows; and the two items the sample leaves in the queue."""
    with server.client() as client:
        case_id, _ = post_steps(client, EPISODE_1[:3])
    vault = IdentityStore(store_settings)
    person = Identite(organisme="caf", matricule="0123456", nom="Durand", prenoms=["Anne"])
    with vault.db.transaction() as tx:
        vault.insert(tx, [(vault.blind_index("caf", "0123456", None), UUID(case_id), person)])
    body, signature = sample("01")
    answer = httpx.post(
        f"{server.base_url}{PATH}",
        content=body,
        headers={"X-RDVI-SIGNATURE": signature, "content-type": "application/json"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    wait_until(lambda: len(queue(server)) == 2, 120, "two items to review", pause=0.2)
    return case_id, queue(server)


def timeline(page: Any, server: Server, case_id: str) -> str:
    page.goto(f"{server.base_url}/ecrans/dossiers/{case_id}")
    text: str = page.locator("#chronologie").locator("xpath=..").inner_text()
    return text


def test_an_orientation_officer_links_one_item_and_dismisses_the_other(
    chromium: Any, server: Server, story: tuple[str, list[dict[str, Any]]], store_settings: Settings
) -> None:
    case_id, items = story
    first, second = items[0]["id"], items[1]["id"]
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "orienteur-cd94")
    assert "RDV planifié" not in timeline(page, server, case_id)

    page.goto(f"{server.base_url}/ecrans/a-traiter")
    page.keyboard.press("Tab")  # the skip link, then the header's links
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "À revoir (rdv-insertion)":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{SCREEN}")
    assert page.title() == "À revoir (rdv-insertion) — parcours"
    table = page.locator("table")
    assert table.locator("caption").count() == 1
    assert table.locator("th[scope=col]").count() == 6
    rows = table.locator("tbody tr").all_inner_texts()
    assert len(rows) == 2, rows
    assert "Camille" in rows[0] or "Camille" in rows[1], rows
    assert all("09/06/2026 à 10:30" in r for r in rows), rows  # the RDV's date, in Paris
    assert all("RSA orientation" in r for r in rows), rows
    assert all("non retrouvée" in r for r in rows), rows
    accessible(page)

    # A malformed case id: next to its field, as typed, nothing written.
    field = page.locator(f"#lier-{first}-case_id")
    field.focus()
    page.keyboard.type("pas-un-dossier")
    with page.expect_navigation() as posted:
        page.keyboard.press("Enter")
    assert posted.value is not None
    assert posted.value.status == 422
    summary = page.locator(".resume-erreurs a")
    assert summary.count() == 1
    assert summary.get_attribute("href") == f"#lier-{first}-case_id"
    field = page.locator(f"#lier-{first}-case_id")
    assert field.input_value() == "pas-un-dossier"
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == f"erreur-lier-{first}-case_id"
    accessible(page)
    summary.click()
    assert page.evaluate("document.activeElement.id") == f"lier-{first}-case_id"
    forged = page.request.post(f"{server.base_url}{SCREEN}/{second}/ecarter", form={"motif": "x"})
    assert forged.status == 403  # no CSRF token
    assert [i["etat"] for i in queue(server)] == ["ouvert", "ouvert"]

    # The case found by the search, then linked: the RDV is recorded on it.
    page.locator(f"#chercher-{first}-q").focus()
    page.keyboard.type("Durand")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**element={first}*")
    pick = page.get_by_role("button", name=f"Lier l'élément {first} à ce dossier")
    assert pick.count() == 1
    assert "Durand Anne, CAF 0123456" in page.locator("#trouves").inner_text()
    accessible(page)
    shot(page, "rdv-insertion-a-revoir", store_settings.store)
    pick.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**fait=lie&element={first}")
    assert f"Élément {first} lié au dossier" in page.locator(".confirmation").inner_text()
    assert page.locator("table tbody tr").count() == 1
    linked = next(i for i in queue(server, "tous") if i["id"] == first)
    assert (linked["etat"], linked["case_id"], linked["decide_par"]) == (
        "lie",
        case_id,
        "orienteur-cd94",
    )
    wait_until(lambda: "RDV planifié" in timeline(page, server, case_id), 120, "the RDV", pause=0.5)

    # The other dismissed, with its motif.
    page.goto(f"{server.base_url}{SCREEN}")
    page.locator(f"#ecarter-{second}-motif").focus()
    with page.expect_navigation() as refused:
        page.keyboard.press("Enter")  # no motif: refused
    assert refused.value is not None
    assert refused.value.status == 422
    assert page.locator(".resume-erreurs a").get_attribute("href") == f"#ecarter-{second}-motif"
    page.locator(f"#ecarter-{second}-motif").focus()
    page.keyboard.type("Homonyme, déjà suivi par le département voisin")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**fait=ecarte&element={second}")
    assert "Aucun élément à revoir" in page.locator("main").inner_text()
    accessible(page)
    dismissed = next(i for i in queue(server, "tous") if i["id"] == second)
    assert dismissed["etat"] == "ecarte"
    assert dismissed["motif_decision"] == "Homonyme, déjà suivi par le département voisin"
    page.close()

    agent = chromium.new_page(locale="fr-FR")
    log_in(agent, server, "agent-7")
    assert agent.get_by_role("link", name="À revoir (rdv-insertion)").count() == 0
    denied = agent.goto(f"{server.base_url}{SCREEN}")
    assert denied is not None
    assert denied.status == 403
    agent.close()
