"""Corrections from the case screen, in a real browser: an agent of the CCAS voids a RDV keyed
by mistake, by keyboard, and sees it struck through in the timeline with when, who and why;
rectifies a RDV's date of effect (the former and the new date shown); a correction without a
motif, or a date the rules refuse, comes back next to the field with the form as typed; a colleague's step recorded
meanwhile is said, not overwritten. A step the caller may not correct (the orientation, for an
agent; anything, for an auditor) has no link, and a forged POST is refused with nothing
written. axe-core finds no serious or critical violation."""

from typing import Any

import httpx

from tests.browser.test_screens import (
    accessible,
    case_version,
    csrf_of,
    form_login,
    log_in,
    shot,
)
from tests.e2e.helpers import AGENT_CCAS, EPISODE_1, Server, post_steps, wait_projected

WRONG_RDV = {
    "effective_on": "2024-01-30",
    "type_rdv": "suivi",
    "mode": "convocation",
    "date_rdv": "2024-02-12",
}


def row(page: Any, version: int) -> Any:
    """The timeline's row of step `version`."""
    rows = page.locator("#chronologie ~ table tbody tr")
    return rows.filter(has=page.locator(f"td.nombre:text-is('{version}')"))


def correction_links(page: Any) -> list[str]:
    return [
        str(a.get_attribute("href")).split("/corrections/")[1]
        for a in page.locator("td.corriger a").all()
    ]


def new_case(server: Server) -> str:
    """Entry (v1), orientation to the CCAS (v2), référent (v3), RDV n°1 (v4) and a RDV n°2
    keyed by mistake (v5)."""
    with server.client() as client:
        case_id, _ = post_steps(client, [*EPISODE_1[:4], ("rdv", WRONG_RDV, AGENT_CCAS)])
        wait_projected(client)
    return case_id


def test_an_agent_voids_a_wrong_rdv_by_keyboard_and_rectifies_a_date(
    chromium: Any, server: Server, store_settings: Any
) -> None:
    case_id = new_case(server)
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "agent-7")
    page.goto(f"{server.base_url}/ecrans/dossiers/{case_id}")
    offered = correction_links(page)
    # Its own steps only: not the entry (the flux's), nor the orientation (the département's).
    assert sorted(offered) == sorted(
        f"{slug}?version={v}" for v in (3, 4, 5) for slug in ("rectification", "annulation")
    ), offered

    # Void the wrong RDV: the link by keyboard (focus, Enter), the motif typed, Enter on submit.
    page.get_by_role("link", name="Annuler l'étape 5 (RDV planifié)").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}/corrections/annulation?version=5")
    assert page.title() == "Annuler l'étape 5 — parcours"
    assert "RDV planifié" in page.locator(".cible").inner_text()
    assert page.locator("input[type=hidden][name=version_annulee]").input_value() == "5"
    accessible(page)
    shot(page, "correction-annulation", store_settings.store)
    version = case_version(server, case_id)

    page.get_by_role("button", name="Enregistrer").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # no motif: refused next to the field, nothing written
    assert page.title().startswith("Erreur : ")
    assert page.locator(".resume-erreurs a").first.get_attribute("href") == "#annulation-motif"
    assert page.locator("#erreur-motif").inner_text() == "Ce champ est obligatoire."
    assert page.locator("#annulation-effective_on").input_value()  # the form as typed
    assert case_version(server, case_id) == version
    accessible(page)

    page.locator("#annulation-motif").focus()
    page.keyboard.type("RDV saisi en double")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Enregistrer"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}?corrige=annulation&v=5*")
    assert "L'étape 5 est annulée" in page.get_by_role("status").inner_text()
    voided = row(page, 5)
    assert voided.locator("th del").inner_text() == "RDV planifié"
    marked = voided.locator(".correction").inner_text()
    for said in ("annulée le", "par agent-7", "(RDV saisi en double)"):
        assert said in marked, marked
    assert voided.locator("td.corriger a").count() == 0  # a voided step is corrected no more
    assert "Étape annulée" in row(page, 6).inner_text()
    assert case_version(server, case_id) == version + 1

    # Rectify the date of effect of RDV n°1 (29/01 → 30/01).
    page.get_by_role("link", name="Rectifier l'étape 4 (RDV planifié)").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}/corrections/rectification?version=4")
    assert page.locator("#rectification-effective_on_corrige").input_value() == "2024-01-29"
    page.fill("#rectification-motif", "date de l'envoi de la convocation")
    with page.expect_navigation():  # the same date: the rules refuse it, next to the field
        page.get_by_role("button", name="Enregistrer").click()
    assert "a déjà pris effet" in page.locator("#erreur-effective_on_corrige").inner_text()
    assert page.locator("#rectification-motif").input_value() == "date de l'envoi de la convocation"
    assert case_version(server, case_id) == version + 1
    page.fill("#rectification-effective_on_corrige", "2024-01-30")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}?corrige=rectification&v=4*")
    rectified = row(page, 4)
    cells = rectified.locator("td").all_inner_texts()
    assert cells[1].startswith("30/01/2024"), cells  # the new date, then the former
    assert "(saisie : 29/01/2024)" in cells[1], cells
    assert "au 30/01/2024" in rectified.locator(".correction").inner_text()
    accessible(page)
    shot(page, "dossier-correction", store_settings.store)
    page.close()


def test_a_colleagues_step_meanwhile_is_shown_not_overwritten(
    chromium: Any, server: Server
) -> None:
    case_id = new_case(server)
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "agent-7")
    page.goto(f"{server.base_url}/ecrans/dossiers/{case_id}/corrections/annulation?version=5")
    page.fill("#annulation-motif", "RDV saisi en double")
    with server.client() as client:  # a colleague records the outcome of RDV n°1 meanwhile
        post_steps(client, [("issue-rdv", EPISODE_1[4][1], AGENT_CCAS)], case_id, version=5)
    version = case_version(server, case_id)
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    assert (
        "Le dossier a changé depuis son affichage" in page.locator("#erreur-version").inner_text()
    )
    assert page.locator("#annulation-motif").input_value() == "RDV saisi en double"
    assert case_version(server, case_id) == version  # nothing written
    accessible(page)
    page.close()


def test_a_correction_not_allowed_is_not_offered_and_a_forged_post_is_refused(
    chromium: Any, server: Server
) -> None:
    case_id = new_case(server)
    version = case_version(server, case_id)
    with httpx.Client(base_url=server.base_url, timeout=60) as browser:
        form_login(browser, "agent-7")
        page = browser.get(f"/ecrans/dossiers/{case_id}").text
        assert "corrections/annulation?version=2" not in page  # the orientation
        assert (
            browser.get(f"/ecrans/dossiers/{case_id}/corrections/annulation?version=2").status_code
            == 403
        )
        body = {
            "csrf": csrf_of(page),
            "version": str(version),
            "effective_on": "2024-02-01",
            "version_annulee": "2",
            "motif": "forgé",
        }
        answer = browser.post(f"/ecrans/dossiers/{case_id}/corrections/annulation", data=body)
        assert answer.status_code == 403, answer.text

    with httpx.Client(base_url=server.base_url, timeout=60) as browser:
        form_login(browser, "conseiller-12")  # France Travail does not accompany the person
        csrf = csrf_of(browser.get("/ecrans/a-traiter").text)
        answer = browser.post(
            f"/ecrans/dossiers/{case_id}/corrections/annulation",
            data={**body, "csrf": csrf, "version_annulee": "5"},
        )
        assert answer.status_code == 404, answer.text

    with httpx.Client(base_url=server.base_url, timeout=60) as browser:
        form_login(browser, "auditeur-1")
        page = browser.get(f"/ecrans/dossiers/{case_id}").text
        assert "/corrections/" not in page
        assert "Corriger" not in page
        answer = browser.post(
            f"/ecrans/dossiers/{case_id}/corrections/annulation",
            data={**body, "csrf": csrf_of(page), "version_annulee": "5"},
        )
        assert answer.status_code == 403, answer.text
    assert case_version(server, case_id) == version  # nothing written
