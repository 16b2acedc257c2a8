"""Repo-wide limits of the API (issue 16, "Done when"): no module over 600 lines, no public function
with more than 10 parameters outside its options object, and one word per idea.

Read from the source (``ast``), so that every module counts, imported or not. A *public callable* is
a module-level function whose name does not start with ``_`` (or that its module lists in
``__all__``), and the ``__init__`` and public methods of a public class; a *public field* is an
annotated attribute of a public class (the fields of option and result dataclasses). Its
parameters are counted positional and keyword alike, without ``self``/``cls`` and without a
parameter named ``options`` or ``config`` (the options object); ``*args`` and ``**kwargs`` count one
each.

There are no exemptions: every rule holds for the whole package, and each rule has a made-up case
showing that it fires.
"""

from __future__ import annotations

import ast
import functools
import importlib
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mixtheory"
MAX_LINES = 600
MAX_PARAMETERS = 10
NOT_COUNTED = {"self", "cls", "options", "config"}


@dataclass(frozen=True)
class Callable_:
    name: str  # dotted: mixtheory.module.function or mixtheory.module.Class.method
    module: str
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.AnnAssign

    @property
    def parameters(self) -> list[ast.arg]:
        if isinstance(self.node, ast.AnnAssign):
            return []
        a = self.node.args
        return a.posonlyargs + a.args + a.kwonlyargs


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_all(tree: ast.Module) -> set[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            if isinstance(node.value, (ast.List, ast.Tuple)):
                return {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
    return set()


def public_members(source: str, module: str) -> Iterator[Callable_]:
    """The public callables and public class fields of one module's source."""
    tree = ast.parse(source)
    exported = module_all(tree)
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in tree.body:
        public = not node.name.startswith("_") or node.name in exported if hasattr(node, "name") else False
        if isinstance(node, functions) and public:
            yield Callable_(f"{module}.{node.name}", module, node)
        elif isinstance(node, ast.ClassDef) and public:
            for sub in node.body:
                if isinstance(sub, functions) and (not sub.name.startswith("_") or sub.name == "__init__"):
                    yield Callable_(f"{module}.{node.name}.{sub.name}", module, sub)
                elif isinstance(sub, ast.AnnAssign) and isinstance(sub.target, ast.Name):
                    yield Callable_(f"{module}.{node.name}.{sub.target.id}", module, sub)


def all_members() -> list[Callable_]:
    return [
        member
        for path in sorted(PACKAGE.rglob("*.py"))
        for member in public_members(path.read_text(encoding="utf-8"), module_name(path))
    ]


def parameter_count(member: Callable_) -> int:
    a = member.node.args
    named = [p for p in member.parameters if p.arg not in NOT_COUNTED]
    return len(named) + (a.vararg is not None) + (a.kwarg is not None)


MEMBERS = all_members()
CALLABLES = [m for m in MEMBERS if not isinstance(m.node, ast.AnnAssign)]


# ---------------------------------------------------------------------------------------------
# the counting itself
# ---------------------------------------------------------------------------------------------


def test_the_counting_rules():
    source = (
        "__all__ = ['_exported']\n"
        "def f(a, b, /, c, *args, d, options=None, **kwargs): ...\n"
        "def _private(a, b, c, d, e, f, g, h, i, j, k, l): ...\n"
        "def _exported(a): ...\n"
        "class C:\n"
        "    x: int = 0\n"
        "    def __init__(self, a, config=None): ...\n"
        "    def method(cls, a, b): ...\n"
        "    def _helper(self, a): ...\n"
        "class _Hidden:\n"
        "    def method(self, a): ...\n"
    )
    found = {m.name: m for m in public_members(source, "m")}
    assert set(found) == {"m.f", "m._exported", "m.C.x", "m.C.__init__", "m.C.method"}
    counts = {name: parameter_count(m) for name, m in found.items() if not isinstance(m.node, ast.AnnAssign)}
    assert counts == {"m.f": 6, "m._exported": 1, "m.C.__init__": 1, "m.C.method": 2}
    assert len(CALLABLES) > 300, "the scan found too few public callables: is PACKAGE right?"


# ---------------------------------------------------------------------------------------------
# no module over 600 lines
# ---------------------------------------------------------------------------------------------


def long_modules() -> dict[str, int]:
    lengths = {module_name(p): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    return {name: n for name, n in lengths.items() if n > MAX_LINES}


def test_no_module_over_600_lines():
    assert not long_modules(), f"modules over {MAX_LINES} lines: {long_modules()}"


# ---------------------------------------------------------------------------------------------
# no public function over 10 parameters outside its options object
# ---------------------------------------------------------------------------------------------


def over_the_limit() -> dict[str, int]:
    counts = {m.name: parameter_count(m) for m in CALLABLES}
    return {name: n for name, n in counts.items() if n > MAX_PARAMETERS}


def test_no_other_public_function_over_ten_parameters():
    others = over_the_limit()
    assert not others, f"public functions over {MAX_PARAMETERS} parameters outside their options: {others}"


# ---------------------------------------------------------------------------------------------
# one word per idea
# ---------------------------------------------------------------------------------------------

# Names that no public parameter or field may take, with the one word the package uses instead.
BANNED = {
    "chunk": "chunk_size",
    "chunksize": "chunk_size",
    "batchsize": "batch_size",
    "microbatch": "chunk_size",
    "micro_batch_size": "chunk_size",
    "pass_size": "chunk_size",
    "samples_per_pass": "chunk_size",
    "pass_samples": "chunk_size",
    "probe_chunk": "chunk_size (probes per pass)",
    "granularity": "per",
}

# `batch_size` is the minibatch of training or of the mixing sampler: the number that changes the
# statistics (which samples meet in a batch, how many steps an epoch takes). What only bounds memory
# (samples, probes or atoms per pass, which change a result by rounding at most) is `chunk_size`.
# These are the public callables whose `batch_size` is such a minibatch.
MINIBATCH = {
    "mixtheory.training.config.TrainConfig.batch_size",
    "mixtheory.models.train_model",
    "mixtheory.reproduce._training.adam_config",
    "mixtheory.mixing.expected_loss.exact_loss_for_rule",
    "mixtheory.mixing.expected_loss.sampled_loss_for_rule",
    "mixtheory.mixing.expected_loss.self_pair_fraction",
    "mixtheory.mixing.frontends.TimmMixup.expected_loss",
}


def _literal_values(member: Callable_, annotation: ast.expr | None) -> set[str] | None:
    """The values of a ``Literal[...]`` annotation, written out or through an alias; None if none."""
    if annotation is None:
        return None
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value).endswith("Literal"):
        inner = annotation.slice
        elts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
        return {e.value for e in elts if isinstance(e, ast.Constant)}
    if isinstance(annotation, ast.Name):
        alias = getattr(importlib.import_module(member.module), annotation.id, None)
        if typing.get_origin(alias) is typing.Literal:
            return set(typing.get_args(alias))
    return None


def _annotated(member: Callable_) -> Iterator[tuple[str, ast.expr | None]]:
    if isinstance(member.node, ast.AnnAssign):
        yield member.node.target.id, member.node.annotation
    else:
        for p in member.parameters:
            yield p.arg, p.annotation


def vocabulary_offences(members: list[Callable_]) -> dict[str, str]:
    """``"word: public name"`` -> what is wrong with it."""
    from mixtheory.estimators.options import Method
    from mixtheory.mixing import Per

    allowed = {"per": set(typing.get_args(Per)), "method": set(typing.get_args(Method))}
    found = {}
    for member in members:
        for word, annotation in _annotated(member):
            key = f"{word}: {member.name}"
            if word in BANNED:
                found[key] = f"use {BANNED[word]}"
            elif word == "batch_size" and member.name not in MINIBATCH:
                found[key] = "a batch_size that is not a training/sampler minibatch: call it chunk_size"
            elif word in allowed:
                values = _literal_values(member, annotation)
                if values is None or not values <= allowed[word]:
                    found[key] = f"{word} values {values} are not among {sorted(allowed[word])}"
    return found


@functools.cache
def package_vocabulary_offences() -> dict[str, str]:
    return vocabulary_offences(MEMBERS)


def test_one_word_per_idea():
    offences = package_vocabulary_offences()
    others = offences
    assert not others, f"parameters that name an idea the package has another word for: {others}"


def test_every_minibatch_entry_exists():
    """The list of genuine minibatch sizes names only callables that take a batch_size."""
    takes = {m.name for m in MEMBERS if any(word == "batch_size" for word, _ in _annotated(m))}
    assert MINIBATCH <= takes, f"not public callables with a batch_size: {sorted(MINIBATCH - takes)}"


def test_the_vocabulary_rules_catch_their_cases():
    """Each rule fires on a made-up module (so that the checks above can fail)."""
    source = (
        "from typing import Literal\n"
        "def f(x, per: Literal['sample', 'batch'] = 'batch', method: Literal['exact'] = 'exact'): ...\n"
        "def g(x, batch_size: int = 256, chunk: int = 3): ...\n"
        "def h(x, per: Literal['pair'] = 'pair', chunk_size: int = 4): ...\n"
    )
    members = list(public_members(source, "mixtheory.scores"))  # a real module, for alias lookup
    found = vocabulary_offences(members)
    assert set(found) == {
        "per: mixtheory.scores.f",
        "method: mixtheory.scores.f",
        "batch_size: mixtheory.scores.g",
        "chunk: mixtheory.scores.g",
    }


# ---------------------------------------------------------------------------------------------
# one argument order: model, X, Y, law, then options
# ---------------------------------------------------------------------------------------------

ORDER = ("model", "X", "Y", "law")


def order_offences(members: list[Callable_]) -> dict[str, list[str]]:
    """Public callables whose model / X / Y / law parameters are out of that order: the positional
    ones, and X before Y however they are passed (a keyword-only model or law is an option)."""
    found = {}
    for member in members:
        if isinstance(member.node, ast.AnnAssign):
            continue
        a = member.node.args
        positional = {p.arg for p in a.posonlyargs + a.args}
        core = [p.arg for p in member.parameters if p.arg in positional or p.arg in ("X", "Y")]
        core = [name for name in core if name in ORDER]
        if core != sorted(core, key=ORDER.index):
            found[member.name] = [p.arg for p in member.parameters]
    return found


def test_one_argument_order():
    others = order_offences(CALLABLES)
    assert not others, f"positional parameters out of the order {ORDER}: {others}"


def test_the_order_rule_catches_the_old_margin():
    source = (
        "def margin(model, Y, *, X=None): ...\n"
        "def el2n(model, X, Y, *, chunk_size=1): ...\n"
        "def prepare(settings, *, law=None, model=None): ...\n"
    )
    assert set(order_offences(list(public_members(source, "m")))) == {"m.margin"}


# ---------------------------------------------------------------------------------------------
# each primitive on its floor (issue 16, item 7)
# ---------------------------------------------------------------------------------------------

# where an imported name must come from (a module, or the package that re-exports it)
HOMES = {
    "Tensor": ("_types",),
    "ArrayLike": ("_types",),
    "DeviceLike": ("_types",),
    "mix_batch": ("mixing", "mixing.sampler"),
}


def misplaced_imports(root: Path = PACKAGE) -> dict[str, str]:
    """``"name: importing module"`` -> the module it was imported from, for names of HOMES taken
    from anywhere but their home (``torch``'s own Tensor aside)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.module in ("torch", "typing"):
                continue
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            source = source.removeprefix("mixtheory.").removeprefix("mixtheory")
            for alias in node.names:
                if alias.name in HOMES and source not in HOMES[alias.name]:
                    found[f"{alias.name}: {module}"] = source
    return found


def test_primitives_are_imported_from_their_home():
    others = misplaced_imports()
    assert not others, f"names imported from outside their home module {HOMES}: {others}"
    from mixtheory.mixing import mix_batch
    from mixtheory.mixing.sampler import mix_batch as home

    assert mix_batch is home
    assert not (PACKAGE / "distributed.py").exists()
    assert (PACKAGE / "estimators" / "distributed.py").exists()


def test_the_import_rule_catches_a_misplaced_alias(tmp_path):
    root = tmp_path / "mixtheory"
    (root / "scores").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "losses.py").write_text("from ._validation import Tensor\nfrom ._types import ArrayLike\n")
    (root / "scores" / "__init__.py").write_text("from ..mixup_loss import mix_batch\n")
    (root / "scores" / "a.py").write_text("from .._types import Tensor\nfrom ..mixing import mix_batch\n")
    assert misplaced_imports(root) == {
        "Tensor: mixtheory.losses": "_validation",
        "mix_batch: mixtheory.scores": "mixup_loss",
    }
