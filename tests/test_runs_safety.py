"""Runs and files: nothing a user made is overwritten, --resume refuses a changed run with the
difference named, scales of a reproduction are kept apart, Ctrl-C ends in one line, bars stay out of
logs, and every file the package writes goes through the atomic writers of mixtheory._io."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest
import torch

from mixtheory import _io, build_model
from mixtheory.cli import main
from mixtheory.data import load_digits
from mixtheory.exact_loss import LossOptions
from mixtheory.reproduce import Config, Figure, Unit, aggregate, redraw_figure, run_figure
from mixtheory.training import EL2NRecorder, GraNdRecorder, Mixup, TrainConfig, train

PACKAGE = Path(__file__).resolve().parents[1] / "mixtheory"


def _train_argv(out, *extra: str) -> list[str]:
    return [
        "train",
        "--data",
        "digits",
        "--num-samples",
        "120",
        "--epochs",
        "2",
        "--batch-size",
        "60",
        "--hidden",
        "16",
        "--record",
        "el2n,accuracy",
        "--record-samples",
        "8",
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


# ---------------------------------------------------------------------------------------------
# train --out: never a user's directory; nothing left behind by a run that failed first
# ---------------------------------------------------------------------------------------------


def test_train_refuses_a_directory_of_user_files_and_leaves_them_alone(tmp_path, capsys):
    user = tmp_path / "user"
    user.mkdir()
    (user / "history.csv").write_text("mine\n")
    (user / "model.pt").write_bytes(b"my model")
    before = _snapshot(user)
    assert main(_train_argv(user)) == 2
    err = capsys.readouterr().err
    assert "--out" in err and str(user) in err and "choose a new or empty directory" in err
    assert _snapshot(user) == before
    with pytest.raises(ValueError, match="out .* is not empty"):  # the API refuses it the same way
        train(
            build_model("mlp", 64, 10, hidden=(8,)),
            *load_digits(60, seed=0),
            config=TrainConfig(epochs=1),
            out=user,
        )
    assert _snapshot(user) == before


def test_train_and_reproduce_do_not_write_into_each_others_directories(tmp_path, capsys):
    figures = run_figure(TOY, "quick", tmp_path / "figures", progress=False).paths["json"].parent
    before = _snapshot(figures)
    assert main(_train_argv(figures)) == 2
    assert "holds mixtheory reproduce output, not mixtheory training run" in capsys.readouterr().err
    assert _snapshot(figures) == before
    X, y = load_digits(60, seed=0)
    run = train(
        build_model("mlp", 64, 10, hidden=(8,)), X, y, config=TrainConfig(epochs=1), out=tmp_path / "run"
    ).out
    with pytest.raises(ValueError, match="holds mixtheory train output, not mixtheory reproduce results"):
        run_figure(TOY, "quick", run, progress=False)


def test_a_run_that_fails_before_writing_leaves_no_directory(tmp_path, capsys):
    out = tmp_path / "new" / "deeper"
    assert main(_train_argv(out, "--data", "nowhere.npz")) == 2
    assert "neither a bundled data set" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()

    class Failing(EL2NRecorder):
        def record(self, ctx, epoch):
            raise RuntimeError("recorder failed")

    X, y = load_digits(60, seed=0)
    with pytest.raises(RuntimeError, match="recorder failed"):
        train(
            build_model("mlp", 64, 10, hidden=(8,)),
            X,
            y,
            config=TrainConfig(epochs=1),
            recorders=[Failing(4)],
            out=out,
        )
    assert not (tmp_path / "new").exists()


def test_an_empty_directory_or_a_marked_run_is_accepted(tmp_path):
    (tmp_path / "empty").mkdir()
    X, y = load_digits(60, seed=0)
    result = train(
        build_model("mlp", 64, 10, hidden=(8,)), X, y, config=TrainConfig(epochs=1), out=tmp_path / "empty"
    )
    assert _io.read_marker(tmp_path / "empty")["kind"] == "train"
    assert {"checkpoint.pt", "model.pt", "history.csv", "provenance.json", _io.MARKER} <= {
        p.name for p in result.out.iterdir()
    }
    mode = 0o666 & ~_umask()  # atomic writes give files the mode open() would, not mkstemp's 0600
    assert all((p.stat().st_mode & 0o777) == mode for p in result.out.iterdir())


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------------------------------------
# --resume: every option that changes the run is checked, the difference named
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("resume") / "run"
    assert main(_train_argv(out)) == 0
    return out


RESUME_CASES = [
    # (id, extra options, the option the message must name, the run's value, the new value)
    ("arch", ["--arch", "mlp-gelu"], "--arch", "'mlp-tanh'", "'mlp-gelu'"),
    ("hidden", ["--hidden", "32,32"], "--hidden", "'16'", "'32,32'"),
    ("data", ["--data", "iris"], "--data", "'digits'", "'iris'"),
    ("num-samples", ["--num-samples", "1000"], "--num-samples", "120", "1000"),
    ("record", ["--record", "el2n,accuracy,grand"], "--record", "'el2n,accuracy'", "'el2n,accuracy,grand'"),
    ("record-samples", ["--record-samples", "32"], "--record-samples", "8", "32"),
    ("objective", ["--objective", "erm"], "--objective", "'mixup'", "'erm'"),
    ("alpha", ["--alpha", "0.5"], "--alpha", "(not given)", "0.5"),
    ("epochs", ["--epochs", "3"], "--epochs", "2", "3"),
    ("seed", ["--seed", "1"], "--seed", "0", "1"),
    ("lr", ["--lr", "0.1"], "--lr", "0.05", "0.1"),
    ("batch-size", ["--batch-size", "30"], "--batch-size", "60", "30"),
    ("momentum", ["--momentum", "0.5"], "--momentum", "0.9", "0.5"),
    ("channels", ["--channels", "4,8"], "--channels", "'8,16'", "'4,8'"),
]


@pytest.mark.parametrize(
    ("extra", "option", "was", "now"), [c[1:] for c in RESUME_CASES], ids=[c[0] for c in RESUME_CASES]
)
def test_resume_with_another_option_is_refused_naming_it(cli_run, capsys, extra, option, was, now):
    before = _snapshot(cli_run)
    argv = _train_argv(cli_run, "--resume")
    for flag, value in zip(extra[::2], extra[1::2]):  # replace the option where it is, else add it
        argv = argv[: argv.index(flag)] + argv[argv.index(flag) + 2 :] if flag in argv else argv
        argv += [flag, value]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{option} {was} (now {now})" in err and "--resume" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert _snapshot(cli_run) == before  # model.json and the tables are untouched


def test_resume_with_the_same_options_completes(cli_run, capsys):
    assert main(_train_argv(cli_run, "--resume")) == 0
    assert json.loads((cli_run / "model.json").read_text())["arch"] == "mlp-tanh"


@pytest.fixture(scope="module")
def api_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "run"
    X, y = load_digits(90, seed=0)
    net = build_model("mlp", 64, 10, "tanh", hidden=(12,), dtype=torch.float64, seed=0)
    train(net, X, y, Mixup(1.0), TrainConfig(epochs=1, progress=False), recorders=[EL2NRecorder(6)], out=out)
    return out, X, y


API_RESUME_CASES = [
    # (id, changes to the run, the setting the message must name)
    (
        "activation",
        {"activation": "gelu"},
        "model[1]: checkpoint '1: Tanh()', now \"1: GELU(approximate='none')\"",
    ),
    ("width", {"hidden": (20,)}, "model[0]: checkpoint '0: Linear(in_features=64, out_features=12"),
    ("data", {"n": 80}, "data.n: checkpoint 90, now 80"),
    ("labels", {"shuffle_labels": True}, "data.sha256"),
    ("recorders", {"recorders": [EL2NRecorder(6), GraNdRecorder(6)]}, "recorders: checkpoint"),
    ("recorder-samples", {"recorders": [EL2NRecorder(7)]}, "recorders[0].num_samples: checkpoint 6, now 7"),
    ("test-set", {"test": True}, "test: checkpoint None"),
]


@pytest.mark.parametrize(
    ("change", "message"), [c[1:] for c in API_RESUME_CASES], ids=[c[0] for c in API_RESUME_CASES]
)
def test_api_resume_refuses_another_model_data_or_recorders(api_run, change, message):
    out, X, y = api_run
    before = _snapshot(out)
    net = build_model(
        "mlp",
        64,
        10,
        change.get("activation", "tanh"),
        hidden=change.get("hidden", (12,)),
        dtype=torch.float64,
    )
    X2, y2 = X[: change.get("n", 90)], y[: change.get("n", 90)]
    if change.get("shuffle_labels"):
        y2 = torch.as_tensor(y2).roll(1)
    test = (X[:10], y[:10]) if change.get("test") else None
    recorders = change.get("recorders", [EL2NRecorder(6)])
    with pytest.raises(ValueError) as info:
        train(
            net,
            X2,
            y2,
            Mixup(1.0),
            TrainConfig(epochs=1),
            recorders=recorders,
            test=test,
            out=out,
            resume=True,
        )
    assert message in str(info.value) and "other settings" in str(info.value)
    assert _snapshot(out) == before


# ---------------------------------------------------------------------------------------------
# Ctrl-C: one line and exit code 130 (the subprocess test is tests/test_interrupt_resume.py)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("checkpointed", [False, True], ids=["before-checkpoint", "after-checkpoint"])
def test_ctrl_c_ends_in_one_line_and_exit_code_130(tmp_path, monkeypatch, capsys, checkpointed):
    import mixtheory.cli.train as train_cli

    def interrupted_train(*args, out, **kwargs):
        if checkpointed:
            out.mkdir(parents=True)
            (out / "checkpoint.pt").write_bytes(b"")
        raise KeyboardInterrupt

    monkeypatch.setattr(train_cli, "train", interrupted_train)
    assert main(_train_argv(tmp_path / "run")) == 130
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mixtheory train: interrupted")
    assert ("--resume" in lines[0]) is checkpointed and ("nothing was saved" in lines[0]) is not checkpointed


# ---------------------------------------------------------------------------------------------
# reproduce: scales kept apart, hardware only for what must be computed, --device, --out
# ---------------------------------------------------------------------------------------------


def _toy_compute(unit, seed, params, ctx):
    return [
        {"method": unit.key, "step": t, "metric": "loss", "value": params["scale"] * (t + seed)}
        for t in range(2)
    ]


def _toy_draw(rows, info):
    from mixtheory.reproduce._plotting import pyplot

    fig, ax = pyplot().subplots()
    ax.plot([r["mean"] for r in aggregate(rows)])
    return fig


TOY = Figure(
    name="toy-scales",
    title="A toy with two scales",
    claims=(),
    quick=Config("toy data", {"scale": 1.0}, seeds=1),
    full=Config("toy data at scale", {"scale": 2.0}, seeds=2, requires=("gpu",)),
    units=lambda params: [Unit("a")],
    compute=_toy_compute,
    draw=_toy_draw,
    headline=lambda rows: {"text": f"{len(rows)} rows", "rows": len(rows)},
    checks=lambda h: {"rows": h["rows"] > 0},
)


def _pretend_gpu(monkeypatch, available: bool) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: int(available))


def test_quick_after_full_keeps_both_and_stored_full_results_need_no_gpu(tmp_path, monkeypatch):
    _pretend_gpu(monkeypatch, True)  # the toy computes on the CPU whatever the device says
    full = run_figure(TOY, "full", tmp_path, progress=False)
    _pretend_gpu(monkeypatch, False)
    quick = run_figure(TOY, "quick", tmp_path, progress=False)
    assert full.paths["json"].parent == tmp_path / "full" and quick.paths["json"].parent == tmp_path
    for result, mode in ((full, "full"), (quick, "quick")):
        for path in result.paths.values():
            assert path.is_file()
        assert json.loads(result.paths["json"].read_text())["mode"] == mode
    # on this CPU-only machine the stored full results are re-read, redrawn and re-run from the cache
    again = run_figure(TOY, "full", tmp_path, progress=False)
    assert (again.units_computed, again.units_cached) == (0, 2) and again.headline == full.headline
    assert redraw_figure(TOY, tmp_path, "full").paths["png"].parent == tmp_path / "full"
    from mixtheory.ledger.figures import load_figure_result

    assert load_figure_result(TOY.name, tmp_path, "full").mode == "full"
    assert load_figure_result(TOY.name, tmp_path, "quick").mode == "quick"
    # nothing cached for 3 seeds: then the GPU is required, and said so before any work
    with pytest.raises(ValueError, match="toy-scales --full needs a CUDA GPU"):
        run_figure(TOY, "full", tmp_path, seeds=3, progress=False)


def test_reproduce_device_must_exist_and_is_recorded(tmp_path, monkeypatch):
    _pretend_gpu(monkeypatch, False)
    with pytest.raises(ValueError, match="--device='cuda': CUDA is not available"):
        run_figure(TOY, "quick", tmp_path / "a", device="cuda", progress=False)
    assert not (tmp_path / "a").exists()
    result = run_figure(TOY, "quick", tmp_path / "b", device="cpu", progress=False)
    assert json.loads(result.paths["json"].read_text())["device"] == "cpu"


def test_reproduce_cli_refuses_cuda_without_a_gpu(tmp_path, monkeypatch, capsys):
    _pretend_gpu(monkeypatch, False)
    code = main(["reproduce", "mixing-law-design", "--device", "cuda", "--out", str(tmp_path / "r")])
    assert code == 2 and "CUDA is not available" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_reproduce_refuses_a_directory_of_user_files(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(ValueError, match="out_dir .* is not empty"):
        run_figure(TOY, "quick", tmp_path, progress=False)
    assert main(["reproduce", "mixing-law-design", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "choose a new or empty directory" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


def test_a_figure_that_fails_before_writing_leaves_no_directory(tmp_path):
    def failing(unit, seed, params, ctx):
        raise RuntimeError("compute failed")

    broken = Figure(**{**TOY.__dict__, "compute": failing})
    with pytest.raises(RuntimeError, match="compute failed"):
        run_figure(broken, "quick", tmp_path / "new" / "results", progress=False)
    assert not (tmp_path / "new").exists()


def test_the_committed_results_directory_is_recognised_as_ours():
    from mixtheory.reproduce._runner import check_out

    committed = Path(__file__).resolve().parents[1] / "figures" / "reproduce"
    assert check_out(committed, "--out") == committed


# ---------------------------------------------------------------------------------------------
# verify: --report and --results checked before the work
# ---------------------------------------------------------------------------------------------


def _no_work(monkeypatch):
    import mixtheory.cli.verify as verify_cli

    def collect(*args, **kwargs):
        raise AssertionError("verify did the work before checking its arguments")

    monkeypatch.setattr(verify_cli, "collect", collect)


REPORT_CASES = [
    # (id, makes the --report path under tmp, the text the error must hold)
    ("under-a-file", lambda t: Path("/dev/null/r.md"), "cannot be created"),
    ("read-only-file-system", lambda t: Path("/sys/mixtheory_report.md"), "cannot write there"),
    ("a-directory", lambda t: t, "is a directory"),
    (
        "a-user-file",
        lambda t: (t / "notes.md", (t / "notes.md").write_text("my notes"))[0],
        "was not written by",
    ),
    ("unwritable", lambda t: (t / "ro", (t / "ro").mkdir(mode=0o500))[0] / "r.md", "cannot write there"),
]


@pytest.mark.parametrize("make, message", [c[1:] for c in REPORT_CASES], ids=[c[0] for c in REPORT_CASES])
def test_verify_report_is_checked_before_the_work(tmp_path, monkeypatch, capsys, make, message):
    report = make(tmp_path)
    if report.parent.name == "ro" and os.access(report.parent, os.W_OK):
        pytest.skip("running as a user who can write anywhere")
    _no_work(monkeypatch)
    assert main(["verify", "--report", str(report), "--no-results"]) == 2
    err = capsys.readouterr().err
    assert "--report" in err and message in err and len(err.strip().splitlines()) == 1


def test_verify_overwrites_its_own_report(tmp_path, capsys):
    report = tmp_path / "r.md"
    assert main(["verify", "--select", "seed001-ratio", "--report", str(report), "--jobs", "1"]) == 0
    first = report.read_text()
    assert main(["verify", "--select", "seed001-ratio", "--report", str(report), "--jobs", "1"]) == 0
    assert (
        report.read_text().splitlines()[0]
        == first.splitlines()[0]
        == "# mixtheory verify: proofs and the claims ledger"
    )


RESULTS_CASES = [
    # (id, makes --results under tmp, the texts the error must hold)
    ("missing", lambda t: t / "nonexistent", ["--results", "does not exist"]),
    ("a-file", lambda t: (t / "f", (t / "f").write_text(""))[0], ["--results", "is not a directory"]),
    (
        "corrupt-json",
        lambda t: (t, (t / "implicit_bias_linear.json").write_text('{"figure": "implicit-bias-li'))[0],
        ["--results", "implicit_bias_linear.json is corrupt (not valid JSON"],
    ),
    (
        "corrupt-full-json",
        lambda t: (t, (t / "full").mkdir(), (t / "full" / "hard_vs_easy.json").write_bytes(b"\xff\xfe"))[0],
        ["--results", "full/hard_vs_easy.json is corrupt"],
    ),
    (
        "foreign-json",
        lambda t: (t, (t / "hard_vs_easy.json").write_text('{"figure": "other", "headline": {}}'))[0],
        ["--results", "hard_vs_easy.json is not a stored result of figure hard-vs-easy"],
    ),
]


@pytest.mark.parametrize("make, texts", [c[1:] for c in RESULTS_CASES], ids=[c[0] for c in RESULTS_CASES])
def test_verify_results_are_checked_before_the_work(tmp_path, monkeypatch, capsys, make, texts):
    results = make(tmp_path)
    _no_work(monkeypatch)
    assert main(["verify", "--results", str(results), "--report", str(tmp_path / "r.md")]) == 2
    err = capsys.readouterr().err
    assert all(text in err for text in texts), err
    assert not (tmp_path / "r.md").exists()


# ---------------------------------------------------------------------------------------------
# estimate --out: never a file estimate did not write
# ---------------------------------------------------------------------------------------------


def test_estimate_out_refuses_a_user_file_before_the_work(tmp_path, capsys):
    mine = tmp_path / "results.json"
    mine.write_text('{"my": "numbers"}')
    model = tmp_path / "model.pt"  # not even there: --out is checked first
    argv = ["estimate", "--model", str(model), "--data", "digits", "--alpha", "1", "--out", str(mine)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "was not written by mixtheory estimate" in err
    assert mine.read_text() == '{"my": "numbers"}'


# ---------------------------------------------------------------------------------------------
# logs: no progress-bar fragments when stderr is not a terminal
# ---------------------------------------------------------------------------------------------


def test_no_bar_fragments_outside_a_terminal(tmp_path, capsys):
    from mixtheory import SymmetricBeta, exact_mixup_loss
    from mixtheory._progress import progress_bar

    X, y = load_digits(30, seed=0)
    net = build_model("mlp", 64, 10, hidden=(8,), dtype=torch.float64)
    exact_mixup_loss(
        net,
        torch.as_tensor(X, dtype=torch.float64),
        y,
        SymmetricBeta(1.0),
        options=LossOptions(progress=True),
    )
    with progress_bar(100, "stage", True) as bar:
        bar.update(100)
    train(net, X, y, config=TrainConfig(epochs=2, progress=True))
    run_figure(TOY, "quick", tmp_path, progress=True)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("terminal", "enabled", "total", "shown"),
    [(True, True, 3, True), (True, None, 100, True), (True, None, 3, False), (True, False, 100, False)]
    + [(False, enabled, 100, False) for enabled in (True, None, False)],
)
def test_bars_are_drawn_only_on_a_terminal(monkeypatch, terminal, enabled, total, shown):
    from mixtheory import _progress

    monkeypatch.setattr(_progress, "stderr_is_terminal", lambda: terminal)
    with _progress.progress_bar(total, "stage", enabled) as bar:
        assert bar.disable is not shown


def test_one_progress_helper():
    """Every tqdm bar of the package comes from mixtheory._progress.progress_bar."""
    users = [p for p in PACKAGE.rglob("*.py") if "tqdm" in p.read_text() and p.name != "_progress.py"]
    for path in users:
        tree = ast.parse(path.read_text())
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "tqdm"]
        assert not calls, f"{path} builds a tqdm bar itself; use mixtheory._progress.progress_bar"


# ---------------------------------------------------------------------------------------------
# every file the package writes goes through mixtheory._io
# ---------------------------------------------------------------------------------------------

#: writers that put a file in place non-atomically, as (module or None, attribute)
RAW_WRITERS = {
    ("torch", "save"),
    ("np", "savez"),
    ("np", "save"),
    ("json", "dump"),
    (None, "write_text"),
    (None, "write_bytes"),
}


def _raw_writes(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else None
            if (owner, func.attr) in RAW_WRITERS or (None, func.attr) in RAW_WRITERS:
                found.append(f"{owner or '…'}.{func.attr} at line {node.lineno}")
            if func.attr == "open" and any(
                _write_mode(a) for a in [*node.args[:1], *(k.value for k in node.keywords)]
            ):
                found.append(f"….open(write mode) at line {node.lineno}")
        elif (
            isinstance(func, ast.Name)
            and func.id == "open"
            and len(node.args) > 1
            and _write_mode(node.args[1])
        ):
            found.append(f"open(write mode) at line {node.lineno}")
    return found


def _write_mode(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and any(c in node.value for c in "wax")
    )


def test_every_file_is_written_through_the_atomic_writers():
    allowed = {PACKAGE / "_io.py"}
    offenders = {
        str(path.relative_to(PACKAGE)): found
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in allowed and (found := _raw_writes(ast.parse(path.read_text())))
    }
    # savefig writes only inside mixtheory._io.save_with (a temporary path), in the plotting helper
    plotting = (PACKAGE / "reproduce" / "_plotting.py").read_text()
    assert all("save_with(" in line for line in plotting.splitlines() if "savefig(" in line)
    assert offenders == {}, offenders
