"""Our recorders and read-model stores pass the library's own recorder test cases, on a real
SQLite file and on PostgreSQL."""

import tempfile
import threading
import unittest
from contextlib import ExitStack
from pathlib import Path

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.tests import persistence as library

from adapters.eventlog.recorders import PostgresRecorder, SQLiteRecorder
from adapters.readmodels.case_store import CASE_STATE
from adapters.readmodels.tables import PostgresTable, SQLiteTable
from adapters.settings import Settings
from tests.conftest import POSTGRES_REQUIRED, fresh_schema, postgres_unavailable


class JoinsItsThreads(unittest.TestCase):
    """The library's concurrency tests stop their reader threads without joining them: wait for
    them before closing the store they read from."""

    def setUp(self) -> None:
        super().setUp()
        self._threads_before = set(threading.enumerate())

    def tearDown(self) -> None:
        for thread in set(threading.enumerate()) - self._threads_before:
            if not thread.daemon:
                thread.join(timeout=10)
        super().tearDown()


class SQLiteFile(JoinsItsThreads):
    def setUp(self) -> None:
        super().setUp()
        self._tmp = tempfile.TemporaryDirectory()
        self.datastore = SQLiteDatastore(db_name=str(Path(self._tmp.name) / "test.sqlite"))

    def tearDown(self) -> None:
        super().tearDown()
        self.datastore.close()
        self._tmp.cleanup()


class PostgresSchema(JoinsItsThreads):
    def setUp(self) -> None:
        super().setUp()
        reason = postgres_unavailable()
        if reason is not None:
            if POSTGRES_REQUIRED:
                self.fail(f"PostgreSQL is required here (PARCOURS_REQUIRE_POSTGRES=1). {reason}")
            self.skipTest(reason)
        self._stack = ExitStack()
        s: Settings = self._stack.enter_context(fresh_schema())
        self.datastore = PostgresDatastore(
            dbname=s.postgres_dbname,
            host=s.postgres_host,
            port=s.postgres_port,
            user=s.postgres_user,
            password=s.postgres_password,
            schema=s.postgres_schema,
            pool_size=4,
            max_overflow=12,
        )

    def tearDown(self) -> None:
        super().tearDown()
        self.datastore.close()
        self._stack.close()


class TestSQLiteRecorder(SQLiteFile, library.ApplicationRecorderTestCase[SQLiteRecorder]):
    def create_recorder(self) -> SQLiteRecorder:
        recorder = SQLiteRecorder(self.datastore)
        recorder.create_table()
        return recorder


class TestPostgresRecorder(PostgresSchema, library.ApplicationRecorderTestCase[PostgresRecorder]):
    def create_recorder(self) -> PostgresRecorder:
        recorder = PostgresRecorder(self.datastore, events_table_name="parcours_events")
        recorder.create_table()
        return recorder


class TestSQLiteCaseStateTable(SQLiteFile, library.TrackingRecorderTestCase):
    def create_recorder(self) -> SQLiteTable:
        view = SQLiteTable(self.datastore, spec=CASE_STATE)
        view.create_table()
        return view


class TestPostgresCaseStateTable(PostgresSchema, library.TrackingRecorderTestCase):
    def create_recorder(self) -> PostgresTable:
        view = PostgresTable(self.datastore, spec=CASE_STATE)
        view.create_table()
        return view
