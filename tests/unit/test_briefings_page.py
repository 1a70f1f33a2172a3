"""The briefing preview with pdftoppm (the Briefings page, its callbacks and downloads need the app and a database:
tests/integration/test_briefings_page.py)."""

from __future__ import annotations

import pytest

# --------------------------------------------------------------------------------------------------------------------
# preview fallbacks: a fresh machine without poppler or pypdfium2 still gets a preview


def test_preview_with_pdftoppm() -> None:
    import shutil

    from reports import build_sku_briefing
    from reports.samples import sample_sku_briefing
    from services import briefing as svc

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed (apt-get install -y poppler-utils)")
    preview = svc.render_preview(pdf=build_sku_briefing(sample_sku_briefing()), dpi=40)
    assert preview.method == "pdftoppm" and preview.png.startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="dpi"):
        svc.render_preview(pdf=b"", dpi=5)
    assert svc.render_preview(pdf=b"not a pdf").page_count == 0
