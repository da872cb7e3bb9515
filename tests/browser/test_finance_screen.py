"""The finance screen in a real browser, on both stores: a finance user reaches it from the
header by keyboard, reads the schedules adopted, uploads a candidate schedule, simulates 2021,
reads the difference per partner (the euros of tests/finance_history.py), is warned of a
structure the activity names but nobody declared, and adopts the schedule; a malformed schedule
or period comes back next to its field with the form as typed and nothing written; a statement
is read then issued. axe-core finds no serious or critical violation, errors shown included;
the writes need their CSRF token and the roles the JSON routes admit."""

from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from adapters.eventlog.store import Parcours
from adapters.schedule_files import shipped
from adapters.settings import Settings
from api.http.auth import Role
from domain import events as ev
from tests.auth import bearer
from tests.browser.test_screens import accessible, csrf_of, form_login, log_in, shot
from tests.delais_history import PRO
from tests.e2e.helpers import Server, wait_projected
from tests.finance_history import FT, Allocataire, D, everyone, log_events, structures

FINANCE = bearer(Role.FINANCE, sub="finance-1")
SCHEDULES = Path(__file__).resolve().parents[2] / "schedules"
CANDIDATE = SCHEDULES / "val-de-marne-2022.toml"


def _undeclared() -> list[ev.Recorded]:
    """Two ASC interviews in 2021 at asso-z, a structure nobody declared."""
    person = (
        Allocataire(950, "94028")
        .entre(D(2021, 2, 1), D(2021, 2, 2))
        .oriente(D(2021, 2, 10), PRO, FT, "ft-1")
        .asc(D(2021, 3, 15), "asso-z")
        .asc(D(2021, 4, 15), "asso-z")
    )
    return person.events


@pytest.fixture(scope="module")
def financed(server: Server, store_settings: Settings) -> Server:
    """The département of tests/finance_history.py and a case at an undeclared structure,
    its structures declared and the 2018-2021 schedule adopted, through the JSON API."""
    app = Parcours(store_settings)
    try:
        app.append_many(log_events(everyone()) + _undeclared())
    finally:
        app.close()
    with httpx.Client(base_url=server.base_url, headers=FINANCE, timeout=60) as api:
        for s in structures():
            body = {
                "nom": s.nom,
                "type_organisme": s.type_organisme.value,
                "etp": s.etp,
                "effective_on": s.effective_on.isoformat(),
            }
            answer = api.put(f"/structures/{s.structure_id}", json=body)
            assert answer.status_code == 201, answer.text
        document = msgspec.json.decode(msgspec.json.encode(shipped()["val-de-marne-2018-2021"]))
        adopted = api.post("/finance/baremes", json={"motif": "convention", "bareme": document})
        assert adopted.status_code == 201, adopted.text
        wait_projected(api)
    return server


def adopted(server: Server) -> list[str]:
    """The schedules adopted, in order, as `GET /finance/baremes` lists them."""
    answer = httpx.get(f"{server.base_url}/finance/baremes", headers=FINANCE, timeout=60)
    assert answer.status_code == 200, answer.text
    return [a["bareme"]["nom"] for a in answer.json()["adoptes"]]


def open_finance(page: Any, server: Server) -> None:
    """From the header, by keyboard."""
    log_in(page, server, "finance-1")
    page.keyboard.press("Tab")  # the skip link, then the header's links
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Financement":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/ecrans/finance")


def row(page: Any, table: str, header: str) -> list[str]:
    cells = page.locator(f"{table} tr", has=page.locator("th", has_text=header)).first
    return [c.strip() for c in cells.locator("th, td").all_inner_texts()]


def test_finance_simulates_an_uploaded_schedule_then_adopts_it(
    chromium: Any, financed: Server, store_settings: Settings
) -> None:
    server = financed
    assert adopted(server) == ["val-de-marne-2018-2021"]
    page = chromium.new_page(locale="fr-FR")
    open_finance(page, server)
    assert page.title() == "Financement — parcours"
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Financement"
    schedules = page.locator("#baremes ~ div table").inner_text()
    assert "val-de-marne-2018-2021@v1" in schedules
    assert "CER 400,00\u00a0€" in schedules
    accessible(page)

    page.set_input_files("#fin-fichier", str(CANDIDATE))
    page.locator("#fin-periode").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("2021")
    page.keyboard.press("Enter")  # « Simuler »
    page.wait_for_selector("#resultat")
    assert page.title() == "Financement — parcours"
    # 2021 under the 2022 grid: asso-b 1 100 → 1 150 €, ccas-a 974 → 1 000 € (no more EIO,
    # but its CER renewed in December priced as a contract).
    assert row(page, "#par-partenaire", "Association B") == [
        "Association B (asso-b)",
        "1\u00a0100,00\u00a0€",
        "1\u00a0150,00\u00a0€",
        "+50,00\u00a0€",
    ]
    assert row(page, "#par-partenaire", "CCAS A")[3] == "+26,00\u00a0€"
    assert row(page, "#par-partenaire", "Total")[1:] == [
        "2\u00a0074,00\u00a0€",
        "2\u00a0150,00\u00a0€",
        "+76,00\u00a0€",
    ]
    warning = page.locator(".avertissement").inner_text()
    assert "asso-z" in warning, warning
    assert "2 faits non payés (2 entretiens ASC)" in warning, warning
    chart = page.locator(".graphique img")
    assert chart.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert "Diagramme en barres" in chart.get_attribute("alt")
    assert page.evaluate("document.querySelector('.graphique img').naturalWidth") > 100
    accessible(page)
    shot(page, "finance", store_settings.store)

    page.locator("#fin-motif").focus()
    page.keyboard.type("Délibération du 12 décembre 2021")
    page.keyboard.press("Enter")  # « Adopter ce barème »
    page.wait_for_url("**/ecrans/finance?ok=adoption*")
    assert "Barème adopté" in page.get_by_role("status").inner_text()
    assert adopted(server) == ["val-de-marne-2018-2021", "val-de-marne-2022"]
    assert "val-de-marne-2022@v1" in page.locator("#baremes ~ div table").inner_text()
    accessible(page)
    page.close()


BAD_CER = 'nom = "essai"\ndu = 2023-01-01\n[tarifs.ccas]\ncer = "beaucoup"\n'


def test_a_malformed_schedule_is_shown_next_to_its_field_and_nothing_is_written(
    chromium: Any, financed: Server, store_settings: Settings, tmp_path: Path
) -> None:
    server = financed
    before = adopted(server)
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "finance-1")
    page.goto(f"{server.base_url}/ecrans/finance")
    page.fill("#fin-document", BAD_CER)
    page.fill("#fin-periode", "2021-T7")
    page.get_by_role("button", name="Simuler").click()
    page.wait_for_load_state()

    assert page.title() == "Erreur : Financement — parcours"
    message = page.locator("#erreur-document").inner_text()
    assert message.startswith("tarifs.ccas.cer"), message
    links = page.locator(".resume-erreurs a")
    assert sorted(links.evaluate_all("ls => ls.map(l => l.getAttribute('href'))")) == [
        "#fin-document",
        "#fin-periode",
    ]
    field = page.locator("#fin-document")
    assert field.get_attribute("aria-invalid") == "true"
    assert "erreur-document" in field.get_attribute("aria-describedby")
    assert field.input_value() == BAD_CER
    assert page.locator("#fin-periode").input_value() == "2021-T7"
    assert "AAAA-Tn" in page.locator("#erreur-periode").inner_text()
    assert page.locator("#resultat").count() == 0
    accessible(page)
    shot(page, "finance-erreur", store_settings.store)
    page.locator(".resume-erreurs a[href='#fin-document']").click()
    assert page.evaluate("document.activeElement.id") == "fin-document"

    unknown = tmp_path / "inconnu.toml"
    unknown.write_text(CANDIDATE.read_text() + "\n[tarifs.bidule]\ncer = 1\n", encoding="utf-8")
    page.set_input_files("#fin-fichier", str(unknown))
    page.fill("#fin-periode", "2021")
    page.get_by_role("button", name="Simuler").click()
    page.wait_for_load_state()
    assert "type de structure inconnu" in page.locator("#erreur-fichier").inner_text()
    assert page.locator("#fin-fichier").get_attribute("aria-invalid") == "true"
    assert "[tarifs.bidule]" in page.locator("#fin-document").input_value()  # kept to fix
    assert adopted(server) == before
    page.close()


def test_a_statement_is_read_then_issued(
    chromium: Any, financed: Server, store_settings: Settings
) -> None:
    server = financed
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "finance-1")
    page.goto(f"{server.base_url}/ecrans/finance")
    page.select_option("#etat-partenaire", "ccas-a")
    page.fill("#etat-periode", "2021")
    page.locator("#etat-periode").press("Enter")
    page.wait_for_selector("#etat")
    assert "projet" in page.locator("#etat").inner_text()
    assert "974,00\u00a0€" in page.locator("#etat ~ dl").inner_text()
    lines = page.locator("table", has=page.locator("caption", has_text="Lignes de l'état"))
    assert "Entretien d'instruction et d'orientation" in lines.inner_text()
    accessible(page)
    page.get_by_role("button", name="Émettre cet état").click()
    page.wait_for_url("**/ecrans/finance?partenaire=ccas-a&periode=2021&ok=etat*")
    assert "État émis" in page.get_by_role("status").inner_text()
    assert "émis le" in page.locator("#etat").inner_text()
    assert page.get_by_role("button", name="Émettre cet état").count() == 0
    issued = httpx.get(f"{server.base_url}/finance/etats/ccas-a/2021", headers=FINANCE, timeout=60)
    assert (issued.json()["statut"], issued.json()["total"]) == ("emis", 974_00)
    page.close()

    with httpx.Client(base_url=server.base_url, timeout=60) as twice:  # a second submit
        form_login(twice, "finance-1")
        token = csrf_of(twice.get("/ecrans/finance").text)
        again = {"partenaire": "ccas-a", "periode": "2021", "csrf": token}
        refused = twice.post("/ecrans/finance/etats", data=again)
        assert refused.status_code == 409
        assert 'id="erreur-etat_periode"' in refused.text
        assert "déjà émis" in refused.text
        unknown = twice.post("/ecrans/finance/etats", data={**again, "partenaire": "nulle-part"})
        assert unknown.status_code == 422
        assert 'id="erreur-partenaire"' in unknown.text
    listed = httpx.get(f"{server.base_url}/finance/etats", headers=FINANCE, timeout=60).json()
    assert [(e["partenaire"], e["periode"]) for e in listed["items"]] == [("ccas-a", "2021")]


def test_writes_need_the_token_and_the_roles_of_the_json_routes(financed: Server) -> None:
    server = financed
    before = adopted(server)
    document = CANDIDATE.read_text(encoding="utf-8")
    with httpx.Client(base_url=server.base_url, timeout=60) as finance:
        form_login(finance, "finance-1")
        home = finance.get("/ecrans/a-traiter")
        assert '<a href="/ecrans/finance">Financement</a>' in home.text
        token = csrf_of(finance.get("/ecrans/finance").text)
        adoption = {"document": document, "periode": "2021", "motif": "vote"}
        assert finance.post("/ecrans/finance/adoption", data=adoption).status_code == 403
        no_motif = finance.post(
            "/ecrans/finance/adoption", data={**adoption, "motif": " ", "csrf": token}
        )
        assert no_motif.status_code == 422
        assert 'id="erreur-motif"' in no_motif.text
        assert 'href="#fin-motif"' in no_motif.text
        etat = {"partenaire": "asso-b", "periode": "2021"}
        assert finance.post("/ecrans/finance/etats", data=etat).status_code == 403
        simulated = finance.post(
            "/ecrans/finance/simulation", data={"document": document, "periode": "2021"}
        )
        assert simulated.status_code == 403
    with httpx.Client(base_url=server.base_url, timeout=60) as auditor:
        form_login(auditor, "auditeur-1")
        page = auditor.get("/ecrans/finance")
        assert page.status_code == 200
        assert 'action="/ecrans/finance/adoption"' not in page.text
        token = csrf_of(page.text)
        refused = auditor.post(
            "/ecrans/finance/adoption",
            data={"document": document, "periode": "2021", "motif": "vote", "csrf": token},
        )
        assert refused.status_code == 403
    with httpx.Client(base_url=server.base_url, timeout=60) as agent:
        form_login(agent, "agent-7")
        assert "/ecrans/finance" not in agent.get("/ecrans/a-traiter").text
        assert agent.get("/ecrans/finance").status_code == 403
    assert adopted(server) == before
