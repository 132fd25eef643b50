"""The churn chapter notebook runs top to bottom on the sample data and shows the computed result (slow)."""

import pytest

from helpers.config import NOTEBOOK_DIR, SAMPLE_DATA

NOTEBOOK = NOTEBOOK_DIR / "05-abwanderung.ipynb"


def test_churn_notebook_has_only_presentation_cells():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for word in ("prepared_dir", "save_result", "record_key_figures", "load_result", "session.setup"):
        assert word not in code
    assert 'res = ctx.result("churn")' in code


@pytest.mark.slow
def test_churn_notebook_runs(tmp_path):
    papermill = pytest.importorskip("papermill")
    import nbformat

    from helpers import fmt, session

    if not SAMPLE_DATA.exists():
        pytest.skip("sample data missing")
    out = tmp_path / "05-abwanderung.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(out), cwd=str(NOTEBOOK_DIR), kernel_name="kundenwert",
                               progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    markdown = "\n".join(
        o["data"]["text/markdown"] for c in nb.cells if c.cell_type == "code"
        for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})
    )
    assert "abgewandert" in markdown
    assert "ROC AUC" in markdown or "entfällt" in markdown
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    # the notebook prints the value at risk of the chapter result (the number the report quotes)
    res = session.open(SAMPLE_DATA).result("churn")
    assert f"insgesamt {fmt.eur(res.key.value_at_risk)} Deckungsbeitrag" in markdown
