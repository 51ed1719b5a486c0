"""docs/notebooks/tutorial.ipynb runs top to bottom (nbclient, python3 kernel), and its
outputs carry LaTeX for laws, HTML for results and PNG for figures."""

from __future__ import annotations

import pytest

from conftest import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = ROOT / "docs" / "notebooks" / "tutorial.ipynb"


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    return nb


def _kinds(cell) -> set:
    return {k for out in cell.get("outputs", []) for k in out.get("data", {})}


def test_every_cell_runs_without_error(executed):
    for cell in executed.cells:
        if cell.cell_type == "code":
            assert all(o.get("output_type") != "error" for o in cell.outputs), cell.source


def test_outputs_have_rich_forms(executed):
    code = [c for c in executed.cells if c.cell_type == "code"]
    by_source = {c.source.splitlines()[-1]: _kinds(c) for c in code}
    assert "text/latex" in by_source["chinchilla"] and "text/latex" in by_source["mine"]
    assert "text/html" in by_source["fit"] and "text/html" in by_source["comparison"]
    figures = [k for k in by_source.values() if "image/png" in k]
    assert len(figures) >= 3
    html = next(o["data"]["text/html"] for c in code if c.source.endswith("\nfit")
                for o in c.outputs if "text/html" in o.get("data", {}))
    assert "<table>" in html and "data:image/png;base64," in html and "R²" in html
