"""Streaming reader of a vrsb0801 flux (windows-1252).

One pass parses the file, validates it against the published schema (the envelope, then each
household on its own) and extracts each household
into a compact record spilled to a temporary file; nothing is written to the store until the
whole file has validated. The import then reads the spill back household by household. Elements
are cleared once read, and the reading limits (limits.py) are checked as the file streams, so
memory stays bounded whatever the file holds.
"""

import codecs
import re
import struct
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from pathlib import Path
from typing import IO, Any, cast

import msgspec
from lxml import etree

from adapters.flux.limits import (
    ENCODAGES_UN_OCTET,
    ENCODAGES_UTF8,
    LIMITES,
    UTF8_EN_UN_OCTET,
    Limites,
)

SCHEMA = Path(__file__).with_name("vrsb0801.xsd")


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


NON_CONFORME = "flux_non_conforme"
HORS_LIMITES = "flux_hors_limites"
ENCODAGE = "flux_encodage"
SANS_FOYER = "flux_sans_foyer"
MOTIFS = {
    NON_CONFORME: "fichier non conforme au schéma",
    HORS_LIMITES: "fichier au-delà des limites de lecture",
    ENCODAGE: "encodage du fichier incohérent",
    SANS_FOYER: "fichier sans foyer",
}
"""Why a whole file is refused (the code of the HTTP problem), and how the report says it."""


class FluxInvalide(Exception):
    """The file is not a usable vrsb0801 flux: nothing of it is imported."""

    def __init__(self, line: int, reason: str, code: str = NON_CONFORME) -> None:
        super().__init__(f"ligne {line}: {reason}")
        self.line = line
        self.reason = reason
        self.code = code

    @property
    def motif(self) -> str:
        return f"{MOTIFS[self.code]}: {self.reason}"


class EnTete(msgspec.Struct, frozen=True, kw_only=True):
    type_flux: str
    """I: daily (new applications), M: monthly (whole stock)."""
    date_creation: date
    date_reference: date


class PersonneFlux(msgspec.Struct, kw_only=True):
    line: int
    nir: str | None = None
    nom: str | None = None
    nom_naissance: str | None = None
    prenoms: list[str] = []
    date_naissance: date | None = None
    commune_naissance: str | None = None
    sexe: str | None = None
    soumis_droits_devoirs: bool | None = None
    """TOPPERSDRODEVORSA; absent in some MSA files."""
    role_rsa: str | None = None
    charge_rsa: bool = False
    identifiant_pole_emploi: str | None = None


class FoyerFlux(msgspec.Struct, kw_only=True):
    line: int
    rank: int
    organisme: str
    matricule: str
    date_demande: date | None = None
    etat: str | None = None
    motif_suspension: str | None = None
    date_suspension: date | None = None
    motif_cloture: str | None = None
    date_cloture: date | None = None
    code_commune: str | None = None
    code_postal: str | None = None
    commune: str | None = None
    adresse: list[str] = []
    personnes: list[PersonneFlux] = []
    defaut: str | None = None
    """Why the schema refuses this household (then it is reported, not imported)."""


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _line(el: etree._Element) -> int:
    found: Any = el.sourceline
    return int(found or 0)


_ADRESSE = ("COMPLIDEADR", "COMPLADR", "NUMVOIE", "LIBTYPEVOIE", "NOMVOIE", "LIEUDIST")
_FOYER = (
    "FONORG",
    "MATRICULE",
    "DTDEMRSA",
    "ETATDOSRSA",
    "MOTISUSVERSRSA",
    "DDSUSVERSRSA",
    "MOTISUSDRORSA",
    "DDSUSDRORSA",
    "MOTICLORSA",
    "DTCLORSA",
    "NUMCOM",
    "CODEPOS",
    "NOMCOM",
    *_ADRESSE,
)
_PERSONNE = (
    "NOM",
    "NOMNAI",
    "PRENOM",
    "PRENOM2",
    "PRENOM3",
    "NOMCOMNAI",
    "DTNAI",
    "NIR",
    "SEXE",
    "NATPREST",
    "ROLEPERS",
    "TOPCHAPERS",
    "IDASSEDIC",
    "TOPPERSDRODEVORSA",
)
"""The only elements read (the schema keeps household and person tags apart): lxml filters
them in C, so the other elements of a household cost no Python object."""


def _texts(el: etree._Element, tags: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    for e in el.iter(*tags):
        text = e.text
        if text is not None:
            text = text.strip()
            if text:
                yield str(e.tag), text


_FOYER_TAGS = frozenset(_FOYER)
_ALL = ("Personne", "DonneesAdministratives", *_FOYER, *_PERSONNE)


def _foyer(el: etree._Element, rank: int) -> FoyerFlux:
    """One walk over the household's elements of interest, in document order: a validated
    household holds its persons one after another, right before DonneesAdministratives, so a
    person's elements are those between its Personne and the next Personne or
    DonneesAdministratives."""
    h: dict[str, str] = {}
    people: list[tuple[etree._Element, list[tuple[str, str]]]] = []
    current: list[tuple[str, str]] | None = None
    for e in el.iter(*_ALL):
        tag = str(e.tag)
        if tag == "Personne":
            current = []
            people.append((e, current))
            continue
        if tag == "DonneesAdministratives":
            current = None
            continue
        text = e.text
        if text is None:
            continue
        text = text.strip()
        if not text:
            continue
        if tag in _FOYER_TAGS:
            h.setdefault(tag, text)
        elif current is not None:
            current.append((tag, text))
    return FoyerFlux(
        line=_line(el),
        rank=rank,
        organisme=h.get("FONORG", "").upper(),
        matricule=h.get("MATRICULE", ""),
        date_demande=_d(h.get("DTDEMRSA")),
        etat=h.get("ETATDOSRSA"),
        motif_suspension=h.get("MOTISUSVERSRSA") or h.get("MOTISUSDRORSA"),
        date_suspension=_d(h.get("DDSUSVERSRSA") or h.get("DDSUSDRORSA")),
        motif_cloture=h.get("MOTICLORSA"),
        date_cloture=_d(h.get("DTCLORSA")),
        code_commune=h.get("NUMCOM"),
        code_postal=h.get("CODEPOS"),
        commune=h.get("NOMCOM"),
        adresse=[h[k] for k in _ADRESSE if k in h],
        personnes=[_personne(p, texts) for p, texts in people],
    )


def _personne(el: etree._Element, texts: list[tuple[str, str]]) -> PersonneFlux:
    p: dict[str, str] = {}
    prenoms: list[str] = []
    prestation = ""
    role, charge = None, False
    for tag, text in texts:
        if tag == "NATPREST":
            prestation = text
        elif prestation == "RSA" and tag == "ROLEPERS":
            role = text
        elif prestation == "RSA" and tag == "TOPCHAPERS":
            charge = text in ("1", "true")
        elif tag in ("PRENOM", "PRENOM2", "PRENOM3"):
            prenoms.append(text)
        else:
            p.setdefault(tag, text)
    top = p.get("TOPPERSDRODEVORSA")
    return PersonneFlux(
        line=_line(el),
        nir=p.get("NIR"),
        nom=p.get("NOM"),
        nom_naissance=p.get("NOMNAI"),
        prenoms=prenoms,
        date_naissance=_d(p.get("DTNAI")),
        commune_naissance=p.get("NOMCOMNAI"),
        sexe=p.get("SEXE"),
        soumis_droits_devoirs=None if top is None else top in ("1", "true"),
        role_rsa=role,
        charge_rsa=charge,
        identifiant_pole_emploi=p.get("IDASSEDIC"),
    )


_SIZE = struct.Struct("<I")


def _fault(el: etree._Element) -> str | None:
    """Why an element breaks the schema (its first error), or None when it conforms."""
    validator = schema()
    try:
        if validator.validate(el):
            return None
    except etree.XMLSchemaValidateError:  # e.g. an entity reference left unresolved
        return "contenu non validable (référence d'entité non résolue)"
    errors: Any = validator.error_log  # iterable at run time; the stubs omit it
    return str(next(iter(errors)).message)


_BLOCS = ("IdentificationFlux", "InfosFoyerRSA", "TransmissionFlux")
"""The elements `Racine` may hold, in this order (the header, households, the trailer)."""
_CONNUS = frozenset(_BLOCS)
_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml\s[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")


def _known(el: etree._Element) -> None:
    """FluxInvalide unless `el`, a child of Racine, is one of its blocks, with no text after
    it: Racine holds elements only."""
    if el.tag not in _CONNUS:
        tag = el.tag if isinstance(el.tag, str) else "contenu"
        raise FluxInvalide(
            _line(el),
            f"élément {tag} inconnu du schéma dans Racine (seuls IdentificationFlux, "
            "InfosFoyerRSA et TransmissionFlux y sont admis)",
        )
    if el.tail is not None and not el.tail.isspace():
        raise FluxInvalide(_line(el), f"texte hors des éléments du schéma après {el.tag}")


class _Encodage:
    """The declared encoding, and the check that the bytes agree with it (see limits.py)."""

    def __init__(self, head: bytes) -> None:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise FluxInvalide(
                1, "encodage UTF-16 non pris en charge (attendu windows-1252)", ENCODAGE
            )
        found = _DECLARATION.match(head)
        declared = found.group(1).decode("ascii", "replace").lower() if found else "utf-8"
        if declared not in ENCODAGES_UN_OCTET and declared not in ENCODAGES_UTF8:
            raise FluxInvalide(
                1,
                f"encodage déclaré {declared} non pris en charge (attendu windows-1252)",
                ENCODAGE,
            )
        if head.startswith(b"\xef\xbb\xbf") and declared in ENCODAGES_UN_OCTET:
            raise FluxInvalide(
                1,
                f"fichier déclaré {declared} mais commençant par la marque d'ordre UTF-8",
                ENCODAGE,
            )
        self.declared = f"déclaré {declared}" if found else "sans déclaration d'encodage (UTF-8)"
        self.single = declared in ENCODAGES_UN_OCTET
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._carry = b""

    def check(self, chunk: bytes, line: int) -> None:
        """FluxInvalide naming the line of the first byte sequence at odds with the declared
        encoding; `line` is the line at the start of the chunk."""
        if self.single:
            if chunk.isascii() and not self._carry:
                return
            data = self._carry + chunk
            self._carry = chunk[-2:] if not chunk[-2:].isascii() else b""
            found = UTF8_EN_UN_OCTET.search(data)
            if found is None:
                return
            at = max(0, found.start() - (len(data) - len(chunk)))
            raise FluxInvalide(
                line + chunk.count(b"\n", 0, at),
                f"fichier {self.declared} mais écrit en UTF-8 (octets "
                f"{found.group().hex(' ').upper()}, lus « {found.group().decode('cp1252', 'replace')} » "
                f"au lieu de « {found.group().decode('utf-8')} »): les noms seraient altérés",
                ENCODAGE,
            )
        pending = len(self._utf8.getstate()[0])
        try:
            self._utf8.decode(chunk)
        except UnicodeDecodeError as e:
            at = max(0, e.start - pending)
            raise FluxInvalide(
                line + chunk.count(b"\n", 0, at),
                f"fichier {self.declared} mais octets invalides en UTF-8 ({e.object[e.start : e.end].hex(' ').upper()}): "
                "déclarer windows-1252 si c'est l'encodage du fichier",
                ENCODAGE,
            ) from None


class _Lecture:
    """One streamed reading of a file: the parser is fed a block at a time and every limit is
    checked after each block, so memory stays bounded whatever the file holds.

    Sizes are lower bounds counted in whole blocks: a household is at least what was fed
    after the block where its start tag was seen, so a household under a limit is never
    refused, and one over it is refused within a block or two of the limit."""

    def __init__(
        self,
        spill: IO[bytes],
        limites: Limites,
        notify: Callable[[EnTete, int], None] | None,
        every: int,
    ) -> None:
        self.spill = spill
        self.notify = notify
        self.every = every
        self.limites = limites
        self.fed = 0
        self.lines = 1
        """Line at the end of what was fed."""
        self.last_line = 1
        """The last line with something on it, so far."""
        self.root: etree._Element | None = None
        self.open: etree._Element | None = None
        """The block under Racine being read (header, household or trailer)."""
        self.open_mark = 0
        """Bytes fed when its start tag was seen."""
        self.outside_mark = 0
        """Bytes fed when the last household ended: what follows is outside households."""
        self.header: EnTete | None = None
        self.trailer_line = 0
        self.rank = self.valid = 0
        self.first_fault: tuple[int, str] | None = None
        self.encode = msgspec.msgpack.Encoder().encode
        self._counted_from = min(4 * limites.foyer_elements, limites.texte)
        """Bytes from which a block may break the element or text limit (see check_block)."""
        self._count = etree.XPath("count(descendant-or-self::*)")
        self._long = etree.XPath("descendant::text()[string-length() > $n][1]")

    def feed(self, parser: etree.XMLPullParser, chunk: bytes) -> None:
        start = self.lines
        self.fed += len(chunk)
        self.lines += chunk.count(b"\n")
        self.last_line = self.lines - chunk.endswith(b"\n")
        parser.feed(chunk)
        events: Iterator[tuple[str, etree._Element]] = parser.read_events()  # type: ignore[assignment]
        root = self.root
        for event, el in events:  # households first, the common case
            if el.tag == "InfosFoyerRSA" and root is not None:
                if event == "end" and el is self.open:
                    self.open = None
                    self.household(el)
                    continue
                if (
                    event == "start"
                    and self.open is None
                    and self.header is not None
                    and not self.trailer_line
                    and el.getparent() is root
                ):
                    self.open, self.open_mark = el, self.fed
                    continue
            self.event(event, el)
            root = self.root
        self.bounds(chunk, start)

    def event(self, event: str, el: etree._Element) -> None:
        if self.root is None:
            self.root = el.getroottree().getroot()
            if self.root.tag != "Racine":
                raise FluxInvalide(
                    _line(self.root), f"élément racine {self.root.tag} au lieu de Racine"
                )
        tag = el.tag
        if el is self.root:
            if event == "end":
                self.close()
            return
        parent = el.getparent()
        if parent is not self.root:
            if event == "start":
                raise FluxInvalide(
                    _line(el),
                    f"élément {tag} hors de sa place (dans {parent.tag if parent is not None else '?'})",
                )
            return
        if event == "start":
            self.opening(el)
            return
        self.open = None
        if tag == "InfosFoyerRSA":
            self.household(el)
        elif tag == "IdentificationFlux":
            self.identification(el)
        else:
            self.trailer_line = _line(el)
            fault = _fault(el)
            if fault is not None:
                raise FluxInvalide(_line(el), fault)

    def opening(self, el: etree._Element) -> None:
        tag = el.tag
        if tag == "IdentificationFlux" and (self.header is not None or self.rank):
            raise FluxInvalide(_line(el), "bloc IdentificationFlux en double ou après les foyers")
        if tag != "IdentificationFlux" and self.header is None:
            raise FluxInvalide(_line(el), "bloc IdentificationFlux manquant avant les foyers")
        if self.trailer_line:
            raise FluxInvalide(_line(el), f"élément {tag} après le bloc TransmissionFlux")
        self.open = el
        self.open_mark = self.fed

    def identification(self, el: etree._Element) -> None:
        fault = _fault(el)
        if fault is not None:
            raise FluxInvalide(_line(el), fault)
        h = dict(_texts(el, ("TYPEFLUX", "DTCREAFLUX", "DTREF")))
        try:
            created = date.fromisoformat(h["DTCREAFLUX"])
            reference = _d(h.get("DTREF")) or created
        except ValueError as e:  # a date the schema accepts but the calendar does not
            raise FluxInvalide(_line(el), str(e)) from None
        self.header = EnTete(
            type_flux=h.get("TYPEFLUX", ""), date_creation=created, date_reference=reference
        )

    def household(self, el: etree._Element) -> None:
        if self.fed - self.open_mark + self.limites.bloc > self._counted_from:
            self.check_block(el)
        self.rank += 1
        fault = _fault(el)
        if fault is None:
            try:
                foyer = _foyer(el, self.rank)
            except ValueError as e:  # a date the schema accepts but the calendar does not
                raise FluxInvalide(_line(el), str(e)) from None
            self.valid += 1
        else:
            self.first_fault = self.first_fault or (_line(el), fault)
            foyer = FoyerFlux(line=_line(el), rank=self.rank, organisme="", matricule="")
            foyer.defaut = f"foyer non conforme au schéma: {fault}"
        record = self.encode(foyer)
        self.spill.write(_SIZE.pack(len(record)))
        self.spill.write(record)
        tail = el.tail  # its text after, if already read: clear() drops it
        if tail is not None and not tail.isspace():
            _known(el)
        el.clear()
        parent = self.root
        assert parent is not None
        before = el.getprevious()
        while before is not None:  # the household before, cleared, and whatever followed it
            _known(before)
            before = before.getprevious()
        del parent[: parent.index(el)]
        self.outside_mark = self.fed
        if self.notify is not None and self.header is not None and self.rank % self.every == 0:
            self.spill.flush()
            self.notify(self.header, self.spill.tell())

    def check_block(self, el: etree._Element) -> None:
        """The element and text limits over a block under Racine (as read so far).

        Counting costs a walk of the block, so it is done only when the block may break a
        limit: its content lies after the block of bytes where its start tag was seen, so it
        holds at most `fed - open_mark + bloc` bytes, and an element takes at least 4 bytes
        (`<a/>`), a text of n characters at least n bytes."""
        limites = self.limites
        most = self.fed - self.open_mark + limites.bloc
        if most > 4 * limites.foyer_elements and (
            cast(float, self._count(el)) > limites.foyer_elements
        ):
            raise FluxInvalide(
                _line(el),
                f"bloc {el.tag} de plus de {limites.foyer_elements} éléments",
                HORS_LIMITES,
            )
        if most > limites.texte:
            long: Any = self._long(el, n=limites.texte)
            if long:
                parent = long[0].getparent()
                raise FluxInvalide(
                    _line(parent),
                    f"texte de l'élément {parent.tag} de plus de {limites.texte} caractères",
                    HORS_LIMITES,
                )

    def check_depth(self, el: etree._Element) -> None:
        """The elements open now (the last child of the last child…) within the depth limit;
        deeper nesting inside one block is bounded by the parser (256 levels) and refused by
        the schema."""
        depth = 1
        while len(el):
            el = el[-1]
            depth += 1
            if depth > self.limites.profondeur:
                raise FluxInvalide(
                    _line(el),
                    f"éléments imbriqués sur plus de {self.limites.profondeur} niveaux",
                    HORS_LIMITES,
                )

    def bounds(self, chunk: bytes, line: int) -> None:
        """After a block: nothing unknown under Racine, and the open block within limits."""
        limites = self.limites
        if self.root is not None:
            if (self.root.text or "").strip():
                raise FluxInvalide(
                    _line(self.root), "texte hors des éléments du schéma dans Racine"
                )
            for child in self.root:
                _known(child)
        household = self.open is not None and self.open.tag == "InfosFoyerRSA"
        if self.open is not None:
            if household and self.fed - self.open_mark > limites.foyer_octets:
                raise FluxInvalide(
                    _line(self.open),
                    f"foyer de plus de {limites.foyer_octets} octets",
                    HORS_LIMITES,
                )
            self.check_block(self.open)
            self.check_depth(self.open)
        if not household and self.fed - self.outside_mark > limites.hors_foyer_octets:
            beyond = self.outside_mark + limites.hors_foyer_octets - (self.fed - len(chunk))
            raise FluxInvalide(
                line + chunk.count(b"\n", 0, max(0, beyond)),
                f"plus de {limites.hors_foyer_octets} octets hors des foyers "
                + ("depuis le foyer précédent" if self.rank else "avant le premier foyer"),
                HORS_LIMITES,
            )

    def close(self) -> None:
        """At the end of Racine: a header, households, a trailer, in this order."""
        assert self.root is not None
        if (self.root.text or "").strip():
            raise FluxInvalide(_line(self.root), "texte hors des éléments du schéma dans Racine")
        for child in self.root:
            _known(child)
        if self.header is None:
            raise FluxInvalide(self.last_line, "bloc IdentificationFlux manquant")
        if not self.rank:
            raise FluxInvalide(
                self.trailer_line or self.last_line,
                "aucun foyer (InfosFoyerRSA) dans le fichier: rien à importer",
                SANS_FOYER,
            )
        if not self.trailer_line:
            raise FluxInvalide(self.last_line, "bloc TransmissionFlux manquant à la fin de Racine")
        if self.first_fault is not None and self.valid == 0:
            raise FluxInvalide(*self.first_fault)


def scan(
    path: Path,
    spill: IO[bytes],
    notify: Callable[[EnTete, int], None] | None = None,
    every: int = 1000,
    limites: Limites = LIMITES,
) -> tuple[EnTete, int]:
    """Validate the file and spill its households; FluxInvalide names the first fault.

    `notify`, when given, is told every `every` households (flushed) the spill's length so far,
    so that another process can read the spill while it grows.

    The envelope (root, IdentificationFlux, TransmissionFlux) is validated for the whole file,
    each household on its own: a household the schema refuses is spilled with its fault, to be
    reported while the rest of the file imports. A file with no household, none conforming,
    at odds with its declared encoding or beyond a reading limit is refused whole.
    """
    lecture = _Lecture(spill, limites, notify, every)
    parser = etree.XMLPullParser(
        events=("start", "end"),
        tag=("Racine", *_BLOCS),
        resolve_entities=False,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        with path.open("rb") as f:
            chunk = f.read(limites.bloc)
            encodage = _Encodage(chunk)
            while chunk:
                encodage.check(chunk, lecture.lines)
                lecture.feed(parser, chunk)
                chunk = f.read(limites.bloc)
        parser.close()
        ends: Iterator[tuple[str, etree._Element]] = parser.read_events()  # type: ignore[assignment]
        for event, el in ends:
            lecture.event(event, el)
    except etree.XMLSyntaxError as e:
        raise FluxInvalide(e.lineno or lecture.lines, e.msg) from None
    if lecture.header is None:
        raise FluxInvalide(1, "bloc IdentificationFlux manquant")
    spill.flush()
    return lecture.header, lecture.rank


def households(spill: IO[bytes], start: int = 0, end: int | None = None) -> Iterator[FoyerFlux]:
    """The spilled households, in file order (those between two offsets)."""
    decode = msgspec.msgpack.Decoder(FoyerFlux).decode
    spill.seek(start)
    while (end is None or spill.tell() < end) and (head := spill.read(_SIZE.size)):
        (size,) = _SIZE.unpack(head)
        yield decode(spill.read(size))
