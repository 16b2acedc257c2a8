"""docs/theory.md maps each section to the code that implements it, and every name of the package
the docs cite exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def cited_names(text: str) -> set[str]:
    """Every ``mixtheory.…`` dotted name in backquotes."""
    return set(re.findall(r"`(mixtheory(?:\.\w+)+)", text))


def resolve(name: str) -> object:
    """Import the longest module prefix of ``name``, then look the rest up as attributes."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ModuleNotFoundError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(name)


DOC_FILES = sorted(p.name for p in DOCS.glob("*.md")) + ["../README.md"]


@pytest.mark.parametrize("doc", DOC_FILES)
def test_every_cited_name_exists(doc):
    names = cited_names((DOCS / doc).read_text(encoding="utf-8"))
    missing = []
    for name in sorted(names):
        try:
            resolve(name)
        except (ImportError, AttributeError):
            missing.append(name)
    assert not missing, f"docs/{doc} cites names that do not exist: {missing}"


def test_the_name_check_fails_on_a_missing_name():
    with pytest.raises(AttributeError):
        resolve("mixtheory.estimators.hutchinson._r13_from_probes")
    with pytest.raises(ModuleNotFoundError):
        resolve("mixtheory_nonexistent.x")
    assert resolve("mixtheory.expansions.remainder.fit_remainder_order").__name__ == "fit_remainder_order"


def test_every_section_of_theory_names_its_module():
    text = (DOCS / "theory.md").read_text(encoding="utf-8")
    sections = re.split(r"^## (?=\d+\. )", text, flags=re.M)[1:]
    assert len(sections) >= 9
    for section in sections:
        title = section.splitlines()[0]
        if title.startswith("9. References"):
            continue
        # a section names its module, or each of its subsections does
        subsections = re.split(r"^### ", section, flags=re.M)
        own = "*Implemented in*" in subsections[0]
        assert own or all("*Implemented in*" in sub for sub in subsections[1:]), title
        assert cited_names(section), f"§{title} cites no module"


def test_theory_cites_every_paper_it_relies_on():
    references = (DOCS / "theory.md").read_text(encoding="utf-8").split("## 9. References", 1)[1]
    for author in ("Carratino", "Zhang", "Park", "Zou", "Dangel", "Paul", "Toneva", "Hutchinson", "Meyer"):
        assert author in references, author


def test_every_doc_is_checked():
    assert {"theory.md", "README.md", "reproduce.md", "monitor.md", "mask_conventions.md"} <= set(DOC_FILES)


def _top_level_table() -> list[str]:
    text = (DOCS / "README.md").read_text(encoding="utf-8")
    section = text.split("## The top-level API", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    return [name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[2])]


def test_the_top_level_api_is_documented_name_for_name():
    import mixtheory

    listed = _top_level_table()
    assert len(listed) == len(set(listed)), "a name is listed twice"
    assert set(listed) == set(mixtheory.__all__), (
        f"listed, not exported: {sorted(set(listed) - set(mixtheory.__all__))}; "
        f"exported, not listed: {sorted(set(mixtheory.__all__) - set(listed))}"
    )
    for name in mixtheory.__all__:
        assert getattr(mixtheory, name) is not None


def test_internals_stay_in_their_subpackages():
    """The building blocks are not top-level names, and are importable where they live."""
    import mixtheory

    internals = {
        "second_order_jet": "mixtheory.estimators",
        "directional_derivatives": "mixtheory.derivatives",
        "rescale": "mixtheory.approximate",
        "first_order_term_approx": "mixtheory.expansions.mixupe",
        "regularizers_from_derivatives": "mixtheory.regularizers",
        "model_derivatives": "mixtheory.regularizers",
        "monte_carlo_estimate": "mixtheory.monte_carlo",
    }
    for name, module in internals.items():
        assert not hasattr(mixtheory, name), name
        assert callable(getattr(importlib.import_module(module), name)), name


def implemented_in_names(text: str) -> list[tuple[str, str]]:
    """``(module, name)`` for every backquoted name in parentheses after a module in an
    *Implemented in* paragraph: `mixtheory.closed_form` (`taylor_regularizers`, ...)."""
    pairs = []
    for paragraph in re.findall(r"\*Implemented in\*(.*?)(?:\n\n|$)", text, flags=re.S):
        paragraph = " ".join(paragraph.split())
        for module, inner in re.findall(r"`(mixtheory(?:\.\w+)+)`\s*\(([^()]*)\)", paragraph):
            names = re.findall(r"`([A-Za-z_][\w.]*)`", inner)
            pairs += [(module, name) for name in names if not name.startswith("mixtheory.")]
    return pairs


def test_the_names_each_section_attributes_to_a_module_live_there():
    text = (DOCS / "theory.md").read_text(encoding="utf-8")
    pairs = implemented_in_names(text)
    assert len(pairs) > 30
    missing = []
    for module, name in pairs:
        try:
            resolve(f"{module}.{name}")
        except (ImportError, AttributeError):
            missing.append(f"{module}: {name}")
    assert not missing, f"docs/theory.md attributes names to modules that do not hold them: {missing}"


def test_the_attribution_check_fails_on_a_misplaced_name():
    text = '*Implemented in* `mixtheory.regularizers` (`taylor_regularizers`, `probes="x"`).\n\nrest'
    assert implemented_in_names(text) == [("mixtheory.regularizers", "taylor_regularizers")]
    with pytest.raises(AttributeError):
        resolve("mixtheory.regularizers.taylor_regularizers")
