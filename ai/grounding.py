"""The check every narrative passes before it is shown.

``check_text(text, facts=...)`` returns a ``GroundingResult`` (ok, cleaned text, reasons). A text fails when:

- it is not plain text: an HTML tag or entity, a script / ``javascript:``, a markdown link or image, a URL or a code
  block (these are refused, not repaired, since they suggest the model followed something other than the prompt);
  harmless markdown (``**bold**``, ``# heading``, bullet and numbered-list markers, inline backticks) is stripped;
- it is empty, longer than ``max_chars`` or has fewer than ``min_sentences`` / more than ``max_sentences`` sentences;
- it quotes a number that no fact supports.

Number matching. The allowed values are every number in the facts (absolute values: "down 4.2%" quotes -4.2), the
lengths of the facts' lists ("the top 5"), and the numbers inside free-text facts (``status_reason``). SKU codes,
names and categories are removed from the text before numbers are read, so "Bolt M8 50mm" or a name that is itself a
number is not an invented figure. A number in the text of the form ``[sign][currency]digits[.decimals][suffix]``
matches a fact value v when it is a rounding of v to the decimals it shows, i.e.
``|t - v / m| <= 0.5 x 10**-d`` with t the text's number, d its decimals and m its multiplier (1, or 1,000 for
"k"/"thousand", 1,000,000 for "m"/"mn"/"million", 1e9 for "bn"/"billion"). So 1234 may read 1,234 / 1234 / $1,234 /
1.2k / $1k and 12.5 may read 12.5% / 13% but not 12.47 or 1,230. Dates (ISO 2026-03-02, "2 March 2026",
"March 2, 2026", "March 2026") and bare years 1900-2100 must match a date fact (``as_of``); any other date is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .facts import Facts
from .prompts import MAX_CHARS, MAX_SENTENCES, MIN_SENTENCES

IDENTITY_FIELDS = frozenset({"code", "name", "category"})
"""String facts that are labels: removed from the text before numbers are read."""

_REFUSE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("script", re.compile(r"<\s*/?\s*script|javascript\s*:|\bon[a-z]+\s*=\s*[\"']", re.IGNORECASE)),
    ("HTML tag", re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")),
    ("HTML entity", re.compile(r"&(?:#\d+|#x[0-9A-Fa-f]+|[A-Za-z]{2,8});")),
    ("markdown link or image", re.compile(r"!?\[[^\]\n]*\]\([^)\n]*\)|^\s*\[[^\]\n]+\]:\s*\S", re.MULTILINE)),
    ("URL", re.compile(r"\b(?:https?|ftp|file)://|\bdata:[a-z]+/[\w.+-]+[;,]|\bwww\.\w", re.IGNORECASE)),
    ("code block", re.compile(r"```|~~~")),
)

_STRIP: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u2028\u2029\u2060\ufeff]"), ""),
    (re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE), ""),  # headings
    (re.compile(r"^\s*(?:[-*+\u2022]|\d{1,2}[.)])\s+", re.MULTILINE), ""),  # bullet / numbered list markers
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # italic *x*
    (re.compile(r"`([^`\n]*)`"), r"\1"),  # inline code
)

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\b(?P<year>\d{4})-(?P<mnum>\d{1,2})-(?P<day>\d{1,2})\b"),
    re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.IGNORECASE),
    re.compile(r"\b" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b", re.IGNORECASE),
    re.compile(r"\b" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.IGNORECASE),
)

_NUMBER = re.compile(
    r"""
    (?<![\w.])
    (?P<sign>[-+\u2212])?
    (?P<currency>[$\u20ac\u00a3\u00a5\u20b9])?
    (?P<int>\d{1,3}(?:,\d{3})+|\d+)
    (?P<frac>\.\d+)?
    (?:
        \s?(?P<pct>%|percent\b|per\s?cent\b)
      | (?P<abbr>bn|mn|[kKmMbB])(?![A-Za-z])
      | \s(?P<word>thousand|million|billion)\b
    )?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
}
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9$\u20ac\u00a3])")


@dataclass(frozen=True)
class GroundingResult:
    """Outcome of ``check_text``.

    Attributes
    ----------
    ok : bool
        True when the text may be shown.
    text : str
        The cleaned text (markdown markers stripped, whitespace collapsed); "" when refused.
    reasons : tuple of str
        Why the text failed (empty when ok).
    sentences : int
        Sentence count of the cleaned text.
    numbers : tuple of str
        The number tokens read from the text (after removing names and dates).
    """

    ok: bool
    text: str
    reasons: tuple[str, ...]
    sentences: int = 0
    numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Allowed:
    values: tuple[float, ...]
    dates: frozenset[date]
    labels: tuple[str, ...]


def _walk(value: Any, *, key: str | None, out: dict[str, list[Any]]) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        out["values"].append(abs(float(value)))
    elif isinstance(value, date):
        out["dates"].append(value)
    elif isinstance(value, str):
        if key in IDENTITY_FIELDS:
            out["labels"].append(value)
        else:
            out["values"].extend(_numbers_in(value))
    elif isinstance(value, dict):
        for sub_key, sub_value in value.items():
            _walk(sub_value, key=str(sub_key), out=out)
    elif isinstance(value, list | tuple):
        out["values"].append(float(len(value)))
        for item in value:
            _walk(item, key=key, out=out)


def _numbers_in(text: str) -> list[float]:
    values = []
    for match in _NUMBER.finditer(text):
        value, _, multiplier = _parse(match)
        values.append(abs(value * multiplier))
    return values


def allowed_values(facts: Facts) -> _Allowed:
    """Collect the numbers, dates and labels the text may use (see the module docstring)."""
    out: dict[str, list[Any]] = {"values": [], "dates": [], "labels": []}
    _walk(facts.model_dump(mode="python"), key=None, out=out)
    labels = tuple(sorted({label for label in out["labels"] if label.strip()}, key=len, reverse=True))
    return _Allowed(values=tuple(sorted(set(out["values"]))), dates=frozenset(out["dates"]), labels=labels)


def _parse(match: re.Match[str]) -> tuple[float, int, float]:
    """Return (value as written, decimals shown, multiplier) of a number match."""
    digits = match.group("int").replace(",", "")
    frac = match.group("frac") or ""
    value = float(digits + frac)
    if match.group("sign") in ("-", "\u2212"):
        value = -value
    suffix = (match.group("abbr") or match.group("word") or "").lower()
    return value, max(0, len(frac) - 1), _MULTIPLIERS.get(suffix, 1.0)


def _supported(value: float, decimals: int, multiplier: float, allowed: Iterable[float]) -> bool:
    target = abs(value)
    tolerance = 0.5 * 10.0**-decimals + 1e-9
    return any(abs(candidate / multiplier - target) <= tolerance for candidate in allowed)


def clean_text(text: str) -> str:
    """Strip harmless markdown markers and control characters, join lines, collapse whitespace."""
    for pattern, replacement in _STRIP:
        text = pattern.sub(replacement, text)
    return re.sub(r"\s+", " ", text).strip()


def count_sentences(text: str) -> int:
    """Sentences = pieces split after . ! ? followed by space and a capital or digit (decimals do not split)."""
    return sum(1 for piece in _SENTENCE_END.split(text.strip()) if re.search(r"[A-Za-z0-9]", piece))


def _known_date(allowed: _Allowed, *, year: int, month: int, day: int | None) -> bool:
    if day is None:
        return any(d.year == year and d.month == month for d in allowed.dates)
    try:
        return date(year, month, day) in allowed.dates
    except ValueError:  # 2026-02-31 and the like
        return False


def _check_dates(text: str, allowed: _Allowed, reasons: list[str]) -> str:
    """Check every date in ``text`` against the date facts; return the text with the dates blanked out."""

    def replace(match: re.Match[str]) -> str:
        groups = match.groupdict()
        month = int(groups["mnum"]) if groups.get("mnum") else _MONTHS[groups["month"].lower().rstrip(".")]
        day = int(groups["day"]) if groups.get("day") else None
        if not _known_date(allowed, year=int(groups["year"]), month=month, day=day):
            reasons.append(f"date '{match.group(0)}' is not in the facts")
        return " "

    for pattern in _DATE_PATTERNS:
        text = pattern.sub(replace, text)
    return text


def _check_numbers(text: str, allowed: _Allowed, reasons: list[str]) -> list[str]:
    years = {d.year for d in allowed.dates}
    tokens = []
    for match in _NUMBER.finditer(text):
        token = match.group(0).strip()
        tokens.append(token)
        value, decimals, multiplier = _parse(match)
        plain = not (match.group("currency") or match.group("pct") or match.group("abbr") or match.group("word"))
        if _supported(value, decimals, multiplier, allowed.values):
            continue
        if plain and decimals == 0 and "," not in token and 1900 <= abs(value) <= 2100 and len(match.group("int")) == 4:
            if int(abs(value)) not in years:
                reasons.append(f"year '{token}' is not in the facts")
            continue
        reasons.append(f"number '{token}' is not in the facts")
    return tokens


def check_text(
    text: str | None,
    *,
    facts: Facts,
    max_sentences: int = MAX_SENTENCES,
    min_sentences: int = MIN_SENTENCES,
    max_chars: int = MAX_CHARS,
) -> GroundingResult:
    """Check that ``text`` is plain, bounded and quotes only numbers supported by ``facts``.

    Parameters
    ----------
    text : str
        The narrative to check.
    facts : SkuFacts or PortfolioFacts
        The facts the text was written from.
    max_sentences, min_sentences, max_chars : int
        Length bounds of the cleaned text.

    Returns
    -------
    GroundingResult
        ``ok`` is False with the reasons when any rule fails; ``text`` is "" when the text was refused as not plain.
    """
    if min_sentences < 1 or max_sentences < min_sentences:
        raise ValueError("min_sentences must be >= 1 and <= max_sentences")
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    if not isinstance(text, str) or not text.strip():
        return GroundingResult(ok=False, text="", reasons=("empty text",))
    refused = tuple(dict.fromkeys(label for label, pattern in _REFUSE if pattern.search(text)))
    if refused:
        return GroundingResult(ok=False, text="", reasons=tuple(f"not plain text: {label}" for label in refused))

    cleaned = clean_text(text)
    reasons: list[str] = []
    if not cleaned:
        return GroundingResult(ok=False, text="", reasons=("empty text",))
    if len(cleaned) > max_chars:
        reasons.append(f"too long: {len(cleaned)} characters > {max_chars}")

    allowed = allowed_values(facts)
    scrubbed = cleaned
    for label in allowed.labels:  # whole-word matches only, so a SKU named "5" does not eat the 5 of "15%"
        scrubbed = re.sub(rf"(?<!\w){re.escape(label)}(?!\w)", "Name", scrubbed, flags=re.IGNORECASE)
    sentences = count_sentences(scrubbed)  # a name like "Acme Inc. Widget" is not two sentences
    if sentences > max_sentences:
        reasons.append(f"too many sentences: {sentences} > {max_sentences}")
    elif sentences < min_sentences:
        reasons.append(f"too few sentences: {sentences} < {min_sentences}")
    scrubbed = _check_dates(scrubbed, allowed, reasons)
    tokens = _check_numbers(scrubbed, allowed, reasons)
    return GroundingResult(
        ok=not reasons, text=cleaned, reasons=tuple(reasons), sentences=sentences, numbers=tuple(tokens)
    )
