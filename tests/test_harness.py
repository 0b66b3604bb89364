"""The harness can fail: strict nbval and the hygiene checks each catch a bad notebook."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests import hygiene

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = FIXTURES.parent.parent


def test_strict_nbval_reports_a_stale_output(tmp_path: Path) -> None:
    """A notebook whose stored output (0.668) differs from what the code prints (0.667) fails."""
    notebook = tmp_path / "stale_output.ipynb"
    shutil.copy(FIXTURES / "stale_output.ipynb", notebook)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
         "--rootdir", str(tmp_path), str(notebook)],
        capture_output=True, text=True, cwd=tmp_path, timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 failed" in output and "0.668" in output and "0.667" in output, output


def test_hygiene_reports_out_of_order_errors_and_paths() -> None:
    path = FIXTURES / "out_of_order.ipynb"
    problems = hygiene.check_execution(path, hygiene.read(path))
    text = "\n".join(problems)
    assert "out_of_order.ipynb cell 1: execution count 2, expected 1" in text
    assert "error output NameError" in text
    assert "machine path '/home/ana" in text


def test_hygiene_reports_bad_names_and_missing_shape(tmp_path: Path) -> None:
    assert hygiene.check_name(Path("10-Fraud.ipynb"))
    assert hygiene.check_name(Path("10_fraud.ipynb"))  # well-formed, but not the planned name
    assert not hygiene.check_name(Path("10_case_fraud_detection.ipynb"))
    fake = tmp_path / "10_case_fraud_detection.ipynb"
    shutil.copy(FIXTURES / "stale_output.ipynb", fake)
    problems = "\n".join(hygiene.check_shape(fake, hygiene.read(fake), tmp_path))
    assert "title cell must start with '# 10 · Fraud detection'" in problems
    assert "`parameters`" in problems and "`scorecard`" in problems


def test_hygiene_reports_an_oversized_notebook(tmp_path: Path) -> None:
    big = tmp_path / "00_course_map.ipynb"
    big.write_bytes(b" " * (hygiene.MAX_BYTES + 1))
    assert hygiene.check_size(big)


def test_readme_check_reports_missing_rows_and_dead_links(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("| 00 | [Course map](notebooks/00_course_map.ipynb) | x |\n"
                      "| 10 | [Fraud](notebooks/10_case_fraud_detection.ipynb) | x |\n")
    (tmp_path / "00_course_map.ipynb").write_text("{}")
    problems = "\n".join(hygiene.check_readme(readme, tmp_path))
    assert "no row 01" in problems
    assert "row 10 links notebooks/10_case_fraud_detection.ipynb, which does not exist yet" in problems
    readme.write_text("| 00 | [Course map](notebooks/00_course_map.ipynb) | x | 7 min |\n")
    assert "row 00 says 7 min; utils/course.py plans" in "\n".join(hygiene.check_readme(readme, tmp_path))
