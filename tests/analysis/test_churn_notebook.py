"""The churn chapter notebook runs top to bottom on the sample data (slow)."""

import pytest

from helpers.config import NOTEBOOK_DIR, SAMPLE_DATA


@pytest.mark.slow
def test_churn_notebook_runs(tmp_path):
    papermill = pytest.importorskip("papermill")
    import nbformat

    if not SAMPLE_DATA.exists():
        pytest.skip("sample data missing")
    out = tmp_path / "05-abwanderung.ipynb"
    papermill.execute_notebook(str(NOTEBOOK_DIR / "05-abwanderung.ipynb"), str(out),
                               cwd=str(NOTEBOOK_DIR), kernel_name="python3", progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    markdown = "\n".join(
        o["data"]["text/markdown"] for c in nb.cells if c.cell_type == "code"
        for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})
    )
    assert "abgewandert" in markdown
    assert "ROC AUC" in markdown or "entfällt" in markdown
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
