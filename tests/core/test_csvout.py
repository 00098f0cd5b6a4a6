"""CSV downloads: BOM first, formula-looking text neutralised, numbers kept, pieces."""

from __future__ import annotations

import csv
import io

from community.core.csvout import csv_pieces


def test_text_that_looks_like_a_formula_is_neutralised_numbers_are_not():
    text = "".join(csv_pieces(["名称", "数"], [["=HYPERLINK(1)", -3], ["-x", 2.5], [None, 0]]))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["名称", "数"], ["'=HYPERLINK(1)", "-3"], ["'-x", "2.5"], ["", "0"]]


def test_long_exports_come_in_pieces():
    pieces = list(csv_pieces(["n"], ([i] for i in range(1200)), every=500))
    assert len(pieces) == 3
    assert "".join(pieces).count("\n") == 1201
