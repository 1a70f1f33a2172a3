"""Copy docs/csv-formats.md, docs/api.md and docs/scaling.md into README.md as second-level sections.

Run: ``.venv/bin/python scripts/sync_readme.py`` (``--check``: exit 1 when README.md is out of date; a test runs it).
Each document replaces the README section with the same title, up to the next second-level heading.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("docs/csv-formats.md", "docs/api.md", "docs/scaling.md")


def demoted(markdown: str) -> list[str]:
    """The document's lines, headings one level lower when it starts at level 1 (code blocks left alone)."""
    lines = markdown.rstrip("\n").splitlines()
    if not lines[0].startswith("# "):
        return lines
    out, fenced = [], False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        out.append("#" + line if not fenced and line.startswith("#") else line)
    return out


def synced(readme: str) -> str:
    lines = readme.splitlines()
    for doc in DOCS:
        section = demoted((ROOT / doc).read_text(encoding="utf-8"))
        title = section[0]
        start = lines.index(title)
        end, fenced = start + 1, False
        while end < len(lines):
            fenced ^= lines[end].startswith("```")
            if not fenced and lines[end].startswith("## "):
                break
            end += 1
        lines[start:end] = [*section, ""]
    return "\n".join(lines) + "\n"


def main() -> int:
    path = ROOT / "README.md"
    current = path.read_text(encoding="utf-8")
    wanted = synced(current)
    if "--check" in sys.argv:
        if wanted != current:
            print("README.md is out of date with docs/: run .venv/bin/python scripts/sync_readme.py")
            return 1
        return 0
    path.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
