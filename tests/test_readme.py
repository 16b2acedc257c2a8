"""The README stays true: its first two commands are the set-up ones and its Python example runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

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


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def test_readme_says_how_to_choose_the_torch_build():
    text = " ".join(README.read_text().split())
    assert "--index-url https://download.pytorch.org/whl/cpu" in text
    assert "CUDA build" in text and "torch>=2.3" in text
    pyproject = (README.parent / "pyproject.toml").read_text()
    assert '"torch>=2.3"' in pyproject  # what the README says the package declares


def test_readme_training_lines_are_the_ones_estimate_help_shows():
    from mixtheory.cli.estimate import TRAINING_SNIPPET

    assert TRAINING_SNIPPET in _blocks(README.read_text(), "python")
    bash = _blocks(README.read_text(), "bash")
    assert any("mixtheory estimate --model mlp.pt --arch mlp-tanh" in b for b in bash)


def test_readme_out_schema_is_the_one_estimate_help_shows():
    from mixtheory.cli.estimate import EPILOG

    schema = _blocks(README.read_text(), "text")[0]
    epilog = EPILOG.split("--out JSON schema:\n")[1]
    assert " ".join(schema.split()) in " ".join(epilog.split())


def test_readme_documents_data_device_and_the_cost_of_the_exact_loss():
    text = " ".join(README.read_text().split())
    for phrase in (
        "`.npz` file with two arrays, `X`",
        "`--device cuda`",
        "O(n² · nodes)",
        "`sampled_mixup_loss`",
        'evaluation="sampled"',
        "What each row of `mixtheory check` means",
    ):
        assert phrase in text, phrase


def test_license_matches_pyproject():
    license_text = (README.parent / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and "Copyright (c) the mixtheory authors" in license_text
    assert 'license = { text = "MIT" }' in (README.parent / "pyproject.toml").read_text()


@pytest.mark.slow
def test_readme_training_lines_and_estimate_command_run(tmp_path, monkeypatch, capsys):
    import shlex

    from mixtheory.cli import main

    monkeypatch.chdir(tmp_path)
    from mixtheory.cli.estimate import TRAINING_SNIPPET

    exec(compile(TRAINING_SNIPPET, "README training lines", "exec"), {})
    command = next(b for b in _blocks(README.read_text(), "bash") if "mixtheory estimate" in b).strip()
    argv = shlex.split(command)[1:]
    assert argv[0] == "estimate"
    assert main(argv) == 0
    record = json.loads((tmp_path / "results.json").read_text())
    assert len(record["per_sample"]["R13"]) == 100
