"""Chapter execution: parameters pass through safely, chapters are isolated, errors are German."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.exceptions import RenderError
from helpers.report import execute
from helpers.report.execute import KERNELSPEC, cell_timings, execute_chapters, execute_notebook


def _notebook(path, *bodies: str):
    nb = new_notebook(cells=[
        new_code_cell('client_name = "Beispiel"\nsettings = {}', metadata={"tags": ["parameters"]}),
        new_markdown_cell("# Titel"),
        *[new_code_cell(b) for b in bodies],
    ])
    nb.metadata["kernelspec"] = KERNELSPEC
    nbformat.write(nb, str(path))
    return path


def _stream(nb_path) -> str:
    nb = nbformat.read(str(nb_path), as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.output_type == "stream")


def test_missing_kernel_is_a_german_error_naming_make_setup(monkeypatch, tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    def missing(self, name):
        raise NoSuchKernel(name)

    monkeypatch.setattr(KernelSpecManager, "get_kernel_spec", missing)
    with pytest.raises(RenderError, match="Kernel „kundenwert“.*make setup"):
        execute_chapters([("a", "A", _notebook(tmp_path / "a.ipynb"), tmp_path / "out.ipynb")], {}, cwd=tmp_path)


def test_kernel_is_installed():
    execute.require_kernel()  # make setup installs it into the venv


@pytest.mark.slow
def test_parameters_isolation_and_progress(tmp_path):
    a = _notebook(tmp_path / "a.ipynb", "import json\nprint(json.dumps({'client_name': client_name, 'settings': settings}))",
                  "nur_in_a = 1")
    b = _notebook(tmp_path / "b.ipynb", "print('nur_in_a' in globals(), client_name == PARAMS)")
    tricky = 'Müller "Söhne" \'GmbH\' \\ C:\\temp\\n """ \n zweite Zeile\r\n#set {{< x >}}'
    settings = {"a\"b": "c\\d\n'e'", "clv.horizon_months": 6}
    # b checks its parameter against a copy defined in its own namespace after injection
    nb_b = nbformat.read(str(b), 4)
    nb_b.cells.insert(2, new_code_cell(f"PARAMS = {tricky!r}"))
    nbformat.write(nb_b, str(b))
    started = []
    out = execute_chapters(
        [("a", "Kapitel A", a, tmp_path / "out" / "a.ipynb"), ("b", "Kapitel B", b, tmp_path / "out" / "b.ipynb")],
        {"client_name": tricky, "settings": settings}, cwd=tmp_path, on_chapter=started.append,
    )
    assert started == [0, 1]
    assert json.loads(_stream(out["a"])) == {"client_name": tricky, "settings": settings}
    assert _stream(out["b"]).strip() == "False True"  # namespace reset between chapters
    cells = nbformat.read(str(out["a"]), 4).cells
    assert [c.metadata.get("tags", []) for c in cells[:2]] == [["parameters"], ["injected-parameters"]]
    assert cells[2].source == "# Titel"


@pytest.mark.slow
def test_default_parameters_notebook_object_skip_tag_and_timings(tmp_path):
    nb = nbformat.read(str(_notebook(tmp_path / "a.ipynb", "print(client_name)", "raise SystemError('nie')",
                                     "print('ende')")), 4)
    nb.cells[-2].metadata["tags"] = ["exercise", "skip-execution"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    done = execute_notebook(nb, tmp_path / "out" / "a.ipynb", cwd=tmp_path)
    assert [c.metadata.get("tags", []) for c in done.cells][:2] == [["parameters"], []]  # nothing injected
    assert _stream(tmp_path / "out" / "a.ipynb") == "Beispiel\nende\n"
    assert done.cells[-2].outputs == []  # skipped scaffold
    assert done.metadata["kernelspec"] == KERNELSPEC
    timings = cell_timings(done)
    assert [t.index for t in timings] == [0, 2, 4] and all(t.seconds >= 0 for t in timings)
    assert timings[1].first_line == "print(client_name)"


@pytest.mark.slow
def test_cell_error_names_chapter_and_keeps_partial_notebook(tmp_path):
    ok = _notebook(tmp_path / "ok.ipynb", "x = 1")
    boom = _notebook(tmp_path / "boom.ipynb", "raise ValueError('Spalte fehlt')", "print('nie')")
    outs = [tmp_path / "out" / "ok.ipynb", tmp_path / "out" / "boom.ipynb"]
    with pytest.raises(RenderError) as err:
        execute_chapters([("ok", "Datengrundlage", ok, outs[0]),
                          ("rfm", "Kundensegmentierung nach RFM", boom, outs[1])], {"client_name": "X"}, cwd=tmp_path)
    msg = str(err.value)
    assert "Kundensegmentierung nach RFM" in msg and "ValueError: Spalte fehlt" in msg
    assert outs[0].exists() and outs[1].exists()
    cells = nbformat.read(str(outs[1]), 4).cells
    assert any(o.get("ename") == "ValueError" for o in cells[-1].get("outputs", []))
    assert "nie" not in cells[-1].source


def test_split_runs_balances_the_report_chapters_over_two_kernels(tmp_path):
    from helpers import chapters

    runs = [execute.ChapterRun(ch.slug, ch.title, ch.path, tmp_path / ch.notebook) for ch in chapters.CHAPTERS]
    ready = chapters.dependency_order()
    groups = execute.split_runs(runs, 2, ready)
    assert sorted(r.slug for g in groups for r in g) == sorted(r.slug for r in runs)  # each chapter once
    cost = [sum(execute.CHAPTER_COST[r.slug] for r in g) for g in groups]
    assert max(cost) - min(cost) <= max(execute.CHAPTER_COST.values())  # greedy: within one chapter
    for g in groups:  # a kernel runs its chapters in the order their results become ready
        assert [r.slug for r in g] == [s for s in ready if s in {r.slug for r in g}]
    assert groups[0][0].slug == ready[0] and groups[1][0].slug == ready[1]  # both start early
    assert execute.split_runs(runs, 1) == [runs]
    assert execute.split_runs(runs[:1], 2) == [runs[:1]]  # no empty kernel


@pytest.mark.slow
def test_a_chapter_runs_as_soon_as_it_is_ready_and_no_earlier(tmp_path):
    import time

    done = {s: tmp_path / f"{s}-fertig.txt" for s in "ab"}
    marker = tmp_path / "b-darf.txt"
    nbs = {s: _notebook(tmp_path / f"{s}.ipynb", f"open({str(done[s])!r}, 'w').write('x')") for s in "ab"}
    nb = nbformat.read(str(nbs["b"]), 4)
    nb.cells.insert(2, new_code_cell(f"assert open({str(marker)!r}).read() == 'ja'"))
    nbformat.write(nb, str(nbs["b"]))
    runs = [(s, s.upper(), nbs[s], tmp_path / "out" / f"{s}.ipynb") for s in "ab"]
    job = execute.start_chapters(runs, {}, cwd=tmp_path, kernels=1)
    job.ready("a")
    deadline = time.monotonic() + 120
    while not done["a"].exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert done["a"].exists() and not done["b"].exists()  # b waits for its own result
    marker.write_text("ja")
    job.ready("b")
    out = job.wait()
    assert done["b"].exists() and set(out) == {"a", "b"}


@pytest.mark.slow
def test_started_chapters_wait_for_the_gate_and_run_in_two_kernels(tmp_path):
    import os

    marker = tmp_path / "ready.txt"
    nbs = [_notebook(tmp_path / f"{s}.ipynb", f"print(open({str(marker)!r}).read(), os.getpid())")
           for s in ("a", "b", "c")]
    for nb_path in nbs:  # the warm-up cell must not leak into the chapters' namespace
        nb = nbformat.read(str(nb_path), 4)
        nb.cells.insert(2, new_code_cell("import os\nprint('_il' in globals())"))
        nbformat.write(nb, str(nb_path))
    runs = [(s, s.upper(), p, tmp_path / "out" / f"{s}.ipynb") for s, p in zip("abc", nbs)]
    started = []
    job = execute.start_chapters(runs, {"client_name": "X"}, cwd=tmp_path, kernels=2, on_chapter=started.append)
    marker.write_text("bereit")  # written after the start: the chapters ran only after the gate
    out = job.wait()
    assert sorted(started) == [0, 1, 2]
    lines = {s: _stream(out[s]).split() for s in "abc"}
    assert all(v[0] == "False" and v[1] == "bereit" for v in lines.values())
    assert len({v[2] for v in lines.values()}) == 2  # two kernel processes
    assert os.getpid() not in {int(v[2]) for v in lines.values()}


@pytest.mark.slow
def test_cancelled_start_writes_nothing_and_a_failing_kernel_raises(tmp_path):
    ok = _notebook(tmp_path / "ok.ipynb", "x = 1")
    job = execute.start_chapters([("ok", "OK", ok, tmp_path / "out" / "ok.ipynb")], {}, cwd=tmp_path)
    job.cancel()
    assert not (tmp_path / "out" / "ok.ipynb").exists()
    boom = _notebook(tmp_path / "boom.ipynb", "raise ValueError('kaputt')")
    job = execute.start_chapters([("ok", "OK", ok, tmp_path / "o" / "ok.ipynb"),
                                  ("rfm", "Kundensegmentierung nach RFM", boom, tmp_path / "o" / "b.ipynb")],
                                 {}, cwd=tmp_path, kernels=2)
    with pytest.raises(RenderError, match="Kundensegmentierung nach RFM.*kaputt"):
        job.wait()
    assert (tmp_path / "o" / "ok.ipynb").exists()
