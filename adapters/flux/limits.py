"""What one flux file may hold, and which encodings it may declare: the reading limits, in one
place (documented in docs/flux.md).

The limits keep the reading pass's memory bounded whatever the file: they are checked while the
file streams, each time a block of `bloc` bytes has been fed to the parser, so a file that
breaks one is refused as soon as it does, with its line, long before it could fill memory.
The largest household of the real samples is 206 elements, 8 KB, 6 levels under `Racine`, with
texts of 19 characters at most, and the synthetic generator's largest 100 elements and 2.8 KB:
the defaults leave a margin of about a hundred times over each.
"""

import re

import msgspec


class Limites(msgspec.Struct, frozen=True, kw_only=True):
    bloc: int = 32 << 10
    """Bytes fed to the parser at a time; every limit is checked after each block."""
    foyer_octets: int = 1 << 20
    """Bytes of one household (`InfosFoyerRSA`), from its start tag to its end tag."""
    foyer_elements: int = 20_000
    """Elements of one household (or of the header or trailer block)."""
    profondeur: int = 32
    """Levels of elements under `Racine` (a household is level 1; the samples reach 6)."""
    texte: int = 65_536
    """Characters of one element's text."""
    hors_foyer_octets: int = 1 << 20
    """Bytes outside households: the prolog and the header block before the first household,
    whatever lies between two households, the trailer block after the last one."""


LIMITES = Limites()

ENCODAGES_UN_OCTET = frozenset(
    {
        "windows-1252",
        "cp1252",
        "iso-8859-1",
        "iso8859-1",
        "iso_8859-1",
        "latin1",
        "latin-1",
        "iso-8859-15",
        "iso8859-15",
        "latin-9",
    }
)
"""Single-byte encodings a flux may declare (the CAF and the MSA write windows-1252)."""

ENCODAGES_UTF8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
"""UTF-8 (and its ASCII subset), also what a file without encoding declaration is in."""

UTF8_EN_UN_OCTET = re.compile(rb"[\xC2-\xC5][\x80-\xBF]|\xE2[\x80-\x82][\x80-\xBF]")
"""A UTF-8 sequence for a Latin-1 or Latin Extended-A character (every French accented letter,
Œ, °, non-breaking space) or a typographic sign (’ “ ” – … €). Read as windows-1252 these bytes
are `Â`, `Ã`, `Ä`, `Å` or `â` followed by a symbol (`Ã©` for é, `â€™` for ’), which no name or
address holds: a file declared single-byte that contains one is UTF-8 mislabelled, and would
import scrambled names."""
