"""The « Équipe pluridisciplinaire » screen in a real browser, on both stores: an orientation
officer opens it from the header, filters the EP's worklist by a motive chosen by keyboard,
follows a line to its case and reads its « Sanctions » block (share, months, amounts); the
session's agenda and minutes are linked in HTML and PDF; an unknown motive is shown next to its
field; the roles the JSON worklist refuses do not reach it. axe-core finds nothing serious or
critical."""

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from adapters.settings import Settings
from api.http.auth import Role
from tests.auth import bearer
from tests.browser.test_screens import accessible, form_login, log_in, shot
from tests.e2e.helpers import FLUX_CAF, ORIENTEUR, Server, post_steps, wait_projected

ADMIN = bearer(Role.ADMIN, sub="admin-1")
REMOBILISATION = "Suspension-remobilisation: remobilisation à vérifier"


def _day(days_ago: int) -> str:
    return (date.today() - timedelta(days=days_ago)).isoformat()


def _entree(numero: str) -> tuple[str, dict[str, Any], dict[str, str]]:
    body = {
        "effective_on": _day(90),
        "numero_dossier": numero,
        "organisme_payeur": "caf",
        "date_flux": _day(90),
        "date_reception_flux": _day(90),
        "soumis_droits_devoirs": True,
    }
    return ("", body, FLUX_CAF)


ORIENTATION_PRO = {
    "effective_on": _day(85),
    "type_orientation": "professionnelle",
    "organisme": "france_travail",
    "structure_id": "ft-creteil",
    "mode": "decidee",
}


def _saisine(days_ago: int) -> dict[str, Any]:
    return {
        "effective_on": _day(days_ago),
        "motif_saisine": "sanction",
        "ep_id": "ep-creteil",
        "manquement": "RDV manqués sans motif",
        "date_manquement": _day(days_ago + 5),
    }


SESSION_DAY = _day(40)
SESSION_ID = f"ep-creteil-{SESSION_DAY}"


@pytest.fixture(scope="module")
def cases(server: Server) -> dict[str, str]:
    """CAF-EP0001 through the whole procedure of 2025: referred, notified, on the agenda of a
    session held 40 days ago, its observations received, the EP's opinion, then a
    suspension-remobilisation of 50 % for 2 months from 20 days ago (in force today, its first
    month suspended); CAF-EP0002 referred 10 days ago, no session yet."""
    with server.client() as client:
        declared = client.put(
            "/structures/ep-creteil",
            json={
                "nom": "EP de Créteil",
                "type_organisme": "equipe_pluridisciplinaire",
                "effective_on": _day(100),
            },
            headers=ADMIN,
        )
        assert declared.status_code in (200, 201), declared.text
        programmed = client.put(
            f"/ep/seances/{SESSION_ID}",
            json={
                "ep_id": "ep-creteil",
                "date_session": SESSION_DAY,
                "lieu": "Créteil, salle 3",
                "effective_on": _day(62),
            },
            headers=ORIENTEUR,
        )
        assert programmed.status_code == 201, programmed.text
        sanctioned, _ = post_steps(
            client,
            [
                _entree("CAF-EP0001"),
                ("orientation", ORIENTATION_PRO, ORIENTEUR),
                ("saisine-ep", _saisine(60), ORIENTEUR),
                ("notification-observations", {"effective_on": _day(60), "saisine": 1}, ORIENTEUR),
                (
                    "ordre-du-jour-ep",
                    {
                        "effective_on": _day(59),
                        "saisine": 1,
                        "session_id": SESSION_ID,
                        "date_session": SESSION_DAY,
                    },
                    ORIENTEUR,
                ),
                ("observations", {"effective_on": _day(50), "saisine": 1}, ORIENTEUR),
                (
                    "avis-ep",
                    {
                        "effective_on": SESSION_DAY,
                        "saisine": 1,
                        "avis": "sanction",
                        "pourcentage": 50,
                        "duree_mois": 2,
                    },
                    ORIENTEUR,
                ),
                (
                    "sanction",
                    {
                        "effective_on": _day(35),
                        "type_sanction": "suspension_remobilisation",
                        "motif": "manquement",
                        "saisine": 1,
                        "pourcentage": 50,
                        "duree_mois": 2,
                        "date_debut": _day(20),
                        "montant_mensuel_centimes": 64_652,
                        "personnes_foyer": 1,
                    },
                    ORIENTEUR,
                ),
            ],
        )
        held = client.post(
            f"/ep/seances/{SESSION_ID}/tenue",
            json={"membres": ["présidente", "CAF", "France Travail"], "effective_on": SESSION_DAY},
            headers=ORIENTEUR,
        )
        assert held.status_code == 200, held.text
        waiting, _ = post_steps(
            client,
            [
                _entree("CAF-EP0002"),
                ("orientation", ORIENTATION_PRO, ORIENTEUR),
                ("saisine-ep", _saisine(10), ORIENTEUR),
            ],
        )
        wait_projected(client)
    return {"sanctioned": sanctioned, "waiting": waiting}


def _tab_to(page: Any, test: str, presses: int = 40) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(test):
            return
    raise AssertionError(f"never focused: {test}")


def test_the_orientation_officer_filters_the_ep_worklist_and_reads_a_cases_sanctions(
    chromium: Any, server: Server, cases: dict[str, str], store_settings: Settings
) -> None:
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "orienteur-cd94")
    # From the header, by keyboard.
    _tab_to(page, "document.activeElement.textContent === 'Équipe pluridisciplinaire'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/ecrans/ep")
    assert page.title() == "Équipe pluridisciplinaire — parcours"
    rows = page.locator("table.ep-lignes tbody tr")
    shown = {(r.split("\t")[0], r.split("\t")[1]) for r in rows.all_inner_texts()}
    assert ("Dossier CAF-EP0001", REMOBILISATION) in shown
    assert ("Dossier CAF-EP0002", "Saisine de l'EP en attente d'une séance") in shown
    # The session, its agenda and minutes in HTML and PDF.
    session = page.locator(f'tr[id="seance-{SESSION_ID}"]')
    links = session.locator("a")
    assert links.count() == 4
    hrefs = [links.nth(i).get_attribute("href") for i in range(4)]
    assert hrefs == [
        f"/ecrans/ep/seances/{SESSION_ID}/ordre-du-jour",
        f"/ecrans/ep/seances/{SESSION_ID}/ordre-du-jour?format=pdf",
        f"/ecrans/ep/seances/{SESSION_ID}/proces-verbal",
        f"/ecrans/ep/seances/{SESSION_ID}/proces-verbal?format=pdf",
    ]
    accessible(page)
    shot(page, "ep", store_settings.store)

    # Choose the motive with the arrow keys, Tab to the button.
    page.locator("#ep-motif").focus()
    for _ in range(10):
        if page.evaluate("document.activeElement.value") == "remobilisation_a_verifier":
            break
        page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == "remobilisation_a_verifier"
    _tab_to(page, "document.activeElement.textContent === 'Filtrer'", 5)
    page.keyboard.press("Enter")
    page.wait_for_url("**/ecrans/ep?motif=remobilisation_a_verifier")
    motives = page.locator("table.ep-lignes tbody tr td:nth-child(2)").all_inner_texts()
    assert set(motives) == {REMOBILISATION}
    accessible(page)

    # Follow the line to the case: its sanctions block.
    page.get_by_role("link", name="Dossier CAF-EP0001").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/ecrans/dossiers/{cases['sanctioned']}")
    block = page.locator("section[aria-labelledby=titre-sanctions]")
    assert "50 % de l'allocation suspendus" in block.inner_text()
    cells = block.locator("tbody tr").first.locator("td").all_inner_texts()
    # 50 % of 646.52 € = 323.26 € a month; the first month suspended, nothing repaid or lost.
    assert cells[2:] == ["50 %, 2 mois", "1", "323,26\u00a0€", "0,00\u00a0€", "0,00\u00a0€"]
    assert "(en vigueur)" in block.locator("tbody th").first.inner_text()
    accessible(page)
    shot(page, "dossier-sanctions", store_settings.store)
    page.close()


def test_documents_an_unknown_motive_and_the_roles_the_worklist_refuses(
    server: Server, cases: dict[str, str]
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=60) as browser:
        form_login(browser, "auditeur-1")
        pdf = browser.get(f"/ecrans/ep/seances/{SESSION_ID}/proces-verbal?format=pdf")
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        agenda = browser.get(f"/ecrans/ep/seances/{SESSION_ID}/ordre-du-jour")
        assert agenda.status_code == 200
        assert "CAF-EP0001" in agenda.text
        wrong = browser.get("/ecrans/ep", params={"motif": "inconnu"})
        assert wrong.status_code == 422
        assert '<a href="#ep-motif">' in wrong.text
        assert 'aria-invalid="true"' in wrong.text
    with httpx.Client(base_url=server.base_url, timeout=60) as browser:
        form_login(browser, "agent-7")
        assert browser.get("/ecrans/ep").status_code == 403
        assert "Équipe pluridisciplinaire" not in browser.get("/ecrans/a-traiter").text
