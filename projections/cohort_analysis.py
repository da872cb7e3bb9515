"""Analyses shipped with an extract: time-to-event curves and the table of transitions.

Both accumulate counts of days (a `Counter` per milestone or per transition), so their memory
depends on the span of delays, never on the number of people.
"""

from collections import Counter
from collections.abc import Sequence
from datetime import date

import msgspec

from domain.corrections import effective_history
from domain.events import Ouverture, Recorded
from projections.cohort import Episode

JALONS: tuple[str, ...] = ("orientation", "contrat", "sortie")
"""Milestones of the curves: first orientation, first CER, exit; counted from the entry."""


class Courbe(msgspec.Struct, frozen=True, kw_only=True):
    """Share of the cohort's episodes that reached a milestone by each day after entry."""

    jalon: str
    jours: list[int]
    parts: list[float]


class CourbesCohorte(msgspec.Struct, frozen=True, kw_only=True):
    cohorte: str
    episodes: int
    courbes: list[Courbe]


def _delai(debut: date, fin: date | None) -> int | None:
    return None if fin is None else max((fin - debut).days, 0)


class Delais:
    """Running counts of the delays from entry to each milestone over a cohort's episodes."""

    def __init__(self) -> None:
        self.episodes = 0
        self.reached: dict[str, Counter[int]] = {j: Counter() for j in JALONS}

    def add(self, ep: Episode) -> None:
        self.episodes += 1
        for jalon, when in (
            ("orientation", ep.date_orientation),
            ("contrat", ep.date_premier_cer),
            ("sortie", ep.date_sortie),
        ):
            days = _delai(ep.date_entree, when)
            if days is not None:
                self.reached[jalon][days] += 1

    def courbes(self, cohorte: str, jours: Sequence[int]) -> CourbesCohorte:
        """Share reached by day N (N included), for each N of `jours`, over all the episodes
        of the cohort (those still open at extraction count as not reached)."""
        out = []
        for jalon in JALONS:
            counts = sorted(self.reached[jalon].items())
            parts, reached, i = [], 0, 0
            for n in sorted(jours):
                while i < len(counts) and counts[i][0] <= n:
                    reached += counts[i][1]
                    i += 1
                parts.append(reached / self.episodes if self.episodes else 0.0)
            out.append(Courbe(jalon=jalon, jours=sorted(jours), parts=parts))
        return CourbesCohorte(cohorte=cohorte, episodes=self.episodes, courbes=out)


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    depuis: str
    vers: str
    nombre: int
    jours_median: float


def _median(days: Counter[int]) -> float:
    total = sum(days.values())
    values = sorted(days.items())
    lower_rank, upper_rank = (total - 1) // 2, total // 2
    lower = upper = None
    seen = 0
    for day, count in values:
        if lower is None and seen + count > lower_rank:
            lower = day
        if seen + count > upper_rank:
            upper = day
            break
        seen += count
    assert lower is not None
    assert upper is not None
    return (lower + upper) / 2


class Transitions:
    """Counts of consecutive steps (from → to) in the people's paths, with the days between
    their effective dates; the path starts at the entry of the first episode in the cohort."""

    def __init__(self) -> None:
        self.days: dict[tuple[str, str], Counter[int]] = {}

    def add(self, history: Sequence[Recorded], from_episode: int = 1) -> None:
        previous: Recorded | None = None
        episode = 0
        for recorded in effective_history(history):
            episode += isinstance(recorded.event, Ouverture)
            if episode < from_episode:
                continue
            if previous is not None:
                key = (type(previous.event).__name__, type(recorded.event).__name__)
                delta = (recorded.event.effective_on - previous.event.effective_on).days
                self.days.setdefault(key, Counter())[delta] += 1
            previous = recorded

    def table(self) -> list[Transition]:
        """Transitions, most frequent first."""
        rows = [
            Transition(depuis=a, vers=b, nombre=sum(days.values()), jours_median=_median(days))
            for (a, b), days in self.days.items()
        ]
        return sorted(rows, key=lambda t: (-t.nombre, t.depuis, t.vers))
