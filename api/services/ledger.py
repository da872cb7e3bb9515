"""The log auditors can verify: the hash chain recomputed over the stored events (the first
event altered, inserted or deleted, with its position, case and type), and signed checkpoints
(position, root hash, time) that let a later reader prove the log unchanged up to them.

docs/audit.md, "Verifying the log", says what is hashed, what a checkpoint signs and what
each verification proves.
"""

import time
from datetime import UTC, datetime

import msgspec
import structlog

from adapters.checkpoint_key import public_hex, sign, signature_valid, signing_key
from adapters.eventlog.chain import GENESIS, Break, PointDeControle
from adapters.eventlog.chain_shares import MIN_SHARE, Found, walk_shares
from adapters.eventlog.reading import chain_end, chain_tables, chained_batch
from adapters.eventlog.store import Parcours

VERIFY_BATCH = 10_000
"""Rows read per query while verifying: memory stays that of one batch."""

log = structlog.get_logger("ledger")


class PointInvalide(ValueError):
    """A checkpoint file that cannot be read as one."""


class ControlePoint(msgspec.Struct, frozen=True, kw_only=True):
    """What a verification found of a checkpoint."""

    position: int
    racine: str
    signature_valide: bool
    """Signed by the trusted key, and unchanged since."""
    racine_recalculee: str | None
    """The chain's hash at `position` as recomputed from the stored rows (None when it could
    not be: a break before it, or a log shorter than it)."""
    conforme: bool
    detail: str


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict of `parcours audit verify`."""

    conforme: bool
    depuis: int
    """Position after which the chain was recomputed (0: from the first event)."""
    jusqu_a: int
    """Last position verified (the end of the log when the verification started)."""
    evenements: int
    premiere_rupture: Break | None
    ruptures: list[Break]
    """Every break found, in log order (at most 100)."""
    point: ControlePoint | None = None
    secondes: float = 0.0


def read_point(data: bytes) -> PointDeControle:
    """A checkpoint as written by `parcours audit point-de-controle` (JSON)."""
    try:
        return msgspec.json.decode(data, type=PointDeControle)
    except msgspec.DecodeError as e:
        raise PointInvalide(f"point de contrôle illisible: {e}") from e


def trusted_key(app: Parcours) -> str:
    """This département's public key: the one its checkpoints must be signed with."""
    return public_hex(signing_key(app.settings))


def _check_signature(point: PointDeControle, public: str) -> str | None:
    """Why the checkpoint is not to be trusted, or None."""
    if point.cle != public:
        return f"signé par une autre clé ({point.cle[:16]}…) que celle attendue ({public[:16]}…)"
    if not signature_valid(point, public):
        return "signature invalide: le point a été modifié ou n'a pas été signé par cette clé"
    return None


def verify(
    app: Parcours,
    point: PointDeControle | None = None,
    depuis: PointDeControle | None = None,
    public: str | None = None,
    batch: int = VERIFY_BATCH,
    workers: int | None = None,
    min_share: int = MIN_SHARE,
) -> Verification:
    """Recompute the chain over the stored log, batch by batch, in shares checked by up to
    `workers` processes (one per core by default; one alone below `min_share` events per
    extra process): each share takes up from the stored link before it.

    With `point`: the recomputed hash at its position must equal its signed root (the log up
    to there is unchanged since it was made). With `depuis`: its signature is checked, the
    stored link at its position must hold its root, and the chain is recomputed only after it
    (what came before is vouched for by the checkpoint)."""
    started = time.perf_counter()
    key = public or trusted_key(app)
    stop = chain_end(app)
    start, digest = 0, None
    problem: str | None = None
    if depuis is not None:
        problem = _check_signature(depuis, key)
        start, digest = depuis.position, bytes.fromhex(depuis.racine)
        if problem is None:
            held, _ = chained_batch(app, start - 1, 1, start)
            if not held or held[0][0] != start or held[0][6] != digest:
                problem = f"le maillon de la position {start} n'est plus celui du point"
    found = walk_shares(
        chain_tables(app),
        start,
        stop,
        digest=GENESIS if digest is None else digest,
        batch=batch,
        watch=None if point is None else point.position,
        workers=workers,
        min_share=min_share,
    )
    checked = None
    if point is not None:
        checked = _point_verdict(point, key, found, stop)
    elif depuis is not None:
        checked = ControlePoint(
            position=depuis.position,
            racine=depuis.racine,
            signature_valide=problem is None or not problem.startswith(("signé", "signature")),
            racine_recalculee=None,
            conforme=problem is None,
            detail=problem or "point vérifié; chaîne recalculée après lui",
        )
    ok = not found.breaks and (checked is None or checked.conforme)
    return Verification(
        conforme=ok,
        depuis=start,
        jusqu_a=stop,
        evenements=found.events,
        premiere_rupture=found.breaks[0] if found.breaks else None,
        ruptures=found.breaks,
        point=checked,
        secondes=round(time.perf_counter() - started, 3),
    )


def _point_verdict(point: PointDeControle, key: str, walk: Found, stop: int) -> ControlePoint:
    problem = _check_signature(point, key)
    recomputed = walk.computed.get(point.position)
    if problem is None:
        if stop < point.position:
            problem = f"le journal s'arrête à la position {stop}, avant celle du point"
        elif recomputed is None:
            first = walk.breaks[0].position if walk.breaks else point.position
            problem = f"rupture de la chaîne à la position {first}, avant ou au point"
        elif recomputed.hex() != point.racine:
            problem = "la chaîne recalculée diffère de la racine signée: le journal a changé"
    return ControlePoint(
        position=point.position,
        racine=point.racine,
        signature_valide=problem is None or not problem.startswith(("signé", "signature")),
        racine_recalculee=None if recomputed is None else recomputed.hex(),
        conforme=problem is None,
        detail=problem or "le journal jusqu'au point est inchangé",
    )


def checkpoint(app: Parcours, motif: str = "demande") -> PointDeControle:
    """Sign the chain's last link (position, root hash, now) and store the checkpoint."""
    last = app.recorder.last_link()
    point = PointDeControle(
        position=0 if last is None else last.position,
        racine=(bytes(32) if last is None else last.hash).hex(),
        horodatage=datetime.now(UTC).isoformat(timespec="seconds"),
        motif=motif,
    )
    signed = sign(signing_key(app.settings), point)
    app.recorder.store_checkpoint(signed)
    return signed


def checkpoint_after(app: Parcours, motif: str) -> PointDeControle | None:
    """A checkpoint after something already recorded (a statement issued, an import's
    report): its failure is logged, never turned into the failure of what was recorded."""
    try:
        return checkpoint(app, motif)
    except Exception as e:  # the recorded fact stands; the next checkpoint covers it
        log.warning("point_de_controle.echec", motif=motif, erreur=str(e))
        return None


def checkpoints(app: Parcours, limit: int = 100) -> list[PointDeControle]:
    """The latest stored checkpoints, newest first."""
    return app.recorder.checkpoints(limit)
