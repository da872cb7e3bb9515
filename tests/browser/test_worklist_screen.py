"""The « À traiter » screen in a real browser, on both stores: the counts per motive, a filter
by motive chosen by keyboard (the active one marked with aria-current), the agent's own people
(their `sub` as référent) first, the filters kept in the paging links, a wrong filter shown
next to its field; axe-core finds nothing serious or critical."""

from typing import Any

import httpx
import pytest

from adapters.settings import Settings
from tests.browser.test_screens import accessible, form_login, log_in, shot
from tests.e2e.helpers import (
    AGENT_CCAS,
    CER,
    ENTREE,
    FLUX_CAF,
    ISSUE_RDV,
    ORIENTATION,
    ORIENTEUR,
    RDV,
    REFERENT,
    Server,
    post_steps,
    wait_projected,
)

CER_ECHU = "Contrat échu, non renouvelé"


@pytest.fixture(scope="module")
def cases(server: Server) -> dict[str, str]:
    """Two cases of the CCAS of Créteil: one whose référent is the agent `agent-7` (a RDV
    without an outcome), one of another référent (a contract ended long ago)."""
    mine_steps = [
        ("", {**ENTREE, "numero_dossier": "CAF-7000001"}, FLUX_CAF),
        ("orientation", ORIENTATION, ORIENTEUR),
        ("referent", {**REFERENT, "referent_id": "agent-7"}, AGENT_CCAS),
        ("rdv", RDV, AGENT_CCAS),
    ]
    other_steps = [
        ("", {**ENTREE, "numero_dossier": "CAF-7000002"}, FLUX_CAF),
        ("orientation", ORIENTATION, ORIENTEUR),
        ("referent", REFERENT, AGENT_CCAS),
        ("rdv", RDV, AGENT_CCAS),
        ("issue-rdv", ISSUE_RDV, AGENT_CCAS),
        ("cer", CER, AGENT_CCAS),
    ]
    with server.client() as client:
        mine, _ = post_steps(client, mine_steps)
        other, _ = post_steps(client, other_steps)
        wait_projected(client)
    return {"mine": mine, "other": other}


def test_an_agent_filters_the_worklist_by_motive_by_keyboard(
    chromium: Any, server: Server, cases: dict[str, str], store_settings: Settings
) -> None:
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "agent-7")
    counts = page.locator("table.par-motif")
    assert counts.locator("caption").inner_text() == "Lignes par motif"
    rows = counts.locator("tbody tr")
    shown = {
        rows.nth(i).locator("th").inner_text(): int(rows.nth(i).locator("td").inner_text())
        for i in range(rows.count())
    }
    assert shown[CER_ECHU] >= 1
    assert shown["RDV passé sans issue enregistrée"] >= 1
    total = shown.pop("Tous les motifs")
    assert total == sum(shown.values())
    assert counts.locator('a[aria-current="true"]').inner_text() == "Tous les motifs"
    # The agent's own people first: every line marked "(vous)" before any other.
    referents = page.locator("table:not(.par-motif) tbody tr td:last-child").all_inner_texts()
    marks = [r.endswith("(vous)") for r in referents]
    assert marks[0], referents
    assert marks == sorted(marks, reverse=True), referents
    accessible(page)
    shot(page, "a-traiter", store_settings.store)

    # Tab to the motive's list, choose "contract ended" with the arrow keys, Tab to the button.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "liste-motif":
            break
    for _ in range(10):
        if page.evaluate("document.activeElement.value") == "cer_echu":
            break
        page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == "cer_echu"
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Filtrer":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/ecrans/a-traiter?*motif=cer_echu*")
    motives = page.locator("table:not(.par-motif) tbody tr td:nth-child(2)").all_inner_texts()
    assert motives
    assert set(motives) == {CER_ECHU}
    assert page.locator('table.par-motif a[aria-current="true"]').inner_text() == CER_ECHU
    assert f"sur {shown[CER_ECHU]})" in page.locator("table:not(.par-motif) caption").inner_text()
    accessible(page)

    # The counts' links filter too: back to every motive.
    page.get_by_role("link", name="Tous les motifs").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "motif=" not in page.url
    lines = page.locator("table:not(.par-motif) tbody tr")
    assert lines.count() == min(total, 50)
    page.close()


def test_filters_stay_in_the_paging_links_and_a_wrong_one_is_shown_next_to_its_field(
    server: Server, cases: dict[str, str]
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=60) as browser:
        form_login(browser, "agent-7")
        paged = browser.get(
            "/ecrans/a-traiter", params={"limit": 1, "jours_min": 30, "tri": "echeance"}
        )
        assert paged.status_code == 200
        assert 'href="?jours_min=30&amp;tri=echeance&amp;limit=1&amp;offset=1"' in paged.text
        wrong = browser.get("/ecrans/a-traiter", params={"jours_min": "beaucoup"})
        assert wrong.status_code == 422
        assert '<a href="#liste-jours_min">' in wrong.text
        assert 'id="liste-jours_min"' in wrong.text
        assert 'aria-invalid="true"' in wrong.text
