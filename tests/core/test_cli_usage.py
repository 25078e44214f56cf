"""The ac* tools' usage line (formatted only when printed) shows the parser as declared."""

from __future__ import annotations

import argparse

import pytest

from pacsys.cli import acget
from pacsys.cli._argparse import SizedHelpFormatter, parse_intermixed


def _usage(text: str) -> str:
    """The ``usage:`` paragraph of ``text``, joined into one line."""
    paragraph = text[text.index("usage: ") :].split("\n\n", 1)[0]
    return " ".join(paragraph.split("\nacget: error:", 1)[0].split())


@pytest.mark.parametrize(
    "argv", [["--help"], ["--bogus", "M:OUTTMP"], ["-p"], ["--format", "xml", "M:OUTTMP"]]
)
def test_usage_names_positionals_and_options(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        acget.main(argv)
    captured = capsys.readouterr()
    usage = _usage(captured.out + captured.err)
    assert usage.startswith("usage: acget [-h] [--version]"), usage
    assert usage.endswith("[DRF ...]"), usage
    assert "[-b NAME]" in usage


def test_parser_usage_is_restored_and_state_kept() -> None:
    parser = argparse.ArgumentParser(prog="tool", formatter_class=SizedHelpFormatter)
    parser.add_argument("-x", required=True)
    parser.add_argument("names", nargs="*")
    args = parse_intermixed(parser, ["a", "-x", "1", "b"])
    assert (args.x, args.names) == ("1", ["a", "b"])
    assert parser.usage is None
    assert parser.format_usage() == "usage: tool [-h] -x X [names ...]\n"


def test_formatter_width_follows_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    assert SizedHelpFormatter("tool")._width == 48
    monkeypatch.setenv("COLUMNS", "junk")
    assert SizedHelpFormatter("tool", width=70)._width == 70
