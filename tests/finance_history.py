"""A hand-built département for the financing tests: every date written out, so that each
expected euro in the tests can be recomputed by hand (docs/finance.md states the rules).

Structures: ccas-a (CCAS), asso-b (association), aave-c and aave-d (AAVE, 0.05 ETP each from
2022-01-01), mds-1 (département services, never paid).

2021 (Val-de-Marne 2018-2021):
- A1 entry 2021-01-04 (flux received 01-06), oriented ccas-a 01-20; RDV 02-01 seen; CER 02-15
  (12 months); renewal 2021-12-20 (6 months).                       → ccas-a 400 + 400
- A2 entry 2021-02-01, oriented asso-b 02-20; CER 2021-03-10 (6 months). → asso-b 450
- A3 France Travail; ASC at ccas-a 2021-03-01, 04-01, 05-01 (3)           → ccas-a 150
  and at asso-b 2021-06-01, 07-01, 08-01, 09-01, 10-01 (5)                → asso-b 450
- A4 EIO (orientation interview) seen at ccas-a 2021-01-10                → ccas-a 24
  and at asso-b 2021-01-12 (associations are not paid EIO)                → 0
  2021 totals: ccas-a 974 €, asso-b 900 € (1 100 € with B3's 2021 ASC below).

2022 (Val-de-Marne 2022):
- B1 entry 2022-01-03 (received 01-05), oriented ccas-a 01-20; first RDV 02-10 seen (due by
  03-05: bonus); CER 02-20 (12 months); exit CDI 09-01.               → ccas-a 400 + 50 + 100
- B2 entry 2022-01-03 (received 01-04), oriented asso-b 02-01; first RDV 04-15 seen (due by
  03-04: late); CER 04-20 (6 months); renewal 10-15 (12 months); exit (qualifying training)
  11-30.                                                               → asso-b 500 + 500 + 100
- B3 France Travail; ASC at asso-b 2021-10-01, 11-01, 12-01, 2022-01-10, 02-10, 03-10:
  calendar years → 2021: 3 (200 €, 2018-2021 grid), 2022: 3 (200 €, 2022 grid).
- B4 EIO seen at ccas-a 2022-03-01: no longer paid in 2022.
  2022 totals: ccas-a 550 €, asso-b 1 300 € (B2 1 100 €, B3 200 €).

AAVE 2022 (Seine-et-Marne), C1-C3 at aave-c and D1-D3 at aave-d: each entry 2022-01-03,
oriented 01-05, référent 01-06, CER 01-20 (12 months, in force on 12-31), one RDV a month on the
10th (planned the 1st, the 7th in January), all seen at aave-c; at aave-d, D1's twelve are missed.
- aave-c: 36 RDV / 0.05 ETP / 12 months = 60 ✓, every 30.5 days ✓, absenteeism 0 % ✓,
  referenced 100 % ✓, under contract 100 % ✓, contract within a month 100 % ✓
  → 55 000 × 0.05 = 2 750 € + 10 % = 275 € (cap 60 500 × 0.05 = 3 025 €) → 3 025 €
- aave-d: absenteeism 12/36 = 33.3 % ✗ → 2 750 € only.
"""

from datetime import UTC, date, datetime

from domain import events as ev
from domain.structures import StructureDeclaree, StructureRegistry
from domain.vocabulary import IssueRdv, ModeRdv, OrganismePayeur, TypeOrganisme, TypeRdv, TypeSortie
from tests.delais_history import PRO, SOCIALE, SOCIO_PRO, Person

D = date
CCAS, ASSO, AAVE, FT, DEPT = (
    TypeOrganisme.CCAS,
    TypeOrganisme.ASSOCIATION,
    TypeOrganisme.AAVE,
    TypeOrganisme.FRANCE_TRAVAIL,
    TypeOrganisme.DEPARTEMENT,
)


class Allocataire(Person):
    """Person, with the steps financing prices: flux received on its own date, ASC, EIO."""

    def entre(self, day: date, recu: date) -> "Allocataire":
        self._add(
            ev.EntreeEnregistree(
                effective_on=day,
                meta=self.meta(day),
                numero_dossier=f"FIN-{self.case_id.int}",
                organisme_payeur=OrganismePayeur.CAF,
                date_flux=day,
                date_reception_flux=recu,
                soumis_droits_devoirs=True,
            )
        )
        return self

    def asc(self, day: date, structure: str) -> "Allocataire":
        self._add(
            ev.EntretienAscTenu(effective_on=day, meta=self.meta(day), structure_id=structure)
        )
        return self

    def eio(self, day: date, structure: str) -> "Allocataire":
        """An orientation interview planned and seen the same day, keyed by `structure`."""
        numero = 1 + sum(isinstance(r.event, ev.RdvPlanifie) for r in self.events)
        meta = ev.Meta(
            recorded_at=datetime(day.year, day.month, day.day, 11, tzinfo=UTC),
            recorded_by="agent-eio",
            structure_id=structure,
            request_id=f"eio-{day}",
        )
        self._add(
            ev.RdvPlanifie(
                effective_on=day,
                meta=meta,
                numero=numero,
                type_rdv=TypeRdv.ENTRETIEN_ORIENTATION,
                mode=ModeRdv.CONVOCATION,
                date_rdv=day,
            )
        )
        self._add(
            ev.IssueRdvEnregistree(effective_on=day, meta=meta, numero=numero, issue=IssueRdv.SEEN)
        )
        return self

    def vu(
        self, planned: date, on: date, kind: TypeRdv = TypeRdv.PREMIER_ACCOMPAGNEMENT
    ) -> "Allocataire":
        numero = 1 + sum(isinstance(r.event, ev.RdvPlanifie) for r in self.events)
        self.rdv(planned, on, kind)
        self.issue(numero, on, IssueRdv.SEEN)
        return self


def structures() -> list[StructureDeclaree]:
    meta = ev.Meta(
        recorded_at=datetime(2021, 1, 1, 9, tzinfo=UTC), recorded_by="finance-1", request_id="s"
    )
    return [
        StructureDeclaree(
            effective_on=D(2018, 1, 1),
            meta=meta,
            structure_id=sid,
            nom=nom,
            type_organisme=kind,
            etp=etp,
        )
        for sid, nom, kind, etp in (
            ("ccas-a", "CCAS A", CCAS, None),
            ("asso-b", "Association B", ASSO, None),
            ("aave-c", "AAVE C", AAVE, 0.05),
            ("aave-d", "AAVE D", AAVE, 0.05),
            ("mds-1", "MDS 1", DEPT, None),
        )
    ]


def registry() -> StructureRegistry:
    return StructureRegistry(structures())


def annee_2021() -> dict[str, Allocataire]:
    return {
        "A1": Allocataire(101, "94028")
        .entre(D(2021, 1, 4), D(2021, 1, 6))
        .oriente(D(2021, 1, 20), SOCIALE, CCAS, "ccas-a")
        .vu(D(2021, 1, 25), D(2021, 2, 1))
        .cer(D(2021, 2, 15), 12)
        .cer(D(2021, 12, 20), 6, renewal=True, start=D(2022, 2, 15)),
        "A2": Allocataire(102, "94028")
        .entre(D(2021, 2, 1), D(2021, 2, 2))
        .oriente(D(2021, 2, 20), SOCIO_PRO, ASSO, "asso-b")
        .cer(D(2021, 3, 10), 6),
        "A3": Allocataire(103, "94028")
        .entre(D(2021, 1, 4), D(2021, 1, 5))
        .oriente(D(2021, 2, 1), PRO, FT, "ft-1")
        .asc(D(2021, 3, 1), "ccas-a")
        .asc(D(2021, 4, 1), "ccas-a")
        .asc(D(2021, 5, 1), "ccas-a")
        .asc(D(2021, 6, 1), "asso-b")
        .asc(D(2021, 7, 1), "asso-b")
        .asc(D(2021, 8, 1), "asso-b")
        .asc(D(2021, 9, 1), "asso-b")
        .asc(D(2021, 10, 1), "asso-b"),
        "A4": Allocataire(104, "94028")
        .entre(D(2021, 1, 4), D(2021, 1, 5))
        .eio(D(2021, 1, 10), "ccas-a")
        .eio(D(2021, 1, 12), "asso-b"),
    }


def annee_2022() -> dict[str, Allocataire]:
    return {
        "B1": Allocataire(201, "94028")
        .entre(D(2022, 1, 3), D(2022, 1, 5))
        .oriente(D(2022, 1, 20), SOCIALE, CCAS, "ccas-a")
        .vu(D(2022, 1, 25), D(2022, 2, 10))
        .cer(D(2022, 2, 20), 12)
        .sortie(D(2022, 9, 1), TypeSortie.EMPLOI_CDI),
        "B2": Allocataire(202, "94028")
        .entre(D(2022, 1, 3), D(2022, 1, 4))
        .oriente(D(2022, 2, 1), SOCIO_PRO, ASSO, "asso-b")
        .vu(D(2022, 4, 1), D(2022, 4, 15))
        .cer(D(2022, 4, 20), 6)
        .cer(D(2022, 10, 15), 12, renewal=True, start=D(2022, 10, 20))
        .sortie(D(2022, 11, 30), TypeSortie.FORMATION_QUALIFIANTE),
        "B3": Allocataire(203, "94028")
        .entre(D(2021, 9, 1), D(2021, 9, 2))
        .oriente(D(2021, 9, 15), PRO, FT, "ft-1")
        .asc(D(2021, 10, 1), "asso-b")
        .asc(D(2021, 11, 1), "asso-b")
        .asc(D(2021, 12, 1), "asso-b")
        .asc(D(2022, 1, 10), "asso-b")
        .asc(D(2022, 2, 10), "asso-b")
        .asc(D(2022, 3, 10), "asso-b"),
        "B4": Allocataire(204, "94028")
        .entre(D(2022, 2, 20), D(2022, 2, 21))
        .eio(D(2022, 3, 1), "ccas-a"),
    }


def aave_2022() -> dict[str, Allocataire]:
    people: dict[str, Allocataire] = {}
    for n, (name, structure) in enumerate(
        [
            ("C1", "aave-c"),
            ("C2", "aave-c"),
            ("C3", "aave-c"),
            ("D1", "aave-d"),
            ("D2", "aave-d"),
            ("D3", "aave-d"),
        ],
        start=301,
    ):
        p = (
            Allocataire(n, "77001")
            .entre(D(2022, 1, 3), D(2022, 1, 4))
            .oriente(D(2022, 1, 5), SOCIO_PRO, AAVE, structure)
            .referent(D(2022, 1, 6), f"ref-{structure}")
        )
        for month in range(1, 13):
            p.rdv(D(2022, month, 7 if month == 1 else 1), D(2022, month, 10), TypeRdv.SUIVI)
            missed = name == "D1"
            p.issue(month, D(2022, month, 10), IssueRdv.NOSHOW if missed else IssueRdv.SEEN)
            if month == 1:
                p.cer(D(2022, 1, 20), 12)
        people[name] = p
    return people


def everyone() -> dict[str, Allocataire]:
    return {**annee_2021(), **annee_2022(), **aave_2022()}


def log_events(people: dict[str, Allocataire]) -> list[ev.Recorded]:
    """Every case event, interleaved by recording time as the log would hold them."""
    for person in people.values():
        times = [r.event.meta.recorded_at for r in person.events]
        assert times == sorted(times), f"case {person.case_id.int} recorded out of order"
    events = [r for person in people.values() for r in person.events]
    return sorted(events, key=lambda r: (r.event.meta.recorded_at, r.originator_id.int))
