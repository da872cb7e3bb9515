"""The choices an extract of a cohort offers (its shape, its key), apart from the use cases
so that the command line lists them without loading the store."""

from enum import StrEnum


class Forme(StrEnum):
    EVENEMENTS = "evenements"
    EPISODES = "episodes"


class Cle(StrEnum):
    """Per-extract random key (never kept: keys do not link two extracts) or the département's
    stable key (the same person has the same key in every extract)."""

    ROTATIVE = "rotative"
    STABLE = "stable"
