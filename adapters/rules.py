"""Loads delay rule sets from TOML files: the shipped ones, plus a département's own folder."""

import os
from functools import cache
from pathlib import Path

import msgspec

from domain.delais import RegleDelais, Reglement, RulesError
from domain.sanctions import REGIMES, Regimes, RegimeSanction, avec_departement

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


SANCTIONS_ENV = "PARCOURS_SANCTIONS_DIR"
"""A folder of a département's own sanction regimes (`*.toml`), added to the national ones."""


def read_regime(path: Path) -> RegimeSanction:
    """One sanction regime, validated; a bad file raises RulesError naming the file and field."""
    try:
        return msgspec.toml.decode(path.read_bytes(), type=RegimeSanction)
    except msgspec.ValidationError as e:
        raise RulesError(f"{path.name}: {e}", str(e).rpartition("at `")[2].rstrip("`")) from e
    except msgspec.DecodeError as e:
        raise RulesError(f"{path.name}: {e}", path.name) from e


def load_regimes(folder: Path | None = None) -> Regimes:
    """The national sanction regimes with the département's own from `folder` (default:
    $PARCOURS_SANCTIONS_DIR when set; the national ones alone otherwise)."""
    if folder is None:
        return _default_regimes()
    return avec_departement(read_regime(p) for p in sorted(folder.glob("*.toml")))


@cache
def _default_regimes() -> Regimes:
    folder = os.environ.get(SANCTIONS_ENV)
    return load_regimes(Path(folder)) if folder else REGIMES
