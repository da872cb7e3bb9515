"""Tariff schedule documents on disk: the ones shipped under `schedules/`, and a document read
from any TOML or JSON file (to simulate or adopt)."""

from pathlib import Path

from domain.tariffs import Bareme, TariffError, decode_bareme

SHIPPED = Path(__file__).resolve().parents[1] / "schedules"


def read_schedule(path: Path) -> Bareme:
    """A schedule from a TOML or JSON file; TariffError names the file and the field."""
    try:
        if path.suffix.lower() == ".json":
            return decode_bareme(path.read_bytes(), "json")
        return decode_bareme(path.read_bytes(), "toml")
    except TariffError as e:
        raise TariffError(f"{path.name}: {e.field}: {e}", e.field) from e


def shipped() -> dict[str, Bareme]:
    """The schedules shipped with parcours, by name."""
    found = [read_schedule(p) for p in sorted(SHIPPED.glob("*.toml"))]
    return {b.nom: b for b in found}
