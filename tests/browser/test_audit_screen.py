"""The audit screen in a real browser, on both stores: an agent opens a case; an auditor reaches
« Audit » from the header by keyboard, asks the case by its id, sees it today, moves « Situation
au » to before the référent was named and sees no référent yet (the address carries the form,
so it can be shared), compares with what was known before a CER was keyed and sees the CER in
cause, and reads the access log with the agent who opened the case. A malformed moment comes
back in an error summary linked to its field (422). axe-core finds nothing serious or critical;
the form's fields come in the order they are read."""

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from adapters.settings import Settings
from tests.browser.test_screens import accessible, log_in, shot
from tests.e2e.helpers import AGENT_CCAS, CER, EPISODE_1, Server, post_steps


@pytest.fixture(scope="module")
def story(server: Server, store_settings: Settings) -> tuple[str, str]:
    """A case oriented to the CCAS, its référent named on 29 January (v3) and a RDV planned
    (v4); then, a moment later (returned, as a datetime-local field's value), a CER (v5)."""
    with server.client() as client:
        case_id, _ = post_steps(client, EPISODE_1[:4])
    time.sleep(1.2)
    before_cer = datetime.now(ZoneInfo(store_settings.timezone)).strftime("%Y-%m-%dT%H:%M:%S")
    time.sleep(1.2)
    answer = httpx.post(
        f"{server.base_url}/dossiers/{case_id}/cer", json=CER, headers=AGENT_CCAS, timeout=60
    )
    assert answer.status_code == 200, answer.text
    return case_id, before_cer


def open_audit(page: Any, server: Server, case_id: str) -> None:
    """As an auditor, « Audit » from the header by keyboard, then the case by its id."""
    log_in(page, server, "auditeur-1")
    page.keyboard.press("Tab")  # the skip link, then the header's links
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Audit":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/ecrans/audit")
    assert page.title() == "Audit — parcours"
    accessible(page)
    page.locator("#audit-case_id").focus()
    page.keyboard.type(case_id)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ecrans/audit/dossiers/{case_id}")


def test_an_auditor_moves_the_date_back_and_reads_who_opened_the_case(
    chromium: Any, server: Server, story: tuple[str, str], store_settings: Settings
) -> None:
    case_id, before_cer = story
    agent = chromium.new_page(locale="fr-FR")
    log_in(agent, server, "agent-7")
    agent.goto(f"{server.base_url}/ecrans/dossiers/{case_id}")
    assert "ref-durand" in agent.locator(".synthese").inner_text()
    assert agent.get_by_role("link", name="Audit du dossier").count() == 0  # auditors only
    agent.close()

    page = chromium.new_page(locale="fr-FR")
    open_audit(page, server, case_id)
    assert page.title() == "Audit du dossier CAF-0123456 — parcours"
    assert "ref-durand" in page.locator(".synthese").inner_text()
    accessible(page)

    # The form's fields in reading order, then the button.
    page.locator("#audit-as_of").focus()
    order = ["audit-as_of"]
    for _ in range(2):
        page.keyboard.press("Tab")
        while page.evaluate("document.activeElement.id") == order[-1]:  # a date's parts
            page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id"))
    assert order == ["audit-as_of", "audit-known_at", "audit-depuis"]

    page.fill("#audit-as_of", "2024-01-27")  # after the orientation, before the référent
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url("**as_of=2024-01-27*")
    synthese = page.locator(".synthese").inner_text()
    assert "Référent\naucun" in synthese, synthese
    assert "ccas-creteil" in synthese
    assert "Situation au 27/01/2024" in page.locator("#titre-situation").inner_text()

    # The address is the form: shared, it shows the same; and what changed since the CER.
    url = page.url.split("?")[0]
    page.goto(f"{url}?depuis={before_cer}")
    changes = page.locator("#titre-changements ~ table").first.inner_text()
    assert "CER signés\t0\t1" in changes, changes
    events = page.locator("#titre-changements ~ table").nth(1).inner_text()
    assert "CER signé" in events, events
    assert "agent-7" in events, events
    assert page.locator("#audit-depuis").input_value().startswith(before_cer[:16])

    log = page.locator("#titre-acces ~ div table")
    assert log.locator("caption").count() == 1
    assert log.locator("th[scope=col]").count() == 7
    opened = [
        line
        for line in log.locator("tbody tr").all_inner_texts()
        if "agent-7" in line and f"GET /ecrans/dossiers/{case_id}" in line
    ]
    assert opened, log.inner_text()
    assert "écran du dossier" in opened[0]
    assert "auditeur-1" in log.locator("tbody tr").first.inner_text()  # this very opening
    accessible(page)
    shot(page, "audit", store_settings.store)

    # From the case's own page, the auditor has a link to its audit.
    page.goto(f"{server.base_url}/ecrans/dossiers/{case_id}")
    page.get_by_role("link", name="Audit du dossier").first.click()
    page.wait_for_url(f"**/ecrans/audit/dossiers/{case_id}")
    page.close()


def test_a_malformed_moment_is_shown_next_to_its_field(
    chromium: Any, server: Server, story: tuple[str, str], store_settings: Settings
) -> None:
    case_id, _ = story
    page = chromium.new_page(locale="fr-FR")
    log_in(page, server, "auditeur-1")
    answer = page.goto(
        f"{server.base_url}/ecrans/audit/dossiers/{case_id}?as_of=2024-01-27&known_at=2024-02-30T10:00"
    )
    assert answer is not None
    assert answer.status == 422
    assert page.title().startswith("Erreur : ")
    link = page.locator(".resume-erreurs a")
    assert link.count() == 1
    assert link.get_attribute("href") == "#audit-known_at"
    field = page.locator("#audit-known_at")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == "erreur-known_at"
    assert page.locator("#audit-as_of").input_value() == "2024-01-27"
    assert page.locator("#titre-situation").count() == 0
    accessible(page)
    link.click()
    assert page.evaluate("document.activeElement.id") == "audit-known_at"

    refused = page.goto(f"{server.base_url}/ecrans/audit?case_id=pas-un-identifiant")
    assert refused is not None
    assert refused.status == 422
    assert page.locator(".resume-erreurs a").get_attribute("href") == "#audit-case_id"
    accessible(page)

    other = chromium.new_page(locale="fr-FR")
    log_in(other, server, "agent-7")
    denied = other.goto(f"{server.base_url}/ecrans/audit/dossiers/{case_id}")
    assert denied is not None
    assert denied.status == 403
    other.close()
    page.close()
