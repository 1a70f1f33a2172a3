"""Page 1 of a briefing as PNG for the Briefings page: pdftoppm (poppler-utils), else pypdfium2 when installed, else
none (the page then shows the text)."""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from services.briefing.storage import pdf_page_count

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------------------------------
# preview


@dataclass(frozen=True)
class Preview:
    """Page 1 of a PDF as PNG (``png`` None when no renderer is installed: show ``cover_lines`` instead).

    ``method``: "pdftoppm" (poppler-utils), "pypdfium2", or "text".
    """

    png: bytes | None
    method: str
    page_count: int
    cover_lines: tuple[str, ...] = ()


def _pdftoppm(pdf: bytes, *, dpi: int) -> bytes | None:
    exe = shutil.which("pdftoppm")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(pdf)
        target = Path(folder) / "page"
        try:
            subprocess.run(
                [exe, "-r", str(dpi), "-png", "-f", "1", "-l", "1", "-singlefile", str(source), str(target)],
                check=True,
                timeout=30,
                capture_output=True,
            )
        except (subprocess.SubprocessError, OSError):
            logger.warning("briefing preview: pdftoppm failed", exc_info=True)
            return None
        png = target.with_suffix(".png")
        return png.read_bytes() if png.exists() else None


def _pypdfium2(pdf: bytes, *, dpi: int) -> bytes | None:
    try:  # an optional renderer (not in requirements.txt): used when it is installed
        import pypdfium2  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        document = pypdfium2.PdfDocument(pdf)
        image = document[0].render(scale=dpi / 72).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()
    except Exception:  # fall back to the text preview
        logger.warning("briefing preview: pypdfium2 failed", exc_info=True)
        return None


RENDERERS: tuple[tuple[str, Callable[..., bytes | None]], ...] = (("pdftoppm", _pdftoppm), ("pypdfium2", _pypdfium2))


def render_preview(*, pdf: bytes, cover_lines: Sequence[str] = (), dpi: int = 60) -> Preview:
    """Page 1 of ``pdf`` as PNG with the first renderer installed (pdftoppm, then pypdfium2); without one (or when
    it fails) a text preview: the page count and ``cover_lines``. Never raises for a missing renderer."""
    if not 20 <= dpi <= 300:
        raise ValueError(f"dpi must be in 20..300, got {dpi}")
    pages = pdf_page_count(pdf)
    for name, render in RENDERERS:
        png = render(pdf, dpi=dpi)
        if png:
            return Preview(png=png, method=name, page_count=pages, cover_lines=tuple(cover_lines))
    return Preview(png=None, method="text", page_count=pages, cover_lines=tuple(cover_lines))
