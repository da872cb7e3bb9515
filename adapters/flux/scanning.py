"""The validating pass in a process of its own.

Parsing, schema validation and extraction take about half of an import's time and nothing in
them needs the database: run in another process, they occupy the second core while the importer
prepares the batches already read (blind indexes, known cases, `decide`). Nothing is written
before the whole file has validated: the scanning process says so last.

The process is a fresh interpreter (`python -m adapters.flux.scanning`), neither a fork of
the importer's threads and connection pool nor a re-import of whatever main module started it;
it speaks on its standard output, one pickled message after another.
"""

import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import msgspec

import adapters
from adapters.flux.limits import LIMITES, Limites
from adapters.flux.reader import EnTete, FluxInvalide, scan

_ROOT = Path(adapters.__file__).resolve().parent.parent


def _send(out: IO[bytes], *message: Any) -> None:
    pickle.dump(message, out)
    out.flush()


def main(path: str, spill_path: str, every: str, limites: str) -> None:
    out = sys.stdout.buffer
    try:
        with open(spill_path, "wb") as spill:
            header, total = scan(
                Path(path),
                spill,
                lambda h, upto: _send(out, "part", h, upto),
                int(every),
                msgspec.json.decode(limites, type=Limites),
            )
            spill.flush()
            _send(out, "done", header, spill.tell(), total)
    except FluxInvalide as e:
        _send(out, "invalid", e.line, e.reason, e.code)
    except Exception as e:  # reported to the importer, which raises it
        _send(out, "error", f"{type(e).__name__}: {e}")


class Scanning:
    """A scan of `path` into `spill_path`, running in another process, or in this one when
    `inline` (a small file: starting an interpreter would cost more than it saves)."""

    def __init__(
        self,
        path: Path,
        spill_path: Path,
        every: int,
        *,
        inline: bool = False,
        limites: Limites = LIMITES,
    ) -> None:
        spill_path.touch()  # the importer opens it before the first household is spilled
        self.total = 0
        self.end = 0
        self._inline = (path, spill_path) if inline else None
        self._limites = limites
        if inline:
            return
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), *sys.path]))}
        self._process = subprocess.Popen(  # noqa: S603 (this interpreter, this module)
            [
                sys.executable,
                "-m",
                "adapters.flux.scanning",
                str(path),
                str(spill_path),
                str(every),
                msgspec.json.encode(limites).decode(),
            ],
            stdout=subprocess.PIPE,
            env=env,
        )

    def parts(self) -> Iterator[tuple[EnTete, int]]:
        """The header and the spill's length every `every` households, then at the end;
        FluxInvalide when the file is refused (after parts already yielded)."""
        if self._inline is not None:
            path, spill_path = self._inline
            with open(spill_path, "wb") as spill:
                header, self.total = scan(path, spill, limites=self._limites)
                self.end = spill.tell()
            yield header, self.end
            return
        assert self._process.stdout is not None
        while True:
            try:
                message = pickle.load(self._process.stdout)  # noqa: S301 (our own child)
            except EOFError:
                raise RuntimeError("le processus de lecture du flux s'est arrêté") from None
            kind = message[0]
            if kind == "part":
                yield message[1], message[2]
            elif kind == "done":
                _, header, self.end, self.total = message
                yield header, self.end
                return
            elif kind == "invalid":
                raise FluxInvalide(message[1], message[2], message[3])
            else:
                raise RuntimeError(message[1])

    def __enter__(self) -> "Scanning":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._inline is not None:
            return
        if exc_type is not None:
            self._process.kill()
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
