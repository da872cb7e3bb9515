"""Freeze the event log this release writes, and the figures this release computes from it.

    python3 -m uv run python -m scripts.freeze_eventlog --out tests/fixtures/eventlog/v1

Writes `events.jsonl.gz` (every stored row in log order: case, version, topic and the payload
exactly as stored) and `figures.json` (what this release's read models and reports give for
that log) into `--out`. The log is a deterministic synthetic département (`adapters.synthetic`)
plus hand-made steps, through the services, for every event type the generator never emits, so
that each type of `domain.catalogue` is in it.

Run it for a NEW directory only (one per release whose shapes changed): the figures file is the
record of what that release computed; regenerating it over an old log would erase the proof
that later releases read that log the same way (tests/fixtures/eventlog/README.md).
`tests/integration/test_frozen_eventlog.py` loads every frozen log into a fresh SQLite file and
into PostgreSQL, rebuilds the read models and compares the figures a folder recorded (a figure
added by a later release is absent from older folders, and not compared there).
"""

import argparse
import gzip
import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import StoredEvent

from adapters.eventlog.reading import histories
from adapters.eventlog.store import Parcours
from adapters.readmodels.models import open_activite_store, open_case_view
from adapters.readmodels.projector import Projector
from adapters.schedule_files import shipped
from adapters.settings import Settings
from adapters.synthetic import generate
from api.services.agents import grant, revoke
from api.services.cases import handle
from api.services.cohorts import save_definition
from api.services.commands import Author, execute
from api.services.ep_sessions import hold_session, programme_session
from api.services.finance import Finance
from api.services.schedules import adopt
from api.services.statistics import Statistiques
from api.services.structures import declare_structure
from domain import commands as cmd
from domain.abonnements import ABONNEMENTS_ID, AbonnementCree, AbonnementSupprime, Finalite
from domain.catalogue import ALL_EVENT_TYPES
from domain.cohorts import DefinitionCohorte
from domain.decide import Contexte
from domain.ep import fold_session, session_aggregate_id
from domain.events import EpSaisie, Evenement, Profil, Recorded, SaisineInscrite, SanctionDecidee
from domain.vocabulary import (
    AvisEp,
    EtatInvitation,
    IssueRdv,
    ModeOrientation,
    ModeRdv,
    MotifSaisineEp,
    ObjetAccompagnement,
    OrganismePayeur,
    RoleAgent,
    Sexe,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
    TypeSanction,
)
from projections.ep_seances import seance
from projections.indicateurs import Periode
from projections.sanctions import indicateurs, lignes_ep

NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
"""The moment the frozen log is written and its figures computed (the stores' clock): after
the hand-made steps of 2025, which the rules refuse in the future. The figures do not read
the clock: an older folder, written on another day, folds to its figures under this one."""
START, YEARS, SEED, PEOPLE = date(2022, 1, 1), 3, 19, 500
YEAR = Periode(date(2023, 1, 1), date(2023, 12, 31))
EP_YEAR = (date(2025, 1, 1), date(2025, 12, 31))
"""The year of the EP procedure's figures: the 2025 regimes (contrat d'engagement, then
suspension-remobilisation from 1 June)."""
EP_ID = "ep-1"
EP_SESSIONS = (date(2025, 3, 18), date(2025, 7, 8), date(2025, 8, 5), date(2025, 10, 20))
"""The days EP `EP_ID` meets, each a session `ep-1-<day>` programmed, then held."""
EVENTS = "events.jsonl.gz"
FIGURES = "figures.json"
AUTHOR = Author(user="agent-gel", request_id="gel")


def clock() -> datetime:
    return NOW


# --- the log --------------------------------------------------------------------------------


def write_log(app: Parcours) -> None:
    """The synthetic département, then hand-made steps for the types it never emits."""
    batch: list[Recorded] = []
    for events in generate(PEOPLE, YEARS, SEED, START, today=date(2025, 1, 1)):
        batch.extend(events)
    app.append_many(batch)
    _reference_data(app)
    _hand_made_cases(app)
    _ep_procedure(app)
    Projector(app).catch_up()
    Finance(app).issue("ccas-1", "2023", AUTHOR)


def _reference_data(app: Parcours) -> None:
    for structure_id, nom, kind, etp in (
        ("ccas-1", "CCAS de la préfecture", TypeOrganisme.CCAS, None),
        ("asso-1", "Association d'insertion", TypeOrganisme.ASSOCIATION, None),
        ("aave-1", "AAVE du nord", TypeOrganisme.AAVE, 0.5),
        ("mds-1", "Maison des solidarités", TypeOrganisme.DEPARTEMENT, None),
        (EP_ID, "Équipe pluridisciplinaire", TypeOrganisme.EQUIPE_PLURIDISCIPLINAIRE, None),
    ):
        declare_structure(app, structure_id, nom, kind, etp, date(2022, 1, 1), AUTHOR)
    for bareme in shipped().values():
        adopt(app, bareme, "barème publié", AUTHOR)
    droit = grant(
        app,
        agent="referente@ccas.example.fr",
        role=RoleAgent.AGENT,
        structures=["ccas-1"],
        du=date(2024, 1, 1),
        au=None,
        motif="prise de poste",
        author=AUTHOR,
    )
    revoke(app, droit_id=droit.droit_id, agent=None, role=None, motif="départ", author=AUTHOR)
    save_definition(
        app,
        "entrees-2023",
        DefinitionCohorte(entree_du=date(2023, 1, 1), entree_au=date(2023, 12, 31)),
        AUTHOR,
    )

    def subscription(history: list[Recorded], ctx: Contexte) -> list[Evenement]:
        return [
            AbonnementCree(
                effective_on=ctx.today,
                meta=ctx.meta,
                abonnement_id="partenaire-1",
                url="https://partenaire.example.fr/parcours",
                secret_scelle="(scellé figé pour le journal de référence)",
                types=["OrientationDecidee"],
                structures=["ccas-1"],
                finalite=Finalite.SUIVI,
                position_depart=0,
                motif="convention 2025",
            ),
            AbonnementSupprime(
                effective_on=ctx.today,
                meta=ctx.meta,
                abonnement_id="partenaire-1",
                motif="fin de convention",
            ),
        ]

    execute(app, ABONNEMENTS_ID, subscription, AUTHOR)


def _hand_made_cases(app: Parcours) -> None:
    """Two cases whose steps cover what the generator never records: one oriented to a CCAS
    (a RDV moved, an invitation, a correction of each kind, a change of duties), one to
    France Travail (an appui social complémentaire begun and ended, a reduction decided after
    the EP under the 2018 regime, then lifted: the generator's draws need not reach a lifted
    sanction). Logs frozen by earlier releases hold this reduction without its referral: they
    are stored rows, read as they are."""
    day = date

    def entry(n: int) -> cmd.Commande:
        return cmd.EnregistrerEntree(
            effective_on=day(2023, 2, 1),
            numero_dossier=f"CAF-900000{n}",
            organisme_payeur=OrganismePayeur.CAF,
            date_flux=day(2023, 2, 2),
            date_reception_flux=day(2023, 2, 3),
            profil=Profil(sexe=Sexe.F, annee_naissance=1980 + n, code_commune="94028"),
        )

    social: list[cmd.Commande] = [
        entry(1),
        cmd.DeciderOrientation(
            effective_on=day(2023, 2, 20),
            type_orientation=TypeOrientation.SOCIALE,
            organisme=TypeOrganisme.CCAS,
            structure_id="ccas-1",
            mode=ModeOrientation.DECIDEE,
        ),
        cmd.PlanifierRdv(
            effective_on=day(2023, 2, 21),
            type_rdv=TypeRdv.PREMIER_ACCOMPAGNEMENT,
            mode=ModeRdv.CONVOCATION,
            date_rdv=day(2023, 3, 1),
        ),
        cmd.NoterInvitation(
            effective_on=day(2023, 2, 21),
            invitation="inv-1",
            canal="sms",
            etat=EtatInvitation.DELIVREE,
            type_rdv=TypeRdv.PREMIER_ACCOMPAGNEMENT,
        ),
        cmd.DeplacerRdv(effective_on=day(2023, 2, 27), numero=1, date_rdv=day(2023, 3, 8)),
        cmd.EnregistrerIssueRdv(effective_on=day(2023, 3, 8), numero=1, issue=IssueRdv.SEEN),
        cmd.ModifierDroitsDevoirs(effective_on=day(2023, 10, 1), soumis_droits_devoirs=False),
        cmd.RectifierEtape(
            effective_on=day(2023, 10, 5),
            version_rectifiee=2,
            effective_on_corrige=day(2023, 2, 15),
            motif="date de notification de l'orientation",
        ),
        cmd.AnnulerEtape(
            effective_on=day(2023, 10, 6), version_annulee=7, motif="saisi par erreur"
        ),
    ]
    professional: list[cmd.Commande] = [
        entry(2),
        cmd.DeciderOrientation(
            effective_on=day(2023, 2, 20),
            type_orientation=TypeOrientation.PROFESSIONNELLE,
            organisme=TypeOrganisme.FRANCE_TRAVAIL,
            structure_id="ft-1",
            mode=ModeOrientation.DECIDEE,
        ),
        cmd.DebuterAccompagnement(
            effective_on=day(2023, 4, 1), structure_id="asso-1", objet=ObjetAccompagnement.ASC
        ),
        cmd.TerminerAccompagnement(
            effective_on=day(2023, 9, 30),
            structure_id="asso-1",
            objet=ObjetAccompagnement.ASC,
            motif="objectifs atteints",
        ),
        cmd.SaisirEp(
            effective_on=day(2023, 9, 4),
            motif_saisine=MotifSaisineEp.SANCTION,
            ep_id=EP_ID,
            manquement="absence aux RDV",
        ),
        cmd.NotifierObservations(effective_on=day(2023, 9, 4), saisine=1),
        cmd.InscrireOrdreDuJour(
            effective_on=day(2023, 9, 4),
            saisine=1,
            session_id=_session_id(day(2023, 9, 26)),
            date_session=day(2023, 9, 26),
        ),
        cmd.RecevoirObservations(effective_on=day(2023, 9, 11), saisine=1),
        cmd.RendreAvisEp(effective_on=day(2023, 9, 26), saisine=1, avis=AvisEp.SANCTION),
        cmd.DeciderSanction(
            effective_on=day(2023, 10, 2),
            type_sanction=TypeSanction.REDUCTION,
            motif="absence aux RDV",
            saisine=1,
            pourcentage=50,
            duree_mois=2,
            montant_mensuel_centimes=60_000,
            personnes_foyer=1,
        ),
        cmd.LeverSanction(effective_on=day(2023, 11, 6), numero=1, motif="RDV honorés"),
    ]
    for case_id, steps in ((UUID(int=0xF1), social), (UUID(int=0xF2), professional)):
        for step in steps:
            handle(app, case_id, step, AUTHOR)


def _session_id(day: date) -> str:
    return f"{EP_ID}-{day.isoformat()}"


def _ep_procedure(app: Parcours) -> None:
    """Four cases through the EP procedure and the 2025 regimes, decided by the rules as the
    agents would record them (the steps of tests/e2e/test_ep_sanctions.py): a
    suspension-remobilisation the person re-engages from; a first breach suspended and lost,
    then a further breach ending in removal; a contrat d'engagement signed, amended and ended
    on a réorientation to the social path the EP advised; a referral classée after the
    person's observations. The EP's sessions are programmed before and held on their day."""
    day = date
    for when in EP_SESSIONS:
        programme_session(
            app, EP_ID, _session_id(when), when, "salle du conseil", day(2025, 1, 6), AUTHOR
        )

    def entry(n: int, on: date) -> cmd.Commande:
        return cmd.EnregistrerEntree(
            effective_on=on,
            numero_dossier=f"CAF-900000{n}",
            organisme_payeur=OrganismePayeur.CAF,
            date_flux=on,
            date_reception_flux=on,
            profil=Profil(sexe=Sexe.F if n % 2 else Sexe.M, annee_naissance=1985 + n),
        )

    def professional(on: date) -> cmd.Commande:
        return cmd.DeciderOrientation(
            effective_on=on,
            type_orientation=TypeOrientation.PROFESSIONNELLE,
            organisme=TypeOrganisme.FRANCE_TRAVAIL,
            structure_id="ft-1",
            mode=ModeOrientation.DECIDEE,
        )

    def referral(on: date, breach: date | None, motif: MotifSaisineEp) -> cmd.Commande:
        return cmd.SaisirEp(
            effective_on=on,
            motif_saisine=motif,
            ep_id=EP_ID,
            manquement="RDV manqués sans motif"
            if motif is MotifSaisineEp.SANCTION
            else "santé incompatible avec la recherche d'emploi",
            date_manquement=breach,
        )

    def agenda(on: date, saisine: int, session: date) -> cmd.Commande:
        return cmd.InscrireOrdreDuJour(
            effective_on=on, saisine=saisine, session_id=_session_id(session), date_session=session
        )

    def sanction(on: date, saisine: int, kind: TypeSanction, **terms: Any) -> cmd.Commande:
        return cmd.DeciderSanction(
            effective_on=on, type_sanction=kind, motif="manquement", saisine=saisine, **terms
        )

    remobilised: list[cmd.Commande] = [
        entry(3, day(2025, 6, 2)),
        professional(day(2025, 6, 5)),
        referral(day(2025, 7, 1), day(2025, 6, 25), MotifSaisineEp.SANCTION),
        cmd.NotifierObservations(effective_on=day(2025, 7, 2), saisine=1),
        agenda(day(2025, 7, 3), 1, day(2025, 8, 5)),
        cmd.RendreAvisEp(
            effective_on=day(2025, 8, 5),
            saisine=1,
            avis=AvisEp.SANCTION,
            pourcentage=30,
            duree_mois=2,
        ),
        sanction(
            day(2025, 8, 8),
            1,
            TypeSanction.SUSPENSION_REMOBILISATION,
            pourcentage=30,
            duree_mois=2,
            date_debut=day(2025, 9, 1),
            montant_mensuel_centimes=64_652,
            personnes_foyer=1,
        ),
        cmd.ConstaterRemobilisation(
            effective_on=day(2025, 9, 20), numero=1, motif="RDV honoré, heures reprises"
        ),
    ]
    removed: list[cmd.Commande] = [
        entry(4, day(2025, 6, 2)),
        professional(day(2025, 6, 5)),
        referral(day(2025, 6, 16), day(2025, 6, 10), MotifSaisineEp.SANCTION),
        cmd.NotifierObservations(effective_on=day(2025, 6, 17), saisine=1),
        agenda(day(2025, 6, 18), 1, day(2025, 7, 8)),
        cmd.RecevoirObservations(
            effective_on=day(2025, 6, 30),
            saisine=1,
            audition_demandee=True,
            resume="conteste les RDV manqués",
        ),
        cmd.RendreAvisEp(effective_on=day(2025, 7, 8), saisine=1, avis=AvisEp.SANCTION),
        sanction(
            day(2025, 7, 10),
            1,
            TypeSanction.SUSPENSION_REMOBILISATION,
            pourcentage=100,
            duree_mois=1,
            date_debut=day(2025, 8, 1),
            montant_mensuel_centimes=64_652,
            personnes_foyer=1,
        ),
        referral(day(2025, 9, 15), day(2025, 9, 12), MotifSaisineEp.SANCTION),
        cmd.NotifierObservations(effective_on=day(2025, 9, 15), saisine=2),
        agenda(day(2025, 9, 16), 2, day(2025, 10, 20)),
        cmd.RendreAvisEp(effective_on=day(2025, 10, 20), saisine=2, avis=AvisEp.SANCTION),
        sanction(day(2025, 10, 22), 2, TypeSanction.RADIATION),
    ]
    contract: list[cmd.Commande] = [
        entry(5, day(2025, 1, 6)),
        professional(day(2025, 1, 20)),
        cmd.SignerContratEngagement(
            effective_on=day(2025, 1, 25),
            date_debut=day(2025, 2, 1),
            duree_mois=6,
            objectifs=["retrouver un emploi"],
            actions=["ateliers CV"],
            heures_hebdo=10,
            empechement="raison de santé",
        ),
        cmd.AmenderContratEngagement(
            effective_on=day(2025, 2, 20), numero=1, motif="soins", heures_hebdo=5
        ),
        referral(day(2025, 3, 3), None, MotifSaisineEp.REORIENTATION_SOCIALE),
        agenda(day(2025, 3, 4), 1, day(2025, 3, 18)),
        cmd.RendreAvisEp(effective_on=day(2025, 3, 18), saisine=1, avis=AvisEp.REORIENTATION),
        cmd.DeciderReorientation(
            effective_on=day(2025, 3, 20),
            type_orientation=TypeOrientation.SOCIALE,
            organisme=TypeOrganisme.CCAS,
            structure_id="ccas-1",
            motif="problèmes de santé",
            saisine=1,
        ),
        cmd.TerminerContratEngagement(
            effective_on=day(2025, 3, 21), numero=1, motif="réorientation"
        ),
    ]
    classee: list[cmd.Commande] = [
        entry(6, day(2025, 6, 2)),
        professional(day(2025, 6, 5)),
        referral(day(2025, 7, 1), day(2025, 6, 28), MotifSaisineEp.SANCTION),
        cmd.NotifierObservations(effective_on=day(2025, 7, 1), saisine=1),
        agenda(day(2025, 7, 2), 1, day(2025, 8, 5)),
        cmd.RecevoirObservations(
            effective_on=day(2025, 7, 20), saisine=1, resume="problème de garde d'enfant"
        ),
        cmd.RendreAvisEp(effective_on=day(2025, 8, 5), saisine=1, avis=AvisEp.PAS_DE_SANCTION),
        cmd.ClasserSaisine(effective_on=day(2025, 8, 7), saisine=1, motif="manquement justifié"),
    ]
    for case_id, steps in (
        (UUID(int=0xF3), remobilised),
        (UUID(int=0xF4), removed),
        (UUID(int=0xF5), contract),
        (UUID(int=0xF6), classee),
    ):
        for step in steps:
            handle(app, case_id, step, AUTHOR)
    for when in EP_SESSIONS:
        hold_session(app, _session_id(when), ["présidente", "CAF", "France Travail"], when, AUTHOR)


# --- rows out and in ------------------------------------------------------------------------


def export_rows(app: Parcours) -> Iterator[dict[str, Any]]:
    """Every stored row in log order, payload exactly as stored (the log has no cipher)."""
    assert app.mapper.plain, "a frozen log is written without cipher or compressor"
    start = 0
    while notes := app.recorder.select_notifications(start, 5000, inclusive_of_start=False):
        for n in notes:
            yield {
                "id": str(n.originator_id),
                "v": n.originator_version,
                "topic": n.topic,
                "state": n.state.decode(),
            }
        start = notes[-1].id


def write_rows(rows: Iterable[dict[str, Any]], path: Path) -> int:
    count = 0
    with gzip.GzipFile(path, "wb", mtime=0) as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
            count += 1
    return count


def read_rows(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rb") as f:
        return [json.loads(line) for line in f]


def load_rows(app: Parcours, rows: Iterable[dict[str, Any]], batch: int = 2000) -> int:
    """The rows inserted as they are (no re-encoding: the bytes an old release wrote), in log
    order, through the store's recorder."""
    stored = [StoredEvent(UUID(r["id"]), r["v"], r["topic"], r["state"].encode()) for r in rows]
    for start in range(0, len(stored), batch):
        app.recorder.insert_events(stored[start : start + batch])
    return len(stored)


# --- figures --------------------------------------------------------------------------------


def _digest(values: Any) -> str:
    return hashlib.sha256(msgspec.json.encode(values, order="sorted")).hexdigest()


def _kept(rows: list[dict[str, Any]], fields: list[str] | None) -> list[dict[str, Any]]:
    """The rows with only `fields` (None: all of them): a later release whose read model
    gained a column still digests the columns the frozen release had."""
    if fields is None:
        return rows
    wanted = set(fields)
    return [{k: v for k, v in row.items() if k in wanted} for row in rows]


def _fields(rows: list[dict[str, Any]]) -> list[str]:
    return sorted({k for row in rows for k in row})


def _ep_figures(app: Parcours) -> dict[str, Any]:
    """The EP procedure's read-outs for `EP_YEAR`, pure folds over the cases with a referral
    or a sanction, under the national regimes (not a département's rule files): the sanction
    indicators, the worklist's lines by motive on the first of each month, and each session's
    points (referral, observations, opinion, decision) as its minutes show them."""
    du, au = EP_YEAR
    concerned = [
        h for h in histories(app) if any(isinstance(r.event, EpSaisie | SanctionDecidee) for r in h)
    ]
    worklist: dict[str, dict[str, int]] = {}
    for month in range(1, 13):
        jour = date(du.year, month, 1)
        counts = Counter(line.motif.value for h in concerned for line in lignes_ep(h, jour))
        worklist[jour.isoformat()] = dict(sorted(counts.items()))
    sessions = sorted(
        {r.event.session_id for h in concerned for r in h if isinstance(r.event, SaisineInscrite)}
    )
    minutes: list[Any] = []
    for session_id in sessions:
        session = fold_session(app.history(session_aggregate_id(session_id)))
        if session is not None:
            minutes.append(msgspec.to_builtins(seance(session, _inscribed(concerned, session_id))))
    return {
        "sanctions_2025": msgspec.to_builtins(indicateurs(concerned, du, au)),
        "ep_worklist_2025": worklist,
        "ep_sessions": minutes,
    }


def _inscribed(concerned: list[list[Recorded]], session_id: str) -> list[Sequence[Recorded]]:
    return [
        h
        for h in concerned
        if any(isinstance(r.event, SaisineInscrite) and r.event.session_id == session_id for r in h)
    ]


def figures(app: Parcours, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """What this release computes from the log: read models rebuilt from nothing, then the
    case states' digest, the follow-up's and the activity's, table 3.1, the délais and DREES
    tables for a year, the year's priced lines, the issued statements and the EP procedure's
    read-outs (`_ep_figures`). `fields`: the read-model columns a frozen release digested
    (recorded with its figures); None: today's. A folder frozen before a figure existed does
    not record it: the test compares the figures a folder recorded."""
    fields = fields or {}
    Projector(app).rebuild()
    cases = open_case_view(app).all_rows()
    stats = Statistiques(app)
    suivis = sorted(
        (msgspec.to_builtins(s) for s in stats.episodes()),
        key=lambda s: (str(s["case_id"]), str(s.get("debut"))),
    )
    snapshot = open_activite_store(app).snapshot(f"{app.name}.activite", True)
    activites = sorted(
        (msgspec.to_builtins(a) for a in snapshot.activites), key=lambda a: str(a["case_id"])
    )
    finance = Finance(app)
    _, lines = finance.price(YEAR)
    totals: dict[str, float] = {}
    for line in lines:
        totals[line.partenaire] = round(totals.get(line.partenaire, 0) + line.montant, 2)
    states = _kept([msgspec.to_builtins(r) for r in cases.values()], fields.get("case_states"))
    suivis = _kept(suivis, fields.get("follow_up"))
    activites = _kept(activites, fields.get("activity"))
    out: dict[str, Any] = {
        "events": app.max_position(),
        "cases": len(cases),
        "fields": {
            "case_states": _fields(states),
            "follow_up": _fields(suivis),
            "activity": _fields(activites),
        },
        "case_states": _digest(sorted(states, key=str)),
        "episodes": len(suivis),
        "follow_up": _digest(suivis),
        "activity": _digest(activites),
        "table_3_1": msgspec.to_builtins(stats.calculer("table-3-1", YEAR).lignes),
        "taux": msgspec.to_builtins(stats.calculer("taux", YEAR).lignes),
        "drees": msgspec.to_builtins(stats.calculer("drees", YEAR).lignes),
        "priced_2023": dict(sorted(totals.items())),
        "statements": msgspec.to_builtins(finance.statements()),
        **_ep_figures(app),
    }
    result: dict[str, Any] = json.loads(msgspec.json.encode(out))
    return result


def sqlite_store(folder: Path) -> Parcours:
    return Parcours(Settings(store="sqlite", data_dir=folder), clock=clock)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="a new folder, one per release")
    parser.add_argument("--force", action="store_true", help="overwrite (never an old release's)")
    args = parser.parse_args()
    out: Path = args.out
    if (out / FIGURES).exists() and not args.force:
        parser.error(f"{out / FIGURES} exists: it records what an earlier release computed")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = sqlite_store(Path(tmp) / "written")
        try:
            write_log(app)
            count = write_rows(export_rows(app), out / EVENTS)
        finally:
            app.close()
        # The figures are those of the rows as frozen, loaded into a fresh store.
        app = sqlite_store(Path(tmp) / "loaded")
        try:
            load_rows(app, read_rows(out / EVENTS))
            found = figures(app)
        finally:
            app.close()
    (out / FIGURES).write_text(json.dumps(found, ensure_ascii=False, indent=1) + "\n")
    size = (out / EVENTS).stat().st_size
    print(f"{count:,} events, {size:,} bytes compressed, figures in {out / FIGURES}")
    written = {row["topic"].partition("@")[0] for row in read_rows(out / EVENTS)}
    if missing := sorted({kind.__name__ for kind in ALL_EVENT_TYPES} - written):
        print(f"absent from the log (add a hand-made step for each): {', '.join(missing)}")


if __name__ == "__main__":
    main()
