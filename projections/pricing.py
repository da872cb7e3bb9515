"""Pricing: the payable lines of a period from the cases' activity, under a tariff schedule.

Stage two of pricing, pure: `price(activities, tarification, registry, periode)` turns the facts
of `projections.activity` into lines, each with its partner, its allocataire (case), the rule
that priced it and the versions of the events that triggered it. Amounts are integer cents.

Rules (docs/finance.md has them with the options):
- CER: each contract signed while the person is oriented to a partner, priced under the schedule
  in force on the signature date for the partner's kind; a renewal only if the kind pays them.
  All of a contract's lines (bonuses included) come under that schedule and its cap.
- First-interview bonus: the first accompaniment RDV seen while oriented to the partner, held
  within the schedule's delay of the date the structure received the flux.
- Positive-exit bonus: an exit in SORTIES_POSITIVES while oriented to a partner that signed a
  contract with the person in the episode; at most once per person and calendar year.
- ASC: a year's interviews with a structure, priced by tier under the schedule in force on the
  year's first interview.
- EIO: each orientation interview seen, priced for the structure that recorded it.
- AAVE: each year, the subsidy per ETP (day-weighted over the ETP declared), plus the bonus when
  every reference value of `projections.indicateurs_aave` is met, within the cap per ETP.

Only structures declared in the registry are priced; `non_declarees` names the others seen in
the activity, with the facts left unpriced, so that a forgotten declaration shows instead of
silently costing a partner its payment.
"""

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from operator import attrgetter

import msgspec

from domain.dates import add_months
from domain.delais import Delai
from domain.payments import Etape, Ligne
from domain.structures import StructureRegistry
from domain.tariffs import Bareme, Tarification, Tarifs, cents
from domain.vocabulary import SORTIES_POSITIVES, TypeOrganisme
from projections.activity import Activite, Contrat, Entretien
from projections.indicateurs import Periode
from projections.indicateurs_aave import ValeursReference, indicateurs_structure
from projections.suivi import Suivi


@cache
def _rule(ref: str, kind: TypeOrganisme, name: str) -> str:
    return f"{ref}/{kind.value}/{name}"


def _round(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def _prorata(amount: int, months: int) -> int:
    return _round(Decimal(amount) * months / 12)


@cache
def _last_day(d: date, months: int) -> date:
    return date.fromordinal(add_months(d, months).toordinal() - 1)


@cache
def _due(reception: date, delai: Delai) -> date:
    return delai.echeance(reception)


@cache
def _cents(euros: Decimal) -> int:
    return cents(euros)


class _Priced(msgspec.Struct):
    """A contract's priced state: the schedule it falls under and what is left under its cap."""

    contrat: Contrat
    bareme: Bareme
    kind: TypeOrganisme
    tarifs: Tarifs
    reste: int | None


def _capped(p: _Priced, amount: int) -> int:
    if p.reste is None:
        return amount
    amount = min(amount, p.reste)
    p.reste -= amount
    return amount


def _contract_lines(
    a: Activite, tarification: Tarification, registry: StructureRegistry, out: list[Ligne]
) -> None:
    priced: list[_Priced] = []
    bonus_given: set[tuple[int, str]] = set()
    for c in a.contrats:
        sid = c.structure_id
        kind = registry.type_of(sid) if sid is not None else None
        if sid is None or kind is None:
            continue
        b = tarification.pour(c.signe_le, kind)
        t = b.tarifs.get(kind) if b is not None else None
        if b is None or t is None or t.cer is None:
            continue
        if c.renouvellement and not t.cer_renouvellement:
            continue
        p = _Priced(
            c, b, kind, t, _cents(t.plafond_contrat) if t.plafond_contrat is not None else None
        )
        priced.append(p)
        base = _cents(t.cer)
        prorata = b.options.cer_court == "prorata" and c.duree_mois < 12
        if prorata:
            base = _prorata(base, c.duree_mois)
        what = "renouvelé" if c.renouvellement else "signé"
        out.append(
            Ligne(
                partenaire=sid,
                type_organisme=kind,
                case_id=a.case_id,
                etape=Etape.CER,
                reference=f"cer-{c.numero}",
                du=c.date_debut,
                au=_last_day(c.date_debut, c.duree_mois),
                le=c.signe_le,
                montant=_capped(p, base),
                regle=_rule(b.ref, kind, "cer_prorata" if prorata else "cer"),
                evenements=[c.version],
                detail=f"CER n°{c.numero} {what}, {c.duree_mois} mois",
            )
        )
        if t.bonus_premier_entretien is None:
            continue
        if c.renouvellement and b.options.bonus_premier_entretien == "creation":
            continue
        if (c.episode, sid) in bonus_given and b.options.bonus_premier_entretien == "creation":
            continue
        episode = a.episodes[c.episode - 1]
        first = episode.premier_entretien(sid)
        due = _due(episode.date_reception_flux, t.delai_premier_entretien)
        if first is None or first.le > due:
            continue
        bonus_given.add((c.episode, sid))
        out.append(
            Ligne(
                partenaire=sid,
                type_organisme=kind,
                case_id=a.case_id,
                etape=Etape.BONUS_PREMIER_ENTRETIEN,
                reference=f"cer-{c.numero}",
                du=c.date_debut,
                au=_last_day(c.date_debut, c.duree_mois),
                le=max(c.signe_le, first.le),
                montant=_capped(p, _cents(t.bonus_premier_entretien)),
                regle=_rule(b.ref, kind, "bonus_premier_entretien"),
                evenements=[episode.version, *first.versions, c.version],
                detail=f"1er entretien le {first.le}, flux reçu le "
                f"{episode.date_reception_flux} (au plus tard le {due})",
            )
        )
    years: set[int] = set()
    for s in a.sorties:
        if s.type_sortie not in SORTIES_POSITIVES or s.le.year in years:
            continue
        contract = None
        for p in priced:
            c = p.contrat
            if c.structure_id == s.structure_id and c.episode == s.episode and c.signe_le <= s.le:
                contract = p
        if contract is None or contract.tarifs.bonus_sortie_positive is None:
            continue
        years.add(s.le.year)
        c = contract.contrat
        out.append(
            Ligne(
                partenaire=s.structure_id or "",
                type_organisme=contract.kind,
                case_id=a.case_id,
                etape=Etape.BONUS_SORTIE_POSITIVE,
                reference=f"sortie-{s.le.year}",
                du=s.le,
                au=s.le,
                le=s.le,
                montant=_capped(contract, _cents(contract.tarifs.bonus_sortie_positive)),
                regle=_rule(contract.bareme.ref, contract.kind, "bonus_sortie_positive"),
                evenements=[c.version, s.version],
                detail=f"sortie {s.type_sortie.value} le {s.le}, CER n°{c.numero}",
            )
        )


def _asc_groups(
    interviews: list[Entretien], mode: str
) -> list[tuple[str, date, date, list[Entretien]]]:
    """(reference, first day, last day, interviews) for each ASC year of one structure."""
    groups: list[tuple[str, date, date, list[Entretien]]] = []
    if mode == "civile":
        by_year: dict[int, list[Entretien]] = {}
        for e in interviews:
            by_year.setdefault(e.le.year, []).append(e)
        for year, items in sorted(by_year.items()):
            groups.append((f"asc-{year}", date(year, 1, 1), date(year, 12, 31), items))
        return groups
    for e in interviews:
        if groups and e.le <= groups[-1][2]:
            groups[-1][3].append(e)
        else:
            groups.append((f"asc-{e.le.isoformat()}", e.le, _last_day(e.le, 12), [e]))
    return groups


_day = attrgetter("le")


def _asc_lines(
    a: Activite, tarification: Tarification, registry: StructureRegistry, out: list[Ligne]
) -> None:
    by_structure: dict[str, list[Entretien]] = {}
    for e in a.entretiens_asc:
        by_structure.setdefault(e.structure_id, []).append(e)
    for sid, interviews in by_structure.items():
        kind = registry.type_of(sid)
        if kind is None:
            continue
        interviews.sort(key=_day)  # stable: the same day keeps the log's order
        first = tarification.pour(interviews[0].le, kind)
        mode = first.options.annee_asc if first is not None else "civile"
        for reference, du, au, items in _asc_groups(interviews, mode):
            b = tarification.pour(items[0].le, kind)
            t = b.tarifs.get(kind) if b is not None else None
            palier = t.palier_asc(len(items)) if t is not None else None
            if b is None or palier is None:
                continue
            out.append(
                Ligne(
                    partenaire=sid,
                    type_organisme=kind,
                    case_id=a.case_id,
                    etape=Etape.ASC,
                    reference=reference,
                    du=du,
                    au=au,
                    le=items[0].le,
                    montant=_cents(palier.montant),
                    regle=_rule(b.ref, kind, f"asc_{palier.a_partir_de}"),
                    evenements=[e.version for e in items],
                    detail=f"{len(items)} entretien(s) ASC du {du} au {au}",
                )
            )


def _eio_lines(
    a: Activite, tarification: Tarification, registry: StructureRegistry, out: list[Ligne]
) -> None:
    for e in a.eio:
        kind = registry.type_of(e.structure_id)
        b = tarification.pour(e.le, kind) if kind is not None else None
        t = b.tarifs.get(kind) if b is not None and kind is not None else None
        if b is None or kind is None or t is None or t.eio is None:
            continue
        out.append(
            Ligne(
                partenaire=e.structure_id,
                type_organisme=kind,
                case_id=a.case_id,
                etape=Etape.EIO,
                reference=f"eio-{e.numero}",
                du=e.le,
                au=e.le,
                le=e.le,
                montant=_cents(t.eio),
                regle=_rule(b.ref, kind, "eio"),
                evenements=list(e.versions),
                detail=f"entretien d'orientation (RDV n°{e.numero}) le {e.le}",
            )
        )


def case_lines(a: Activite, tarification: Tarification, registry: StructureRegistry) -> list[Ligne]:
    """Every line one case's activity gives, whatever its date."""
    out: list[Ligne] = []
    _contract_lines(a, tarification, registry, out)
    _asc_lines(a, tarification, registry, out)
    _eio_lines(a, tarification, registry, out)
    return out


def aave_lines(
    suivis: Sequence[Suivi],
    tarification: Tarification,
    registry: StructureRegistry,
    years: Iterable[int],
    ref: ValeursReference | None = None,
) -> list[Ligne]:
    """Each AAVE structure's subsidy and bonus for each year, from its declared ETP and its
    indicators over the follow-up of the people oriented to it."""
    reference = ref or ValeursReference()
    out: list[Ligne] = []
    oriented_to: dict[str, list[Suivi]] = {}
    for s in suivis:
        for sid in {o.structure_id for o in s.orientations}:
            oriented_to.setdefault(sid, []).append(s)
    for structure in registry.all():
        if structure.type_organisme is not TypeOrganisme.AAVE:
            continue
        sid, kind = structure.structure_id, TypeOrganisme.AAVE
        for year in years:
            du, au = date(year, 1, 1), date(year, 12, 31)
            b = tarification.pour(du, kind)
            t = b.tarifs.get(kind) if b is not None else None
            if b is None or t is None or t.subvention_etp is None:
                continue
            etp_days = registry.etp_days(sid, du, au)
            if not etp_days:
                continue
            days = (au - du).days + 1
            etp = etp_days / days
            base = _round(_cents(t.subvention_etp) * etp)
            cap = _round(_cents(t.plafond_etp) * etp) if t.plafond_etp is not None else None
            if cap is not None:
                base = min(base, cap)
            out.append(
                Ligne(
                    partenaire=sid,
                    type_organisme=kind,
                    case_id=None,
                    etape=Etape.SUBVENTION_AAVE,
                    reference=f"aave-{year}",
                    du=du,
                    au=au,
                    le=du,
                    montant=base,
                    regle=_rule(b.ref, kind, "subvention_etp"),
                    evenements=[],
                    detail=f"{etp.quantize(Decimal('0.01'))} ETP en moyenne sur {year}",
                )
            )
            if t.bonus_performance_pct is None:
                continue
            # Only the episodes ever oriented to the structure can count for it.
            mine = oriented_to.get(sid, [])
            values = indicateurs_structure(mine, sid, Periode(du, au), float(etp), reference)
            if not values["toutes_valeurs_atteintes"]:
                continue
            bonus = _round(Decimal(base) * t.bonus_performance_pct / 100)
            if cap is not None:
                bonus = min(bonus, cap - base)
            out.append(
                Ligne(
                    partenaire=sid,
                    type_organisme=kind,
                    case_id=None,
                    etape=Etape.BONUS_AAVE,
                    reference=f"aave-{year}",
                    du=du,
                    au=au,
                    le=au,
                    montant=bonus,
                    regle=_rule(b.ref, kind, "bonus_performance"),
                    evenements=[],
                    detail=f"toutes les valeurs de référence atteintes en {year} "
                    f"(file active {values['file_active']}, "
                    f"{values['rdv_par_etp_par_mois']} RDV/ETP/mois)",
                )
            )
    return out


def price(
    activities: Iterable[Activite],
    tarification: Tarification,
    registry: StructureRegistry,
    periode: Periode,
    suivis: Sequence[Suivi] = (),
) -> list[Ligne]:
    """Every line dated within `periode` (in the activities' order; `ordered` sorts them)."""
    lines: list[Ligne] = []
    for a in activities:
        for line in case_lines(a, tarification, registry):
            if periode.du <= line.le <= periode.au:
                lines.append(line)
    years = range(periode.du.year, periode.au.year + 1)
    for line in aave_lines(suivis, tarification, registry, years):
        if periode.du <= line.le <= periode.au:
            lines.append(line)
    return lines


class StructureNonDeclaree(msgspec.Struct, frozen=True, kw_only=True):
    """A structure the activity names but the registry does not declare: its facts of the
    period (contracts signed while oriented to it, ASC interviews, orientation interviews) are
    not priced, whatever the schedule, until it is declared."""

    structure_id: str
    contrats: int
    entretiens_asc: int
    eio: int
    faits: int
    """The three counts together."""


def non_declarees(
    activities: Iterable[Activite], registry: StructureRegistry, periode: Periode
) -> list[StructureNonDeclaree]:
    """The structures pricing skips in `periode` for want of a declaration, by identifier; a
    contract signed with no orientation in force names no structure and is not one of them."""
    counts: dict[str, list[int]] = {}

    def seen(sid: str | None, day: date, kind: int) -> None:
        if sid is not None and periode.du <= day <= periode.au and registry.get(sid) is None:
            counts.setdefault(sid, [0, 0, 0])[kind] += 1

    for a in activities:
        for c in a.contrats:
            seen(c.structure_id, c.signe_le, 0)
        for e in a.entretiens_asc:
            seen(e.structure_id, e.le, 1)
        for eio in a.eio:
            seen(eio.structure_id, eio.le, 2)
    return [
        StructureNonDeclaree(
            structure_id=sid, contrats=n[0], entretiens_asc=n[1], eio=n[2], faits=sum(n)
        )
        for sid, n in sorted(counts.items())
    ]


def ordered(lines: Iterable[Ligne]) -> list[Ligne]:
    """Lines by partner, date, case and step: the order statements and listings show."""
    return sorted(lines, key=_order)


def _order(line: Ligne) -> tuple[str, date, str, str, str]:
    case = line.case_id.hex if line.case_id is not None else ""
    return (line.partenaire, line.le, case, line.etape.value, line.reference)


def total(lines: Iterable[Ligne]) -> int:
    return sum(line.montant for line in lines)
