"""The scratch room of one flux import: the file's fingerprint, its scan spilling households
into a temporary directory, and the batches prepared meanwhile, waiting in a temporary file
until the whole file has validated. Everything is gone when the import ends.

The importer (api/services/flux_import.py) decides; this module only keeps what it decided
out of memory, so a large file is prepared while it is still being read.
"""

import hashlib
import pickle
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import IO, Generic, TypeVar, cast

from adapters.flux.limits import LIMITES, Limites
from adapters.flux.reader import EnTete, FoyerFlux, households
from adapters.flux.scanning import Scanning

T = TypeVar("T")


def sha256(path: Path) -> str:
    """The file's fingerprint, read by blocks (a flux can weigh gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class PreparedSpool(Generic[T]):
    """The scan of `path` (in another process from `parallel_from` bytes) and the prepared
    batches, each kept with the span of spilled households it was prepared from, so a batch
    that loses a race can be replayed household by household."""

    def __init__(
        self, path: Path, every: int, *, parallel_from: int, limites: Limites = LIMITES
    ) -> None:
        self._path = path
        self._every = every
        self._parallel_from = parallel_from
        self._limites = limites
        self._stack = ExitStack()
        self._spans: list[tuple[int, int]] = []

    def __enter__(self) -> "PreparedSpool[T]":
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="flux-")))
            self._scanning = stack.enter_context(
                Scanning(
                    self._path,
                    tmp / "foyers",
                    self._every,
                    inline=self._path.stat().st_size < self._parallel_from,
                    limites=self._limites,
                )
            )
            self._spill: IO[bytes] = stack.enter_context(open(tmp / "foyers", "rb"))
            self._prepared: IO[bytes] = stack.enter_context(tempfile.TemporaryFile())
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.__exit__(exc_type, exc, tb)

    @property
    def total(self) -> int:
        """Households in the file, once `parts` is through."""
        return self._scanning.total

    def parts(self) -> Iterator[tuple[EnTete, int]]:
        """The header and the spill's length as the scan goes; FluxInvalide when the file is
        refused (after parts already yielded)."""
        return self._scanning.parts()

    def households(self, start: int, end: int) -> Iterator[FoyerFlux]:
        """The spilled households between two offsets, in file order."""
        return households(self._spill, start, end)

    def put(self, prepared: T, start: int, end: int) -> None:
        """Keep a batch prepared from the households between `start` and `end`."""
        pickle.dump(prepared, self._prepared)
        self._spans.append((start, end))

    def prepared(self) -> Iterator[tuple[T, int, int]]:
        """The batches kept, in the order they were put, with their spans."""
        self._prepared.seek(0)
        for start, end in self._spans:
            yield cast(T, pickle.load(self._prepared)), start, end  # noqa: S301 (our own file)
