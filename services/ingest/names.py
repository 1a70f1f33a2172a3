"""Matching a file's product names to SKUs (demand, stock and receipts files with a ``product_name`` / ``name`` column).

A value first matches a SKU **code** exactly; when no code matches it matches SKU **names** case- and
space-insensitively (:func:`name_key`: Unicode case folding, inner runs of white space collapsed to one space, ends
stripped). A name shared by several SKUs is ambiguous (a row error naming the candidates) unless the row's location
picks one. Values that match nothing are unknown SKUs, or new SKUs with ``--create-skus``: one per distinct name key
(``"New cola"`` and ``"new  cola"`` create one SKU), coded by the name itself when it is a valid SKU code, else by a
code derived from it (``"Crème brûlée 250 g / tray"`` -> ``CREME-BRULEE-250-G-TRAY``). New names close to an existing
name (:data:`SIMILARITY`, :mod:`difflib`) are near-duplicates the planner confirms before they are created.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from services.ingest import columns as cols
from services.ingest import validate as v

#: headers (normalised) that hold product names rather than codes in demand, stock and receipts files
NAME_HEADERS: tuple[str, ...] = ("product_name", "name", "item_name")
SIMILARITY = 0.85  # difflib ratio of the name keys from which a new name is a near-duplicate of an existing one
MAX_NEAR_CHECKS = 300  # new names compared with the existing ones (each comparison scans every existing name)
AMBIGUOUS = "ambiguous product name"
_SPACES = re.compile(r"\s+")

#: the SKU column of demand, stock and receipts files when it holds names: text up to a name's length
NAME_FIELD = v.Field(
    "sku", "text", required=True, max_length=255, aliases=NAME_HEADERS, help="product name (matched to SKU names)"
)


def name_key(text: object) -> str:
    """The form names are compared in: NFC, case-folded, inner white space collapsed, ends stripped."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(text)).casefold()).strip()


def holds_names(header: str) -> bool:
    """Whether a file's SKU column (its header) holds product names."""
    return cols.normalise_header(header) in NAME_HEADERS


@dataclass(frozen=True)
class NearDuplicate:
    """A name the import would create that is spelled close to existing SKU names."""

    name: str
    code: str
    similar: tuple[tuple[str, str], ...]  # (code, name) of the existing SKUs, closest first

    def __str__(self) -> str:
        close = "; ".join(f"{code} '{name}'" for code, name in self.similar)
        return f"'{self.name}' is close to {close}"


@dataclass
class NameMatch:
    """The outcome of matching one column of names: a code per record plus what the preview reports."""

    codes: np.ndarray  # object per record: the SKU code (existing, or the code a new SKU would get)
    ambiguous: np.ndarray  # bool per record
    reasons: np.ndarray  # object per record: the ambiguity message (None elsewhere)
    by_name: int = 0  # distinct values matched to an existing SKU through its name
    new_names: dict[str, str] = field(default_factory=dict)  # code to create -> its name
    near_duplicates: list[NearDuplicate] = field(default_factory=list)
    near_checked_all: bool = True


def _derived_code(name: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    code = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").upper()
    return code[:60].strip("-") or "SKU"


def _valid_codes(candidates: list[str]) -> np.ndarray:
    """Which candidates pass the SKU code rules of the importer (whatever they are: validate.py decides)."""
    if not candidates:
        return np.zeros(0, dtype=bool)
    return v.check(pd.Series(candidates, dtype=object), cols.SKU).ok()


def _new_codes(names: list[str], taken: set[str]) -> list[str]:
    """A code per new name: the name itself when it is a valid code, else one derived from it; unique."""
    valid = _valid_codes(names)
    out: list[str] = []
    for name, ok in zip(names, valid, strict=True):
        base = name if ok and name not in taken else _derived_code(name)
        code, n = base, 1
        while code in taken:
            n += 1
            code = f"{base[:58]}-{n}"
        taken.add(code)
        out.append(code)
    return out


def near_duplicates(new: dict[str, str], existing: pd.DataFrame) -> tuple[list[NearDuplicate], bool]:
    """New names spelled close to existing SKU names (``new``: code -> name); True when every new name was checked."""
    if not new or existing.empty:
        return [], True
    names = existing["name"].astype(str).tolist()
    keys = [name_key(n) for n in names]
    by_key: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        by_key.setdefault(key, []).append(i)
    found: list[NearDuplicate] = []
    items = list(new.items())
    for code, name in items[:MAX_NEAR_CHECKS]:
        close = difflib.get_close_matches(name_key(name), list(by_key), n=3, cutoff=SIMILARITY)
        similar = tuple((str(existing["code"].iat[i]), names[i]) for key in close for i in by_key[key][:2])
        if similar:
            found.append(NearDuplicate(name=name, code=code, similar=similar[:3]))
    return found, len(items) <= MAX_NEAR_CHECKS


def match_names(
    *,
    values: np.ndarray,
    ok: np.ndarray,
    existing: pd.DataFrame,
    location: np.ndarray | None = None,
    create: bool = False,
) -> NameMatch:
    """Match a column of names (``values`` per record, ``ok`` the rows to match) against ``existing`` SKUs.

    ``existing`` has code, name and location. Returns the code of every record: an existing SKU's, or (for a value
    that matches nothing) the code a new SKU would get, which is unknown unless ``create``.
    """
    n = len(values)
    codes = np.asarray(values, dtype=object).copy()
    ambiguous = np.zeros(n, dtype=bool)
    reasons = np.full(n, None, dtype=object)
    result = NameMatch(codes=codes, ambiguous=ambiguous, reasons=reasons)
    rows = np.flatnonzero(ok)
    if len(rows) == 0:
        return result
    places = (
        np.asarray(location, dtype=object)[rows] if location is not None else np.full(len(rows), None, dtype=object)
    )
    pairs = pd.DataFrame({"value": np.asarray(values, dtype=object)[rows], "place": places})
    pair_index, uniques = pd.factorize(pd.MultiIndex.from_frame(pairs.fillna({"place": ""})))
    known_codes = set(existing["code"])
    candidates: dict[str, list[int]] = {}
    for i, key in enumerate(existing["name"].map(name_key)):
        candidates.setdefault(key, []).append(i)
    target = np.empty(len(uniques), dtype=object)
    bad = np.full(len(uniques), None, dtype=object)
    unmatched: dict[str, list[int]] = {}  # name key -> positions in uniques
    matched_values: set[str] = set()
    for j, (value, place) in enumerate(uniques):
        if value in known_codes:
            target[j] = value
            continue
        key = name_key(value)
        found = candidates.get(key, [])
        if len(found) > 1 and place:
            here = [i for i in found if existing["location"].iat[i] == place]
            found = here or found
        if len(found) == 1:
            target[j] = existing["code"].iat[found[0]]
            matched_values.add(value)
        elif len(found) > 1:
            shown = ", ".join(
                f"{existing['code'].iat[i]} '{existing['name'].iat[i]}' at {existing['location'].iat[i]}"
                for i in found[:5]
            )
            more = f" and {len(found) - 5} more" if len(found) > 5 else ""
            bad[j] = f"{AMBIGUOUS}: matches {len(found)} SKUs ({shown}{more}); use the SKU code"
        else:
            unmatched.setdefault(key, []).append(j)
    if unmatched:
        first_spelling = [_SPACES.sub(" ", str(uniques[positions[0]][0])).strip() for positions in unmatched.values()]
        new_codes = _new_codes(first_spelling, set(known_codes))
        for positions, code, name in zip(unmatched.values(), new_codes, first_spelling, strict=True):
            for j in positions:
                target[j] = code
            result.new_names[code] = name
        if create:
            result.near_duplicates, result.near_checked_all = near_duplicates(result.new_names, existing)
    codes[rows] = target[pair_index]
    reason_rows = bad[pair_index]
    is_bad = np.array([r is not None for r in reason_rows], dtype=bool)
    ambiguous[rows[is_bad]] = True
    reasons[rows[is_bad]] = reason_rows[is_bad]
    result.by_name = len(matched_values)
    return result


#: the SKU column of demand, stock and receipts files: a code column, or else a name column
SKU_OR_NAME = replace(cols.SKU, aliases=cols.SKU.aliases + tuple(h for h in NAME_HEADERS if h not in cols.SKU.aliases))


def identified(fields: tuple[v.Field, ...]) -> tuple[v.Field, ...]:
    """``fields`` with the SKU column resolvable from a name header too (for :func:`columns.resolve`)."""
    return tuple(SKU_OR_NAME if spec.name == "sku" else spec for spec in fields)


def parsing_fields(fields: tuple[v.Field, ...], sku_header: str) -> tuple[tuple[v.Field, ...], bool]:
    """The fields to parse a file with, and whether its SKU column holds names (then parsed as names)."""
    if not holds_names(sku_header):
        return fields, False
    return tuple(NAME_FIELD if spec.name == "sku" else spec for spec in fields), True


def names_summary(names: NameMatch | None, skus_to_create: int, *, limit: int = 50) -> dict | None:
    """What name matching did, for the preview (None when the file identifies SKUs by code)."""
    if names is None:
        return None
    new = list(names.new_names.items())[:limit] if skus_to_create else []
    return {
        "by_name": names.by_name,
        "new_count": skus_to_create,
        "new": [{"code": code, "name": name} for code, name in new],
        "near_duplicates": [
            {"name": d.name, "code": d.code, "similar": [{"code": c, "name": n} for c, n in d.similar]}
            for d in (names.near_duplicates if skus_to_create else [])
        ],
        "near_checked_all": names.near_checked_all,
    }
