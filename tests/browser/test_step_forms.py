"""The forms derived from the step commands, in a real browser: an agent of the CCAS records a
RDV's outcome and signs a CER through them, each in the timeline under its name; a refused
number comes back next to its field; an association giving an appui social complémentaire
alone is offered its interviews and nothing else, and records one."""

from typing import Any

import httpx

from tests.browser.test_screens import accessible, log_in, shot
from tests.e2e.helpers import (
    ENTREE,
    EPISODE_1,
    FLUX_CAF,
    ORIENTATION,
    ORIENTEUR,
    Server,
    post_steps,
    wait_projected,
)

ASC_FORM = "Enregistrer un entretien d'appui social complémentaire"


def assert_latest_step(page: Any, *words: str) -> None:
    """The timeline's latest row shows each of `words` (the step, its date, its author)."""
    latest = page.locator("#chronologie ~ table tbody tr").first.inner_text()
    for word in words:
        assert word in latest, latest


def open_form(page: Any, name: str, case_id: str, slug: str) -> None:
    """From the case, the step's link by keyboard (focus, Enter) to its own page."""
    page.get_by_role("link", name=name).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}/etapes/{slug}")


def test_an_agent_records_a_rdv_outcome_and_signs_a_cer_through_the_generated_forms(
    chromium: Any, server: Server, store_settings: Any
) -> None:
    with server.client() as client:
        case_id, _ = post_steps(client, EPISODE_1[:4])  # RDV n°1 planned
        wait_projected(client)
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "agent-7")
    page.goto(f"{server.base_url}/ecrans/dossiers/{case_id}")
    links = page.locator(".etapes a").all_inner_texts()
    assert "Enregistrer la signature d'un premier CER" in links, links
    assert "Décider l'orientation" not in links  # the orientation service's alone
    assert not any("Annuler" in link or "Rectifier" in link for link in links)

    open_form(
        page, "Enregistrer l'issue d'un RDV (seen, noshow, excused, revoked)", case_id, "issue-rdv"
    )
    assert page.locator("label[for=issue-rdv-issue]").inner_text() == "Issue"
    options = page.locator("#issue-rdv-issue option").all_inner_texts()
    assert "honoré" in options, options
    assert page.locator("#issue-rdv-numero").get_attribute("type") == "number"
    page.fill("#issue-rdv-effective_on", "2024-02-05")
    page.fill("#issue-rdv-numero", "7")  # no such RDV: refused next to the field
    page.select_option("#issue-rdv-issue", "seen")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state()
    assert page.title().startswith("Erreur : ")
    assert page.locator(".resume-erreurs a").first.get_attribute("href") == "#issue-rdv-numero"
    assert page.locator("#erreur-numero").inner_text()
    assert page.locator("#issue-rdv-numero").input_value() == "7"
    assert page.locator("#issue-rdv-issue").input_value() == "seen"
    accessible(page)
    shot(page, "etape-erreur-numero", store_settings.store)

    page.fill("#issue-rdv-numero", "1")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}?ok=issue-rdv*")
    assert page.get_by_role("status").inner_text() == "Issue de RDV enregistrée."
    assert_latest_step(page, "Issue de RDV enregistrée", "agent-7")

    open_form(page, "Enregistrer la signature d'un premier CER", case_id, "cer")
    assert page.locator("#cer-effective_on").get_attribute("type") == "date"
    page.fill("#cer-effective_on", "2024-02-20")
    page.fill("#cer-date_debut", "2024-03-01")
    page.select_option("#cer-duree_mois", "6")
    page.locator("#cer-date_debut").press("Enter")
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}?ok=cer*")
    assert page.get_by_role("status").inner_text() == "CER signé."
    assert_latest_step(page, "CER signé", "20/02/2024", "agent-7")
    accessible(page)
    page.close()


def test_an_association_giving_an_asc_alone_is_offered_its_interviews_only(
    chromium: Any, server: Server
) -> None:
    with server.client() as client:
        case_id, _ = post_steps(
            client,
            [
                ("", EPISODE_1[0][1], FLUX_CAF),
                (
                    "orientation",
                    {
                        "effective_on": "2024-01-25",
                        "type_orientation": "professionnelle",
                        "organisme": "france_travail",
                        "structure_id": "ft-creteil",
                        "mode": "decidee",
                    },
                    ORIENTEUR,
                ),
                (
                    "debut-accompagnement",
                    {
                        "effective_on": "2024-04-02",
                        "structure_id": "asso-insertion-94",
                        "objet": "asc",
                    },
                    ORIENTEUR,
                ),
            ],
        )
        wait_projected(client)
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "benevole-4")
    page.goto(f"{server.base_url}/ecrans/dossiers/{case_id}")
    assert page.locator(".etapes a").all_inner_texts() == [ASC_FORM]
    refused = page.goto(f"{server.base_url}/ecrans/dossiers/{case_id}/etapes/rdv")
    assert refused is not None
    assert refused.status == 403

    page.goto(f"{server.base_url}/ecrans/dossiers/{case_id}")
    open_form(page, ASC_FORM, case_id, "entretien-asc")
    page.fill("#entretien-asc-effective_on", "2024-04-10")
    page.fill("#entretien-asc-structure_id", "asso-insertion-94")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}?ok=entretien-asc*")
    assert page.get_by_role("status").inner_text() == "Entretien ASC tenu."
    assert_latest_step(page, "Entretien ASC tenu", "benevole-4")
    page.close()

    with httpx.Client(base_url=server.base_url, timeout=60) as other:
        token = other.get("/ecrans/connexion").text.split('name="csrf" value="')[1].split('"')[0]
        other.post("/ecrans/connexion", data={"identite": "benevole-4", "csrf": token})
        form = other.get(f"/ecrans/dossiers/{case_id}/etapes/entretien-asc").text
        csrf = form.split('name="csrf" value="')[1].split('"')[0]
        version = form.split('name="version" value="')[1].split('"')[0]
        body = {"csrf": csrf, "version": version, "effective_on": "2024-04-11"}
        answer = other.post(
            f"/ecrans/dossiers/{case_id}/etapes/entretien-asc",
            data={**body, "structure_id": "une-autre-asso"},
        )
        assert answer.status_code == 403  # its own structure's interviews only


CONTRAT_FORM = "Enregistrer la signature d'un contrat d'engagement (objectifs, actions, heures)"


def test_an_agent_signs_a_contrat_d_engagement_one_objective_and_action_a_line(
    chromium: Any, server: Server, store_settings: Any
) -> None:
    """The lists of a contract (objectives, actions) are text areas, one item a line; the
    contract reads back with each line an item, blank lines dropped."""
    with server.client() as client:
        case_id, _ = post_steps(
            client,
            [
                (
                    "",
                    {
                        **ENTREE,
                        "numero_dossier": "CAF-0777001",
                        "effective_on": "2025-06-02",
                        "date_flux": "2025-06-02",
                        "date_reception_flux": "2025-06-03",
                    },
                    FLUX_CAF,
                ),
                ("orientation", {**ORIENTATION, "effective_on": "2025-06-10"}, ORIENTEUR),
            ],
        )
        wait_projected(client)
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "agent-7")
    page.goto(f"{server.base_url}/ecrans/dossiers/{case_id}")
    open_form(page, CONTRAT_FORM, case_id, "contrat-engagement")
    label = page.locator("label[for=contrat-engagement-objectifs]").inner_text()
    assert "Objectifs" in label, label
    assert "un par ligne" in label, label
    assert page.locator("#contrat-engagement-actions").evaluate("e => e.tagName") == "TEXTAREA"
    page.fill("#contrat-engagement-effective_on", "2025-06-20")
    page.fill("#contrat-engagement-date_debut", "2025-07-01")
    page.fill("#contrat-engagement-duree_mois", "6")
    page.fill("#contrat-engagement-objectifs", "reprendre un emploi\n\npasser le permis B")
    assert page.locator("#contrat-engagement-actions").get_attribute("required") is not None
    page.fill("#contrat-engagement-heures_hebdo", "15")
    page.fill("#contrat-engagement-actions", "atelier CV\nimmersion en entreprise")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}?ok=contrat-engagement*")
    accessible(page)
    shot(page, "contrat-engagement-signe", store_settings.store)
    page.close()
    with server.client() as client:
        events = client.get(f"/dossiers/{case_id}/evenements").json()
    signed = events[-1]["event"]
    assert signed["type"] == "ContratEngagementSigne"
    assert signed["objectifs"] == ["reprendre un emploi", "passer le permis B"]
    assert signed["actions"] == ["atelier CV", "immersion en entreprise"]
    assert signed["heures_hebdo"] == 15
