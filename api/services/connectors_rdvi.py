"""rdv-insertion's webhooks turned into steps of the cases: the use cases of the connector.

A delivery is stored first (`receive`, what the HTTP door calls), processed after
(`process_pending`, in the projection worker): each participation of an RDV is matched to a
case and diffed against what parcours last recorded for it; each difference becomes a step
recorded through `api.services.cases.handle`, the same rules as an agent's. Each step's
idempotency key names the delivery's resource, instant and participation, so a delivery
processed again after a crash replays what it recorded instead of recording it twice.
What parcours cannot record by itself (an unmatched person, a step the rules refuse) goes to
the review queue. The mapping is in docs/connectors.md.
"""

import sqlite3
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from datetime import date, datetime, tzinfo
from uuid import UUID

import msgspec
import psycopg
import structlog
from eventsourcing.persistence import PersistenceError
from msgspec.structs import replace

from adapters.connectors import rdv_insertion as rdvi
from adapters.connectors.rdv_insertion_store import (
    ERREUR,
    IGNOREE,
    TRAITEE,
    AReviser,
    ElementARevoir,
    Livraison,
    RdviStore,
    Ressource,
    SuiviParticipation,
    retention_floor,
)
from adapters.eventlog.store import Parcours
from adapters.identity import IdentityStore
from api.services.cases import handle
from api.services.commands import Author
from domain import commands as cmd
from domain import events as ev
from domain.dossier import fold_history
from domain.errors import DomainError
from domain.vocabulary import EtatInvitation, IssueRdv, ModeRdv, TypeRdv

log = structlog.get_logger("rdv_insertion")

CONNECTOR = "rdv-insertion"
"""`meta.recorded_by` of the steps the connector records, followed by the rdv-insertion
agent's e-mail when the RDV names one (`rdv-insertion:claire.durand@example.org`)."""
ORGANISMES = ("caf", "msa")
ISSUES = frozenset(i.value for i in IssueRdv)
PURGE_EVERY = 3600.0
"""Seconds between two purges of the inbox past its retention period."""

ORIENTATION = "rsa_orientation"
INFORMATION = frozenset({"rsa_droits_devoirs", "rsa_integration_information"})
ACCOMPAGNEMENT = frozenset({"rsa_follow_up"})
"""With every `rsa_accompagnement*`: the first of the episode is the first accompaniment RDV."""
SUIVI = frozenset(
    {
        "rsa_insertion_offer",
        "rsa_main_tendue",
        "rsa_spie",
        "rsa_atelier_collectif_mandatory",
        "rsa_atelier_rencontres_pro",
        "rsa_atelier_competences",
    }
)


class SignatureRefusee(Exception):
    """No configured secret signed the body (or no signature was sent)."""


class Recue(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to rdv-insertion: stored (or already stored), to be processed."""

    livraison: int | None
    doublon: bool
    point: str


class RdvLu(msgspec.Struct, frozen=True, kw_only=True):
    """What the review screen shows of an item's RDV (None: purged, unreadable, not a RDV)."""

    debut: str | None
    motif: str | None


class ItemInconnu(Exception):
    pass


class ItemDejaDecide(Exception):
    pass


def kind_of(category: str | None, collectif: bool) -> TypeRdv | None:
    """The kind of RDV a motif category records (None: a category parcours does not follow).
    `PREMIER_ACCOMPAGNEMENT` stands for the accompaniment family, read per case."""
    name = category or ""
    if name.startswith(ORIENTATION):
        return TypeRdv.INFORMATION_COLLECTIVE if collectif else TypeRdv.ENTRETIEN_ORIENTATION
    if name in INFORMATION:
        return TypeRdv.INFORMATION_COLLECTIVE
    if name == "rsa_cer_signature":
        return TypeRdv.SIGNATURE_CER
    if name.startswith("rsa_accompagnement") or name in ACCOMPAGNEMENT:
        return TypeRdv.PREMIER_ACCOMPAGNEMENT
    if name in SUIVI:
        return TypeRdv.SUIVI
    return None


def mode_of(motif: rdvi.Motif | None, p: rdvi.Participation) -> ModeRdv:
    """Convocation is not in the payload: rdv-insertion's own rule, approximated (the motif's
    name says "convocation", or a collective motif with the person added by an agent)."""
    if motif is not None and (
        "convocation" in motif.name.lower() or (motif.collectif and p.created_by == "agent")
    ):
        return ModeRdv.CONVOCATION
    return ModeRdv.INVITATION


def first_or_follow_up(app: Parcours, case_id: UUID, kind: TypeRdv) -> TypeRdv:
    """An accompaniment RDV is the first of the episode, or a follow-up one."""
    if kind is not TypeRdv.PREMIER_ACCOMPAGNEMENT:
        return kind
    state = fold_history(app.history(case_id))
    if any(
        r.type_rdv is TypeRdv.PREMIER_ACCOMPAGNEMENT and r.episode == state.episode
        for r in state.rdvs.values()
    ):
        return TypeRdv.SUIVI
    return kind


UNDELIVERED = frozenset({"soft_bounce", "hard_bounce", "blocked", "invalid_email", "error"})


def invitation_facts(
    invitation: rdvi.Invitation, moment: datetime, tz: tzinfo, today: date
) -> list[tuple[EtatInvitation, date]]:
    """What the invitation's state says happened, each with its day (never after today)."""

    def local(value: str | None) -> date:
        return min((rdvi.instant(value) if value else moment).astimezone(tz).date(), today)

    facts = [(EtatInvitation.ENVOYEE, local(invitation.created_at))]
    if invitation.delivery_status == "delivered":
        facts.append((EtatInvitation.DELIVREE, local(invitation.delivered_at)))
    elif invitation.delivery_status in UNDELIVERED:
        facts.append((EtatInvitation.NON_DELIVREE, local(None)))
    if invitation.clicked:
        facts.append((EtatInvitation.OUVERTE, local(None)))
    if invitation.expires_at and rdvi.instant(invitation.expires_at) <= moment:
        facts.append((EtatInvitation.EXPIREE, local(invitation.expires_at)))
    return facts


def _day(value: str | None) -> date | None:
    """The calendar day of a datetime as written (in its own zone: an RDV's local day)."""
    return rdvi.instant(value).date() if value else None


class RdviConnector:
    """The inbox, its processing and the review queue, on one store."""

    def __init__(
        self,
        app: Parcours,
        store: RdviStore | None = None,
        identities: IdentityStore | None = None,
    ) -> None:
        self.app = app
        self.store = store or RdviStore(app.settings)
        self._identities = identities
        self._lock = threading.Lock()

    @property
    def identities(self) -> IdentityStore:
        """The identity vault, opened by the processor only (the door never reads it)."""
        if self._identities is None:
            self._identities = IdentityStore(self.app.settings)
        return self._identities

    # --- the door ----------------------------------------------------------------------------

    def receive(self, body: bytes, signature: str | None, entetes: dict[str, str]) -> Recue:
        """Check the signature and store the raw delivery; nothing else before the 2xx."""
        point = rdvi.verify(body, signature, self.app.settings.rdvi_secrets)
        if point is None:
            raise SignatureRefusee
        stored = self.store.receive(body, point, rdvi.fingerprint(body), entetes, self.app.clock())
        return Recue(livraison=stored, doublon=stored is None, point=point)

    # --- the processor -----------------------------------------------------------------------

    def process_pending(self, limit: int = 200) -> int:
        """Process the oldest deliveries, in the order received; how many were processed.
        One processor at a time in a process (the worker's thread, or a test)."""
        with self._lock:
            batch = self.store.pending(limit)
            for livraison in batch:
                self._process(livraison)
            return len(batch)

    def drain(self) -> int:
        """Process until the inbox is empty (tests, `parcours project --une-fois`)."""
        total = 0
        while n := self.process_pending():
            total += n
        return total

    def purge(self) -> int:
        return self.store.purge(
            retention_floor(self.app.clock(), self.app.settings.rdvi_retention_days)
        )

    def run_forever(self, stop: threading.Event) -> None:
        """Process the inbox as it fills, purge it past its retention period; no error ends
        the loop (a store that does not answer is waited for, the delivery stays in the
        inbox)."""
        failures = 0
        purged = 0.0
        while not stop.is_set():
            try:
                done = self.process_pending()
                if time.monotonic() - purged > PURGE_EVERY:
                    if n := self.purge():
                        log.info("rdvi.purge", deliveries=n)
                    purged = time.monotonic()
                failures = 0
            except Exception as e:
                failures += 1
                log.warning("rdvi.processing_paused", error=str(e), failures=failures)
                stop.wait(min(30.0, self.app.settings.poll_interval * 2 ** min(failures, 6)))
                continue
            if not done:
                stop.wait(self.app.settings.poll_interval)

    def _process(self, livraison: Livraison) -> None:
        now = self.app.clock()
        try:
            meta, resource = rdvi.read(livraison.corps)
            moment = rdvi.instant(meta.timestamp)
            if isinstance(resource, rdvi.Rdv):
                self._rdv(livraison, meta, resource, moment)
            elif isinstance(resource, rdvi.Invitation):
                self._invitation(livraison, meta, resource, moment)
            else:
                self.store.settle(livraison.id, IGNOREE, f"modèle {meta.model!r} non lu", now)
        except (PersistenceError, psycopg.Error, sqlite3.Error):
            raise  # the store: the delivery stays to process, the loop waits
        except Exception as e:
            log.warning("rdvi.delivery_failed", delivery=livraison.id, error=str(e))
            self.store.settle(livraison.id, ERREUR, f"{type(e).__name__}: {e}", now)

    def _stale(self, livraison: Livraison, modele: str, rid: str, key: str) -> str | None:
        """Why this delivery changes nothing: an older state of the resource than the last
        applied, or a resource already deleted. The same state again is applied again: the
        diff makes it a no-op for what was recorded, and a sibling endpoint's copy may name a
        person the first copy could not match (a NIR its organisation type may see)."""
        known = self.store.resource(modele, rid)
        if known is None:
            return None
        if known.supprime:
            return f"{modele} {rid} supprimé le {known.horodatage}: plus rien ne s'y applique"
        if key < known.horodatage:
            return f"état du {key} plus ancien que celui du {known.horodatage}, déjà appliqué"
        return None

    def _invitation(
        self,
        livraison: Livraison,
        meta: rdvi.MetaRdvi,
        invitation: rdvi.Invitation,
        moment: datetime,
    ) -> None:
        """Each state of an invitation goes once on the person's timeline: sent, delivered
        or undeliverable, opened, expired."""
        key = rdvi.utc_key(moment)
        rid = str(invitation.id)
        now = self.app.clock()
        if (why := self._stale(livraison, "Invitation", rid, key)) is not None:
            self.store.settle(livraison.id, IGNOREE, why, now)
            return
        destroyed = meta.event == "destroyed"
        ressource = Ressource(
            modele="Invitation",
            ressource_id=rid,
            horodatage=key,
            supprime=destroyed,
            livraison_id=livraison.id,
        )
        category = invitation.motif_category.short_name if invitation.motif_category else None
        kind = kind_of(category, False)
        if destroyed or kind is None:
            detail = "invitation supprimée" if destroyed else f"catégorie {category!r} non suivie"
            self.store.settle(livraison.id, IGNOREE, detail, now, ressource)
            return
        usager_id = str(invitation.user.id) if invitation.user and invitation.user.id else None
        known = self.store.invitation(rid)
        if known is not None:
            case_id, done = UUID(known[0]), set(known[1])
        else:
            found, why = self.match(invitation.user)
            if found is None:
                item = AReviser(
                    cle=f"Invitation:{rid}:non_rapproche",
                    livraison_id=livraison.id,
                    modele="Invitation",
                    ressource_id=rid,
                    participation=None,
                    usager_id=usager_id,
                    motif="non_rapproche",
                    detail=why,
                    personne=_person(invitation.user),
                )
                self.store.settle(livraison.id, TRAITEE, "à revoir", now, ressource, revoir=[item])
                return
            case_id, done = found, set()
        resolus = [f"Invitation:{rid}:non_rapproche"]
        kind = first_or_follow_up(self.app, case_id, kind)
        revoir = []
        steps = 0
        for etat, day in invitation_facts(invitation, moment, self.app.tz, self.app.today()):
            if etat.value in done:
                continue
            step_key = f"rdvi:Invitation:{rid}:{etat.value}"
            command = cmd.NoterInvitation(
                effective_on=day,
                invitation=f"rdv-insertion-{rid}",
                canal=invitation.format or "inconnu",
                etat=etat,
                type_rdv=kind,
            )
            try:
                outcome = handle(
                    self.app,
                    case_id,
                    command,
                    Author(user=CONNECTOR, request_id=step_key),
                    idempotency_key=step_key,
                    fingerprint=step_key,
                )
            except DomainError as e:
                revoir.append(
                    AReviser(
                        cle=f"Invitation:{rid}:regle",
                        livraison_id=livraison.id,
                        modele="Invitation",
                        ressource_id=rid,
                        participation=None,
                        usager_id=usager_id,
                        motif="regle",
                        detail=f"{e.code}: {e.detail}",
                        personne=_person(invitation.user),
                    )
                )
                break
            steps += 0 if outcome.replayed else 1
            done.add(etat.value)
        self.store.settle(
            livraison.id,
            TRAITEE,
            f"{steps} étape(s) enregistrée(s), {len(revoir)} à revoir",
            now,
            ressource,
            revoir=revoir,
            invitation=(rid, case_id.hex, frozenset(done)),
            resolus=[] if known is not None else resolus,
        )

    def _rdv(
        self, livraison: Livraison, meta: rdvi.MetaRdvi, rdv: rdvi.Rdv, moment: datetime
    ) -> None:
        key = rdvi.utc_key(moment)
        rid = str(rdv.id)
        now = self.app.clock()
        if (why := self._stale(livraison, "Rdv", rid, key)) is not None:
            self.store.settle(livraison.id, IGNOREE, why, now)
            return
        destroyed = meta.event == "destroyed"
        ressource = Ressource(
            modele="Rdv",
            ressource_id=rid,
            horodatage=key,
            supprime=destroyed,
            livraison_id=livraison.id,
        )
        category = rdv.motif.motif_category if rdv.motif else None
        short_name = category.short_name if category else None
        kind = kind_of(short_name, rdv.motif.collectif if rdv.motif else False)
        if kind is None:
            self.store.settle(
                livraison.id,
                IGNOREE,
                f"catégorie de motif {short_name!r} non suivie",
                now,
                ressource,
            )
            return
        run = _Run(self, livraison, rdv, moment, key, kind)
        known = self.store.participations(rid)
        present = set()
        for p in rdvi.participations(rdv):
            pid = str(p.id)
            present.add(pid)
            target = "revoked" if destroyed and p.status == "unknown" else p.status
            run.participation(p, known.get(pid), target, plan=not destroyed)
        for pid, suivi in known.items():
            if pid not in present and suivi.statut == "unknown":
                run.apply(suivi, "revoked", suivi.date_rdv, "retire")  # removed from the RDV
        detail = f"{run.steps} étape(s) enregistrée(s), {len(run.revoir)} à revoir"
        self.store.settle(
            livraison.id, TRAITEE, detail, now, ressource, run.suivis, run.revoir, None, run.resolus
        )

    # --- matching ----------------------------------------------------------------------------

    def match(self, usager: rdvi.Usager | None) -> tuple[UUID | None, str]:
        """The case of an rdv-insertion person: an agent's earlier link, the département's id
        (parcours' case id), or the CAF/MSA file number with the NIR through the identity
        vault's blind index (never in clear). Otherwise why not."""
        if usager is None:
            return None, "participation sans usager"
        if usager.id is not None and (linked := self.store.linked(str(usager.id))):
            return UUID(linked), ""
        if usager.department_internal_id:
            try:
                case_id = UUID(usager.department_internal_id.strip())
            except ValueError:
                case_id = None
            if case_id is not None and self.app.history(case_id):
                return case_id, ""
        if usager.affiliation_number and usager.nir:
            blinds = [
                self.identities.blind_index(o, usager.affiliation_number, usager.nir)
                for o in ORGANISMES
            ]
            found = self.store.cases_of(self.identities, blinds)
            if len(set(found)) == 1:
                return found[0], ""
        missing = []
        if not usager.affiliation_number:
            missing.append("numéro d'allocataire")
        if not usager.nir:
            missing.append("NIR")
        detail = "aucun dossier pour l'identifiant du département"
        if usager.affiliation_number and usager.nir:
            detail += ", ni pour ce numéro d'allocataire et ce NIR"
        elif missing:
            detail += f"; sans {' ni '.join(missing)}, pas de recherche par l'index"
        return None, detail

    # --- the review queue --------------------------------------------------------------------

    def review_items(
        self, etat: str | None = "ouvert", limit: int = 100, offset: int = 0
    ) -> tuple[list[ElementARevoir], int]:
        return self.store.review_items(etat, limit, offset)

    def rdv_details(self, items: Sequence[ElementARevoir]) -> dict[int, RdvLu]:
        """Each item's RDV (start, motif) as its delivery gives it, for the review screen."""
        bodies = self.store.bodies(sorted({i.livraison_id for i in items}))
        found: dict[int, RdvLu] = {}
        for item in items:
            body = bodies.get(item.livraison_id)
            resource: rdvi.Rdv | rdvi.Invitation | None = None
            if body is not None:
                with suppress(rdvi.LivraisonIllisible):
                    resource = rdvi.read(body)[1]
            if isinstance(resource, rdvi.Rdv):
                motif = resource.motif.name if resource.motif else None
                found[item.id] = RdvLu(debut=resource.starts_at, motif=motif or None)
        return found

    def link(self, item_id: int, case_id: UUID, by: str) -> ElementARevoir:
        """Link the item's person to a case: kept for the person's later deliveries, and the
        RDV's last delivery is processed again (what it records goes through the rules)."""
        item = self._open(item_id)
        if not self.app.history(case_id):
            raise DomainError("dossier_inconnu", f"Aucun dossier {case_id}.", "case_id")
        link = (item.usager_id, case_id.hex) if item.usager_id else None
        last = self.store.resource(item.modele, item.ressource_id)
        requeue = last.livraison_id if last else item.livraison_id
        if not self.store.decide(item_id, "lie", str(case_id), by, self.app.clock(), link, requeue):
            raise ItemDejaDecide
        return self._found(item_id)

    def dismiss(self, item_id: int, by: str, motif: str | None = None) -> ElementARevoir:
        """Close the item with nothing recorded, and why (kept with it)."""
        self._open(item_id)
        now = self.app.clock()
        if not self.store.decide(item_id, "ecarte", None, by, now, None, None, motif):
            raise ItemDejaDecide
        return self._found(item_id)

    def _open(self, item_id: int) -> ElementARevoir:
        item = self._found(item_id)
        if item.etat != "ouvert":
            raise ItemDejaDecide
        return item

    def _found(self, item_id: int) -> ElementARevoir:
        item = self.store.review_item(item_id)
        if item is None:
            raise ItemInconnu
        return item


class _Run:
    """One RDV delivery's processing: the participations' new states, the items to review."""

    def __init__(
        self,
        connector: RdviConnector,
        livraison: Livraison,
        rdv: rdvi.Rdv,
        moment: datetime,
        key: str,
        kind: TypeRdv,
    ) -> None:
        self.c = connector
        self.app = connector.app
        self.livraison = livraison
        self.rdv = rdv
        self.rid = str(rdv.id)
        self.key = key
        self.kind = kind
        self.day = min(moment.astimezone(self.app.tz).date(), self.app.today())
        agent = next((a.email for a in rdv.agents if a.email), None)
        self.by = f"{CONNECTOR}:{agent}" if agent else CONNECTOR
        self.suivis: list[SuiviParticipation] = []
        self.revoir: list[AReviser] = []
        self.resolus: list[str] = []
        self.steps = 0

    def participation(
        self,
        p: rdvi.Participation,
        suivi: SuiviParticipation | None,
        target: str,
        *,
        plan: bool,
    ) -> None:
        pid = str(p.id)
        usager_id = str(p.user.id) if p.user and p.user.id is not None else None
        starts = p.starts_at or self.rdv.starts_at
        day = _day(starts)
        if suivi is None:
            if not plan:
                return  # deleted before parcours recorded it: nothing to cancel
            case_id, why = self.c.match(p.user)
            if case_id is None:
                self._review(pid, usager_id, p.user, "non_rapproche", why)
                return
            suivi = SuiviParticipation(
                participation=pid, rdv_id=self.rid, case_id=case_id.hex, usager_id=usager_id
            )
            self.resolus.append(f"Rdv:{self.rid}:{pid}:non_rapproche")
        if suivi.numero is None:
            if day is None:
                self._review(pid, usager_id, p.user, "regle", "RDV sans date (starts_at)")
                return
            created = _day(p.created_at) or self.day
            planned = self._planify(suivi, p, min(created, day, self.app.today()), day)
            if planned is None:
                return
            suivi = planned
        self.apply(suivi, target, day.isoformat() if day else None, "", p.user)

    def apply(
        self,
        suivi: SuiviParticipation,
        target: str,
        day: str | None,
        why: str,
        user: rdvi.Usager | None = None,
    ) -> None:
        """Move, qualify or correct a recorded participation towards the payload's state."""
        pid = suivi.participation
        try:
            if (
                day is not None
                and day != suivi.date_rdv
                and suivi.version_issue is None
                and suivi.numero is not None
            ):
                self._step(
                    suivi,
                    "report",
                    cmd.DeplacerRdv(
                        effective_on=self.day, numero=suivi.numero, date_rdv=date.fromisoformat(day)
                    ),
                )
                suivi = replace(suivi, date_rdv=day)
            if target != suivi.statut and (target in ISSUES or target == "unknown"):
                if suivi.version_issue is not None:
                    motif = f"statut corrigé dans rdv-insertion: {suivi.statut} → {target}"
                    self._step(
                        suivi,
                        "annulation",
                        cmd.AnnulerEtape(
                            effective_on=self.day, version_annulee=suivi.version_issue, motif=motif
                        ),
                    )
                    suivi = replace(suivi, version_issue=None, statut="unknown")
                if target in ISSUES and suivi.numero is not None:
                    issue = IssueRdv(target)
                    effective = self.day
                    if issue in (IssueRdv.SEEN, IssueRdv.NOSHOW) and suivi.date_rdv:
                        effective = max(effective, date.fromisoformat(suivi.date_rdv))
                    version = self._step(
                        suivi,
                        f"issue-{target}-{why}" if why else f"issue-{target}",
                        cmd.EnregistrerIssueRdv(
                            effective_on=effective, numero=suivi.numero, issue=issue
                        ),
                    )
                    suivi = replace(suivi, version_issue=version, statut=target)
            self.resolus.append(f"Rdv:{self.rid}:{pid}:regle")
        except DomainError as e:
            self._review(pid, suivi.usager_id, user, "regle", f"{e.code}: {e.detail}")
        self.suivis.append(suivi)

    def _planify(
        self,
        suivi: SuiviParticipation,
        p: rdvi.Participation,
        effective: date,
        day: date,
    ) -> SuiviParticipation | None:
        case_id = UUID(suivi.case_id)
        kind = first_or_follow_up(self.app, case_id, self.kind)
        command = cmd.PlanifierRdv(
            effective_on=effective,
            type_rdv=kind,
            mode=mode_of(self.rdv.motif, p),
            date_rdv=day,
        )
        try:
            version = self._step(suivi, "planification", command)
        except DomainError as e:
            self._review(
                suivi.participation, suivi.usager_id, p.user, "regle", f"{e.code}: {e.detail}"
            )
            return None
        event = self.app.history(case_id)[version - 1].event
        numero = event.numero if isinstance(event, ev.RdvPlanifie) else None
        return replace(suivi, numero=numero, date_rdv=day.isoformat())

    def _step(self, suivi: SuiviParticipation, name: str, command: cmd.Commande) -> int:
        """Record one step through the rules, keyed by this delivery's state of this
        participation: processed again, it replays. Returns the case's version after it."""
        key = f"rdvi:Rdv:{self.rid}:{self.key}:{suivi.participation}:{name}"
        outcome = handle(
            self.app,
            UUID(suivi.case_id),
            command,
            Author(user=self.by, request_id=key),
            idempotency_key=key,
            fingerprint=key,
        )
        self.steps += 0 if outcome.replayed else 1
        return outcome.version

    def _review(
        self,
        pid: str,
        usager_id: str | None,
        user: rdvi.Usager | None,
        motif: str,
        detail: str,
    ) -> None:
        self.revoir.append(
            AReviser(
                cle=f"Rdv:{self.rid}:{pid}:{motif}",
                livraison_id=self.livraison.id,
                modele="Rdv",
                ressource_id=self.rid,
                participation=pid,
                usager_id=usager_id,
                motif=motif,
                detail=detail,
                personne=_person(user),
            )
        )


def _person(user: rdvi.Usager | None) -> dict[str, str | None]:
    """What a reviewer needs to find the person (personal data: the queue is restricted)."""
    if user is None:
        return {}
    return {
        "usager_rdv_insertion": None if user.id is None else str(user.id),
        "prenom": user.first_name,
        "nom": user.last_name,
        "date_naissance": user.birth_date,
        "numero_allocataire": user.affiliation_number,
        "role": user.role,
        "identifiant_departement": user.department_internal_id,
    }
