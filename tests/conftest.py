"""Generic shared fixtures (keep chapter-specific fixtures in the test modules)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
NETGUARD_DIR = FIXTURES / "netguard"


@pytest.fixture
def png_bytes() -> bytes:
    """A small real PNG (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.style.context("default"):  # independent of the chart style other tests set
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([1, 2, 3], [1, 4, 9])
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=50)
        plt.close(fig)
    return buf.getvalue()


@pytest.fixture
def pdf_text():
    """Function: PDF path -> extracted text of all pages (pypdf)."""
    from pypdf import PdfReader

    def extract(path: str | Path) -> str:
        return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)

    return extract


@pytest.fixture
def netguard_env(tmp_path):
    """Environment for subprocesses (and their Jupyter kernels) that refuses non-loopback network.

    Returns ``(env, log_path)``; the log lists ``guard-loaded`` per process and every blocked attempt.
    """
    log = tmp_path / "net.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NETGUARD_DIR), env.get("PYTHONPATH", "")]))
    env["KUNDENWERT_NETLOG"] = str(log)
    return env, log
