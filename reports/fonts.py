"""Fonts for the briefings: DejaVu Sans from matplotlib, plus CJK fallback fonts (per glyph).

DejaVu Sans ships inside matplotlib (always present with the app). It covers Latin, Greek, Cyrillic and many
symbols but no CJK. For Chinese / Japanese / Korean text the builder adds fpdf2 fallback fonts, tried per glyph:

1. the subset shipped with the app (:data:`BUNDLED_CJK_FONT`, 1.2 MB: the common hanzi, kanji, Hangul and kana;
   reports/font_data/README.md), so a fresh machine without a CJK font and without network prints CJK names too;
2. an installed CJK font for the characters the subset lacks (loaded only then). Preferred: the Debian package
   ``fonts-wqy-microhei`` (5 MB, the subset's source); also recognised: Noto Sans CJK (``fonts-noto-cjk``),
   WenQuanYi Zen Hei (``fonts-wqy-zenhei``), Droid Sans Fallback (``fonts-droid-fallback``). A font file passed to
   the builders (``cjk_font_path``) is tried first.

A character no embedded font covers prints as the replacement character (U+FFFD) and nothing crashes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import matplotlib

#: Known CJK font files, best first: (path, face index in a .ttc collection).
CJK_FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)

#: The CJK subset shipped with the app (scripts/make_cjk_font_subset.py; Apache-2.0, reports/font_data/README.md).
BUNDLED_CJK_FONT = Path(__file__).resolve().parent / "font_data" / "cjk-subset.ttf"

#: Replacement for characters no embedded font can draw.
REPLACEMENT_CHAR = "\ufffd"


@dataclass(frozen=True, slots=True)
class FontSet:
    """Files of the fonts the builder embeds."""

    regular: Path
    bold: Path
    cjk: Path | None
    cjk_index: int = 0
    bundled: Path | None = None  # the shipped subset (BUNDLED_CJK_FONT), the last fallback


def dejavu_dir() -> Path:
    """Folder of the DejaVu TTF files shipped with matplotlib."""
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def find_cjk_font(path: str | Path | None = None) -> tuple[Path, int] | None:
    """Return ``(path, face_index)`` of an installed CJK font, or None.

    Parameters
    ----------
    path
        Explicit font file to use (``.ttf``/``.otf``/``.ttc``); returned when it exists, otherwise the known
        locations in :data:`CJK_FONT_CANDIDATES` are tried.
    """
    if path is not None and Path(path).is_file():
        return Path(path), 0
    for candidate, index in CJK_FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate), index
    return None


def font_set(cjk_font_path: str | Path | None = None) -> FontSet:
    """The fonts to embed: DejaVu Sans (regular and bold), the installed CJK font when there is one, and the
    shipped CJK subset (when its file is there)."""
    folder = dejavu_dir()
    cjk = find_cjk_font(cjk_font_path)
    return FontSet(
        regular=folder / "DejaVuSans.ttf",
        bold=folder / "DejaVuSans-Bold.ttf",
        cjk=cjk[0] if cjk else None,
        cjk_index=cjk[1] if cjk else 0,
        bundled=BUNDLED_CJK_FONT if BUNDLED_CJK_FONT.is_file() else None,
    )


@functools.cache
def _codepoints(path: str, index: int = 0) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True, fontNumber=index) as font:
        return frozenset(font.getBestCmap())


def dejavu_codepoints() -> frozenset[int]:
    """Code points DejaVu Sans (regular) can draw (cached)."""
    return _codepoints(str(dejavu_dir() / "DejaVuSans.ttf"))


def font_codepoints(path: str | Path, index: int = 0) -> frozenset[int]:
    """Code points a font file can draw (cached per file)."""
    return _codepoints(str(path), index)


def missing_chars(text: str, covered: frozenset[int]) -> set[str]:
    """Characters of ``text`` (other than line breaks and tabs) whose code point is not in ``covered``."""
    return {ch for ch in set(text) if ord(ch) not in covered and ch not in "\n\r\t"}
