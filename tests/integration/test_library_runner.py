"""The case-state projection also runs under the library's own `ProjectionRunner`, which follows
the log by LISTEN/NOTIFY on PostgreSQL (the library offers no subscription on SQLite, where the
projector polls instead)."""

from collections.abc import Mapping
from datetime import date
from uuid import uuid4

import pytest
from eventsourcing.projection import ProjectionRunner

from adapters.eventlog.store import Author, Parcours
from adapters.readmodels.case_store import PostgresCaseStateView
from adapters.readmodels.projector import CaseStateProjection
from adapters.settings import Settings
from domain.commands import DeciderOrientation, EnregistrerEntree
from domain.vocabulary import OrganismePayeur, TypeOrganisme, TypeOrientation
from projections.case_state import fold


class EnvParcours(Parcours):
    """Parcours built from an environment mapping, as the library's runner builds applications."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(Settings.from_env(env))


@pytest.mark.postgres
def test_library_runner_keeps_the_case_state_view(pg_settings: Settings) -> None:
    s = pg_settings
    env = {
        "PARCOURS_STORE": "postgres",
        "POSTGRES_DBNAME": s.postgres_dbname,
        "POSTGRES_SCHEMA": s.postgres_schema,
        **s.library_env(),
    }
    author = Author(user="agent", request_id="r")
    with ProjectionRunner(
        application_class=EnvParcours,
        projection_class=CaseStateProjection,
        view_class=PostgresCaseStateView,
        env=env,
    ) as runner:
        app = runner.app
        cases = [uuid4() for _ in range(3)]
        for case in cases:
            app.handle(
                case,
                EnregistrerEntree(
                    effective_on=date(2024, 1, 3),
                    numero_dossier="CAF-1",
                    organisme_payeur=OrganismePayeur.CAF,
                    date_flux=date(2024, 1, 4),
                    date_reception_flux=date(2024, 1, 8),
                ),
                author,
            )
        outcome = app.handle(
            cases[0],
            DeciderOrientation(
                effective_on=date(2024, 1, 25),
                type_orientation=TypeOrientation.SOCIALE,
                organisme=TypeOrganisme.CCAS,
                structure_id="ccas-1",
            ),
            author,
        )
        runner.wait(outcome.position, timeout=300)
        rows = runner.view.all_rows()
        expected = fold(
            app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(None, 100)
        )
        assert rows == expected
        assert rows[cases[0]].structure_id == "ccas-1"
