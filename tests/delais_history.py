"""A hand-built département for the délais tests: nine people whose every date is written out,
so that each expected figure in the tests can be recomputed by hand (docs/indicators.md).

- P1 CCAS (social), commune 94028: entry 2024-01-10 (flux 01-12), oriented 02-05, référent 02-06,
  first RDV planned 02-10 (convocation) for 02-15, seen; CER 03-20 (6 months, to 09-19), renewed
  09-15 from 09-20 (12 months, to 2025-09-19).
- P2 France Travail, commune 94028: entry 2024-03-01 (flux 03-04), oriented 04-10; CER 06-01
  (6 months, to 11-30).
- P3 AAVE aave-1, commune 77001: entry 2024-06-03 (flux 06-05), oriented 06-20, référent 06-21;
  RDV for 07-10 (planned 06-25) missed, 07-20 seen, 08-20 seen; CER 09-10 (12 months);
  sanction (suspension) 10-01.
- P4 commune 77001: entry 2024-11-20 (flux 11-21), never oriented; convoked on 11-28 to an
  information collective on 12-05, no outcome recorded.
- P5 commune 94046: entry 2023-03-01 (flux 03-02), oriented social (département, mds-1)
  2023-05-01; first RDV planned 2024-01-05 for 01-12, seen; réoriented to aave-1 2024-04-01,
  référent 04-02; CER 04-20 (6 months, to 10-19); RDV at aave-1 planned 05-02 for 05-10, seen;
  sanction (réduction) 06-01.
- P6 commune 94046: entry 2022-01-10 (flux 01-11), oriented France Travail 2022-02-01,
  réoriented social (département, mds-1) 2024-08-01; right suspended 2024-12-01.
- P7 commune 94028: entry 2023-01-05 (flux 01-06), oriented CCAS 02-01, exit (CDI) 06-30;
  re-entry 2024-10-01 (flux 10-02), not oriented since.
- P8 commune 35238: entry 2024-02-01 (flux 02-02), accompagnement global (socio-professional,
  France Travail, ft-ag) 03-01; convoked on 03-05 for 03-18, seen.
- P9 commune 35238: entry 2025-02-03 (flux 02-03), oriented CCAS 2025-03-10.
"""

from datetime import UTC, date, datetime
from uuid import UUID

from domain import events as ev
from domain.vocabulary import (
    IssueRdv,
    ModeOrientation,
    ModeRdv,
    OrganismePayeur,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
    TypeSanction,
    TypeSortie,
)

D = date
SOCIALE = TypeOrientation.SOCIALE
PRO = TypeOrientation.PROFESSIONNELLE
SOCIO_PRO = TypeOrientation.SOCIO_PROFESSIONNELLE


class Person:
    """Builds one case's recorded events in order; each step recorded on the day it took effect
    unless `recorded` says otherwise."""

    def __init__(self, n: int, commune: str) -> None:
        self.case_id = UUID(int=n)
        self.commune = commune
        self.events: list[ev.Recorded] = []

    def _add(self, event: ev.Evenement) -> "Person":
        self.events.append(ev.Recorded(self.case_id, len(self.events) + 1, event))
        return self

    @staticmethod
    def meta(day: date) -> ev.Meta:
        return ev.Meta(
            recorded_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
            recorded_by="agent-test",
            request_id=f"req-{day}",
        )

    def entree(self, day: date, flux: date) -> "Person":
        return self._add(
            ev.EntreeEnregistree(
                effective_on=day,
                meta=self.meta(flux),
                numero_dossier=f"REF-{self.case_id.int}",
                organisme_payeur=OrganismePayeur.CAF,
                date_flux=flux,
                date_reception_flux=flux,
                soumis_droits_devoirs=True,
                profil=ev.Profil(code_commune=self.commune),
            )
        )

    def rouvert(self, day: date, flux: date) -> "Person":
        return self._add(
            ev.DroitRouvert(
                effective_on=day,
                meta=self.meta(flux),
                date_flux=flux,
                date_reception_flux=flux,
                soumis_droits_devoirs=True,
            )
        )

    def oriente(
        self, day: date, kind: TypeOrientation, organisme: TypeOrganisme, structure: str
    ) -> "Person":
        return self._add(
            ev.OrientationDecidee(
                effective_on=day,
                meta=self.meta(day),
                type_orientation=kind,
                organisme=organisme,
                structure_id=structure,
                mode=ModeOrientation.DECIDEE,
            )
        )

    def reoriente(
        self, day: date, kind: TypeOrientation, organisme: TypeOrganisme, structure: str
    ) -> "Person":
        return self._add(
            ev.ReorientationDecidee(
                effective_on=day,
                meta=self.meta(day),
                type_orientation=kind,
                organisme=organisme,
                structure_id=structure,
                motif="changement de situation",
            )
        )

    def referent(self, day: date, referent: str) -> "Person":
        return self._add(
            ev.ReferentDesigne(effective_on=day, meta=self.meta(day), referent_id=referent)
        )

    def rdv(
        self,
        planned: date,
        on: date,
        kind: TypeRdv = TypeRdv.PREMIER_ACCOMPAGNEMENT,
        mode: ModeRdv = ModeRdv.INVITATION,
    ) -> "Person":
        numero = 1 + sum(isinstance(r.event, ev.RdvPlanifie) for r in self.events)
        return self._add(
            ev.RdvPlanifie(
                effective_on=planned,
                meta=self.meta(planned),
                numero=numero,
                type_rdv=kind,
                mode=mode,
                date_rdv=on,
            )
        )

    def issue(self, numero: int, day: date, issue: IssueRdv) -> "Person":
        return self._add(
            ev.IssueRdvEnregistree(
                effective_on=day, meta=self.meta(day), numero=numero, issue=issue
            )
        )

    def cer(
        self, day: date, months: int, renewal: bool = False, start: date | None = None
    ) -> "Person":
        numero = 1 + sum(isinstance(r.event, ev.CerSigne) for r in self.events)
        return self._add(
            ev.CerSigne(
                effective_on=day,
                meta=self.meta(day),
                numero=numero,
                date_debut=start or day,
                duree_mois=months,
                renouvellement=renewal,
            )
        )

    def suspendu(self, day: date) -> "Person":
        return self._add(ev.DroitSuspendu(effective_on=day, meta=self.meta(day)))

    def sortie(self, day: date, kind: TypeSortie) -> "Person":
        return self._add(
            ev.SortieEnregistree(effective_on=day, meta=self.meta(day), type_sortie=kind)
        )

    def sanction(self, day: date, kind: TypeSanction) -> "Person":
        numero = 1 + sum(isinstance(r.event, ev.SanctionDecidee) for r in self.events)
        return self._add(
            ev.SanctionDecidee(
                effective_on=day,
                meta=self.meta(day),
                numero=numero,
                type_sanction=kind,
                motif="absences",
            )
        )

    def annule(self, day: date, version: int) -> "Person":
        return self._add(
            ev.EtapeAnnulee(
                effective_on=day, meta=self.meta(day), version_annulee=version, motif="erreur"
            )
        )


def departement() -> dict[str, Person]:
    ccas, ft, aave, dept = (
        TypeOrganisme.CCAS,
        TypeOrganisme.FRANCE_TRAVAIL,
        TypeOrganisme.AAVE,
        TypeOrganisme.DEPARTEMENT,
    )
    p = {
        "P1": Person(1, "94028")
        .entree(D(2024, 1, 10), D(2024, 1, 12))
        .oriente(D(2024, 2, 5), SOCIALE, ccas, "ccas-creteil")
        .referent(D(2024, 2, 6), "ref-1")
        .rdv(D(2024, 2, 10), D(2024, 2, 15), mode=ModeRdv.CONVOCATION)
        .issue(1, D(2024, 2, 15), IssueRdv.SEEN)
        .cer(D(2024, 3, 20), 6)
        .cer(D(2024, 9, 15), 12, renewal=True, start=D(2024, 9, 20)),
        "P2": Person(2, "94028")
        .entree(D(2024, 3, 1), D(2024, 3, 4))
        .oriente(D(2024, 4, 10), PRO, ft, "ft-1")
        .cer(D(2024, 6, 1), 6),
        "P3": Person(3, "77001")
        .entree(D(2024, 6, 3), D(2024, 6, 5))
        .oriente(D(2024, 6, 20), SOCIO_PRO, aave, "aave-1")
        .referent(D(2024, 6, 21), "ref-aave")
        .rdv(D(2024, 6, 25), D(2024, 7, 10))
        .issue(1, D(2024, 7, 10), IssueRdv.NOSHOW)
        .rdv(D(2024, 7, 11), D(2024, 7, 20), TypeRdv.SUIVI)
        .issue(2, D(2024, 7, 20), IssueRdv.SEEN)
        .rdv(D(2024, 7, 21), D(2024, 8, 20), TypeRdv.SUIVI)
        .issue(3, D(2024, 8, 20), IssueRdv.SEEN)
        .cer(D(2024, 9, 10), 12)
        .sanction(D(2024, 10, 1), TypeSanction.SUSPENSION),
        "P4": Person(4, "77001")
        .entree(D(2024, 11, 20), D(2024, 11, 21))
        .rdv(D(2024, 11, 28), D(2024, 12, 5), TypeRdv.INFORMATION_COLLECTIVE, ModeRdv.CONVOCATION),
        "P5": Person(5, "94046")
        .entree(D(2023, 3, 1), D(2023, 3, 2))
        .oriente(D(2023, 5, 1), SOCIALE, dept, "mds-1")
        .rdv(D(2024, 1, 5), D(2024, 1, 12))
        .issue(1, D(2024, 1, 12), IssueRdv.SEEN)
        .reoriente(D(2024, 4, 1), SOCIO_PRO, aave, "aave-1")
        .referent(D(2024, 4, 2), "ref-aave")
        .cer(D(2024, 4, 20), 6)
        .rdv(D(2024, 5, 2), D(2024, 5, 10), TypeRdv.SUIVI)
        .issue(2, D(2024, 5, 10), IssueRdv.SEEN)
        .sanction(D(2024, 6, 1), TypeSanction.REDUCTION),
        "P6": Person(6, "94046")
        .entree(D(2022, 1, 10), D(2022, 1, 11))
        .oriente(D(2022, 2, 1), PRO, ft, "ft-1")
        .reoriente(D(2024, 8, 1), SOCIALE, dept, "mds-1")
        .suspendu(D(2024, 12, 1)),
        "P7": Person(7, "94028")
        .entree(D(2023, 1, 5), D(2023, 1, 6))
        .oriente(D(2023, 2, 1), SOCIALE, ccas, "ccas-creteil")
        .sortie(D(2023, 6, 30), TypeSortie.EMPLOI_CDI)
        .rouvert(D(2024, 10, 1), D(2024, 10, 2)),
        "P8": Person(8, "35238")
        .entree(D(2024, 2, 1), D(2024, 2, 2))
        .oriente(D(2024, 3, 1), SOCIO_PRO, ft, "ft-ag")
        .rdv(D(2024, 3, 5), D(2024, 3, 18), mode=ModeRdv.CONVOCATION)
        .issue(1, D(2024, 3, 18), IssueRdv.SEEN),
        "P9": Person(9, "35238")
        .entree(D(2025, 2, 3), D(2025, 2, 3))
        .oriente(D(2025, 3, 10), SOCIALE, ccas, "ccas-rennes"),
    }
    return p


def all_events(people: dict[str, Person]) -> list[ev.Recorded]:
    """Every event, interleaved by recording time as the log would hold them."""
    events = [r for person in people.values() for r in person.events]
    return sorted(events, key=lambda r: (r.event.meta.recorded_at, r.originator_id.int))
