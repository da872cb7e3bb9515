"""An agent finds a person from the header of any screen, by keyboard alone: types a prefix of
the name without its accent, presses Enter, sees the person in a table and follows the link to
the case. Another structure's agent finds nobody; a query too short is said next to the field.
axe-core finds no serious or critical violation."""

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from adapters.identity import Identite, IdentityStore
from adapters.settings import Settings
from tests.browser.test_screens import accessible, log_in, shot
from tests.e2e.helpers import EPISODE_1, Server, post_steps, wait_projected


@pytest.fixture(scope="module")
def case_id(server: Server, store_settings: Settings) -> str:
    """A case oriented to the CCAS of Créteil whose person, Élise Dupré, the vault knows."""
    with server.client() as client:
        found, _ = post_steps(client, EPISODE_1[:3])
        wait_projected(client)
    vault = IdentityStore(store_settings)
    person = Identite(
        organisme="CAF",
        matricule="0123456",
        nir="2820251108030",
        nom="Dupré",
        prenoms=["Élise", "Anne"],
        date_naissance=date(1982, 2, 14),
        commune="Créteil",
    )
    with vault.db.transaction() as tx:
        vault.insert(tx, [(vault.blind_index("CAF", "0123456", None), UUID(found), person)])
    return found


def focus(page: Any, selector: str, limit: int = 40) -> None:
    """Tab from where the focus is until `selector` has it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"{selector} never had the focus")


def test_agent_finds_a_person_from_the_header_by_keyboard(
    chromium: Any, server: Server, case_id: str, store_settings: Settings
) -> None:
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "agent-7")
    header = page.locator("header form[role=search]")
    assert header.get_by_label("Rechercher une personne").count() == 1

    focus(page, "#entete-q")
    page.keyboard.type("dupre eli")
    page.keyboard.press("Enter")
    page.wait_for_url("**/ecrans/recherche?q=dupre+eli")
    assert page.title() == "dupre eli — Rechercher une personne — parcours"
    field = page.get_by_label("Nom, numéro d'allocataire ou NIR")
    assert field.input_value() == "dupre eli"
    table = page.locator("table")
    assert "dupre eli" in table.locator("caption").inner_text()
    assert table.locator("thead th[scope=col]").count() == 6
    (row,) = table.locator("tbody tr").all()
    assert "0123456" in row.inner_text()
    assert "14/02/1982" in row.inner_text()
    assert "Créteil" in row.inner_text()
    link = row.locator("th[scope=row] a")
    assert link.inner_text() == "Dupré Élise Anne"
    assert link.get_attribute("href") == f"/ecrans/dossiers/{case_id}"
    assert page.locator("header form[role=search]").count() == 0  # the page's own form instead
    accessible(page)
    shot(page, "recherche", store_settings.store)

    focus(page, f'a[href="/ecrans/dossiers/{case_id}"]')
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}")
    assert page.locator("h1").inner_text().startswith("Élise Anne Dupré")

    # Search again from the case's header: by NIR, spaces as typed.
    focus(page, "#entete-q")
    page.keyboard.type("2 82 02 51 108 030")
    page.keyboard.press("Enter")
    page.wait_for_url("**/ecrans/recherche?q=*")
    assert page.locator("tbody tr").count() == 1
    page.close()


def test_a_query_too_short_is_said_next_to_the_field(
    chromium: Any, server: Server, case_id: str
) -> None:
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "agent-7")
    answer = page.goto(f"{server.base_url}/ecrans/recherche?q=d")
    assert answer is not None
    assert answer.status == 422
    assert page.title().startswith("Erreur : ")
    link = page.locator(".resume-erreurs a")
    assert link.get_attribute("href") == "#recherche-q"
    message = page.locator("#erreur-q").inner_text()
    assert message == "saisir au moins 3 caractères"
    field = page.locator("#recherche-q")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == "erreur-q"
    assert page.locator("table").count() == 0
    accessible(page)
    link.click()
    assert page.evaluate("document.activeElement.id") == "recherche-q"
    page.close()


def test_another_structures_agent_finds_nobody(chromium: Any, server: Server, case_id: str) -> None:
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "conseiller-12")
    page.goto(f"{server.base_url}/ecrans/recherche?q=dupre")
    assert page.locator("table").count() == 0
    assert "Aucune personne trouvée dans votre portefeuille" in page.locator("main").inner_text()
    accessible(page)
    page.close()


def test_finance_has_no_search(chromium: Any, server: Server) -> None:
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "finance-1")
    assert page.locator("header form[role=search]").count() == 0
    answer = page.goto(f"{server.base_url}/ecrans/recherche?q=dupre")
    assert answer is not None
    assert answer.status == 403
    page.close()
