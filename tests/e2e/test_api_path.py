"""One allocataire's whole path posted through the API, on both stores: every step answers with
the case's new version, and the case reads back as the state and the timeline an agent expects;
lists find it by structure and status; the OpenAPI document describes every route."""

from typing import Any

from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.http.auth import Role
from tests.auth import STAFF, bearer
from tests.e2e.helpers import (
    AGENT_CCAS,
    ENTREE,
    EPISODE_1,
    EPISODE_2,
    FULL_PATH,
    ORIENTATION,
    ORIENTEUR,
    REFERENT,
    Json,
    api_client,
    create_case,
    log_position,
    orient,
    post_steps,
    read_case,
    without,
)

AFTER_EXIT: Json = {
    "version": 26,
    "numero_dossier": "CAF-0123456",
    "statut": "sorti",
    "episode": 1,
    "soumis_droits_devoirs": True,
    "droit_suspendu": False,
    "date_entree": "2024-01-03",
    "date_flux": "2024-01-04",
    "date_reception_flux": "2024-01-08",
    "type_orientation": "professionnelle",
    "organisme": "france_travail",
    "structure_id": "ft-creteil",
    "date_orientation": "2024-06-03",
    "date_premiere_orientation": "2024-01-25",
    "nb_reorientations": 1,
    "referent_id": "ref-martin",
    "date_referent": "2024-06-10",
    "date_premier_rdv": "2024-02-05",
    "date_dernier_rdv": "2024-09-16",
    "rdv_seen": 1,
    "rdv_noshow": 1,
    "rdv_excused": 1,
    "rdv_revoked": 1,
    "rdv_en_attente": 0,
    "date_premier_cer": "2024-02-20",
    "date_fin_cer": "2025-08-31",
    "nb_cer": 2,
    "nb_entretiens_asc": 1,
    "sanctions_en_cours": 0,
    "date_sortie": "2024-10-01",
    "type_sortie": "emploi_cdi",
    "sortie_positive": True,
    "date_cloture": None,
}
"""After the exit (v26): 4 RDV with one outcome each, 2 contracts, the réorientation to France
Travail with its new referent, the sanction decided after the EP, then lifted."""

SECOND_EPISODE: Json = {
    "version": 30,
    "numero_dossier": "CAF-0123456",
    "statut": "oriente",
    "episode": 2,
    "soumis_droits_devoirs": True,
    "droit_suspendu": False,
    "date_entree": "2025-03-03",
    "date_flux": "2025-03-04",
    "date_reception_flux": "2025-03-06",
    "type_orientation": "socio_professionnelle",
    "organisme": "aave",
    "structure_id": "aave-77",
    "date_orientation": "2025-03-20",
    "date_premiere_orientation": "2025-03-20",
    "nb_reorientations": 0,
    "referent_id": None,
    "date_referent": None,
    "date_premier_rdv": "2025-04-01",
    "date_dernier_rdv": "2025-04-01",
    "rdv_seen": 0,
    "rdv_noshow": 0,
    "rdv_excused": 0,
    "rdv_revoked": 0,
    "rdv_en_attente": 1,
    "date_premier_cer": None,
    "date_fin_cer": None,
    "nb_cer": 0,
    "nb_entretiens_asc": 0,
    "sanctions_en_cours": 0,
    "date_sortie": None,
    "type_sortie": None,
    "sortie_positive": None,
    "date_cloture": None,
}
"""After the closure and the reopening (v30): the new episode counts from zero."""

TIMELINE: list[tuple[str, str, str | None]] = [
    ("EntreeEnregistree", "flux-caf", None),
    ("OrientationDecidee", "orienteur-cd94", None),
    ("ReferentDesigne", "agent-7", "ccas-creteil"),
    ("RdvPlanifie", "agent-7", "ccas-creteil"),
    ("IssueRdvEnregistree", "agent-7", "ccas-creteil"),
    ("CerSigne", "agent-7", "ccas-creteil"),
    ("RdvPlanifie", "agent-7", "ccas-creteil"),
    ("IssueRdvEnregistree", "agent-7", "ccas-creteil"),
    ("EpSaisie", "agent-7", "ccas-creteil"),
    ("ObservationsNotifiees", "orienteur-cd94", None),
    ("SaisineInscrite", "orienteur-cd94", None),
    ("ObservationsRecues", "orienteur-cd94", None),
    ("AvisEpRendu", "orienteur-cd94", None),
    ("SanctionDecidee", "agent-7", "ccas-creteil"),
    ("RdvPlanifie", "agent-7", "ccas-creteil"),
    ("IssueRdvEnregistree", "agent-7", "ccas-creteil"),
    ("SanctionLevee", "agent-7", "ccas-creteil"),
    ("ReorientationDecidee", "agent-7", "ccas-creteil"),
    ("ReferentDesigne", "conseiller-12", "ft-creteil"),
    ("EntretienAscTenu", "conseiller-12", "ft-creteil"),
    ("DroitSuspendu", "flux-caf", None),
    ("DroitRepris", "flux-caf", None),
    ("CerSigne", "conseiller-12", "ft-creteil"),
    ("RdvPlanifie", "conseiller-12", "ft-creteil"),
    ("IssueRdvEnregistree", "conseiller-12", "ft-creteil"),
    ("SortieEnregistree", "conseiller-12", "ft-creteil"),
    ("DroitClos", "flux-caf", None),
    ("DroitRouvert", "flux-caf", None),
    ("OrientationDecidee", "orienteur-cd94", None),
    ("RdvPlanifie", "agent-aave-3", "aave-77"),
]
"""(event type, meta.recorded_by, meta.structure_id) for versions 1 to 30."""

STEP_SLUGS = [
    "orientation",
    "reorientation",
    "referent",
    "rdv",
    "report-rdv",
    "issue-rdv",
    "cer",
    "renouvellement-cer",
    "entretien-asc",
    "debut-accompagnement",
    "fin-accompagnement",
    "sortie",
    "sanction",
    "levee-sanction",
    "remobilisation",
    "saisine-ep",
    "ordre-du-jour-ep",
    "notification-observations",
    "observations",
    "avis-ep",
    "classement-saisine",
    "contrat-engagement",
    "renouvellement-contrat-engagement",
    "avenant-contrat-engagement",
    "fin-contrat-engagement",
    "suspension",
    "reprise",
    "cloture",
    "reouverture",
]


def _payload(entry: Json) -> Json:
    """An event as the timeline shows it, without its recording metadata."""
    return without(entry["event"], "meta")


def test_a_whole_path_reads_back_as_state_and_timeline(settings: Settings) -> None:
    with api_client(settings) as client:
        case_id, first = post_steps(client, EPISODE_1, if_match=True)
        after_exit, _, etag = read_case(client, case_id)
        assert etag == '"26"'
        assert without(after_exit, "case_id", "updated_at") == AFTER_EXIT

        _, second = post_steps(client, EPISODE_2, case_id, version=26, if_match=True)
        state, timeline, etag = read_case(client, case_id)
        assert etag == '"30"'
        assert state["case_id"] == case_id
        assert without(state, "case_id", "updated_at") == SECOND_EPISODE

        positions = [answer["position"] for answer in first + second]
        assert positions == sorted(set(positions)), "each step has its own, later, log position"
        assert positions[-1] == log_position(client)

    assert [e["version"] for e in timeline] == list(range(1, 31))
    assert [
        (e["event"]["type"], e["event"]["meta"]["recorded_by"], e["event"]["meta"]["structure_id"])
        for e in timeline
    ] == TIMELINE
    assert [e["event"]["meta"]["request_id"] for e in timeline] == [
        f"req-{v}" for v in range(1, 31)
    ]
    recorded_at = [e["event"]["meta"]["recorded_at"] for e in timeline]
    assert recorded_at == sorted(recorded_at)
    assert state["updated_at"] == recorded_at[-1]

    assert _payload(timeline[0]) == {
        "type": "EntreeEnregistree",
        "effective_on": "2024-01-03",
        "numero_dossier": "CAF-0123456",
        "organisme_payeur": "caf",
        "date_flux": "2024-01-04",
        "date_reception_flux": "2024-01-08",
        "soumis_droits_devoirs": True,
        "profil": None,
    }
    assert _payload(timeline[13]) == {
        "type": "SanctionDecidee",
        "effective_on": "2024-04-02",
        "numero": 1,
        "type_sanction": "reduction",
        "motif": "RDV manqué",
        "saisine": 1,
        "regime": "sanctions-2018",
        "rang": 1,
        "pourcentage": 50,
        "duree_mois": 2,
        "date_debut": "2024-04-02",
        "montant_mensuel_centimes": 60000,
        "personnes_foyer": 1,
        "avis_suivi": True,
    }
    assert _payload(timeline[17]) == {
        "type": "ReorientationDecidee",
        "effective_on": "2024-06-03",
        "type_orientation": "professionnelle",
        "organisme": "france_travail",
        "structure_id": "ft-creteil",
        "motif": "projet professionnel défini",
        "date_avis_ep": "2024-05-28",
        "saisine": None,
        "avis_suivi": None,
    }
    assert _payload(timeline[22]) == {
        "type": "CerSigne",
        "effective_on": "2024-08-20",
        "numero": 2,
        "date_debut": "2024-09-01",
        "duree_mois": 12,
        "renouvellement": True,
    }
    assert _payload(timeline[29]) == {
        "type": "RdvPlanifie",
        "effective_on": "2025-03-21",
        "numero": 5,
        "type_rdv": "premier_accompagnement",
        "mode": "invitation",
        "date_rdv": "2025-04-01",
    }


def test_the_etag_read_back_is_accepted_as_if_match(settings: Settings) -> None:
    with api_client(settings) as client:
        case_id = create_case(client)
        etag = client.get(f"/dossiers/{case_id}").headers["ETag"]
        assert etag == '"1"'
        response = client.post(
            f"/dossiers/{case_id}/orientation",
            json=ORIENTATION,
            headers={**ORIENTEUR, "If-Match": etag},
        )
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"2"'
        weak = client.post(
            f"/dossiers/{case_id}/referent",
            json=REFERENT,
            headers={**AGENT_CCAS, "If-Match": 'W/"2"'},
        )
        assert weak.status_code == 200, weak.text
        assert weak.json()["version"] == 3


def test_the_author_recorded_is_the_token_s_subject_and_the_case_s_structure(
    settings: Settings,
) -> None:
    """An agent of two structures is recorded with the structure of the case it works on."""
    two = bearer(Role.AGENT, structures=["ccas-creteil", "ccas-vitry"], sub="agent-9")
    with api_client(settings) as client:
        case_id = create_case(client)
        orient(client, case_id)
        response = client.post(f"/dossiers/{case_id}/referent", json=REFERENT, headers=two)
        assert response.status_code == 200, response.text
        _, timeline, _ = read_case(client, case_id)
    metas = [e["event"]["meta"] for e in timeline]
    assert [(m["recorded_by"], m["structure_id"]) for m in metas] == [
        ("flux-caf", None),
        ("orienteur-cd94", None),
        ("agent-9", "ccas-creteil"),
    ]


def _page(client: TestClient, **params: Any) -> Json:
    response = client.get("/dossiers", params=params)
    assert response.status_code == 200, response.text
    page: Json = response.json()
    return page


def test_the_list_finds_the_case_once_it_reflects_the_command_position(
    settings: Settings,
) -> None:
    with api_client(settings) as client:
        case_id, answers = post_steps(client, FULL_PATH)
        position = answers[-1]["position"]
        state, _, _ = read_case(client, case_id)

        # No projection worker runs in this app: without `after`, the list lags the log.
        stale = _page(client, structure_id="aave-77", statut="oriente")
        assert (stale["total"], stale["items"], stale["position"]) == (0, [], 0)

        page = _page(client, structure_id="aave-77", statut="oriente", after=position)
        assert page["position"] >= position
        assert page["total"] == 1
        assert page["items"] == [state]
        assert (page["limit"], page["offset"]) == (50, 0)

        assert _page(client, structure_id="ft-creteil", after=position)["total"] == 0
        assert _page(client, statut="sorti", after=position)["total"] == 0
        assert _page(client, referent_id="ref-martin", after=position)["total"] == 0


def test_lists_filter_and_page_with_limit_offset_and_total(settings: Settings) -> None:
    def enter(day: str, numero: str) -> str:
        return create_case(client, {**ENTREE, "effective_on": day, "numero_dossier": numero})

    with api_client(settings) as client:
        a = enter("2024-03-10", "A")
        b = enter("2024-01-15", "B")
        c = enter("2024-02-01", "C")
        d = enter("2024-04-02", "D")
        e = enter("2024-01-20", "E")
        orient(client, a, {**ORIENTATION, "effective_on": "2024-03-20"})
        orient(client, b, {**ORIENTATION, "effective_on": "2024-01-25"})
        orient(client, d, {**ORIENTATION, "effective_on": "2024-04-10"})
        orient(
            client,
            e,
            {
                "effective_on": "2024-02-01",
                "type_orientation": "professionnelle",
                "organisme": "france_travail",
                "structure_id": "ft-creteil",
            },
        )
        last = client.post(f"/dossiers/{b}/referent", json=REFERENT, headers=AGENT_CCAS).json()[
            "position"
        ]

        def ids(**params: Any) -> tuple[list[str], int]:
            page = _page(client, after=last, **params)
            assert page["limit"] == params.get("limit", 50)
            assert page["offset"] == params.get("offset", 0)
            return [item["case_id"] for item in page["items"]], page["total"]

        # Lists are sorted by entry date.
        assert ids() == ([b, e, c, a, d], 5)
        assert ids(structure_id="ccas-creteil", limit=2) == ([b, a], 3)
        assert ids(structure_id="ccas-creteil", limit=2, offset=2) == ([d], 3)
        assert ids(structure_id="ccas-creteil", limit=2, offset=3) == ([], 3)
        assert ids(statut="a_orienter") == ([c], 1)
        assert ids(statut="oriente", limit=3, offset=1) == ([e, a, d], 4)
        assert ids(structure_id="ccas-creteil", statut="oriente", referent_id="ref-durand") == (
            [b],
            1,
        )
        assert ids(structure_id="ccas-vitry") == ([], 0)


PROBLEMS = {
    ("post", "/dossiers"): {"400", "401", "403", "409", "422"},
    ("get", "/dossiers"): {"401", "403", "422"},
    ("get", "/dossiers/{case_id}"): {"401", "403", "404", "409", "422"},
    ("get", "/dossiers/{case_id}/evenements"): {"401", "403", "404", "409", "422"},
    ("get", "/dossiers/{case_id}/sanctions"): {"401", "403", "404", "409", "422"},
    **{
        ("post", f"/dossiers/{{case_id}}/{slug}"): {"400", "401", "403", "404", "409", "412", "422"}
        for slug in [*STEP_SLUGS, "annulation", "rectification"]
    },
}
"""Every route of a case and the problem+json answers it documents."""


def _resolve(spec: Json, schema: Json) -> Json:
    ref: str = schema["$ref"]
    assert ref.startswith("#/components/schemas/"), ref
    resolved: Json = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return resolved


def test_openapi_documents_every_route_its_body_example_and_problems(
    sqlite_settings: Settings,
) -> None:
    with api_client(sqlite_settings) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()

    operations = {
        (method, path): op
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if path.startswith("/dossiers")
    }
    assert set(operations) == set(PROBLEMS)

    for (method, path), op in operations.items():
        where = f"{method.upper()} {path}"
        documented = {code for code in op["responses"] if code.startswith(("4", "5"))}
        assert documented == PROBLEMS[method, path], where
        for code in documented:
            content = op["responses"][code]["content"]
            assert set(content) == {"application/problem+json"}, (where, code)
            problem = _resolve(spec, content["application/problem+json"]["schema"])
            assert {"type", "title", "status", "detail", "code", "field"} <= set(
                problem["properties"]
            )
        ok = op["responses"]["201" if path == "/dossiers" and method == "post" else "200"]
        assert "example" in ok["content"]["application/json"], where

        if method != "post":
            continue
        body = op["requestBody"]
        assert body["required"] is True, where
        content = body["content"]["application/json"]
        command = _resolve(spec, content["schema"])
        assert "effective_on" in command["required"], where
        assert set(content["example"]) <= set(command["properties"]), where
        headers = {p["name"] for p in op["parameters"] if p["in"] == "header"}
        expected = {"idempotency-key", "X-Motif-Acces"}
        if path != "/dossiers":
            expected.add("if-match")
        assert {h.lower() for h in headers} == {h.lower() for h in expected}, where


EXAMPLES_IN_DATE_ORDER = [
    "",
    "orientation",
    "referent",
    "rdv",
    "issue-rdv",
    "cer",
    "reorientation",
    "suspension",
    "debut-accompagnement",
    "entretien-asc",
    "reprise",
    "renouvellement-cer",
    "fin-accompagnement",
    "sortie",
    "cloture",
    "reouverture",
]


def test_the_documented_examples_posted_in_date_order_make_a_valid_path(
    settings: Settings,
) -> None:
    with api_client(settings) as client:
        spec = client.get("/openapi.json").json()

        def example(slug: str) -> Json:
            path = "/dossiers" if slug == "" else f"/dossiers/{{case_id}}/{slug}"
            found: Json = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"][
                "example"
            ]
            return found

        dates = [example(slug)["effective_on"] for slug in EXAMPLES_IN_DATE_ORDER]
        assert dates == sorted(dates)
        steps = [(slug, example(slug), STAFF) for slug in EXAMPLES_IN_DATE_ORDER]
        case_id, _ = post_steps(client, steps)
        state, timeline, _ = read_case(client, case_id)
    assert len(timeline) == 16
    assert (state["version"], state["statut"], state["episode"], state["date_entree"]) == (
        16,
        "a_orienter",
        2,
        "2025-03-03",
    )


EP_EXAMPLES_IN_DATE_ORDER = [
    "saisine-ep",
    "ordre-du-jour-ep",
    "notification-observations",
    "observations",
    "avis-ep",
    "sanction",
    "remobilisation",
]
"""The documented EP procedure: a sanction is decided only after it, so its examples chain."""


def test_the_documented_ep_examples_make_the_procedure_a_sanction_needs(
    settings: Settings,
) -> None:
    with api_client(settings) as client:
        spec = client.get("/openapi.json").json()

        def example(slug: str) -> Json:
            found: Json = spec["paths"][f"/dossiers/{{case_id}}/{slug}"]["post"]["requestBody"][
                "content"
            ]["application/json"]["example"]
            return found

        dates = [example(slug)["effective_on"] for slug in EP_EXAMPLES_IN_DATE_ORDER]
        assert dates == sorted(dates)
        case_id = create_case(
            client,
            {
                **ENTREE,
                "effective_on": "2025-05-02",
                "date_flux": "2025-05-02",
                "date_reception_flux": "2025-05-05",
            },
        )
        orient(client, case_id, {**ORIENTATION, "effective_on": "2025-05-20"})
        alone = client.post(
            f"/dossiers/{case_id}/sanction",
            json={**example("sanction"), "saisine": None},
            headers=STAFF,
        )
        assert alone.status_code == 422, alone.text
        assert (alone.json()["code"], alone.json()["field"]) == ("saisine_requise", "saisine")
        post_steps(
            client,
            [(slug, example(slug), STAFF) for slug in EP_EXAMPLES_IN_DATE_ORDER],
            case_id,
            version=2,
        )
        state, timeline, _ = read_case(client, case_id)
    assert [e["event"]["type"] for e in timeline][2:] == [
        "EpSaisie",
        "SaisineInscrite",
        "ObservationsNotifiees",
        "ObservationsRecues",
        "AvisEpRendu",
        "SanctionDecidee",
        "RemobilisationConstatee",
    ]
    assert state["sanctions_en_cours"] == 0
