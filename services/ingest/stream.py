"""Load a large demand file into an EMPTY PostgreSQL table while it is still being validated.

The bulk path (db/ingest.py) copies rows into a table whose keys are set aside, then re-creates the keys. Here the
copy starts before the whole file is validated: as the parser finishes each chunk, a worker thread copies that
chunk's valid rows (SKUs created on the way when the import may create them), so the server loads chunk k while
the client parses chunk k+1; when the last chunk is in, the worker re-creates the keys (which re-checks every row)
while the client plans the import. Everything happens inside a SAVEPOINT. :meth:`DemandStream.complete` keeps the
result when the loaded rows are exactly the accepted ones (the usual case: no duplicate keys); otherwise
(duplicates, a rejected file, an error) it rolls back to the savepoint and the ordinary write runs, so the database
is as it was before the import began. Under the "reject" policy the load stops at the first rejected row.

Used only for the long layout without a location column, not for dry runs, and only when the file is large
(``db.ingest.BULK_MIN_ROWS`` lines or more) and the demand table is empty: the cases the bulk path covers.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from db import ingest as dbi
from db.models import Demand, Sku, utcnow
from services import master_data
from services.ingest import write as w

_DONE = object()


class RejectedRowError(Exception):
    """The import rejects the whole file: loading it any further would be wasted."""


@dataclass(frozen=True)
class Streamed:
    """What a completed stream wrote: demand rows inserted, SKUs created, SKUs that existed before and got rows."""

    inserted: int
    created: int
    existing_skus: frozenset[int]


class DemandStream:
    """Copy validated chunks of a demand file into the empty demand table from a worker thread (see module doc).

    The session's connection belongs to the worker from :meth:`feed`'s first call until :meth:`finish_parsing`,
    :meth:`complete` or :meth:`discard` returns: the caller must not use the session in between (parsing and
    planning do not).
    """

    def __init__(self, *, session: Session, today: np.datetime64, create_skus: bool, stop_on_error: bool) -> None:
        self.session = session
        self.today = today
        self.create_skus = create_skus
        self.stop_on_error = stop_on_error
        self.restored = False
        self.ended = False
        self.savepoint = session.begin_nested()
        self.connection: Connection = session.connection()
        self.existing = w.existing_skus(self.connection)  # before anything is created
        self.ids: dict[str, int] = dict(zip(self.existing["code"], self.existing["id"], strict=True))
        self.existing_ids = frozenset(int(i) for i in self.existing["id"])
        self.loaded_existing: set[int] = set()
        self.created = 0
        self.rows = 0
        self.error: BaseException | None = None
        self.open = True
        dbi.lock_for_upsert(self.connection, table=Demand.__table__)
        if create_skus:
            dbi.lock_for_upsert(self.connection, table=Sku.__table__)  # as write_skus: no other SKU writer meanwhile
        self.table_was_empty = dbi.is_empty(self.connection, table=Demand.__table__)
        if not self.table_was_empty:
            self.discard()
            return
        self.saved = dbi.set_aside_keys(self.connection, target=Demand.__table__)
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.worker = threading.Thread(target=self._run, name="demand-stream", daemon=True)
        self.worker.start()

    @classmethod
    def start(
        cls, *, session: Session, today: np.datetime64, create_skus: bool, stop_on_error: bool = False
    ) -> DemandStream | None:
        """A running stream, or None when the demand table is not empty (the ordinary path then writes).

        ``stop_on_error``: the import rejects the whole file for one bad row, so stop loading at the first one.
        """
        if not dbi.is_empty(session.connection(), table=Demand.__table__):
            return None  # the common case of a re-import: decided without a savepoint (re-checked under the lock)
        stream = cls(session=session, today=today, create_skus=create_skus, stop_on_error=stop_on_error)
        return stream if stream.open else None

    # --- the parser's side -------------------------------------------------------------------------------------

    def feed(self, values: dict[str, np.ndarray], ok: np.ndarray) -> None:
        """Hand over one validated chunk (``values`` sku, date, quantity; ``ok`` per row)."""
        if self.error is not None or not self.open:
            return
        keep = ok & (values["date"] <= self.today)
        if self.stop_on_error and not keep.all():
            self.error = RejectedRowError("a row is rejected: the file will not be imported")
            return
        if keep.all():
            self.queue.put((values["sku"], values["date"], values["quantity"]))
        else:
            self.queue.put((values["sku"][keep], values["date"][keep], values["quantity"][keep]))

    def end_of_input(self) -> None:
        """No more chunks: the worker re-creates the keys once the last one is in (returns at once)."""
        if self.open and not self.ended:
            self.ended = True
            self.queue.put(_DONE)

    def finish_parsing(self) -> None:
        """Wait until the worker is done (the connection is the caller's again)."""
        self.end_of_input()
        if self.worker.is_alive():
            self.worker.join()

    # --- the worker ------------------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is _DONE:
                self._restore()
                return
            if self.error is not None:
                continue  # drain: the stream is abandoned, the parser must never block
            try:
                self._copy(*item)
            except BaseException as exc:  # noqa: BLE001 - reported by complete(); the savepoint is rolled back
                self.error = exc

    def _restore(self) -> None:
        """Re-create the keys as soon as every row is in (the client plans the import meanwhile)."""
        if self.error is not None:
            return
        try:
            dbi.restore_keys(self.connection, saved=self.saved)
            self.restored = True
        except BaseException as exc:  # noqa: BLE001 - e.g. a duplicate key: complete() rolls back, the pipeline reports
            self.error = exc

    def _copy(self, codes: np.ndarray, period: np.ndarray, quantity: np.ndarray) -> None:
        if len(codes) == 0:
            return
        index, uniques = pd.factorize(codes)
        missing = [c for c in uniques if c not in self.ids]
        if missing and self.create_skus:
            self._create(missing)
        unique_ids = np.array([self.ids.get(c, -1) for c in uniques], dtype=np.int64)
        sku_id = unique_ids[index]
        self.loaded_existing.update(int(i) for i in unique_ids if i in self.existing_ids)
        known = sku_id >= 0  # unknown SKUs (creation not allowed) are reported by the pipeline, not loaded
        if not known.all():
            if self.stop_on_error:
                raise RejectedRowError("an unknown SKU: the file will not be imported")
            sku_id, period, quantity = sku_id[known], period[known], quantity[known]
        frame = pd.DataFrame(
            {
                "sku_id": sku_id,
                "period": np.asarray(period, dtype="datetime64[D]").astype("datetime64[s]"),
                "quantity": np.asarray(quantity, dtype=np.float64),
            }
        )
        self.rows += dbi.copy_aside(self.connection, saved=self.saved, frame=frame)

    def _create(self, codes: list[str]) -> None:
        """Create SKUs (documented defaults, name = code) for codes no SKU has: one INSERT ... RETURNING."""
        self.ids.update(insert_new_skus(self.connection, codes=codes))
        self.created += len(codes)

    # --- the end ---------------------------------------------------------------------------------------------------

    def complete(self, *, accepted_rows: int, skus_to_create: int) -> Streamed | None:
        """Keep the streamed rows when they are exactly the accepted ones (re-creating the keys), else roll back.

        Returns what was written, or None when the caller must write the ordinary way (nothing streamed remains).
        """
        self.finish_parsing()
        if not self.open:
            return None
        if not self.restored or self.rows != accepted_rows or self.created != skus_to_create:
            self.discard()
            return None
        self.savepoint.commit()
        self.open = False
        return Streamed(inserted=self.rows, created=self.created, existing_skus=frozenset(self.loaded_existing))

    def discard(self) -> None:
        """Stop the worker and roll back to the savepoint (idempotent)."""
        if not self.open:
            return
        worker = getattr(self, "worker", None)
        if worker is not None and worker.is_alive():
            self.error = self.error or RuntimeError("discarded")
            self.end_of_input()
            worker.join()
        self.open = False
        self.savepoint.rollback()


def insert_new_skus(connection: Connection, *, codes: list[str]) -> dict[str, int]:
    """Insert SKUs that do not exist yet with the importer's documented defaults (name = code); code -> new id.

    PostgreSQL (``unnest`` of a text array). The caller holds the SKU table lock and knows the codes are new.
    """
    now = utcnow()
    columns = ["code", "name"]
    selects = ["u.code", "u.code"]
    params: dict[str, object] = {"codes": list(codes), "now": now}
    for i, (column, default) in enumerate(w.SKU_DEFAULTS.items()):
        if column == "name":
            continue
        columns.append(column)
        if isinstance(default, dbi.StagingColumn):  # a default taken from another column (item = code, issue 21)
            selects.append(f"u.{default.name}")
            continue
        selects.append(f":d{i}")
        params[f"d{i}"] = default
    columns += ["active", "created_at", "updated_at", "defaulted_fields"]
    selects += ["true", ":now", ":now", ":defaulted"]
    params["defaulted"] = master_data.ALL_DEFAULTED
    sql = (
        f"INSERT INTO sku ({', '.join(columns)}) SELECT {', '.join(selects)} "
        "FROM unnest(CAST(:codes AS text[])) AS u(code) RETURNING code, id"
    )
    return dict(connection.execute(text(sql), params).all())
