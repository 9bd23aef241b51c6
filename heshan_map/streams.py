"""Streamed responses that own their database session, and the cap on exports running at once."""
from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator

from flask import Flask
from sqlalchemy.orm import Session

from .errors import TooManyExports

LOGGER = logging.getLogger(__name__)
_CREATE_LOCK = threading.Lock()


class ExportSlots:
    """Count the exports running in this process, per client address and in total, within caps."""

    def __init__(self, per_client: int, total: int) -> None:
        self.per_client = per_client
        self.total = total
        self._lock = threading.Lock()
        self._clients: Counter[str] = Counter()

    def running(self, client: str | None = None) -> int:
        """Return how many exports run now, for one client or in all."""
        with self._lock:
            return self._clients[client] if client is not None else sum(self._clients.values())

    def acquire(self, client: str) -> Callable[[], None]:
        """Take a slot for a client or raise TooManyExports; return the function that gives it back (once)."""
        with self._lock:
            if self._clients[client] >= self.per_client or sum(self._clients.values()) >= self.total:
                raise TooManyExports(f"Too many exports at once (at most {self.per_client} per client, "
                                     f"{self.total} in all); try again in a few seconds / 同时导出过多，请稍后再试")
            self._clients[client] += 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if released.is_set():
                    return
                released.set()
                self._clients[client] -= 1
                if self._clients[client] <= 0:
                    del self._clients[client]

        return release


def slots_for(app: Flask) -> ExportSlots:
    """Return the export slots of an application, made on first use from EXPORTS_PER_CLIENT and EXPORTS_TOTAL."""
    slots = app.extensions.get("heshan_export_slots")
    if slots is None:
        with _CREATE_LOCK:
            slots = app.extensions.setdefault("heshan_export_slots", ExportSlots(
                int(app.config["EXPORTS_PER_CLIENT"]), int(app.config["EXPORTS_TOTAL"])))
    return slots


class OwnedStream:
    """A response body with its own session and export slot, both let go once it ends, fails or is dropped."""

    def __init__(self, session: Session, release: Callable[[], None]) -> None:
        self.session = session
        self._release = release
        self._chunks: Iterator[bytes] | None = None
        self._closed = False

    def start(self, chunks: Iterator[bytes], done_with_database: bool = False) -> Iterator[bytes]:
        """Make the first chunk now, so errors before the first byte answer with a status; return the body."""
        self._chunks = chunks
        try:
            first = next(chunks, b"")
            if done_with_database:
                self.session.close()
        except BaseException:
            self.close()
            raise
        return self._body(first, chunks)

    def _body(self, first: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """Yield the chunks; close everything when they run out, fail or the client goes away."""
        try:
            yield first
            yield from chunks
        except Exception as error:
            LOGGER.warning("export stopped after the first byte: %s", error)
            raise
        finally:
            self.close()

    def close(self) -> None:
        """Stop the chunks (their temporary files go), close the session and give the slot back; once."""
        if self._closed:
            return
        self._closed = True
        try:
            close_chunks = getattr(self._chunks, "close", None)
            if close_chunks is not None:
                close_chunks()
        finally:
            try:
                self.session.close()
            finally:
                self._release()
