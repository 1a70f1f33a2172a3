"""Use the database while a large demand file is still being validated (PostgreSQL, long layout).

As the parser finishes each chunk, a worker thread on the import's connection does the database side of that
chunk, so the server works on chunk k while the client parses chunk k+1:

- **load** (the demand table is empty): the bulk path of db/ingest.py, started early. The table's keys are set
  aside and each chunk's valid rows are copied in (SKUs created on the way when the import may create them).
  When the file is validated, :meth:`DemandStream.complete` keeps the rows if they are exactly the accepted ones
  (the usual case: no duplicate keys) and re-creates the keys, which re-checks every row; otherwise (duplicates,
  a rejected file, an error) it rolls back to the savepoint taken first, and the ordinary write runs.
- **prefetch** (the table has rows): each chunk's stored rows (same SKUs, same date range) are read, so the
  upsert compares against them instead of reading them after validation (:meth:`DemandStream.stored`).

The demand table is locked against other writers from the start (as the ordinary write does). Used only for the
long layout without a location column, not for dry runs, and only for files of ``db.ingest.BULK_MIN_ROWS`` lines
or more.
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
from services.ingest import write as w

_DONE = object()


@dataclass(frozen=True)
class Streamed:
    """What a completed load wrote: demand rows inserted and SKUs created."""

    inserted: int
    created: int


class DemandStream:
    """Load or prefetch validated chunks of a demand file from a worker thread (see the module doc).

    The session's connection belongs to the worker from the first :meth:`feed` until :meth:`finish_parsing`,
    :meth:`complete`, :meth:`stored` or :meth:`discard` returns: the caller must not use the session in between.
    """

    def __init__(self, *, session: Session, today: np.datetime64, create_skus: bool) -> None:
        self.today = today
        self.create_skus = create_skus
        self.savepoint = session.begin_nested()
        self.connection: Connection = session.connection()
        self.existing = w.existing_skus(self.connection)  # before anything is created
        self.ids: dict[str, int] = dict(zip(self.existing["code"], self.existing["id"], strict=True))
        self.created = 0
        self.rows = 0
        self.fetched: list[pd.DataFrame] = []
        self.error: BaseException | None = None
        self.open = True
        dbi.lock_for_upsert(self.connection, table=Demand.__table__)
        self.table_was_empty = dbi.is_empty(self.connection, table=Demand.__table__)
        self.mode = "load" if self.table_was_empty else "prefetch"
        if self.mode == "load":
            if create_skus:
                dbi.lock_for_upsert(self.connection, table=Sku.__table__)  # as write_skus: no other SKU writer
            self.saved = dbi.set_aside_keys(self.connection, target=Demand.__table__)
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.worker = threading.Thread(target=self._run, name=f"demand-{self.mode}", daemon=True)
        self.worker.start()

    @classmethod
    def start(cls, *, session: Session, today: np.datetime64, create_skus: bool) -> DemandStream:
        return cls(session=session, today=today, create_skus=create_skus)

    # --- the parser's side -------------------------------------------------------------------------------------

    def feed(self, values: dict[str, np.ndarray], ok: np.ndarray) -> None:
        """Hand over one validated chunk (``values`` sku, date, quantity; ``ok`` per row)."""
        if self.error is not None or not self.open:
            return
        keep = ok & (values["date"] <= self.today)
        self.queue.put((values["sku"][keep], values["date"][keep], values["quantity"][keep]))

    def finish_parsing(self) -> None:
        """Wait until every chunk handed over is done (the connection is the caller's again)."""
        if self.worker.is_alive():
            self.queue.put(_DONE)
            self.worker.join()

    # --- the worker ------------------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is _DONE:
                return
            if self.error is not None:
                continue  # drain: the stream is abandoned, the parser must never block
            try:
                if self.mode == "load":
                    self._load(*item)
                else:
                    self._prefetch(*item)
            except BaseException as exc:  # noqa: BLE001 - reported by complete()/stored(); the savepoint rolls back
                self.error = exc

    def _sku_ids(self, codes: np.ndarray, *, create: bool) -> np.ndarray:
        """The SKU id of each code, -1 where unknown (created first when ``create``)."""
        index, uniques = pd.factorize(codes)
        missing = [c for c in uniques if c not in self.ids]
        if missing and create:
            self.ids.update(insert_new_skus(self.connection, codes=missing))
            self.created += len(missing)
        return np.array([self.ids.get(c, -1) for c in uniques], dtype=np.int64)[index]

    def _load(self, codes: np.ndarray, period: np.ndarray, quantity: np.ndarray) -> None:
        if len(codes) == 0:
            return
        sku_id = self._sku_ids(codes, create=self.create_skus)
        known = sku_id >= 0  # unknown SKUs (creation not allowed) are reported by the pipeline, not loaded
        frame = pd.DataFrame(
            {
                "sku_id": sku_id[known],
                "period": np.asarray(period[known], dtype="datetime64[D]").astype("datetime64[s]"),
                "quantity": np.asarray(quantity[known], dtype=np.float64),
            }
        )
        self.rows += dbi.copy_aside(self.connection, saved=self.saved, frame=frame)

    def _prefetch(self, codes: np.ndarray, period: np.ndarray, _quantity: np.ndarray) -> None:
        sku_id = self._sku_ids(codes, create=False)
        known = sku_id >= 0
        if not known.any():
            return
        days = np.asarray(period[known], dtype="datetime64[D]").astype(np.int64)
        skus = np.unique(sku_id[known])
        self.fetched.append(dbi.fetch_demand_pg(self.connection, "demand", skus, int(days.min()), int(days.max())))

    # --- the end ---------------------------------------------------------------------------------------------------

    def complete(self, *, accepted_rows: int, skus_to_create: int) -> Streamed | None:
        """Load mode: keep the loaded rows when they are exactly the accepted ones (re-creating the keys).

        Returns what was written, or None when the caller must write the ordinary way (nothing loaded remains).
        """
        self.finish_parsing()
        if not self.open or self.mode != "load":
            return None
        if self.error is not None or self.rows != accepted_rows or self.created != skus_to_create:
            self.discard()
            return None
        dbi.restore_keys(self.connection, saved=self.saved)
        self._release()
        return Streamed(inserted=self.rows, created=self.created)

    def stored(self) -> pd.DataFrame | None:
        """Prefetch mode: the stored rows read while parsing (sku_id, day, quantity), or None if that failed."""
        self.finish_parsing()
        if not self.open or self.mode != "prefetch" or self.error is not None:
            self.discard()
            return None
        self._release()
        if not self.fetched:
            return pd.DataFrame({"sku_id": [], "day": [], "quantity": []}).astype({"sku_id": "int64", "day": "int64"})
        return pd.concat(self.fetched, ignore_index=True).drop_duplicates(["sku_id", "day"], ignore_index=True)

    def _release(self) -> None:
        self.savepoint.commit()  # RELEASE SAVEPOINT: the work (and the table lock) stay in the import's transaction
        self.open = False

    def discard(self) -> None:
        """Stop the worker and roll back to the savepoint (idempotent)."""
        if not self.open:
            return
        if self.worker.is_alive():
            self.error = self.error or RuntimeError("discarded")
            self.queue.put(_DONE)
            self.worker.join()
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
        selects.append(f":d{i}")
        params[f"d{i}"] = default
    columns += ["active", "created_at", "updated_at"]
    selects += ["true", ":now", ":now"]
    sql = (
        f"INSERT INTO sku ({', '.join(columns)}) SELECT {', '.join(selects)} "
        "FROM unnest(CAST(:codes AS text[])) AS u(code) RETURNING code, id"
    )
    return dict(connection.execute(text(sql), params).all())
