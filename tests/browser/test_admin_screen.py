"""The administration screen in a real browser: an administrator grants a right by keyboard
and sees it listed, a grant ending before it starts comes back next to `au` with nothing
written, the right is revoked and shown so, a structure is declared; finance reads and declares
structures but does not reach the rights; every form needs its CSRF token. axe-core finds no
serious or critical violation, an error shown included."""

from typing import Any

import httpx

from api.http.auth import Role
from tests.auth import bearer
from tests.browser.test_screens import accessible, csrf_of, form_login, log_in, shot
from tests.e2e.helpers import Server

ADMIN = bearer(Role.ADMIN, sub="admin-1")
FINANCE = bearer(Role.FINANCE, sub="finance-1")


def rights(server: Server) -> list[dict[str, Any]]:
    """Every right, as `GET /admin/agents` lists them."""
    answer = httpx.get(f"{server.base_url}/admin/agents?limit=500", headers=ADMIN, timeout=60)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def open_administration(page: Any, server: Server) -> None:
    """From the header, by keyboard."""
    log_in(page, server, "admin-1")
    page.keyboard.press("Tab")  # the skip link, then the header's links
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Administration":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/ecrans/administration")


def test_admin_grants_a_right_by_keyboard_then_revokes_it(
    chromium: Any, server: Server, store_settings: Any
) -> None:
    before = rights(server)
    page = chromium.new_page(locale="fr-FR")
    open_administration(page, server)
    assert page.title() == "Administration — parcours"
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Administration"
    accessible(page)

    page.locator("#droit-agent").focus()
    page.keyboard.type("marie.dupont@ccas-creteil.fr")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "droit-role"
    page.select_option("#droit-role", "agent")
    page.keyboard.press("Tab")
    page.keyboard.type("ccas-creteil, ccas-vitry")
    page.fill("#droit-du", "2024-01-01")
    page.locator("#droit-motif").focus()
    page.keyboard.type("Référente RSA au CCAS")
    page.keyboard.press("Enter")
    page.wait_for_url("**/ecrans/administration?ok=droit*")
    assert page.get_by_role("status").inner_text() == "Droit accordé."

    after = rights(server)
    assert len(after) == len(before) + 1
    granted = after[-1]
    assert granted["agent"] == "marie.dupont@ccas-creteil.fr"
    assert granted["structures"] == ["ccas-creteil", "ccas-vitry"]
    assert granted["accorde_par"] == "admin-1"
    row = page.locator(f"#ligne-{granted['droit_id']}")
    text = row.inner_text()
    assert "marie.dupont@ccas-creteil.fr" in text
    assert "Agent d'une structure" in text
    assert "ccas-creteil, ccas-vitry" in text
    assert "01/01/2024" in text
    assert "admin-1" in text
    accessible(page)
    shot(page, "administration", store_settings.store)

    motif = page.locator(f"#retrait-{granted['droit_id']}")
    motif.focus()
    page.keyboard.type("Départ de la structure")
    page.keyboard.press("Enter")
    page.wait_for_url("**/ecrans/administration?ok=retrait*")
    assert page.get_by_role("status").inner_text() == "Droit retiré."
    text = page.locator(f"#ligne-{granted['droit_id']}").inner_text()
    assert "Retiré le" in text, text
    assert "Départ de la structure" in text, text
    assert page.locator(f"#retrait-{granted['droit_id']}").count() == 0
    revoked = next(d for d in rights(server) if d["droit_id"] == granted["droit_id"])
    assert revoked["retrait"]["motif"] == "Départ de la structure"
    assert revoked["retrait"]["par"] == "admin-1"
    page.close()


def test_a_grant_ending_before_it_starts_is_shown_next_to_au_and_nothing_is_written(
    chromium: Any, server: Server, store_settings: Any
) -> None:
    before = rights(server)
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "admin-1")
    page.goto(f"{server.base_url}/ecrans/administration")
    page.fill("#droit-agent", "S-4f1c")
    page.select_option("#droit-role", "orientation")
    page.fill("#droit-du", "2024-06-01")
    page.fill("#droit-au", "2024-01-31")
    page.fill("#droit-motif", "Renfort")
    page.get_by_role("button", name="Accorder le droit").click()
    page.wait_for_load_state()

    assert page.title() == "Erreur : Administration — parcours"
    message = page.locator("#erreur-au").inner_text()
    assert "précède" in message, message
    link = page.locator(".resume-erreurs a")
    assert link.get_attribute("href") == "#droit-au"
    assert message in link.inner_text()
    field = page.locator("#droit-au")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == "erreur-au"
    assert field.input_value() == "2024-01-31"
    assert page.locator("#droit-agent").input_value() == "S-4f1c"
    assert page.locator("#droit-role").input_value() == "orientation"
    assert page.locator("#droit-motif").input_value() == "Renfort"
    assert rights(server) == before
    accessible(page)
    shot(page, "administration-erreur", store_settings.store)
    link.click()
    assert page.evaluate("document.activeElement.id") == "droit-au"

    page.goto(f"{server.base_url}/ecrans/administration")
    page.fill("#droit-agent", "S-4f1c")
    page.select_option("#droit-role", "agent")
    page.fill("#droit-motif", "Renfort")
    page.get_by_role("button", name="Accorder le droit").click()
    page.wait_for_load_state()
    assert "au moins une" in page.locator("#erreur-structures").inner_text()
    assert rights(server) == before
    page.close()


def test_admin_declares_a_structure(chromium: Any, server: Server, store_settings: Any) -> None:
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "admin-1")
    page.goto(f"{server.base_url}/ecrans/administration")
    page.fill("#structure-structure_id", "aave-melun")
    page.fill("#structure-nom", "AAVE Melun")
    page.select_option("#structure-type_organisme", "association")
    page.fill("#structure-etp", "3,5")
    page.fill("#structure-effective_on", "2022-01-01")
    page.locator("#structure-effective_on").press("Enter")
    page.wait_for_url("**/ecrans/administration?ok=structure*")
    assert page.get_by_role("status").inner_text() == "Structure déclarée."
    row = page.locator("#structures ~ table tbody tr", has_text="aave-melun").inner_text()
    for shown in ("AAVE Melun", "Association", "3,5", "01/01/2022"):
        assert shown in row, row
    found = httpx.get(f"{server.base_url}/structures/aave-melun", headers=FINANCE, timeout=60)
    assert found.status_code == 200, found.text
    assert found.json()["etp"] == 3.5
    accessible(page)

    page.fill("#structure-structure_id", "aave melun")
    page.fill("#structure-nom", "AAVE Melun")
    page.fill("#structure-effective_on", "2023-01-01")
    page.get_by_role("button", name="Déclarer la structure").click()
    page.wait_for_load_state()
    assert page.locator("#erreur-structure_id").count() == 1
    assert page.locator("#structure-structure_id").input_value() == "aave melun"
    missing = httpx.get(f"{server.base_url}/structures/aave%20melun", headers=FINANCE, timeout=60)
    assert missing.status_code == 404
    accessible(page)
    page.close()


def test_finance_reads_and_declares_structures_but_not_rights_and_forms_need_csrf(
    server: Server,
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=60) as finance:
        form_login(finance, "finance-1")
        home = finance.get("/ecrans/a-traiter")
        assert '<a href="/ecrans/administration">Structures</a>' in home.text
        page = finance.get("/ecrans/administration")
        assert page.status_code == 200
        assert "<title>Structures — parcours</title>" in page.text
        assert 'id="droits"' not in page.text
        assert 'action="/ecrans/administration/structures"' in page.text
        token = csrf_of(page.text)
        grant = {
            "agent": "x@y.fr",
            "role": "admin",
            "du": "2024-01-01",
            "motif": "m",
            "csrf": token,
        }
        before = rights(server)
        assert finance.post("/ecrans/administration/droits", data=grant).status_code == 403
        structure = {
            "structure_id": "ccas-vitry",
            "nom": "CCAS de Vitry",
            "type_organisme": "ccas",
            "effective_on": "2024-01-01",
        }
        refused = finance.post("/ecrans/administration/structures", data=structure)
        assert refused.status_code == 403  # no CSRF token
        declared = finance.post(
            "/ecrans/administration/structures", data={**structure, "csrf": token}
        )
        assert declared.status_code == 303
        assert "CCAS de Vitry" in finance.get("/ecrans/administration").text
        assert rights(server) == before
    with httpx.Client(base_url=server.base_url, timeout=60) as admin:
        form_login(admin, "admin-1")
        refused = admin.post("/ecrans/administration/droits", data={**grant, "csrf": "x"})
        assert refused.status_code == 403
        assert rights(server) == before
    with httpx.Client(base_url=server.base_url, timeout=60) as agent:
        form_login(agent, "agent-7")
        assert "/ecrans/administration" not in agent.get("/ecrans/a-traiter").text
        assert agent.get("/ecrans/administration").status_code == 403
