"""The course and the report show the same numbers: a chapter notebook opened with its default
parameters (JupyterLab) prints the same action plan and value at risk as in the report."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from helpers import chapters, fmt, session
from helpers.config import NOTEBOOK_DIR, SAMPLE_CLIENT, SAMPLE_DATA, ReportConfig
from helpers.data import load_dataset
from helpers.report.assemble import cell_options
from helpers.report.display import md_escape

pytestmark = pytest.mark.slow


def _shown(path: Path) -> dict[str, str]:
    """Markdown shown by each labelled or numbered code cell of an executed notebook."""
    nb = nbformat.read(str(path), as_version=4)
    out = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        md = [o["data"]["text/markdown"] for o in cell.get("outputs", [])
              if o.get("output_type") in ("display_data", "execute_result") and "text/markdown" in o.get("data", {})]
        if md:
            out[cell_options(cell.source).get("label", cell.get("id", f"cell-{i}"))] = "\n".join(md)
    return out


def _execute(notebook: str, out: Path, **parameters) -> dict[str, str]:
    import papermill as pm

    pm.execute_notebook(str(NOTEBOOK_DIR / notebook), str(out), parameters=parameters,
                        kernel_name="kundenwert", cwd=str(NOTEBOOK_DIR), progress_bar=False)
    return _shown(out)


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory) -> Path:
    """What the report pipeline leaves for the notebooks: prepared data and all results."""
    work = tmp_path_factory.mktemp("work")
    cfg = ReportConfig.from_settings(SAMPLE_CLIENT)
    ds = load_dataset(SAMPLE_DATA, cfg, key=b"report-key-0123456789abcdef")
    session.write_prepared(ds, work)
    session.write_results(chapters.compute_all(ds, cfg), work)
    return work


@pytest.mark.parametrize("slug", ["actions", "summary"])
def test_interactive_and_report_mode_show_the_same_numbers(slug, work_dir, tmp_path):
    notebook = chapters.by_slug(slug).notebook
    interactive = _execute(notebook, tmp_path / "lab.ipynb")                  # default parameters
    report = _execute(notebook, tmp_path / "report.ipynb", work_dir=str(work_dir))
    assert interactive.keys() == report.keys()
    assert interactive == report
    ctx = session.open(SAMPLE_DATA, SAMPLE_CLIENT, work_dir=work_dir)
    value_at_risk = fmt.eur(ctx.result("churn").key.value_at_risk)
    shown = " ".join(report.values())
    assert value_at_risk in shown or md_escape(value_at_risk) in shown   # the one value at risk
