"""rdv-insertion's outgoing webhooks as parcours reads them: the signature over the raw body,
the envelope and its two resources (Rdv, Invitation), the instant of `meta.timestamp`.

Every field is optional and unknown keys are ignored: the payload's shape changed over the
years and depends on the sending organisation's type (docs/connectors.md).
"""

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec


class Usager(msgspec.Struct, frozen=True, kw_only=True):
    id: int | None = None
    affiliation_number: str | None = None
    role: str | None = None
    department_internal_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    birth_date: str | None = None
    nir: str | None = None


class Categorie(msgspec.Struct, frozen=True, kw_only=True):
    short_name: str | None = None
    name: str | None = None


class Motif(msgspec.Struct, frozen=True, kw_only=True):
    name: str = ""
    collectif: bool = False
    location_type: str | None = None
    motif_category: Categorie | None = None


class Participation(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    status: str = "unknown"
    created_at: str | None = None
    starts_at: str | None = None
    user: Usager | None = None
    created_by: str | None = None


class AgentRdvi(msgspec.Struct, frozen=True, kw_only=True):
    id: int | None = None
    email: str | None = None


class Rdv(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    starts_at: str | None = None
    status: str = "unknown"
    created_by: str | None = None
    motif: Motif | None = None
    agents: list[AgentRdvi] = []
    users: list[Usager] = []
    participations: list[Participation] | None = None
    """Absent from payloads older than 2024-07 (then every user shares the RDV's status)."""


class Invitation(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    format: str | None = None
    clicked: bool = False
    created_at: str | None = None
    delivery_status: str | None = None
    delivered_at: str | None = None
    expires_at: str | None = None
    motif_category: Categorie | None = None
    user: Usager | None = None


class MetaRdvi(msgspec.Struct, frozen=True, kw_only=True):
    model: str = ""
    event: str = ""
    timestamp: str = ""


class Enveloppe(msgspec.Struct, frozen=True, kw_only=True):
    data: msgspec.Raw = msgspec.Raw(b"null")
    meta: MetaRdvi = MetaRdvi()


_enveloppe = msgspec.json.Decoder(Enveloppe)
_rdv = msgspec.json.Decoder(Rdv)
_invitation = msgspec.json.Decoder(Invitation)


class LivraisonIllisible(ValueError):
    """An authentic body parcours cannot read (kept in the inbox with the reason)."""


def verify(body: bytes, signature: str | None, secrets: Sequence[tuple[str, str]]) -> str | None:
    """The label of the endpoint whose secret signed `body` (lowercase hex HMAC-SHA256 of the
    raw bytes, compared in constant time), or None. Every configured secret is tried, so two
    secrets of one endpoint are valid at once while it rotates. A body that is not UTF-8 is
    also tried as Latin-1 re-encoded to UTF-8 (an anomaly one receiver saw on invitations)."""
    if not signature:
        return None
    given = signature.strip().lower().encode()
    candidates = [body]
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        candidates.append(body.decode("latin-1").encode("utf-8"))
    found = None
    for label, secret in secrets:
        for candidate in candidates:
            expected = hmac.new(secret.encode(), candidate, hashlib.sha256).hexdigest().encode()
            if hmac.compare_digest(expected, given) and found is None:
                found = label
    return found


def fingerprint(body: bytes) -> str:
    """Exact duplicates (retries, sibling endpoints sharing a URL) share this."""
    return hashlib.sha256(body).hexdigest()


def instant(value: str) -> datetime:
    """A timestamp of the payload as an aware instant: ISO 8601 (`2026-05-26T14:12:08.903+02:00`)
    or the format before 2024-09 (`2024-08-15 19:30:08 +0200`)."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            raise LivraisonIllisible(f"horodatage illisible: {value!r}") from None
    if parsed.tzinfo is None:
        raise LivraisonIllisible(f"horodatage sans fuseau: {value!r}")
    return parsed


def utc_key(moment: datetime) -> str:
    """An instant written so that text order is time order (compared across offsets)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def read(body: bytes) -> tuple[MetaRdvi, Rdv | Invitation | None]:
    """The envelope's meta and its resource (None for a model parcours does not read)."""
    try:
        envelope = _enveloppe.decode(body)
        if envelope.meta.model == "Rdv":
            return envelope.meta, _rdv.decode(envelope.data)
        if envelope.meta.model == "Invitation":
            return envelope.meta, _invitation.decode(envelope.data)
    except msgspec.DecodeError as e:
        raise LivraisonIllisible(f"corps illisible: {e}") from None
    return envelope.meta, None


def participations(rdv: Rdv) -> list[Participation]:
    """Each person's participation; an old payload without them gives one per user, with the
    RDV's status and an id derived from the user's (negative: never an rdv-insertion one)."""
    if rdv.participations is not None:
        return rdv.participations
    return [
        Participation(id=-(u.id or 0), status=rdv.status, starts_at=rdv.starts_at, user=u)
        for u in rdv.users
        if u.id is not None
    ]
