"""An agent of the CCAS at the screens, in a real browser: logs in (local mode), reads the
worklist, opens a case by keyboard, plans a RDV and sees it in the timeline; a date out of
bounds comes back next to its field with the form as typed and nothing written; another
structure's agent does not reach the case. axe-core finds no serious or critical violation on
any screen. With PARCOURS_SCREENSHOTS=docs/screens, a picture of each screen goes there."""

import os
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe

from adapters.identity import Identite, IdentityStore
from adapters.settings import Settings
from tests.e2e.helpers import (
    AGENT_CCAS,
    EPISODE_1,
    ISSUE_RDV,
    ORIENTEUR,
    Server,
    post_steps,
    wait_projected,
)

SCREENSHOTS = os.environ.get("PARCOURS_SCREENSHOTS")
"""Where to save a picture of each screen (`docs/screens` to refresh the docs'); none unset, so
that a test run leaves the work tree as it was."""
AXE = Axe()
BLOCKING = {"serious", "critical"}


def accessible(page: Any) -> None:
    """axe-core (WCAG 2.0/2.1 A and AA rules) reports nothing serious or critical."""
    results = AXE.run(
        page,
        options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            "resultTypes": ["violations"],
        },
    )
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert not blocking, results.generate_report()


def shot(page: Any, name: str, store: str) -> None:
    if SCREENSHOTS and store == "sqlite":  # one set of pictures is enough
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def case_id(server: Server, store_settings: Settings) -> str:
    """A case oriented to the CCAS of Créteil, a référent and a first RDV planned (v4), whose
    person the identity vault knows."""
    with server.client() as client:
        found, _ = post_steps(client, EPISODE_1[:4])
        wait_projected(client)
    vault = IdentityStore(store_settings)
    person = Identite(organisme="caf", matricule="0123456", nom="Durand", prenoms=["Anne"])
    with vault.db.transaction() as tx:
        vault.insert(tx, [(vault.blind_index("caf", "0123456", None), UUID(found), person)])
    return found


def log_in(page: Any, server: Server, identity: str) -> None:
    page.goto(f"{server.base_url}/")
    assert page.title() == "Connexion — parcours"
    page.check(f"#identite-{identity}")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/ecrans/a-traiter")


def csrf_of(html: str) -> str:
    return html.split('name="csrf" value="')[1].split('"')[0]


def form_login(browser: httpx.Client, identity: str) -> None:
    """Log in as a browser without JavaScript would: read the form, post it back."""
    token = csrf_of(browser.get("/ecrans/connexion").text)
    answer = browser.post("/ecrans/connexion", data={"identite": identity, "csrf": token})
    assert answer.headers["location"] == "/ecrans/a-traiter"


def case_version(server: Server, case_id: str) -> int:
    answer = httpx.get(f"{server.base_url}/dossiers/{case_id}", headers=AGENT_CCAS, timeout=60)
    assert answer.status_code == 200, answer.text
    version: int = answer.json()["version"]
    return version


def test_agent_plans_a_rdv_by_keyboard(
    chromium: Any, server: Server, case_id: str, store_settings: Any
) -> None:
    store = store_settings.store
    page = chromium.new_page(locale="fr-FR")
    page.goto(f"{server.base_url}/")
    assert page.locator("html").get_attribute("lang") == "fr"
    accessible(page)
    shot(page, "connexion", store)
    log_in(page, server, "agent-7")

    assert page.title() == "À traiter — parcours"
    assert "agent-7" in page.locator("header").inner_text()
    table = page.locator("table:not(.par-motif)")
    assert "ccas-creteil" in table.locator("caption").inner_text()
    assert table.locator("th[scope=col]").count() == 6
    links = page.locator(f'a[href="/ecrans/dossiers/{case_id}"]')
    assert links.count() >= 1
    assert links.first.inner_text() == "Anne Durand"  # the vault's name, for its agent
    accessible(page)  # its picture: test_worklist_screen.py

    # The skip link comes first; then Tab until the first case link has the focus, and Enter.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    for _ in range(30):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.getAttribute('href') || ''")
        if href.startswith("/ecrans/dossiers/"):
            break
    assert href == f"/ecrans/dossiers/{case_id}"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}")
    assert page.title().endswith("— parcours")
    assert "ref-durand" in page.locator(".synthese").inner_text()
    assert page.locator("h1").inner_text().startswith("Anne Durand")
    accessible(page)
    shot(page, "dossier", store)

    # The case lists the steps the agent may record, each a link to its own form.
    page.get_by_role("link", name="Planifier un RDV (invitation ou convocation)").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}/etapes/rdv")
    assert page.title() == "Planifier un RDV (invitation ou convocation) — parcours"
    accessible(page)
    version = case_version(server, case_id)
    page.fill("#rdv-effective_on", "2024-02-06")
    page.select_option("#rdv-type_rdv", "suivi")
    page.select_option("#rdv-mode", "invitation")
    page.fill("#rdv-date_rdv", "2024-02-27")
    page.locator("#rdv-date_rdv").press("Enter")  # submits the form, as a keyboard user would
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}?ok=rdv*")
    assert page.get_by_role("status").inner_text() == "RDV planifié."
    latest = page.locator("#chronologie ~ table tbody tr").first.inner_text()
    assert "RDV planifié" in latest, latest
    assert "06/02/2024" in latest, latest
    assert "agent-7" in latest, latest
    assert case_version(server, case_id) == version + 1
    accessible(page)
    page.close()


def test_a_date_out_of_bounds_is_shown_next_to_its_field_and_nothing_is_written(
    chromium: Any, server: Server, case_id: str, store_settings: Any
) -> None:
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "agent-7")
    page.goto(f"{server.base_url}/ecrans/dossiers/{case_id}/etapes/rdv")
    version = case_version(server, case_id)
    page.fill("#rdv-effective_on", "2024-02-06")
    page.select_option("#rdv-mode", "convocation")
    page.fill("#rdv-date_rdv", "1850-02-27")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state()

    assert page.title().startswith("Erreur : ")
    summary = page.locator(".resume-erreurs")
    link = summary.locator("a")
    assert link.get_attribute("href") == "#rdv-date_rdv"
    message = page.locator("#erreur-date_rdv").inner_text()
    assert "1850-02-27" in message
    assert message in link.inner_text()
    field = page.locator("#rdv-date_rdv")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == "erreur-date_rdv"
    assert field.input_value() == "1850-02-27"
    assert page.locator("#rdv-mode").input_value() == "convocation"
    assert page.locator("#rdv-effective_on").input_value() == "2024-02-06"
    assert case_version(server, case_id) == version
    accessible(page)  # a generated form with an error shown
    shot(page, "etape-erreur", store_settings.store)

    link.click()  # the summary leads to the field
    assert page.evaluate("document.activeElement.id") == "rdv-date_rdv"
    page.close()


def test_another_structures_agent_does_not_reach_the_case(
    chromium: Any, server: Server, case_id: str
) -> None:
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "conseiller-12")
    answer = page.goto(f"{server.base_url}/ecrans/dossiers/{case_id}")
    assert answer is not None
    assert answer.status == 404
    heading = page.locator("h1").inner_text()
    assert heading == "Dossier introuvable ou hors de votre portefeuille"
    assert page.title() == f"{heading} — parcours"
    accessible(page)
    malformed = page.goto(f"{server.base_url}/ecrans/dossiers/pas-un-dossier")
    assert malformed is not None
    assert malformed.status == 404
    assert page.locator("h1").inner_text() == heading
    page.close()


def test_sessions_are_http_only_lax_cookies_and_every_form_needs_its_csrf_token(
    server: Server, case_id: str
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=60) as browser:
        assert browser.get("/ecrans/a-traiter").headers["location"] == "/ecrans/connexion"
        login = browser.get("/ecrans/connexion")
        cookie = login.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "secure" not in cookie  # local mode: plain http on the developer's machine
        refused = browser.post("/ecrans/connexion", data={"identite": "agent-7", "csrf": "x"})
        assert refused.status_code == 403
        assert browser.get("/ecrans/a-traiter").status_code == 303
        form_login(browser, "agent-7")
        page = browser.get(f"/ecrans/dossiers/{case_id}")
        assert page.status_code == 200
        version = case_version(server, case_id)
        form = {
            "version": str(version),
            "effective_on": "2024-02-06",
            "type_rdv": "suivi",
            "mode": "invitation",
            "date_rdv": "2024-02-27",
        }
        assert browser.post(f"/ecrans/dossiers/{case_id}/etapes/rdv", data=form).status_code == 403
        assert case_version(server, case_id) == version


def test_a_case_changed_since_it_was_shown_says_so_and_nothing_is_written(
    chromium: Any, server: Server, case_id: str
) -> None:
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "agent-7")
    page.goto(f"{server.base_url}/ecrans/dossiers/{case_id}/etapes/rdv")
    shown = int(page.locator('input[name="version"]').input_value())
    meanwhile = httpx.post(
        f"{server.base_url}/dossiers/{case_id}/issue-rdv",
        json=ISSUE_RDV,
        headers={**AGENT_CCAS, "If-Match": f'"{shown}"'},
        timeout=60,
    )
    assert meanwhile.status_code == 200, meanwhile.text
    page.fill("#rdv-effective_on", "2024-02-06")
    page.fill("#rdv-date_rdv", "2024-03-05")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state()
    conflict = page.locator("#erreur-version").inner_text()
    assert f"version {shown + 1}" in conflict
    assert page.locator("#rdv-date_rdv").input_value() == "2024-03-05"
    assert case_version(server, case_id) == shown + 1
    page.close()


def test_an_orientation_officer_lists_every_structure_and_finance_has_no_screen_yet(
    server: Server, case_id: str
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=60) as officer:
        form_login(officer, "orienteur-cd94")
        worklist = officer.get("/ecrans/a-traiter")
        assert worklist.status_code == 200
        assert f'href="/ecrans/dossiers/{case_id}"' in worklist.text
        assert "Anne Durand" in worklist.text
    with httpx.Client(base_url=server.base_url, timeout=60) as finance:
        form_login(finance, "finance-1")
        home = finance.get("/ecrans/a-traiter")
        assert "<title>Accueil — parcours</title>" in home.text
        assert finance.get(f"/ecrans/dossiers/{case_id}").status_code == 403


TABLE_31_HEADERS = [
    "Nouveaux entrants",
    "Nouveaux entrants orientés dans le délai",
    "Nombre total de 1ers RDV d'accompagnement fixés",
    "dont 1ers RDV dans le délai",
    "Nombre total de 1ers CER",
    "dont 1ers CER dans le délai",
]


def test_the_orientation_officer_reads_table_3_1_and_downloads_it_as_csv(
    chromium: Any, server: Server, case_id: str, store_settings: Any
) -> None:
    page = chromium.new_page(locale="fr-FR", accept_downloads=True)
    log_in(page, server, "orienteur-cd94")
    page.keyboard.press("Tab")  # the skip link, then the header's links
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Statistiques":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/ecrans/statistiques")
    assert page.title() == "Statistiques — parcours"
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Statistiques"
    last_year = str(int(page.locator("#stat-au").input_value()[:4]))
    assert page.locator("#stat-du").input_value() == f"{last_year}-01-01"  # last full year
    assert page.locator("table").count() == 0  # nothing computed before the form is sent

    page.select_option("#stat-famille", "table-3-1")
    page.fill("#stat-du", "2024-01-01")
    page.fill("#stat-au", "2024-12-31")
    page.locator("#stat-au").press("Enter")
    page.wait_for_url("**/ecrans/statistiques?famille=table-3-1&du=2024-01-01&au=2024-12-31*")
    table = page.locator("table")
    assert "du 01/01/2024 au 31/12/2024" in table.locator("caption").inner_text()
    headers = table.locator("thead th[scope=col]").all_inner_texts()
    assert headers == ["Périmètre", *TABLE_31_HEADERS]
    assert table.locator("tbody th[scope=row]").inner_text() == "Tout le département"
    entrants = table.locator("tbody td").first
    assert int(entrants.inner_text().replace("\u00a0", "")) >= 1
    assert entrants.evaluate("e => getComputedStyle(e).textAlign") == "right"
    accessible(page)
    shot(page, "statistiques", store_settings.store)

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger ce tableau (CSV, tableur)").click()
    assert download.value.suggested_filename == "table-3-1-2024-01-01-2024-12-31.csv"
    body = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    assert body.splitlines()[0] == ";".join(TABLE_31_HEADERS)  # a French spreadsheet's `;`
    page.close()


def test_a_wrong_period_is_shown_next_to_its_field(
    chromium: Any, server: Server, case_id: str, store_settings: Any
) -> None:
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "orienteur-cd94")
    page.goto(f"{server.base_url}/ecrans/statistiques")
    page.fill("#stat-du", "2024-12-31")
    page.fill("#stat-au", "2024-01-01")
    page.get_by_role("button", name="Afficher le tableau").click()
    page.wait_for_url("**/ecrans/statistiques?*")

    assert page.title() == "Erreur : Statistiques — parcours"
    message = page.locator("#erreur-au").inner_text()
    assert "précède" in message, message
    link = page.locator(".resume-erreurs a")
    assert link.get_attribute("href") == "#stat-au"
    assert message in link.inner_text()
    field = page.locator("#stat-au")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == "erreur-au"
    assert field.input_value() == "2024-01-01"
    assert page.locator("table").count() == 0
    accessible(page)
    shot(page, "statistiques-erreur", store_settings.store)
    link.click()
    assert page.evaluate("document.activeElement.id") == "stat-au"

    page.goto(f"{server.base_url}/ecrans/statistiques?famille=taux&du=1850-01-01&au=2024-01-01")
    assert "comprise entre" in page.locator("#erreur-du").inner_text()
    page.goto(
        f"{server.base_url}/ecrans/statistiques?famille=taux&du=2024-01-01&au=2024-12-31"
        "&regles=inconnues"
    )
    assert "inconnues" in page.locator("#erreur-regles").inner_text()
    page.close()


def test_the_statistics_screen_is_for_the_statistics_roles_only(
    server: Server, case_id: str
) -> None:
    query = "famille=taux&du=2024-01-01&au=2024-12-31&par=mois"
    with httpx.Client(base_url=server.base_url, timeout=60) as finance:
        form_login(finance, "finance-1")
        home = finance.get("/ecrans/a-traiter")
        assert 'href="/ecrans/statistiques"' in home.text
        page = finance.get(f"/ecrans/statistiques?{query}")
        assert page.status_code == 200
        assert '<th scope="row">2024-01</th>' in page.text
        download = finance.get(f"/ecrans/statistiques.csv?{query}")
        assert download.headers["content-type"] == "text/csv; charset=utf-8"
        assert "attachment" in download.headers["content-disposition"]
        api = httpx.get(
            f"{server.base_url}/statistiques/taux?du=2024-01-01&au=2024-12-31&par=mois",
            headers={**ORIENTEUR, "Accept": "text/csv"},
            timeout=60,
        )
        assert download.content == api.content  # the JSON route's CSV, byte for byte
        refused = finance.get("/ecrans/statistiques.csv?famille=taux&du=2024-12-31&au=2024-01-01")
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/ecrans/statistiques?")
    with httpx.Client(base_url=server.base_url, timeout=60) as agent:
        form_login(agent, "agent-7")
        assert 'href="/ecrans/statistiques"' not in agent.get("/ecrans/a-traiter").text
        assert agent.get("/ecrans/statistiques").status_code == 403
