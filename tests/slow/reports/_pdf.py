"""Helpers for the briefing tests: PDF text extraction (pypdf) and page rendering (pdftoppm)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image, ImageStat
from pypdf import PdfReader


def page_texts(pdf: bytes) -> list[str]:
    """Text of each page, whitespace collapsed to single spaces."""
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def render_pages(pdf: bytes, *, dpi: int = 40, mode: str = "L") -> list[Image.Image]:
    """Every page as an image (greyscale unless ``mode`` says otherwise, e.g. ``"RGB"``); skips the test when
    pdftoppm (poppler-utils) is not installed."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        pytest.skip("pdftoppm not installed (apt-get install -y poppler-utils): page rendering not checked")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(pdf)
        subprocess.run([exe, "-r", str(dpi), "-png", str(source), str(Path(folder) / "page")], check=True, timeout=60)
        files = sorted(Path(folder).glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        return [Image.open(f).convert(mode).copy() for f in files]


def assert_not_blank(image: Image.Image) -> None:
    """A page with content: pixel variance well above zero and more than 1 % of the pixels not white."""
    stat = ImageStat.Stat(image)
    assert stat.stddev[0] > 10, f"page looks blank (pixel std {stat.stddev[0]:.1f})"
    histogram = image.histogram()
    non_white = sum(histogram[:230]) / sum(histogram)
    assert non_white > 0.01, f"page looks blank ({non_white:.2%} non-white pixels)"
