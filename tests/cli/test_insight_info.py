"""``cvkit info --table`` and ``--csv``: per-layer output shapes, parameters and MACs."""

from __future__ import annotations

import csv

from helpers import assert_user_error, run_cli_here


def _total(stdout: str, label: str) -> int:
    line = next(line for line in stdout.splitlines() if line.startswith(label + ":"))
    return int(line.split(":")[1].split()[0].replace(",", ""))


def test_info_table_and_csv_list_each_layer_and_add_up_to_the_totals(tmp_path):
    path = tmp_path / "tables" / "lenet5.csv"
    result = run_cli_here("info", "lenet5", "--num-classes", "10", "--table", "--csv", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.split()[:2] == ["layer", "type"])
    assert header.split() == ["layer", "type", "output", "params", "MACs"]
    assert any(line.split()[:1] == ["fc1"] and line.split()[-1] == "48,000" for line in lines)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["layer", "type", "output_shape", "params", "macs"]
    assert sum(int(r["macs"]) for r in rows) == _total(result.stdout, "multiply-accumulates")
    assert sum(int(r["params"]) for r in rows) == _total(result.stdout, "total params")
    conv1 = next(r for r in rows if r["layer"] == "conv1")
    assert conv1["output_shape"] == "28x28x6" and int(conv1["macs"]) == 28 * 28 * 6 * 5 * 5


def test_info_csv_to_a_directory_is_a_user_error(tmp_path):
    assert_user_error(run_cli_here("info", "lenet5", "--csv", str(tmp_path)), "is a directory")
