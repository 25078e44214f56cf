"""Every example of docs/operator-tools.md runs against the simulator and prints what it shows."""

from __future__ import annotations

import doctest
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "operator-tools.md"


def test_operator_tools_examples(clean_pacsys: None) -> None:
    text = DOC.read_text("utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, DOC.name, str(DOC), 0)
    assert len(test.examples) > 30
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"
