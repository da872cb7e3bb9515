"""The words a person is searched by, as the search index keys them.

A person is found by the tokens of their names (nom, nom de naissance, prénoms) and by every
prefix of 3 letters or more of those tokens ("dup" finds "Dupont"), by their file number
(matricule, with or without the organisme) and by their NIR. Each term is folded the same way
for the person and for the query: Unicode NFKD with the accents dropped, lower case, split on
anything that is not a letter or a digit (spaces, hyphens, apostrophes).

The index stores only a keyed hash of each term (`IdentityStore`), never the term: these
functions are pure so that the same folding serves the index and the query.
"""

import re
import unicodedata
from collections.abc import Iterable

PREFIX_MIN = 3
"""The shortest prefix of a name token that is indexed (and the shortest query)."""
TOKEN_MAX = 40
"""Longer tokens are indexed on their first characters only."""
QUERY_MAX = 200
QUERY_TOKENS_MAX = 8
"""A query names a person in a few words; more are not looked up."""

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_SPLIT = re.compile(r"[^0-9a-z]+")
_NIR = re.compile(r"[0-9]{5}(?:[0-9]{2}|2a|2b)[0-9]{6}(?:[0-9]{2})?")
_WITH_ORGANISME = re.compile(r"(caf|msa)[^0-9a-z]*([0-9][0-9a-z]*)")


def fold(text: str) -> str:
    """Accents dropped, ligatures spelled out, lower case: "Éloïse" and "eloise" are one."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def tokens(text: str | None) -> list[str]:
    """The words of a name ("Le Gall-Dupré" → le, gall, dupre), each at most `TOKEN_MAX`."""
    return [t[:TOKEN_MAX] for t in _SPLIT.split(fold(text or "")) if t]


def name_terms(names: Iterable[str | None]) -> set[str]:
    """Every token of the names, each name run together ("N'Diaye" is found as "ndiaye", "Le
    Gall" as "legall"), and every prefix of these of at least `PREFIX_MIN` characters."""
    out: set[str] = set()
    for name in names:
        words = tokens(name)
        if len(words) > 1:
            words.append("".join(words)[:TOKEN_MAX])
        for token in words:
            out.add(token)
            out.update(token[:n] for n in range(PREFIX_MIN, len(token)))
    return out


def compact(text: str) -> str:
    """An identifier as typed, its spaces, dots and hyphens dropped."""
    return "".join(_SPLIT.split(fold(text)))


def matricule_terms(organisme: str, matricule: str) -> set[str]:
    """The file number alone and prefixed by its organisme ("caf:0123456")."""
    number = compact(matricule)
    if not number:
        return set()
    return {number, f"{fold(organisme).strip()}:{number}"}


def nir_term(nir: str | None) -> str | None:
    """The NIR's 13 characters (its control key left out), as the blind index takes them."""
    value = compact(nir or "")[:13]
    return value or None


def person_terms(
    organisme: str,
    matricule: str,
    nir: str | None,
    names: Iterable[str | None],
) -> set[str]:
    """Every term a person is found by."""
    out = name_terms(names) | matricule_terms(organisme, matricule)
    if (term := nir_term(nir)) is not None:
        out.add(term)
    return out


class QueryTooShort(ValueError):
    """A query of fewer than `PREFIX_MIN` characters would find half the département."""


def query_terms(query: str) -> list[list[str]]:
    """What a query asks for, as alternatives each of whose terms a person must all have: a
    NIR (spaces allowed, control key optional; all digits, it may also be a file number), a
    file number with its organisme ("CAF 0123456"), or words of a name (each a whole token or
    a prefix; words under `PREFIX_MIN` characters are left out, as no prefix that short is
    indexed, unless all are: then the query run together, "le b" as "leb")."""
    text = query.strip()[:QUERY_MAX]
    whole = compact(text)
    if len(whole) < PREFIX_MIN:
        raise QueryTooShort(f"saisir au moins {PREFIX_MIN} caractères")
    if _NIR.fullmatch(whole):
        nir = [whole[:13]]
        return [nir, [whole]] if whole.isdigit() and whole != nir[0] else [nir]
    if found := _WITH_ORGANISME.fullmatch(fold(text).strip()):
        return [[f"{found.group(1)}:{found.group(2)}"]]
    words = [t for t in dict.fromkeys(tokens(text)) if len(t) >= PREFIX_MIN]
    return [words[:QUERY_TOKENS_MAX] or [whole[:TOKEN_MAX]]]
