"""The bounds every fact keeps, whoever records it: each command's dates, texts and numbers are
checked by the domain before its rule runs, so a date in year 9999, a NUL character or a
10,000-character identifier never reaches the log, and whatever the rules accept folds."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.schedule_files import shipped
from api.http.steps import CORRECTIONS, ENTREE, STEPS, Step
from domain import commands as c
from domain.bounds import (
    DATE_MIN,
    ENTIER_MAX,
    HORIZON_MOIS,
    IDENTIFIANT_MAX,
    MONTANT_MAX,
    TEXTE_MAX,
    horizon,
    verifier,
)
from domain.cohorts import DefinitionCohorte
from domain.cohorts import valider as valider_cohorte
from domain.decide import Contexte, decide, decide_on_history
from domain.dossier import Dossier, evolve, fold
from domain.errors import DomainError
from domain.events import Evenement, Meta, Profil, Recorded
from domain.structures import StructureDeclaree, StructureRegistry
from domain.structures import valider as valider_structure
from domain.tariffs import (
    Adoption,
    Bareme,
    EnVigueur,
    TariffError,
    bareme_from,
    valider_adoption,
)
from domain.vocabulary import TypeOrganisme
from projections.activity import activite
from projections.case_state import case_row
from projections.pricing import case_lines
from projections.suivi import suivre

TODAY = date(2026, 12, 1)
META = Meta(recorded_at=datetime(2026, 12, 1, 9, tzinfo=UTC), recorded_by="t", request_id="r")
CTX = Contexte(today=TODAY, meta=META)
CASE = UUID(int=1)

PLANNED = {"date_rdv", "date_debut"}
"""The command fields that may lie ahead of today (up to the horizon)."""


def _command(step: Step) -> c.Commande:
    return msgspec.convert(step.example, step.command)


def _refused(command: c.Commande, code: str, field: str) -> None:
    with pytest.raises(DomainError) as refused:
        decide_on_history([], command, CTX)
    assert (refused.value.code, refused.value.field) == (code, field), refused.value.detail


def _field_cases() -> list[Any]:
    """(command, field, absurd value, code) for every field of every command the API takes:
    the checks come from the fields' values, not from a list kept by hand."""
    cases = []
    for step in [ENTREE, *STEPS, *CORRECTIONS]:
        command = _command(step)
        for name in command.__struct_fields__:
            value = getattr(command, name)
            bad: list[tuple[Any, str]] = []
            if isinstance(value, date):
                bad.append((date(1, 1, 1), "date_hors_limites"))
                if name in PLANNED:
                    bad.append((date(9999, 12, 1), "date_hors_limites"))
            elif isinstance(value, str) and not isinstance(value, msgspec.Struct):
                if type(value) is str:
                    bad.append((value + "\x00", "caractere_interdit"))
                    bad.append(("x" * 10_000, "texte_trop_long"))
            elif isinstance(value, int) and not isinstance(value, bool):
                bad.append((-1, "nombre_hors_limites"))
                bad.append((10**12, "nombre_hors_limites"))
            for v, code in bad:
                cases.append(
                    pytest.param(
                        msgspec.structs.replace(command, **{name: v}),
                        code,
                        name,
                        id=f"{type(command).__name__}.{name}={str(v)[:12]!r}",
                    )
                )
    return cases


@pytest.mark.parametrize(("command", "code", "field"), _field_cases())
def test_every_field_of_every_command_is_bounded(
    command: c.Commande, code: str, field: str
) -> None:
    _refused(command, code, field)


def test_the_reported_cases_are_refused_naming_the_field() -> None:
    cer = c.SignerCer(effective_on=TODAY, date_debut=date(9999, 12, 1), duree_mois=12)
    _refused(cer, "date_hors_limites", "date_debut")
    entree = _command(ENTREE)
    _refused(
        msgspec.structs.replace(entree, effective_on=date(1, 1, 1)),
        "date_hors_limites",
        "effective_on",
    )
    _refused(
        c.DesignerReferent(effective_on=TODAY, referent_id="ref\x00"),
        "caractere_interdit",
        "referent_id",
    )
    _refused(
        msgspec.structs.replace(entree, numero_dossier="9" * 10_000_000),
        "texte_trop_long",
        "numero_dossier",
    )


def test_nested_fields_are_named_by_their_path() -> None:
    entree = _command(ENTREE)
    for profil, code, field in [
        (Profil(annee_naissance=1), "nombre_hors_limites", "profil.annee_naissance"),
        (Profil(annee_naissance=TODAY.year + 1), "nombre_hors_limites", "profil.annee_naissance"),
        (Profil(code_commune="94028\x00"), "texte_trop_long", "profil.code_commune"),
        (Profil(code_commune="94 28"), "caractere_interdit", "profil.code_commune"),
    ]:
        _refused(msgspec.structs.replace(entree, profil=profil), code, field)
    ok = msgspec.structs.replace(entree, profil=Profil(annee_naissance=1960, code_commune="2A004"))
    assert decide(Dossier(), ok, CTX)


def test_planned_dates_up_to_the_horizon() -> None:
    assert horizon(TODAY) == date(2028, 12, 1)
    assert HORIZON_MOIS == 24
    state = fold(decide(Dossier(), _command(ENTREE), CTX))
    orientation = msgspec.structs.replace(_command(STEPS[0]), effective_on=TODAY)
    state = fold(decide(state, orientation, CTX), state)
    for day, accepted in [(horizon(TODAY), True), (horizon(TODAY) + timedelta(days=1), False)]:
        rdv = c.PlanifierRdv(effective_on=TODAY, type_rdv="suivi", mode="invitation", date_rdv=day)
        cer = c.SignerCer(effective_on=TODAY, date_debut=day, duree_mois=12)
        for command in (rdv, cer):
            if accepted:
                assert decide(state, command, CTX)
            else:
                field = "date_rdv" if command is rdv else "date_debut"
                with pytest.raises(DomainError, match=field) as e:
                    decide(state, command, CTX)
                assert e.value.code == "date_hors_limites"


def test_free_text_and_identifiers() -> None:
    for value, code in [
        ("nul\x00", "caractere_interdit"),
        ("escape\x1b[31m", "caractere_interdit"),
        ("c1\x85", "caractere_interdit"),
        ("\ud800", "caractere_interdit"),
        ("x" * (TEXTE_MAX + 1), "texte_trop_long"),
    ]:
        _refused(
            c.DeciderSanction(effective_on=TODAY, type_sanction="reduction", motif=value),
            code,
            "motif",
        )
    for value, code in [
        ("", "texte_vide"),
        ("ref durand", "caractere_interdit"),
        ("ref/1", "caractere_interdit"),
        ("r" * (IDENTIFIANT_MAX + 1), "texte_trop_long"),
    ]:
        _refused(c.DesignerReferent(effective_on=TODAY, referent_id=value), code, "referent_id")
    # What the flux and the agents key in today stays accepted, lines of a text area too.
    verifier(
        c.DeciderSanction(
            effective_on=TODAY, type_sanction="reduction", motif="Absent.\r\n\tRelancé le 3."
        ),
        TODAY,
    )
    verifier(c.DesignerReferent(effective_on=TODAY, referent_id="jean.dupont@cd94.fr"), TODAY)
    verifier(
        c.DeciderSanction(
            effective_on=TODAY, type_sanction="reduction", motif="Absence à l'entretien — 2ᵉ fois"
        ),
        TODAY,
    )


# --- the registry, the tariff book, cohorts -------------------------------------------------


def test_structure_declarations_are_bounded() -> None:
    good = {"structure_id": "aave-1", "nom": "AAVE", "etp": 2.5, "effective_on": TODAY}
    valider_structure(**good, today=TODAY)
    for change, code, field in [
        ({"effective_on": date(1, 1, 1)}, "date_hors_limites", "effective_on"),
        ({"effective_on": date(9999, 1, 1)}, "date_hors_limites", "effective_on"),
        ({"nom": "AAVE\x00"}, "caractere_interdit", "nom"),
        ({"etp": float("nan")}, "etp_invalide", "etp"),
    ]:
        with pytest.raises(DomainError) as e:
            valider_structure(**{**good, **change}, today=TODAY)  # type: ignore[arg-type]
        assert (e.value.code, e.value.field) == (code, field)


def _schedule(**tarifs: Any) -> dict[str, Any]:
    return {"nom": "essai", "du": "2024-01-01", "tarifs": {"ccas": tarifs}}


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (_schedule(cer=1e308), "tarifs.ccas.cer"),
        (_schedule(cer=float("inf")), "tarifs.ccas.cer"),
        (_schedule(cer=float("nan")), "tarifs.ccas.cer"),
        (_schedule(cer="1e308"), "tarifs.ccas.cer"),
        (_schedule(cer=float(MONTANT_MAX) + 1), "tarifs.ccas.cer"),
        (_schedule(bonus_performance_pct="NaN"), "tarifs.ccas.bonus_performance_pct"),
        (_schedule(asc=[{"a_partir_de": 1, "montant": "Infinity"}]), "tarifs.ccas.asc[0].montant"),
        (
            _schedule(delai_premier_entretien={"mois": 10**9}),
            "tarifs.ccas.delai_premier_entretien.mois",
        ),
        (_schedule(asc=[{"a_partir_de": 10**12, "montant": 1}]), "tarifs.ccas.asc[0].a_partir_de"),
        ({**_schedule(cer=1), "du": "0001-01-01"}, "du"),
        ({**_schedule(cer=1), "libelle": "a\x00b"}, "libelle"),
        ({**_schedule(cer=1), "version": 10**12}, "version"),
    ],
)
def test_schedules_with_absurd_values_are_refused_naming_the_field(
    document: dict[str, Any], field: str
) -> None:
    with pytest.raises(TariffError) as e:
        bareme_from(document)
    assert e.value.field == field, str(e.value)


def test_an_adoption_is_bounded_from_today() -> None:
    bareme = bareme_from({**_schedule(cer=100), "du": "2027-01-01"})
    valider_adoption(bareme, "révision votée", TODAY)
    late = bareme_from({**_schedule(cer=100), "du": "2030-01-01"})
    with pytest.raises(DomainError) as e:
        valider_adoption(late, "révision votée", TODAY)
    assert (e.value.code, e.value.field) == ("date_hors_limites", "bareme.du")
    with pytest.raises(DomainError) as e:
        valider_adoption(bareme, "motif\x00", TODAY)
    assert (e.value.code, e.value.field) == ("caractere_interdit", "motif")


def test_a_schedule_the_log_already_holds_still_decodes_above_todays_ceiling() -> None:
    """A schedule adopted with 2 M€ (accepted before the tighter bound) is read back from
    the log for ever; a new one of the same amount is refused naming the field."""
    document = _schedule(cer=2_000_000)
    adopted = msgspec.json.encode({"bareme": document, "motif": "révision votée"})

    class Adopted(msgspec.Struct):
        bareme: Bareme
        motif: str

    assert msgspec.json.decode(adopted, type=Adopted).bareme.tarifs
    with pytest.raises(TariffError) as e:
        bareme_from(document)
    assert (e.value.code, e.value.field) == ("nombre_hors_limites", "tarifs.ccas.cer")


def test_cohort_definitions_are_bounded() -> None:
    valider_cohorte("c2024", DefinitionCohorte(entree_du=date(2024, 1, 1)), TODAY)
    for definition, code, field in [
        (DefinitionCohorte(entree_du=date(1, 1, 1)), "date_hors_limites", "entree_du"),
        (DefinitionCohorte(entree_au=date(9999, 12, 31)), "date_hors_limites", "entree_au"),
        (DefinitionCohorte(structures=["ccas\x00"]), "caractere_interdit", "structures[0]"),
        (DefinitionCohorte(structures=["s"] * 5000), "liste_trop_longue", "structures"),
    ]:
        with pytest.raises(DomainError) as e:
            valider_cohorte("c2024", definition, TODAY)
        assert (e.value.code, e.value.field) == (code, field)


# --- whatever the rules accept stays inside the bounds and folds ---------------------------

_ANY_DATE = st.one_of(
    st.dates(), st.dates(TODAY - timedelta(days=800), horizon(TODAY) + timedelta(days=40))
)
_ANY_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["ccas-1", "ft-1", "ref-1", "\x00", "a\nb", "x" * 20_000, "é" * 81]),
)
_ANY_INT = st.one_of(st.integers(-3, 6), st.integers(-(10**15), 10**15))


def _with(kind: type[c.Commande], **fields: Any) -> st.SearchStrategy[c.Commande]:
    return st.builds(kind, effective_on=_ANY_DATE, **fields)


EXTREME_COMMANDS: st.SearchStrategy[c.Commande] = st.one_of(
    _with(
        c.RouvrirDroit,
        date_flux=_ANY_DATE,
        date_reception_flux=_ANY_DATE,
        profil=st.none() | st.builds(Profil, annee_naissance=_ANY_INT, code_commune=_ANY_TEXT),
    ),
    _with(c.SuspendreDroit, motif=st.none() | _ANY_TEXT),
    _with(c.ReprendreDroit),
    _with(c.CloreDroit),
    _with(c.EnregistrerSortie),
    _with(c.DeciderOrientation, structure_id=_ANY_TEXT),
    _with(
        c.DeciderReorientation,
        structure_id=_ANY_TEXT,
        motif=_ANY_TEXT,
        date_avis_ep=st.none() | _ANY_DATE,
    ),
    _with(c.DesignerReferent, referent_id=_ANY_TEXT),
    _with(c.PlanifierRdv, date_rdv=_ANY_DATE),
    _with(c.EnregistrerIssueRdv, numero=_ANY_INT),
    _with(c.SignerCer, date_debut=_ANY_DATE),
    _with(c.RenouvelerCer, date_debut=_ANY_DATE),
    _with(c.TenirEntretienAsc, structure_id=_ANY_TEXT),
    _with(c.DeciderSanction, motif=_ANY_TEXT),
    _with(c.LeverSanction, numero=_ANY_INT, motif=st.none() | _ANY_TEXT),
    _with(c.AnnulerEtape, version_annulee=_ANY_INT, motif=_ANY_TEXT),
    _with(
        c.RectifierEtape,
        version_rectifiee=_ANY_INT,
        effective_on_corrige=_ANY_DATE,
        motif=_ANY_TEXT,
    ),
)
"""Every step and correction with dates over the whole calendar, any text, huge integers."""

_REGISTRY = StructureRegistry(
    StructureDeclaree(
        effective_on=date(2015, 1, 1), meta=META, structure_id=sid, nom=sid, type_organisme=kind
    )
    for sid, kind in [("ccas-1", TypeOrganisme.CCAS), ("ft-1", TypeOrganisme.FRANCE_TRAVAIL)]
)
_TARIFFS = EnVigueur(
    Adoption(version=i, bareme=b, empreinte="", motif="", adopte_le=META.recorded_at, adopte_par="")
    for i, b in enumerate(shipped().values(), 1)
)


def _inside(event: Evenement) -> None:
    """The event's own fields keep the bounds (its recording metadata is the server's)."""
    for name in event.__struct_fields__:
        if name != "meta":
            verifier(getattr(event, name), TODAY, name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands=st.lists(EXTREME_COMMANDS, max_size=25))
def test_accepted_events_stay_in_bounds_and_every_fold_reads_them(
    commands: list[c.Commande],
) -> None:
    start = [
        _command(ENTREE),
        c.DeciderOrientation(
            effective_on=date(2024, 2, 1),
            type_orientation="professionnelle",
            organisme="france_travail",
            structure_id="ft-1",
        ),
    ]
    history: list[Recorded] = []
    state = Dossier()
    for command in [*start, *commands]:
        try:
            events = decide_on_history(history, command, CTX)
        except DomainError:
            continue
        for event in events:
            _inside(event)
            assert DATE_MIN <= event.effective_on <= TODAY
            history.append(Recorded(CASE, len(history) + 1, event))
            state = evolve(state, event)
    assert fold(r.event for r in history) == state
    case_row(history)
    suivre(history)
    case_lines(activite(history).activite, _TARIFFS, _REGISTRY)
    assert all(0 <= getattr(r.event, "numero", 0) <= ENTIER_MAX for r in history)
