"""Statements and simulations, pure: what a partner is owed for a period once earlier statements
are taken into account, and how a candidate schedule changes a period's figures.

A statement (`Etat`) for a partner and a period holds the lines dated in the period that no
earlier statement paid, and one adjustment for every line an earlier statement paid whose
amount has changed since (a step cancelled, re-priced under a new schedule) or which appeared
late in a period already stated. Nothing changes silently: the difference is a line of its own.
"""

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Literal
from uuid import UUID

import msgspec

from domain.payments import Ajustement, Etape, Etat, Ligne, bornes, etat_id
from domain.vocabulary import TypeOrganisme
from projections.pricing import StructureNonDeclaree, total


def etablir(
    partenaire: str,
    type_organisme: TypeOrganisme | None,
    periode: str,
    lignes: Iterable[Ligne],
    emis: Sequence[Etat],
    position: int,
    baremes: list[str],
) -> Etat:
    """The draft statement of `partenaire` for `periode`, given every line priced now for the
    partner (whatever its date) and the statements already issued to it."""
    du, au = bornes(periode)
    paid: dict[str, int] = {}
    paid_by: dict[str, list[str]] = {}
    last_seen: dict[str, Ligne | Ajustement] = {}
    for etat in emis:
        for line in etat.lignes:
            paid[line.cle] = paid.get(line.cle, 0) + line.montant
            paid_by.setdefault(line.cle, []).append(etat.id)
            last_seen[line.cle] = line
        for adj in etat.ajustements:
            paid[adj.cle] = paid.get(adj.cle, 0) + adj.montant
            paid_by.setdefault(adj.cle, []).append(etat.id)
            last_seen.setdefault(adj.cle, adj)
    stated = [(e.du, e.au) for e in emis]
    current = {line.cle: line for line in lignes if line.partenaire == partenaire}
    new: list[Ligne] = []
    adjustments: list[Ajustement] = []
    for key, line in current.items():
        if key in paid:
            continue
        if du <= line.le <= au:
            new.append(line)
        elif line.le < du and any(a <= line.le <= b for a, b in stated):
            adjustments.append(_adjust(key, line, last_seen.get(key), 0, [], "tardive"))
    for key, amount in paid.items():
        now = current.get(key)
        now_amount = now.montant if now is not None else 0
        if now_amount != amount:
            motif: Literal["annulee", "modifiee"] = "annulee" if now is None else "modifiee"
            adjustments.append(_adjust(key, now, last_seen[key], amount, paid_by[key], motif))
    new.sort(key=lambda x: (x.le, x.cle))
    adjustments.sort(key=lambda x: x.cle)
    t_lines, t_adj = total(new), sum(a.montant for a in adjustments)
    return Etat(
        id=etat_id(partenaire, periode),
        partenaire=partenaire,
        type_organisme=type_organisme,
        periode=periode,
        du=du,
        au=au,
        statut="projet",
        position=position,
        baremes=baremes,
        lignes=new,
        ajustements=adjustments,
        total_lignes=t_lines,
        total_ajustements=t_adj,
        total=t_lines + t_adj,
    )


def _adjust(
    key: str,
    now: Ligne | None,
    before: Ligne | Ajustement | None,
    paid: int,
    etats: list[str],
    motif: Literal["annulee", "modifiee", "tardive"],
) -> Ajustement:
    source = now or before
    assert source is not None
    now_amount = now.montant if now is not None else 0
    return Ajustement(
        cle=key,
        partenaire=source.partenaire,
        case_id=source.case_id,
        etape=source.etape,
        reference=source.reference,
        motif=motif,
        montant_emis=paid,
        montant_actuel=now_amount,
        montant=now_amount - paid,
        etats=etats,
        ligne=now,
    )


# --- simulation -------------------------------------------------------------------------------


class Ecart(msgspec.Struct, frozen=True, kw_only=True):
    """Totals under the schedules in force and under the candidate, for one group."""

    groupe: str
    actuel: int
    simule: int
    ecart: int
    lignes_actuelles: int
    lignes_simulees: int


class LigneModifiee(msgspec.Struct, frozen=True, kw_only=True):
    cle: str
    partenaire: str
    case_id: UUID | None
    etape: Etape
    reference: str
    actuel: int
    simule: int
    ecart: int
    regle_actuelle: str | None
    regle_simulee: str | None


class Simulation(msgspec.Struct, frozen=True, kw_only=True):
    """A period priced under a candidate schedule next to the schedules in force."""

    du: date
    au: date
    bareme: str
    en_vigueur: list[str]
    position: int
    actuel: int
    simule: int
    ecart: int
    par_partenaire: list[Ecart]
    par_etape: list[Ecart]
    lignes_modifiees: list[LigneModifiee]
    structures_non_declarees: list[StructureNonDeclaree] = msgspec.field(default_factory=list)
    """Structures seen in the period's activity but not declared: priced under neither."""


def _groups(actuel: Sequence[Ligne], simule: Sequence[Ligne], key: str) -> list[Ecart]:
    sums: dict[str, list[int]] = {}
    for index, lines in enumerate((actuel, simule)):
        for line in lines:
            name = str(getattr(line, key))
            s = sums.setdefault(name, [0, 0, 0, 0])
            s[index] += line.montant
            s[index + 2] += 1
    return [
        Ecart(
            groupe=name,
            actuel=s[0],
            simule=s[1],
            ecart=s[1] - s[0],
            lignes_actuelles=s[2],
            lignes_simulees=s[3],
        )
        for name, s in sorted(sums.items())
    ]


def comparer(
    du: date,
    au: date,
    actuel: Sequence[Ligne],
    simule: Sequence[Ligne],
    bareme: str,
    en_vigueur: list[str],
    position: int,
    non_declarees: Sequence[StructureNonDeclaree] = (),
) -> Simulation:
    """The difference per partner, per step and line by line (lines whose amount differs),
    with the structures neither side prices for want of a declaration."""
    before = {line.cle: line for line in actuel}
    after = {line.cle: line for line in simule}
    changed: list[LigneModifiee] = []
    for key in sorted(before.keys() | after.keys()):
        a, s = before.get(key), after.get(key)
        amount_a = a.montant if a is not None else 0
        amount_s = s.montant if s is not None else 0
        if amount_a == amount_s and (a is None) == (s is None):
            continue
        line = a or s
        assert line is not None
        changed.append(
            LigneModifiee(
                cle=key,
                partenaire=line.partenaire,
                case_id=line.case_id,
                etape=line.etape,
                reference=line.reference,
                actuel=amount_a,
                simule=amount_s,
                ecart=amount_s - amount_a,
                regle_actuelle=a.regle if a is not None else None,
                regle_simulee=s.regle if s is not None else None,
            )
        )
    t_a, t_s = total(actuel), total(simule)
    return Simulation(
        du=du,
        au=au,
        bareme=bareme,
        en_vigueur=en_vigueur,
        position=position,
        actuel=t_a,
        simule=t_s,
        ecart=t_s - t_a,
        par_partenaire=_groups(actuel, simule, "partenaire"),
        par_etape=_groups(actuel, simule, "etape"),
        lignes_modifiees=changed,
        structures_non_declarees=list(non_declarees),
    )
