"""docs/exp.ipynb runs top to bottom (nbclient, a real IPython kernel) against the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[3] / "docs" / "exp.ipynb"

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


@pytest.mark.timeout(300)
def test_the_exp_notebook_runs(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4  # monitor, scan, grid scan, logged data
    progress = [o for o in outputs if "<progress" in o.get("data", {}).get("text/html", "")]
    assert len(progress) == 2  # one live bar per scan, drawn as HTML in the notebook
    text = "".join(o.get("text", "") for o in outputs)
    assert "restored: True - after: 40.0" in text
    assert (tmp_path / "run.csv").exists() and (tmp_path / "run.parquet").is_file()
