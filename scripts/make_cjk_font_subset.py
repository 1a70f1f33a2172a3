"""Regenerate reports/font_data/cjk-subset.ttf: the CJK font every briefing can embed on a machine without one.

Source: WenQuanYi Micro Hei (Debian package ``fonts-wqy-microhei``; Apache-2.0, see reports/font_data/README.md),
subset with fontTools to the characters names are written in most often (about 7,900 glyphs, 1.2 MB):

- the 3,755 level-1 hanzi of GB 2312 (simplified Chinese, the most frequent characters),
- the 2,965 level-1 kanji of JIS X 0208 (Japanese; most overlap with the above),
- the 2,350 Hangul syllables of KS X 1001 (Korean),
- CJK punctuation, hiragana, katakana and the full-width forms (U+3000-U+30FF, U+FF00-U+FFEF).

The characters are enumerated from Python's codecs (gb2312, shift_jis, euc_kr), so the list needs no data file.
A character outside the subset still prints where a full CJK font is installed (reports.fonts: the installed font
comes first, the subset second) and as U+FFFD otherwise.

Usage: ``python scripts/make_cjk_font_subset.py [SOURCE_FONT]`` (default: the Debian package's file).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "reports" / "font_data" / "cjk-subset.ttf"
SOURCE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def _decoded(codec: str, leads: range, trails: list[int]) -> set[str]:
    """Every character a double-byte codec decodes from ``leads`` x ``trails``."""
    out: set[str] = set()
    for lead in leads:
        for trail in trails:
            try:
                out.add(bytes([lead, trail]).decode(codec))
            except UnicodeDecodeError:
                continue
    return out


def characters() -> str:
    """The subset's characters, sorted."""
    chars = {chr(c) for c in range(0x3000, 0x3100)} | {chr(c) for c in range(0xFF00, 0xFFF0)}
    chars |= _decoded("gb2312", range(0xB0, 0xD8), list(range(0xA1, 0xFF)))  # GB 2312 level 1
    chars |= _decoded("shift_jis", range(0x88, 0x99), [*range(0x40, 0x7F), *range(0x80, 0xFD)])  # JIS level 1
    chars |= _decoded("euc_kr", range(0xB0, 0xC9), list(range(0xA1, 0xFF)))  # KS X 1001 Hangul
    return "".join(sorted(chars))


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else SOURCE
    options = subset.Options()
    options.hinting = False
    options.layout_features = []
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.font_number = 0
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters())
    subsetter.subset(font)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(TARGET), options)
    print(f"{TARGET.relative_to(ROOT)}: {len(font.getBestCmap()):,} characters, {TARGET.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
