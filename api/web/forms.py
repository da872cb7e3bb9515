"""A form for each step, derived from its command's msgspec struct, so that a new step gets
its form with no template work: dates, the vocabulary's enums (a select), fixed values (a
select), booleans (a checkbox), integers, identifiers (one line), free text (a text area,
the bounds allowing line breaks there) and lists of text (a text area, one item a line: a
contract's objectives and actions). Optional fields are not required; a nested struct (an
optional profile the flux sends) has no field here."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
import msgspec.inspect as mi

from api.web import labels
from domain.bounds import CODES_COMMUNE, IDENTIFIANTS
from domain.commands import Commande


@dataclass(frozen=True)
class Champ:
    """One field of a step's form."""

    name: str
    label: str
    kind: str
    """date, select, checkbox, number, text or textarea."""
    required: bool
    options: tuple[tuple[str, str], ...] = ()
    """(value, label) of a select."""
    default: str = ""
    placeholder: str = ""
    integer: bool = False
    """Read as an integer (a number, or a choice among fixed integers)."""
    liste: bool = False
    """A list of text: a text area read one item a line (blank lines dropped)."""


def _kind(t: mi.Type) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    if isinstance(t, mi.DateType):
        return "date", ()
    if isinstance(t, mi.EnumType):
        return "select", tuple((m.value, labels.valeur(m.value)) for m in t.cls)
    if isinstance(t, mi.LiteralType):
        return "select", tuple((str(v), labels.valeur(str(v))) for v in t.values)
    if isinstance(t, mi.BoolType):
        return "checkbox", ()
    if isinstance(t, mi.IntType):
        return "number", ()
    if isinstance(t, mi.StrType):
        return "text", ()
    if isinstance(t, mi.ListType) and isinstance(t.item_type, mi.StrType):
        return "liste", ()
    return None


def _literals(t: mi.Type) -> tuple[Any, ...]:
    return t.values if isinstance(t, mi.LiteralType) else ()


def _shown(value: Any) -> str:
    if value is None or value is msgspec.NODEFAULT:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    return str(getattr(value, "value", value))


def champs(command: type[Commande], example: Mapping[str, Any]) -> list[Champ]:
    """The fields of `command`'s form, in its struct's order; the route's example gives the
    placeholders of text and numbers."""
    info = mi.type_info(command)
    assert isinstance(info, mi.StructType)
    out: list[Champ] = []
    for field in info.fields:
        t = field.type
        if isinstance(t, mi.UnionType):
            t = next((u for u in t.types if not isinstance(u, mi.NoneType)), t)
        found = _kind(t)
        if found is None:
            continue  # a nested struct: not keyed on a screen
        kind, options = found
        liste = kind == "liste"
        if liste:
            kind = "textarea"
        if kind == "text" and field.name not in IDENTIFIANTS | CODES_COMMUNE:
            kind = "textarea"
        if kind == "select" and not field.required and field.default is None:
            options = (("", "—"), *options)
        shown = example.get(field.name)
        if liste and isinstance(shown, list):
            shown = "\n".join(str(item) for item in shown)
        placeholder = _shown(shown) if kind in ("text", "textarea", "number") else ""
        out.append(
            Champ(
                name=field.name,
                label=labels.champ(field.name),
                kind=kind,
                required=field.required,
                options=options,
                default=_shown(field.default),
                placeholder=f"p. ex. {placeholder}" if placeholder else "",
                integer=kind == "number" or any(isinstance(v, int) for v in _literals(t)),
                liste=liste,
            )
        )
    return out


def initial(fields: list[Champ], today: date) -> dict[str, str]:
    """What a fresh form shows: each field's default, and today as the date of effect."""
    form = {f.name: f.default for f in fields if f.default}
    form["effective_on"] = today.isoformat()
    return form


REQUIRED = "Ce champ est obligatoire."


def body(fields: list[Champ], form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The command's body from what was typed (an empty optional field is left out), and the
    errors of fields that cannot be read (missing, not a number)."""
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        value = form.get(f.name, "").strip() if f.kind != "textarea" else form.get(f.name, "")
        if f.kind == "checkbox":
            out[f.name] = value == "on"
        elif f.liste:
            items = [line.strip() for line in value.splitlines() if line.strip()]
            if items:
                out[f.name] = items
            elif f.required:
                errors[f.name] = REQUIRED
        elif not value.strip():
            if f.required:
                errors[f.name] = REQUIRED
        elif f.integer:
            try:
                out[f.name] = int(value)
            except ValueError:
                errors[f.name] = "Un nombre entier est attendu."
        else:
            out[f.name] = value
    return out, errors


_PATH = re.compile(r"at `\$\.([A-Za-z_][\w.\[\]]*)`")


def decoding_error(error: msgspec.ValidationError) -> tuple[str, str]:
    """The field a decoding error names (`… - at `$.date_rdv``), and its message in French."""
    found = _PATH.search(str(error))
    field = found.group(1) if found else ""
    return field, f"Valeur invalide ({str(error).split(' - at ')[0]})."
