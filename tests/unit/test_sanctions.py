"""The sanction regimes and the EP procedure's rules, pure: which regime holds on a date, how a
département's own takes over, the situation's arithmetic at month ends and after the end of a
suspension, the contract's amendments, and corrections replayed through the procedure."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import msgspec
import pytest

from adapters.rules import load_regimes
from domain import commands as c
from domain import events as ev
from domain.decide import Contexte, decide, decide_on_history
from domain.delais import Delai, RulesError
from domain.dossier import Dossier, fold
from domain.errors import DomainError
from domain.events import Recorded
from domain.sanctions import NATIONAUX, REGIMES, Regimes, avec_departement, situation
from domain.vocabulary import (
    AvisEp,
    MotifSaisineEp,
    OrganismePayeur,
    TypeOrganisme,
    TypeOrientation,
    TypeSanction,
)
from projections.suivi import suivre

TODAY = date(2026, 6, 30)
META = ev.Meta(recorded_at=datetime(2026, 6, 30, 9, tzinfo=UTC), recorded_by="a", request_id="r")
D = date


def _history(*commands: c.Commande, regimes: Regimes = REGIMES) -> list[Recorded]:
    case_id = uuid4()
    out: list[Recorded] = []
    state = Dossier()
    for command in commands:
        for event in decide(state, command, Contexte(today=TODAY, meta=META, regimes=regimes)):
            out.append(Recorded(case_id, len(out) + 1, event))
        state = fold(r.event for r in out)
    return out


ENTREE = c.EnregistrerEntree(
    effective_on=D(2025, 6, 2),
    numero_dossier="CAF-1",
    organisme_payeur=OrganismePayeur.CAF,
    date_flux=D(2025, 6, 2),
    date_reception_flux=D(2025, 6, 2),
)
PRO = c.DeciderOrientation(
    effective_on=D(2025, 6, 5),
    type_orientation=TypeOrientation.PROFESSIONNELLE,
    organisme=TypeOrganisme.FRANCE_TRAVAIL,
    structure_id="ft-1",
)
PROCEDURE: tuple[c.Commande, ...] = (
    ENTREE,
    PRO,
    c.SaisirEp(
        effective_on=D(2025, 12, 1),
        motif_saisine=MotifSaisineEp.SANCTION,
        ep_id="ep-1",
        manquement="RDV manqué",
    ),
    c.NotifierObservations(effective_on=D(2025, 12, 1), saisine=1),
    c.InscrireOrdreDuJour(
        effective_on=D(2025, 12, 2), saisine=1, session_id="s-1", date_session=D(2026, 1, 5)
    ),
    c.RendreAvisEp(effective_on=D(2026, 1, 5), saisine=1, avis=AvisEp.SANCTION),
)
SUSPENSION = c.DeciderSanction(
    effective_on=D(2026, 1, 6),
    type_sanction=TypeSanction.SUSPENSION_REMOBILISATION,
    motif="RDV manqué",
    saisine=1,
    pourcentage=40,
    duree_mois=2,
    date_debut=D(2026, 1, 31),
    montant_mensuel_centimes=50_000,
    personnes_foyer=1,
)


def test_the_regime_in_force_is_the_one_of_the_decision_date() -> None:
    assert REGIMES.en_vigueur(D(2024, 12, 31)).nom == "sanctions-2018"
    assert REGIMES.en_vigueur(D(2025, 1, 1)).nom == "engagement-2025"
    assert REGIMES.en_vigueur(D(2025, 5, 31)).nom == "engagement-2025"
    assert REGIMES.en_vigueur(D(2025, 6, 1)).nom == "suspension-remobilisation-2025"
    assert REGIMES.en_vigueur(D(2010, 1, 1)).nom == "sanctions-2018"  # none older is shipped


def test_a_departement_regime_takes_over_from_its_start() -> None:
    regimes = load_regimes(Path("domain/rules/sanctions-exemple"))
    assert REGIMES.en_vigueur(D(2026, 2, 1)).nom == "suspension-remobilisation-2025"
    assert regimes.en_vigueur(D(2025, 12, 31)).nom == "suspension-remobilisation-2025"
    assert regimes.par_nom("suspension-remobilisation-2025").au == D(2025, 12, 31)
    chosen = regimes.en_vigueur(D(2026, 1, 1))
    assert (chosen.nom, chosen.delai_observations) == ("departement-2026", Delai(jours=15))
    # Its 15 days to answer: notified on 1 February 2026, until 16 February.
    history = _history(
        ENTREE,
        PRO,
        c.SaisirEp(
            effective_on=D(2026, 2, 1),
            motif_saisine=MotifSaisineEp.SANCTION,
            ep_id="ep-1",
            manquement="x",
        ),
        c.NotifierObservations(effective_on=D(2026, 2, 1), saisine=1),
        regimes=regimes,
    )
    notice = history[-1].event
    assert isinstance(notice, ev.ObservationsNotifiees)
    assert notice.date_limite == D(2026, 2, 16)


def test_overlapping_regimes_and_a_bad_file_are_refused_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(RulesError) as overlap:
        Regimes([*NATIONAUX, msgspec.structs.replace(NATIONAUX[-1], nom="autre")])
    assert "chevauchent" in str(overlap.value)
    (tmp_path / "bad.toml").write_text('nom = "x"\nlibelle = "x"\nsource = "x"\ndu = 2026-01-01\n')
    with pytest.raises(RulesError) as bad:
        load_regimes(tmp_path)
    assert "premier" in str(bad.value)


def test_a_suspension_from_31_january_counts_its_months_from_the_clamped_days() -> None:
    history = _history(*PROCEDURE, SUSPENSION)
    events = [r.event for r in history]
    # 40 % of 500.00 € = 20 000 cents a month; months start 31 January, 28 February (clamped),
    # and the suspension stops on 31 March.
    on_27_feb = situation(events, D(2026, 2, 27)).sanctions[0]
    assert (on_27_feb.mois_suspendus, on_27_feb.montant_suspendu) == (1, 20_000)
    on_28_feb = situation(events, D(2026, 2, 28)).sanctions[0]
    assert (on_28_feb.mois_suspendus, on_28_feb.montant_suspendu) == (2, 40_000)
    assert on_28_feb.date_fin == D(2026, 3, 31)
    assert situation(events, D(2026, 3, 30)).pourcentage_suspendu == 40
    ended = situation(events, D(2026, 3, 31))
    assert ended.pourcentage_suspendu == 0
    assert ended.sanctions[0].montant_perdu == 40_000
    # Before its start nothing is suspended.
    assert situation(events, D(2026, 1, 30)).sanctions[0].montant_suspendu == 0


def test_a_regime_with_a_delay_after_the_end_still_repays_then_loses() -> None:
    base = REGIMES.par_nom("suspension-remobilisation-2025")
    late = msgspec.structs.replace(base, nom="tardif", remobilisation_apres_fin=Delai(mois=1))
    regimes = Regimes([*NATIONAUX[:2], late])
    history = _history(*PROCEDURE, SUSPENSION, regimes=regimes)
    events = [r.event for r in history]
    # Ended 31 March; until 30 April (31 March + 1 month) re-engaging still repays.
    assert situation(events, D(2026, 4, 15), regimes).sanctions[0].montant_perdu == 0
    assert situation(events, D(2026, 4, 30), regimes).sanctions[0].montant_perdu == 40_000
    state = fold(events)
    repaid = decide(
        state,
        c.ConstaterRemobilisation(effective_on=D(2026, 4, 15), numero=1),
        Contexte(today=TODAY, meta=META, regimes=regimes),
    )
    after = situation([*events, *repaid], D(2026, 5, 1), regimes).sanctions[0]
    assert (after.montant_rembourse, after.montant_perdu) == (40_000, 0)
    with pytest.raises(DomainError) as refusal:
        decide(
            state,
            c.ConstaterRemobilisation(effective_on=D(2026, 4, 30), numero=1),
            Contexte(today=TODAY, meta=META, regimes=regimes),
        )
    assert refusal.value.code == "delai_remobilisation_depasse"


def test_voiding_the_opinion_under_a_decided_sanction_is_refused() -> None:
    history = _history(*PROCEDURE, SUSPENSION)
    avis = next(r for r in history if isinstance(r.event, ev.AvisEpRendu))
    void = c.AnnulerEtape(
        effective_on=D(2026, 2, 1), version_annulee=avis.originator_version, motif="erreur"
    )
    with pytest.raises(DomainError) as refusal:
        decide_on_history(history, void, Contexte(today=TODAY, meta=META))
    assert refusal.value.code == "correction_incoherente"
    assert "avis" in refusal.value.detail


def test_a_sanction_kept_from_before_the_procedure_replays_when_a_correction_comes() -> None:
    """A 2025-kind sanction stored without referral (the shape before the procedure) stays
    correctable: its replay is accepted as it was when recorded."""
    history = _history(ENTREE, PRO)
    case_id = history[0].originator_id
    legacy = ev.SanctionDecidee(
        effective_on=D(2025, 7, 1),
        meta=META,
        numero=1,
        type_sanction=TypeSanction.SUSPENSION_REMOBILISATION,
        motif="absences",
    )
    history.append(Recorded(case_id, 3, legacy))
    fix = c.RectifierEtape(
        effective_on=D(2025, 7, 2),
        version_rectifiee=2,
        effective_on_corrige=D(2025, 6, 6),
        motif="date",
    )
    [event] = decide_on_history(history, fix, Contexte(today=TODAY, meta=META))
    assert isinstance(event, ev.EtapeRectifiee)
    # The same sanction keyed today is refused: it needs its referral.
    with pytest.raises(DomainError) as refusal:
        decide_on_history(
            history,
            c.DeciderSanction(
                effective_on=D(2025, 7, 3),
                type_sanction=TypeSanction.SUSPENSION_REMOBILISATION,
                motif="absences",
            ),
            Contexte(today=TODAY, meta=META),
        )
    assert (refusal.value.code, refusal.value.field) == ("saisine_requise", "saisine")


def test_a_contract_amendment_changes_what_it_names_and_checks_the_hours() -> None:
    signed = c.SignerContratEngagement(
        effective_on=D(2025, 6, 10),
        date_debut=D(2025, 6, 15),
        duree_mois=6,
        objectifs=["emploi"],
        actions=["formation"],
        heures_hebdo=18,
    )
    history = _history(ENTREE, PRO, signed)
    state = fold(r.event for r in history)
    ctx = Contexte(today=TODAY, meta=META)
    # Dropping to 8 hours needs a legitimate reason.
    with pytest.raises(DomainError) as refusal:
        decide(
            state,
            c.AmenderContratEngagement(
                effective_on=D(2025, 7, 1), numero=1, motif="soins", heures_hebdo=8
            ),
            ctx,
        )
    assert (refusal.value.code, refusal.value.field) == ("heures_hors_limites", "heures_hebdo")
    amended = decide(
        state,
        c.AmenderContratEngagement(
            effective_on=D(2025, 7, 1),
            numero=1,
            motif="soins",
            heures_hebdo=8,
            empechement="raison de santé",
        ),
        ctx,
    )
    state = fold(amended, state)
    assert state.contrat_engagement is not None
    assert (state.contrat_engagement.heures_hebdo, state.contrat_engagement.empechement) == (
        8,
        "raison de santé",
    )
    with pytest.raises(DomainError) as empty:
        decide(
            state,
            c.AmenderContratEngagement(effective_on=D(2025, 7, 2), numero=1, motif="rien"),
            ctx,
        )
    assert empty.value.code == "avenant_vide"
    renewed = decide(
        state,
        c.RenouvelerContratEngagement(
            effective_on=D(2025, 12, 1),
            date_debut=D(2025, 12, 15),
            duree_mois=6,
            objectifs=["emploi"],
            actions=["immersion"],
            heures_hebdo=20,
        ),
        ctx,
    )
    [event] = renewed
    assert isinstance(event, ev.ContratEngagementSigne)
    assert (event.numero, event.renouvellement) == (2, True)


def test_the_observations_delay_is_a_calendar_month_clamped() -> None:
    # Notified on 31 January 2026: until 28 February.
    history = _history(
        ENTREE,
        PRO,
        c.SaisirEp(
            effective_on=D(2026, 1, 31),
            motif_saisine=MotifSaisineEp.SANCTION,
            ep_id="ep-1",
            manquement="x",
        ),
        c.NotifierObservations(effective_on=D(2026, 1, 31), saisine=1),
    )
    notice = history[-1].event
    assert isinstance(notice, ev.ObservationsNotifiees)
    assert notice.date_limite == D(2026, 2, 28)
    assert notice.date_limite - D(2026, 1, 31) == timedelta(days=28)


def test_avec_departement_without_regimes_is_the_national_set() -> None:
    assert [r.nom for r in avec_departement([]).regimes] == [r.nom for r in NATIONAUX]


def test_the_follow_up_counts_the_contrat_d_engagement_as_the_contract() -> None:
    """From 2025 the contract whose delay the indicators and worklists measure is the contrat
    d'engagement: signed 10 June for an orientation of 5 June, the first contract is it."""
    signed = c.SignerContratEngagement(
        effective_on=D(2025, 6, 10),
        date_debut=D(2025, 6, 15),
        duree_mois=6,
        objectifs=["emploi"],
        actions=["formation"],
        heures_hebdo=15,
    )
    [suivi] = suivre(_history(ENTREE, PRO, signed))
    first = suivi.premier_cer()
    assert first is not None
    assert (first.signe_le, first.date_debut, first.date_fin) == (
        D(2025, 6, 10),
        D(2025, 6, 15),
        D(2025, 12, 14),
    )
    assert suivi.cer_en_cours_le(D(2025, 9, 1)) == first


_SOCIALE = c.DeciderReorientation(
    effective_on=D(2025, 6, 20),
    type_orientation=TypeOrientation.SOCIALE,
    organisme=TypeOrganisme.CCAS,
    structure_id="ccas-1",
    motif="difficultés de logement",
    date_avis_ep=D(2025, 6, 18),
)


@pytest.mark.parametrize(
    ("day", "regime"),
    [
        (D(2024, 4, 2), "sanctions-2018"),
        (D(2025, 3, 3), "engagement-2025"),
        (D(2025, 7, 1), "suspension-remobilisation-2025"),
        (D(2017, 6, 1), "sanctions-2018"),
    ],
)
def test_a_sanction_without_the_procedure_is_refused_under_every_national_regime(
    day: date, regime: str
) -> None:
    """The old step (a kind, a reason, no referral) names the missing steps, whatever the
    regime of the decision's date (before the first regime, the first one holds)."""
    assert REGIMES.en_vigueur(day).nom == regime
    entree = msgspec.structs.replace(
        ENTREE, effective_on=day - timedelta(days=60), date_flux=day - timedelta(days=60)
    )
    entree = msgspec.structs.replace(entree, date_reception_flux=entree.date_flux)
    pro = msgspec.structs.replace(PRO, effective_on=day - timedelta(days=30))
    state = fold(r.event for r in _history(entree, pro))
    for kind in (TypeSanction.REDUCTION, TypeSanction.SUSPENSION):
        with pytest.raises(DomainError) as refusal:
            decide(
                state,
                c.DeciderSanction(effective_on=day, type_sanction=kind, motif="absences"),
                Contexte(today=TODAY, meta=META),
            )
        assert (refusal.value.code, refusal.value.field) == ("saisine_requise", "saisine")
        for missing in ("saisine de l'EP", "observations", "l'avis de l'EP"):
            assert missing in refusal.value.detail


def test_a_reorientation_to_the_social_path_with_only_an_opinion_date_is_refused() -> None:
    state = fold(r.event for r in _history(ENTREE, PRO))
    with pytest.raises(DomainError) as refusal:
        decide(state, _SOCIALE, Contexte(today=TODAY, meta=META))
    assert (refusal.value.code, refusal.value.field) == ("saisine_requise", "saisine")
    assert "l'avis de l'EP" in refusal.value.detail
    # Towards another professional structure, the date alone still does.
    other = msgspec.structs.replace(
        _SOCIALE,
        type_orientation=TypeOrientation.PROFESSIONNELLE,
        organisme=TypeOrganisme.FRANCE_TRAVAIL,
        structure_id="ft-2",
    )
    [event] = decide(state, other, Contexte(today=TODAY, meta=META))
    assert isinstance(event, ev.ReorientationDecidee)


def test_steps_stored_before_the_rule_replay_when_a_correction_comes() -> None:
    """A reduction without referral and a réorientation to the social path carrying only its
    opinion date, both stored before the rule: a later correction replays them as accepted."""
    history = _history(ENTREE, PRO)
    case_id = history[0].originator_id
    for event in (
        ev.SanctionDecidee(
            effective_on=D(2025, 6, 10),
            meta=META,
            numero=1,
            type_sanction=TypeSanction.REDUCTION,
            motif="absences",
        ),
        ev.ReorientationDecidee(
            effective_on=_SOCIALE.effective_on,
            meta=META,
            type_orientation=_SOCIALE.type_orientation,
            organisme=_SOCIALE.organisme,
            structure_id=_SOCIALE.structure_id,
            motif=_SOCIALE.motif,
            date_avis_ep=_SOCIALE.date_avis_ep,
        ),
    ):
        history.append(Recorded(case_id, len(history) + 1, event))
    fix = c.RectifierEtape(
        effective_on=D(2025, 7, 2),
        version_rectifiee=2,
        effective_on_corrige=D(2025, 6, 6),
        motif="date",
    )
    [event] = decide_on_history(history, fix, Contexte(today=TODAY, meta=META))
    assert isinstance(event, ev.EtapeRectifiee)


def test_a_departement_period_declared_without_the_procedure_takes_over_its_sanctions(
    tmp_path: Path,
) -> None:
    """A département's regime with `procedure_ep = false` (decisions taken elsewhere, taken
    over): a reduction without referral is recorded on its dates, refused after them."""
    (tmp_path / "reprise.toml").write_text(
        'nom = "reprise-2016"\nlibelle = "Décisions reprises"\nsource = "Délibération"\n'
        "du = 2016-01-01\nau = 2017-12-31\nprocedure_ep = false\n"
        "[premier.reduction]\npourcentage_min = 1\npourcentage_max = 100\n"
        "mois_min = 1\nmois_max = 12\n[suivant]\n"
    )
    regimes = load_regimes(tmp_path)
    assert not regimes.procedure_requise(D(2017, 6, 1))
    assert regimes.procedure_requise(D(2018, 1, 1))
    entree = msgspec.structs.replace(
        ENTREE,
        effective_on=D(2017, 1, 2),
        date_flux=D(2017, 1, 2),
        date_reception_flux=D(2017, 1, 2),
    )
    history = _history(
        entree,
        c.DeciderSanction(
            effective_on=D(2017, 6, 1), type_sanction=TypeSanction.REDUCTION, motif="absences"
        ),
        regimes=regimes,
    )
    assert isinstance(history[-1].event, ev.SanctionDecidee)
    with pytest.raises(DomainError) as refusal:
        _history(
            entree,
            c.DeciderSanction(
                effective_on=D(2018, 2, 1), type_sanction=TypeSanction.REDUCTION, motif="x"
            ),
            regimes=regimes,
        )
    assert refusal.value.code == "saisine_requise"
