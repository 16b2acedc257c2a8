"""The README stays true: its first two commands are the set-up ones and its Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_opens_with_the_two_setup_commands():
    text = README.read_text()
    first_block = re.search(r"```bash\n(.*?)```", text, re.S).group(1).strip().splitlines()
    assert first_block == [
        "pip install torch==2.13.0 && pip install -e '.[test]' && mixtheory check",
        "python -m pytest",
    ]
    ci = (README.parent / ".ci" / "run").read_text()
    assert "\npython -m pytest\n" in ci  # CI calls the README's test command


def test_readme_python_example_runs(capsys):
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    exec(compile(code, "README example", "exec"), {})
    approx, exact = (float(v) for v in capsys.readouterr().out.split())
    assert abs(approx - exact) / exact < 0.01  # an untrained net: second order is close
