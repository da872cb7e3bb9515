"""Loads delay rule sets from TOML files: the shipped ones, plus a département's own folder."""

import os
from functools import cache
from pathlib import Path

import msgspec

from domain.delais import RegleDelais, Reglement, RulesError

SHIPPED = Path(__file__).resolve().parent.parent / "domain" / "rules"


def read_rule(path: Path) -> RegleDelais:
    """One rule set, validated; a bad file raises RulesError naming the file and the field."""
    try:
        return msgspec.toml.decode(path.read_bytes(), type=RegleDelais)
    except msgspec.ValidationError as e:
        raise RulesError(f"{path.name}: {e}", str(e).rpartition("at `")[2].rstrip("`")) from e
    except msgspec.DecodeError as e:
        raise RulesError(f"{path.name}: {e}", path.name) from e


def load_reglement(folder: Path | None = None) -> Reglement:
    """The rule sets of `folder` (default: shipped ones, or $PARCOURS_RULES_DIR when set)."""
    if folder is None:
        return _default()
    return Reglement(read_rule(p) for p in sorted(folder.glob("*.toml")))


@cache
def _default() -> Reglement:
    folder = os.environ.get("PARCOURS_RULES_DIR")
    return load_reglement(Path(folder) if folder else SHIPPED)
