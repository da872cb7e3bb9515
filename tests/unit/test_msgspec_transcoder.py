"""The msgspec transcoder keeps the library's transcoder contract, and every event round-trips
through the mapper unchanged."""

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
    Transcoding,
    UUIDAsHex,
)
from eventsourcing.tests import persistence as library
from eventsourcing.tests.persistence import (
    CustomType1AsDict,
    CustomType2AsDict,
    Mydict,
    MyInt,
    MyList,
    MyStr,
)

from adapters.eventlog.mapper import EventMapper
from adapters.eventlog.transcoder import MsgspecTranscoder
from domain import events as ev
from domain.vocabulary import (
    AvisEp,
    EtatInvitation,
    IssueRdv,
    ModeOrientation,
    ModeRdv,
    MotifCloture,
    MotifSaisineEp,
    ObjetAccompagnement,
    OrganismePayeur,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
    TypeSanction,
    TypeSortie,
)


def _as(kind: type, name: str, to: Any) -> Transcoding:
    class As(Transcoding):
        type = kind

        def encode(self, obj: Any) -> Any:
            return to(obj)

        def decode(self, data: Any) -> Any:
            return kind(data)

    As.name = name
    return As()


class TestMsgspecTranscoder(library.TranscoderTestCase):
    def construct_transcoder(self) -> Transcoder:
        transcoder = MsgspecTranscoder()
        for transcoding in (
            UUIDAsHex(),
            DecimalAsStr(),
            DatetimeAsISO(),
            CustomType1AsDict(),
            CustomType2AsDict(),
            _as(tuple, "tuple_as_list", list),
            _as(Mydict, "mydict", dict),
            _as(MyList, "mylist", list),
            _as(MyStr, "mystr", str),
            _as(MyInt, "myint", int),
        ):
            transcoder.register(transcoding)
        return transcoder


META = ev.Meta(
    recorded_at=datetime(2024, 3, 4, 9, 30, tzinfo=UTC),
    recorded_by="agent-7",
    structure_id="ccas-creteil",
    request_id="req-1",
)
DAY = date(2024, 3, 1)

EVENTS: list[ev.Evenement] = [
    ev.EntreeEnregistree(
        effective_on=DAY,
        meta=META,
        numero_dossier="CAF-1",
        organisme_payeur=OrganismePayeur.MSA,
        date_flux=DAY,
        date_reception_flux=DAY,
        soumis_droits_devoirs=True,
    ),
    ev.DroitRouvert(
        effective_on=DAY,
        meta=META,
        date_flux=DAY,
        date_reception_flux=DAY,
        soumis_droits_devoirs=False,
    ),
    ev.DroitSuspendu(effective_on=DAY, meta=META, motif="DTR"),
    ev.DroitRepris(effective_on=DAY, meta=META),
    ev.DroitClos(effective_on=DAY, meta=META, motif=MotifCloture.DECES),
    ev.OrientationDecidee(
        effective_on=DAY,
        meta=META,
        type_orientation=TypeOrientation.SOCIALE,
        organisme=TypeOrganisme.CCAS,
        structure_id="ccas-1",
        mode=ModeOrientation.AUTOMATIQUE,
    ),
    ev.ReorientationDecidee(
        effective_on=DAY,
        meta=META,
        type_orientation=TypeOrientation.PROFESSIONNELLE,
        organisme=TypeOrganisme.FRANCE_TRAVAIL,
        structure_id="ft-1",
        motif="projet",
        date_avis_ep=DAY,
    ),
    ev.ReferentDesigne(effective_on=DAY, meta=META, referent_id="ref-1"),
    ev.RdvPlanifie(
        effective_on=DAY,
        meta=META,
        numero=1,
        type_rdv=TypeRdv.DIAGNOSTIC,
        mode=ModeRdv.INVITATION,
        date_rdv=DAY,
    ),
    ev.RdvDeplace(effective_on=DAY, meta=META, numero=1, date_rdv=DAY),
    ev.InvitationRdvNotee(
        effective_on=DAY,
        meta=META,
        invitation="rdvi-331905",
        canal="sms",
        etat=EtatInvitation.OUVERTE,
        type_rdv=TypeRdv.SUIVI,
    ),
    ev.IssueRdvEnregistree(effective_on=DAY, meta=META, numero=1, issue=IssueRdv.EXCUSED),
    ev.CerSigne(
        effective_on=DAY, meta=META, numero=2, date_debut=DAY, duree_mois=9, renouvellement=True
    ),
    ev.EntretienAscTenu(effective_on=DAY, meta=META, structure_id="asso-1"),
    ev.AccompagnementDebute(
        effective_on=DAY, meta=META, structure_id="asso-1", objet=ObjetAccompagnement.ASC
    ),
    ev.AccompagnementTermine(
        effective_on=DAY,
        meta=META,
        structure_id="asso-1",
        objet=ObjetAccompagnement.ASC,
        motif="fin",
    ),
    ev.SortieEnregistree(effective_on=DAY, meta=META, type_sortie=TypeSortie.AAH),
    ev.SanctionDecidee(
        effective_on=DAY,
        meta=META,
        numero=1,
        type_sanction=TypeSanction.SUSPENSION_REMOBILISATION,
        motif="absences",
    ),
    ev.SanctionLevee(effective_on=DAY, meta=META, numero=1),
    ev.SanctionDecidee(
        effective_on=DAY,
        meta=META,
        numero=2,
        type_sanction=TypeSanction.SUSPENSION_REMOBILISATION,
        motif="RDV manqués",
        saisine=1,
        regime="suspension-remobilisation-2025",
        rang=1,
        pourcentage=30,
        duree_mois=2,
        date_debut=date(2025, 7, 1),
        montant_mensuel_centimes=64_630,
        personnes_foyer=1,
        avis_suivi=True,
    ),
    ev.RemobilisationConstatee(effective_on=DAY, meta=META, numero=2, motif="RDV honoré"),
    ev.EpSaisie(
        effective_on=DAY,
        meta=META,
        numero=1,
        motif_saisine=MotifSaisineEp.SANCTION,
        ep_id="ep-creteil",
        manquement="RDV manqués",
        date_manquement=date(2025, 6, 2),
    ),
    ev.SaisineInscrite(
        effective_on=DAY, meta=META, saisine=1, session_id="ep-1", date_session=date(2025, 7, 15)
    ),
    ev.ObservationsNotifiees(effective_on=DAY, meta=META, saisine=1, date_limite=date(2025, 7, 1)),
    ev.ObservationsRecues(
        effective_on=DAY, meta=META, saisine=1, audition_demandee=True, resume="garde d'enfant"
    ),
    ev.AvisEpRendu(
        effective_on=DAY, meta=META, saisine=1, avis=AvisEp.SANCTION, pourcentage=30, duree_mois=1
    ),
    ev.SaisineClassee(effective_on=DAY, meta=META, saisine=1, motif="justifié", avis_suivi=False),
    ev.ContratEngagementSigne(
        effective_on=DAY,
        meta=META,
        numero=1,
        date_debut=date(2025, 2, 15),
        duree_mois=6,
        objectifs=["emploi"],
        actions=["formation"],
        heures_hebdo=15,
        empechement=None,
        referent_id="ref-1",
        renouvellement=False,
    ),
    ev.ContratEngagementAmende(
        effective_on=DAY, meta=META, numero=1, motif="santé", heures_hebdo=8, empechement="santé"
    ),
    ev.ContratEngagementTermine(effective_on=DAY, meta=META, numero=1, motif="formation longue"),
    ev.EtapeAnnulee(effective_on=DAY, meta=META, version_annulee=3, motif="saisie en double"),
    ev.DroitsDevoirsModifies(effective_on=DAY, meta=META, soumis_droits_devoirs=False),
    ev.EtapeRectifiee(
        effective_on=DAY,
        meta=META,
        version_rectifiee=2,
        effective_on_corrige=date(2024, 2, 28),
        motif="date mal saisie",
    ),
]


def test_every_event_type_is_covered() -> None:
    assert {type(e) for e in EVENTS} == set(ev.EVENT_TYPES)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_event_round_trips_through_the_mapper(event: ev.Evenement) -> None:
    mapper = EventMapper(transcoder=MsgspecTranscoder())
    recorded = ev.Recorded(uuid4(), 3, event)
    stored = mapper.to_stored_event(recorded)
    assert stored.topic == type(event).__name__
    assert stored.originator_version == 3
    back = mapper.to_domain_event(stored)
    assert back == recorded
    assert type(back.event) is type(event)


def test_stored_state_is_the_json_an_auditor_reads() -> None:
    mapper = EventMapper(transcoder=MsgspecTranscoder())
    stored = mapper.to_stored_event(ev.Recorded(uuid4(), 1, EVENTS[7]))
    assert stored.state == (
        b'{"type":"ReferentDesigne","effective_on":"2024-03-01","meta":{"recorded_at":'
        b'"2024-03-04T09:30:00Z","recorded_by":"agent-7","structure_id":"ccas-creteil",'
        b'"request_id":"req-1"},"referent_id":"ref-1"}'
    )


@pytest.mark.parametrize(
    ("topic", "state"),
    [
        ("ReferentDesigne", b'{"type":"ReferentDesigne","effective_on":"2024-02-30"}'),
        ("ReferentDesigne", b"not json"),
        ("Inconnu", b"{}"),
    ],
)
def test_a_corrupted_stored_event_is_refused(topic: str, state: bytes) -> None:
    mapper = EventMapper(transcoder=MsgspecTranscoder())
    stored = StoredEvent(originator_id=UUID(int=1), originator_version=1, topic=topic, state=state)
    with pytest.raises(MapperDeserialisationError):
        mapper.to_domain_event(stored)
