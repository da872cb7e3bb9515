"""A hand-built history of five people through the EP procedure and both sanction regimes,
posted through the HTTP API on both stores; every figure and deadline below is worked out by
hand in the comments, and the API must answer exactly those.

- Anne (2025 regime): first breach, 30 % for 2 months, re-engages after one month: repaid.
- Bruno (2025 regime): first breach, 100 % for 1 month, never re-engages (lost); a further
  breach ends in removal (radiation), refused at the first breach.
- Chloé (2025 regime): household of 3, 60 % refused by the 50 % cap, 50 % for 2 months.
- Denis (2018 regime): the decision refused at each missing step (observations not notified,
  delay running, no EP opinion), then a reduction the president decides against the opinion.
- Emma (2025): a réorientation from the professional to the social path refused without the
  EP, then decided after its opinion; her contrat d'engagement, its hours, amendment and end.
"""

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from adapters.settings import Settings
from api.http.auth import Role
from tests.auth import bearer
from tests.e2e.helpers import ROOT, Json, api_client, process_env

MONTANT = 64_652
"""A monthly allowance of 646.52 €, in cents."""


def _entree(client: httpx.Client, numero: str, day: str) -> str:
    body = {
        "effective_on": day,
        "numero_dossier": numero,
        "organisme_payeur": "caf",
        "date_flux": day,
        "date_reception_flux": day,
        "soumis_droits_devoirs": True,
    }
    response = client.post("/dossiers", json=body)
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id


def _ok(client: httpx.Client, case_id: str, slug: str, body: Json) -> Json:
    response = client.post(f"/dossiers/{case_id}/{slug}", json=body)
    assert response.status_code == 200, (slug, response.text)
    result: Json = response.json()
    return result


def _refused(client: httpx.Client, case_id: str, slug: str, body: Json) -> tuple[str, str]:
    """A step the rules refuse: 422, nothing recorded; (code, field) of the problem."""
    before = client.get(f"/dossiers/{case_id}").json()["version"]
    response = client.post(f"/dossiers/{case_id}/{slug}", json=body)
    assert response.status_code == 422, (slug, response.text)
    assert client.get(f"/dossiers/{case_id}").json()["version"] == before
    problem = response.json()
    return problem["code"], problem["field"]


def _orient_pro(client: httpx.Client, case_id: str, day: str) -> None:
    _ok(
        client,
        case_id,
        "orientation",
        {
            "effective_on": day,
            "type_orientation": "professionnelle",
            "organisme": "france_travail",
            "structure_id": "ft-creteil",
            "mode": "decidee",
        },
    )


def _saisine(
    client: httpx.Client, case_id: str, day: str, breach: str | None, ep: str = "ep-creteil"
) -> None:
    _ok(
        client,
        case_id,
        "saisine-ep",
        {
            "effective_on": day,
            "motif_saisine": "sanction",
            "ep_id": ep,
            "manquement": "RDV manqués sans motif",
            **({"date_manquement": breach} if breach else {}),
        },
    )


def _session(client: httpx.Client, case_id: str, saisine: int, day: str, session: str) -> None:
    _ok(
        client,
        case_id,
        "ordre-du-jour-ep",
        {
            "effective_on": day,
            "saisine": saisine,
            "session_id": f"ep-creteil-{session}",
            "date_session": session,
        },
    )


def _sanction(day: str, saisine: int, kind: str = "suspension_remobilisation") -> Json:
    return {"effective_on": day, "type_sanction": kind, "motif": "manquement", "saisine": saisine}


def _situation(client: httpx.Client, case_id: str, day: str) -> Json:
    response = client.get(f"/dossiers/{case_id}/sanctions", params={"as_of": day})
    assert response.status_code == 200, response.text
    found: Json = response.json()
    return found


def _one(client: httpx.Client, case_id: str, day: str, numero: int = 1) -> Json:
    found: Json = _situation(client, case_id, day)["sanctions"]["sanctions"][numero - 1]
    return found


def test_the_ep_procedure_and_both_regimes_give_the_figures_worked_out_by_hand(
    settings: Settings,
) -> None:
    with api_client(settings) as client:
        # --- Anne: first breach, re-engages, repaid ---------------------------------------
        anne = _entree(client, "CAF-ANNE", "2025-06-02")
        _orient_pro(client, anne, "2025-06-05")
        _saisine(client, anne, "2025-07-01", breach="2025-06-25")
        # Notified on 2 July: one month to answer (regime suspension-remobilisation-2025),
        # so until 2 August.
        _ok(client, anne, "notification-observations", {"effective_on": "2025-07-02", "saisine": 1})
        saisine = _situation(client, anne, "2025-07-02")["saisines"][0]
        assert (saisine["notifiee_le"], saisine["date_limite"]) == ("2025-07-02", "2025-08-02")
        _session(client, anne, 1, "2025-07-03", "2025-08-05")
        # No observation came; on 5 August the delay (until 2 August) has run: the EP may give
        # its opinion.
        _ok(
            client,
            anne,
            "avis-ep",
            {
                "effective_on": "2025-08-05",
                "saisine": 1,
                "avis": "sanction",
                "pourcentage": 30,
                "duree_mois": 2,
            },
        )
        terms = {
            "pourcentage": 30,
            "duree_mois": 2,
            "date_debut": "2025-09-01",
            "montant_mensuel_centimes": MONTANT,
            "personnes_foyer": 1,
        }
        # A first breach may not be sanctioned by removal.
        assert _refused(client, anne, "sanction", {**_sanction("2025-08-08", 1, "radiation")}) == (
            "sanction_hors_regime",
            "type_sanction",
        )
        # Nor for 3 months (a first breach: 1 to 2 months).
        assert _refused(
            client, anne, "sanction", {**_sanction("2025-08-08", 1), **terms, "duree_mois": 3}
        ) == ("duree_hors_regime", "duree_mois")
        _ok(client, anne, "sanction", {**_sanction("2025-08-08", 1), **terms})
        # 30 % of 646.52 € = 193.956 €, rounded to 19 396 cents a month, from 1 September to
        # 31 October (the suspension stops on 1 November, exclusive).
        on_10_sept = _one(client, anne, "2025-09-10")
        assert on_10_sept == {
            "numero": 1,
            "type_sanction": "suspension_remobilisation",
            "regime": "suspension-remobilisation-2025",
            "decidee_le": "2025-08-08",
            "date_debut": "2025-09-01",
            "date_fin": "2025-11-01",
            "pourcentage": 30,
            "duree_mois": 2,
            "montant_mensuel_suspendu": 19_396,
            "en_vigueur": True,
            "mois_suspendus": 1,  # September's instalment only
            "montant_suspendu": 19_396,
            "remobilise_le": None,
            "montant_rembourse": 0,
            "montant_perdu": 0,
        }
        assert _situation(client, anne, "2025-09-10")["sanctions"]["pourcentage_suspendu"] == 30
        # She re-engages on 20 September: the suspension stops that day (October's instalment
        # is never suspended) and September's 19 396 cents are paid back.
        assert client.get(f"/dossiers/{anne}").json()["sanctions_en_cours"] == 1
        _ok(client, anne, "remobilisation", {"effective_on": "2025-09-20", "numero": 1})
        assert client.get(f"/dossiers/{anne}").json()["sanctions_en_cours"] == 0
        after = _one(client, anne, "2025-12-01")
        assert (after["en_vigueur"], after["date_fin"], after["mois_suspendus"]) == (
            False,
            "2025-09-20",
            1,
        )
        assert (
            after["montant_suspendu"],
            after["montant_rembourse"],
            after["montant_perdu"],
        ) == (19_396, 19_396, 0)
        assert _situation(client, anne, "2025-12-01")["sanctions"]["pourcentage_suspendu"] == 0

        # --- Bruno: first breach lost, further breach removed ----------------------------
        bruno = _entree(client, "CAF-BRUNO", "2025-06-02")
        _orient_pro(client, bruno, "2025-06-05")
        _saisine(client, bruno, "2025-06-16", breach="2025-06-10")
        _ok(
            client, bruno, "notification-observations", {"effective_on": "2025-06-17", "saisine": 1}
        )  # until 17 July
        _session(client, bruno, 1, "2025-06-18", "2025-07-08")
        # His observations arrive on 30 June, with a request to be heard: the EP may give its
        # opinion on 8 July, before the delay (17 July) ends.
        _ok(
            client,
            bruno,
            "observations",
            {"effective_on": "2025-06-30", "saisine": 1, "audition_demandee": True},
        )
        _ok(
            client,
            bruno,
            "avis-ep",
            {"effective_on": "2025-07-08", "saisine": 1, "avis": "sanction"},
        )
        _ok(
            client,
            bruno,
            "sanction",
            {
                **_sanction("2025-07-10", 1),
                "pourcentage": 100,
                "duree_mois": 1,
                "date_debut": "2025-08-01",
                "montant_mensuel_centimes": MONTANT,
                "personnes_foyer": 1,
            },
        )
        # 100 % of 646.52 € for August: 64 652 cents; the suspension stops on 1 September.
        # Re-engaging on 2 September is too late (no delay after the end in this regime).
        assert _refused(
            client, bruno, "remobilisation", {"effective_on": "2025-09-02", "numero": 1}
        ) == ("delai_remobilisation_depasse", "effective_on")
        first = _one(client, bruno, "2025-09-01")
        assert (first["montant_suspendu"], first["montant_rembourse"], first["montant_perdu"]) == (
            64_652,
            0,
            64_652,
        )
        # On 31 August it was still repayable: nothing lost yet.
        assert _one(client, bruno, "2025-08-31")["montant_perdu"] == 0
        # A further breach: removal is now open to the president.
        _saisine(client, bruno, "2025-09-15", breach="2025-09-12")
        _ok(
            client, bruno, "notification-observations", {"effective_on": "2025-09-15", "saisine": 2}
        )  # until 15 October
        _session(client, bruno, 2, "2025-09-16", "2025-10-20")
        _ok(
            client,
            bruno,
            "avis-ep",
            {"effective_on": "2025-10-20", "saisine": 2, "avis": "sanction"},
        )
        _ok(client, bruno, "sanction", _sanction("2025-10-22", 2, "radiation"))
        removed = _situation(client, bruno, "2025-10-25")["sanctions"]
        assert removed["radie"] is True
        assert removed["sanctions"][1]["type_sanction"] == "radiation"
        assert _situation(client, bruno, "2025-10-21")["sanctions"]["radie"] is False

        # --- Chloé: the household cap ----------------------------------------------------
        chloe = _entree(client, "CAF-CHLOE", "2025-06-02")
        _orient_pro(client, chloe, "2025-06-05")
        _saisine(client, chloe, "2025-07-01", breach="2025-06-28")
        _ok(
            client, chloe, "notification-observations", {"effective_on": "2025-07-01", "saisine": 1}
        )  # until 1 August
        _session(client, chloe, 1, "2025-07-02", "2025-08-04")
        _ok(
            client,
            chloe,
            "avis-ep",
            {"effective_on": "2025-08-04", "saisine": 1, "avis": "sanction", "pourcentage": 60},
        )
        household = {
            "duree_mois": 2,
            "date_debut": "2025-09-01",
            "montant_mensuel_centimes": 90_000,
            "personnes_foyer": 3,
        }
        # 60 % for a household of 3 persons: above the 50 % cap.
        assert _refused(
            client,
            chloe,
            "sanction",
            {**_sanction("2025-08-06", 1), **household, "pourcentage": 60},
        ) == ("plafond_foyer", "pourcentage")
        _ok(
            client,
            chloe,
            "sanction",
            {**_sanction("2025-08-06", 1), **household, "pourcentage": 50},
        )
        # 50 % of 900.00 € = 45 000 cents a month, September and October.
        on_10_oct = _one(client, chloe, "2025-10-10")
        assert (on_10_oct["mois_suspendus"], on_10_oct["montant_suspendu"]) == (2, 90_000)
        assert _situation(client, chloe, "2025-10-10")["sanctions"]["pourcentage_suspendu"] == 50
        # Ended on 1 November without re-engagement: 90 000 cents lost.
        assert _one(client, chloe, "2025-11-01")["montant_perdu"] == 90_000

        # --- Denis (2018 regime): every missing step named ----------------------------------
        denis = _entree(client, "CAF-DENIS", "2024-01-03")
        _ok(
            client,
            denis,
            "orientation",
            {
                "effective_on": "2024-01-25",
                "type_orientation": "sociale",
                "organisme": "ccas",
                "structure_id": "ccas-creteil",
                "mode": "decidee",
            },
        )
        _saisine(client, denis, "2024-03-01", breach="2024-02-20")
        reduction = {
            **_sanction("2024-03-02", 1, "reduction"),
            "pourcentage": 20,
            "duree_mois": 2,
            "date_debut": "2024-05-01",
            "montant_mensuel_centimes": 60_743,
            "personnes_foyer": 2,
        }
        # No sanction without the referral.
        assert _refused(client, denis, "sanction", {**reduction, "saisine": None}) == (
            "saisine_requise",
            "saisine",
        )
        assert _refused(client, denis, "sanction", reduction) == (
            "observations_non_notifiees",
            "saisine",
        )
        _ok(
            client, denis, "notification-observations", {"effective_on": "2024-03-04", "saisine": 1}
        )
        # Notified on 4 March: until 4 April; on 20 March the delay still runs.
        assert _refused(client, denis, "sanction", {**reduction, "effective_on": "2024-03-20"}) == (
            "delai_observations_en_cours",
            "effective_on",
        )
        _ok(client, denis, "observations", {"effective_on": "2024-03-25", "saisine": 1})
        # Observations in: now the EP opinion is what is missing.
        assert _refused(client, denis, "sanction", {**reduction, "effective_on": "2024-03-26"}) == (
            "avis_ep_requis",
            "saisine",
        )
        # Nor may the EP give its opinion before the case is on a session's agenda.
        assert _refused(
            client,
            denis,
            "avis-ep",
            {"effective_on": "2024-03-26", "saisine": 1, "avis": "sanction"},
        ) == ("inscription_requise", "saisine")
        _session(client, denis, 1, "2024-03-26", "2024-04-09")
        _ok(
            client,
            denis,
            "avis-ep",
            {"effective_on": "2024-04-09", "saisine": 1, "avis": "pas_de_sanction"},
        )
        # A first breach in the 2018 regime: a reduction, not yet a suspension.
        assert _refused(
            client,
            denis,
            "sanction",
            {**reduction, "effective_on": "2024-04-10", "type_sanction": "suspension"},
        ) == ("sanction_hors_regime", "type_sanction")
        # The president reduces by 20 % for 2 months against the EP's opinion; no household
        # cap before June 2025.
        _ok(client, denis, "sanction", {**reduction, "effective_on": "2024-04-10"})
        # 20 % of 607.43 € = 121.486 €, 12 149 cents a month: May and June by 15 June.
        on_15_june = _one(client, denis, "2024-06-15")
        assert on_15_june["regime"] == "sanctions-2018"
        assert (on_15_june["montant_mensuel_suspendu"], on_15_june["montant_suspendu"]) == (
            12_149,
            24_298,
        )
        # No repayment in this regime: ended on 1 July, 24 298 cents lost.
        assert _one(client, denis, "2024-07-01")["montant_perdu"] == 24_298
        # A contrat d'engagement in 2024: the regime in force asks for a CER.
        contract = {
            "effective_on": "2024-04-15",
            "date_debut": "2024-05-01",
            "duree_mois": 6,
            "objectifs": ["logement"],
            "actions": ["accompagnement budgétaire"],
            "heures_hebdo": 15,
        }
        assert _refused(client, denis, "contrat-engagement", contract) == (
            "contrat_hors_regime",
            "effective_on",
        )

        # --- Emma: réorientation through the EP, contrat d'engagement -----------------------
        emma = _entree(client, "CAF-EMMA", "2025-01-06")
        _orient_pro(client, emma, "2025-01-20")
        hours = {
            "effective_on": "2025-01-25",
            "date_debut": "2025-02-01",
            "duree_mois": 6,
            "objectifs": ["retrouver un emploi"],
            "actions": ["ateliers CV"],
            "heures_hebdo": 10,
        }
        # 10 hours a week: below 15 unless legitimately prevented.
        assert _refused(client, emma, "contrat-engagement", hours) == (
            "heures_hors_limites",
            "heures_hebdo",
        )
        _ok(client, emma, "contrat-engagement", {**hours, "empechement": "raison de santé"})
        _ok(
            client,
            emma,
            "avenant-contrat-engagement",
            {"effective_on": "2025-02-20", "numero": 1, "motif": "soins", "heures_hebdo": 5},
        )
        social = {
            "effective_on": "2025-03-01",
            "type_orientation": "sociale",
            "organisme": "ccas",
            "structure_id": "ccas-creteil",
            "motif": "problèmes de santé",
        }
        assert _refused(client, emma, "reorientation", social) == ("saisine_requise", "saisine")
        _ok(
            client,
            emma,
            "saisine-ep",
            {
                "effective_on": "2025-03-03",
                "motif_saisine": "reorientation_sociale",
                "ep_id": "ep-vitry",
                "manquement": "santé incompatible avec la recherche d'emploi",
            },
        )
        _session(client, emma, 1, "2025-03-04", "2025-03-18")
        assert _refused(
            client, emma, "reorientation", {**social, "effective_on": "2025-03-18", "saisine": 1}
        ) == ("avis_ep_requis", "saisine")
        _ok(
            client,
            emma,
            "avis-ep",
            {"effective_on": "2025-03-18", "saisine": 1, "avis": "reorientation"},
        )
        _ok(client, emma, "reorientation", {**social, "effective_on": "2025-03-20", "saisine": 1})
        _ok(
            client,
            emma,
            "fin-contrat-engagement",
            {"effective_on": "2025-03-21", "numero": 1, "motif": "réorientation"},
        )
        state = client.get(f"/dossiers/{emma}").json()
        assert (state["type_orientation"], state["structure_id"]) == ("sociale", "ccas-creteil")
        emma_on = _situation(client, emma, "2025-03-01")
        assert emma_on["contrat_engagement"] == {
            "numero": 1,
            "date_debut": "2025-02-01",
            "date_fin": "2025-07-31",
            "heures_hebdo": 5,
            "empechement": "raison de santé",
        }
        assert _situation(client, emma, "2025-03-21")["contrat_engagement"] is None
        assert _situation(client, emma, "2025-03-21")["saisines"][0]["close_le"] == "2025-03-20"

        # --- the EP's worklist, on three days ---------------------------------------------
        def worklist(day: str, **params: Any) -> list[tuple[str, str, int, str, str]]:
            response = client.get("/ep/a-traiter", params={"as_of": day, **params})
            assert response.status_code == 200, response.text
            names = {anne: "anne", bruno: "bruno", chloe: "chloe", denis: "denis", emma: "emma"}
            return [
                (names[x["case_id"]], x["motif"], x["numero"], x["depuis"], x["echeance"])
                for x in response.json()
            ]

        # 5 August 2025: Bruno's August suspension is in force (its last day 31 August, within
        # 30 days, entering the window on 1 August); Chloé's opinion (4 August) and Anne's
        # (5 August) wait for a decision, due one month later.
        aug = worklist("2025-08-05")
        assert sorted(aug) == sorted(
            [
                ("bruno", "remobilisation_a_verifier", 1, "2025-08-01", "2025-08-31"),
                ("bruno", "suspension_finissante", 1, "2025-08-01", "2025-08-31"),
                ("chloe", "avis_sans_decision", 1, "2025-08-04", "2025-09-04"),
                ("anne", "avis_sans_decision", 1, "2025-08-05", "2025-09-05"),
            ]
        )
        assert [line[4] for line in aug] == sorted(line[4] for line in aug)
        # 15 September 2025: Bruno's second referral has no session yet (two months: by
        # 15 November).
        assert worklist("2025-09-15", motif="saisine_sans_seance") == [
            ("bruno", "saisine_sans_seance", 2, "2025-09-15", "2025-11-15")
        ]
        # 10 October 2025: Bruno's observations are due by 15 October; Chloé's suspension ends
        # on 31 October (21 days away).
        assert sorted(worklist("2025-10-10", ep_id="ep-creteil")) == sorted(
            [
                ("bruno", "observations_attendues", 2, "2025-09-15", "2025-10-15"),
                ("chloe", "remobilisation_a_verifier", 1, "2025-09-01", "2025-10-31"),
                ("chloe", "suspension_finissante", 1, "2025-10-01", "2025-10-31"),
            ]
        )
        assert worklist("2025-10-10", ep_id="ep-vitry") == []

        # --- the indicators -----------------------------------------------------------------
        response = client.get("/ep/indicateurs", params={"du": "2024-01-01", "au": "2025-12-31"})
        assert response.status_code == 200, response.text
        found = response.json()
        assert found["sanctions"] == {
            "radiation/suspension-remobilisation-2025": 1,  # Bruno's second
            "reduction/sanctions-2018": 1,  # Denis
            "suspension_remobilisation/suspension-remobilisation-2025": 3,  # Anne, Bruno, Chloé
        }
        # 1 of 3 suspensions-remobilisations re-engaged (Anne).
        assert (found["suspensions_remobilisation"], found["remobilisees"]) == (3, 1)
        assert abs(found["part_remobilisee"] - 1 / 3) < 1e-9
        # Breach → decision: Bruno 10 June → 10 July = 30 days; Chloé 28 June → 6 August =
        # 2 + 31 + 6 = 39; Bruno 12 September → 22 October = 18 + 22 = 40; Anne 25 June →
        # 8 August = 5 + 31 + 8 = 44; Denis 20 February → 10 April 2024 = 9 + 31 + 10 = 50.
        assert found["delais_manquement_decision"] == [30, 39, 40, 44, 50]
        assert found["delai_moyen"] == 40.6  # 203 / 5
        assert found["delai_median"] == 40
        # Six decisions after an opinion; Denis's went against it.
        assert (found["decisions_apres_avis"], found["avis_suivis"]) == (6, 5)
        # The year 2024 alone: Denis's reduction, decided against the opinion.
        only_2024 = client.get("/ep/indicateurs", params={"du": "2024-01-01", "au": "2024-12-31"})
        assert only_2024.json()["sanctions"] == {"reduction/sanctions-2018": 1}
        assert only_2024.json()["part_avis_suivis"] == 0.0
        # Known before anything was recorded: nothing.
        before = client.get(
            "/ep/indicateurs",
            params={"du": "2024-01-01", "au": "2025-12-31", "known_at": "2025-01-01T00:00:00"},
        )
        assert before.status_code == 200, before.text
        assert before.json()["sanctions"] == {}


ADMIN = bearer(Role.ADMIN, sub="admin-1")


def _squeezed(text: str) -> str:
    """Text without its spaces and line breaks (a PDF table wraps its cells anywhere)."""
    return "".join(text.split())


def _pdf_text(data: bytes) -> str:
    """The text a PDF shows, squeezed; it must be a PDF."""
    from pypdf import PdfReader

    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return _squeezed(" ".join(page.extract_text() for page in reader.pages))


def _cli(settings: Settings, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "ep", *args],
        cwd=ROOT,
        env=process_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == code, done.stderr
    return done


def test_an_ep_session_is_programmed_held_and_gives_its_agenda_and_minutes(
    settings: Settings, tmp_path: Path
) -> None:
    with api_client(settings) as client:
        session = {
            "ep_id": "ep-creteil",
            "date_session": "2025-08-05",
            "lieu": "Créteil, salle 3",
            "effective_on": "2025-06-02",
        }
        # An EP is a declared structure of its kind first.
        refused = client.put("/ep/seances/ep-creteil-2025-08-05", json=session)
        assert refused.status_code == 422, refused.text
        assert (refused.json()["code"], refused.json()["field"]) == ("ep_inconnue", "ep_id")
        declared = client.put(
            "/structures/ep-creteil",
            json={
                "nom": "EP de Créteil",
                "type_organisme": "equipe_pluridisciplinaire",
                "effective_on": "2025-01-01",
            },
            headers=ADMIN,
        )
        assert declared.status_code == 201, declared.text
        created = client.put("/ep/seances/ep-creteil-2025-08-05", json=session)
        assert created.status_code == 201, created.text
        assert created.json()["date_session"] == "2025-08-05"

        anne = _entree(client, "CAF-ANNE", "2025-06-02")
        _orient_pro(client, anne, "2025-06-05")
        _saisine(client, anne, "2025-07-01", breach="2025-06-25")
        _ok(client, anne, "notification-observations", {"effective_on": "2025-07-02", "saisine": 1})
        _session(client, anne, 1, "2025-07-03", "2025-08-05")

        agenda = client.get("/ep/seances/ep-creteil-2025-08-05/ordre-du-jour")
        assert agenda.status_code == 200, agenda.text
        assert agenda.headers["content-type"].startswith("text/html")
        assert "CAF-ANNE" in agenda.text
        assert "attendues jusqu&#x27;au 2025-08-02" in agenda.text or (
            "attendues jusqu'au 2025-08-02" in agenda.text
        )
        not_yet = client.get("/ep/seances/ep-creteil-2025-08-05/proces-verbal")
        assert (not_yet.status_code, not_yet.json()["code"]) == (409, "seance_non_tenue")

        held = client.post(
            "/ep/seances/ep-creteil-2025-08-05/tenue",
            json={"membres": ["présidente", "CAF", "France Travail"], "effective_on": "2025-08-05"},
        )
        assert held.status_code == 200, held.text
        again = client.post(
            "/ep/seances/ep-creteil-2025-08-05/tenue",
            json={"membres": ["présidente"], "effective_on": "2025-08-06"},
        )
        assert (again.status_code, again.json()["code"]) == (422, "seance_tenue")
        _ok(
            client,
            anne,
            "avis-ep",
            {
                "effective_on": "2025-08-05",
                "saisine": 1,
                "avis": "sanction",
                "pourcentage": 30,
                "duree_mois": 2,
            },
        )
        _ok(
            client,
            anne,
            "sanction",
            {
                **_sanction("2025-08-08", 1),
                "pourcentage": 30,
                "duree_mois": 2,
                "date_debut": "2025-09-01",
                "montant_mensuel_centimes": MONTANT,
                "personnes_foyer": 1,
            },
        )
        read = client.get("/ep/seances/ep-creteil-2025-08-05").json()
        assert read["session"]["tenue_le"] == "2025-08-05"
        [point] = read["points"]
        assert (
            point["numero_dossier"],
            point["avis"],
            point["decision"],
            point["decision_le"],
        ) == (
            "CAF-ANNE",
            "sanction",
            "suspension_remobilisation de 30 % pendant 2 mois",
            "2025-08-08",
        )
        minutes = client.get("/ep/seances/ep-creteil-2025-08-05/proces-verbal")
        assert minutes.status_code == 200, minutes.text
        assert "sanction 30 % pendant 2 mois" in minutes.text
        assert "suspension_remobilisation de 30 % pendant 2 mois" in minutes.text
        # The same documents as PDF: asked by the Accept header or by ?format=pdf.
        as_pdf = client.get(
            "/ep/seances/ep-creteil-2025-08-05/proces-verbal",
            headers={"Accept": "application/pdf"},
        )
        assert as_pdf.status_code == 200, as_pdf.text
        assert as_pdf.headers["content-type"] == "application/pdf"
        text = _pdf_text(as_pdf.content)
        for expected in (
            "Procès-verbal — séance ep-creteil-2025-08-05",
            "Créteil, salle 3",
            "présidente, CAF, France Travail",
            "CAF-ANNE",
            "sanction 30 % pendant 2 mois",
            "suspension_remobilisation de 30 % pendant 2 mois",
            "2025-08-08",
        ):
            assert _squeezed(expected) in text, expected
        agenda_pdf = client.get("/ep/seances/ep-creteil-2025-08-05/ordre-du-jour?format=pdf")
        assert agenda_pdf.headers["content-type"] == "application/pdf"
        agenda_text = _pdf_text(agenda_pdf.content)
        for expected in ("Ordre du jour", "CAF-ANNE", "RDV manqués sans motif", "2025-06-25"):
            assert _squeezed(expected) in agenda_text, expected
        unknown = client.get("/ep/seances/ep-creteil-2025-08-05/ordre-du-jour?format=odt")
        assert (unknown.status_code, unknown.json()["field"]) == (422, "format")
        assert client.get("/ep/seances/inconnue").status_code == 404

    # The same through the command line.
    situation = json.loads(_cli(settings, "situation", anne, "--date", "2025-09-10").stdout)
    assert situation["sanctions"]["pourcentage_suspendu"] == 30
    assert situation["sanctions"]["sanctions"][0]["montant_suspendu"] == 19_396
    lines = _cli(settings, "a-traiter", "--date", "2025-09-10").stdout
    assert "remobilisation à vérifier" in lines
    assert lines.rstrip().endswith("1 ligne(s)")
    found = json.loads(
        _cli(settings, "indicateurs", "--du", "2025-01-01", "--au", "2025-12-31").stdout
    )
    assert found["sanctions"] == {"suspension_remobilisation/suspension-remobilisation-2025": 1}
    page = tmp_path / "pv.html"
    _cli(settings, "proces-verbal", "ep-creteil-2025-08-05", "--sortie", str(page))
    assert "CAF-ANNE" in page.read_text(encoding="utf-8")
    document = tmp_path / "pv.pdf"
    _cli(settings, "proces-verbal", "ep-creteil-2025-08-05", "--sortie", str(document))
    written = _pdf_text(document.read_bytes())
    assert _squeezed("CAF-ANNE") in written
    assert _squeezed("suspension_remobilisation de 30 % pendant 2 mois") in written
    odd = _cli(settings, "ordre-du-jour", "ep-creteil-2025-08-05", "--sortie", "x.odt", code=2)
    assert "extension .odt inconnue" in odd.stderr
    assert "Traceback" not in odd.stderr
    bad = _cli(settings, "situation", "pas-un-uuid", code=1)
    assert "Identifiant de dossier invalide" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert "Aucune séance" in _cli(settings, "ordre-du-jour", "inconnue", code=1).stderr
