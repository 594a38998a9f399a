"""OptStudy from Python scripts and notebooks.

    import optstudy as ops

    study = ops.Study(
        "SMA cross",
        strategy="strategies/smacross.py:make_cerebro",   # a cerebro factory or a bt.Strategy class
        data="data/orcl-1995-2014.txt", start="2005-01-01", end="2014-12-31",
        objective=ops.maximize("sharpe"),                  # or {"sharpe": 0.7, "calmar": 0.3}, or an expression
        constraints=["trades >= 10"],
        stages=[
            ops.Stage("grid", {"pfast": range(5, 35, 5), "pslow": ops.Range(20, 100, step=20)}, where="pfast < pslow"),
            ops.Stage("sizing", {"percent": ops.Range(50, 100, step=5)}, search="tpe", trials=20),
        ],
        workers=2, seed=7,
    )
    result = study.run()
    result.best.params, result.best.score, result.best.metrics
    result.trials          # every trial: number, stage, params, metrics, score, state, error
    result.analysis()      # rankings, parameter importance, robustness (optstudy report --json)

It writes the study as a `.optstudy` file in `folder` (default: the working directory, so the
strategy runs where your script runs) and drives the same engine as the editor and the CLI:
`node dist/cli.js run FILE --json`. Standard library only. The CLI is found through
OPTSTUDY_CLI (a path to dist/cli.js, or a command), else `optstudy` on the PATH, else the
extension's own dist/cli.js next to this package; Node through OPTSTUDY_NODE, else `node`.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys

__all__ = ["Study", "Stage", "Range", "LogRange", "maximize", "minimize", "Result", "Trial", "OptStudyError", "run"]


class OptStudyError(RuntimeError):
    """The study could not run (its findings are in the message), or the CLI is missing."""


# ----------------------------------------------------------------------------- the space


class Range(object):
    """`lo .. hi step s` (inclusive; integers stay integers), or continuous `lo .. hi` without a step."""

    def __init__(self, lo, hi, step=None):
        self.lo, self.hi, self.step = lo, hi, step

    def text(self):
        return "%s .. %s%s" % (num(self.lo), num(self.hi), "" if self.step is None else " step %s" % num(self.step))


class LogRange(object):
    """`log lo .. hi count n`: n values spaced evenly in log scale."""

    def __init__(self, lo, hi, count):
        self.lo, self.hi, self.count = lo, hi, count

    def text(self):
        return "log %s .. %s count %d" % (num(self.lo), num(self.hi), self.count)


def num(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return repr(v)
    return repr(v) if isinstance(v, (int, float)) else json.dumps(str(v))


def domain_text(values):
    """A parameter's domain in the language: a list, a Python range, a Range or LogRange."""
    if isinstance(values, (Range, LogRange)):
        return values.text()
    if isinstance(values, range):
        if len(values) == 0:
            raise ValueError("an empty range")
        return "%d .. %d step %d" % (values[0], values[-1], abs(values.step)) if len(values) > 1 else "[%d]" % values[0]
    if isinstance(values, (list, tuple)):
        return "[%s]" % ", ".join(num(v) for v in values)
    raise TypeError("a parameter's values are a list, a range, Range(...) or LogRange(...), not %r" % (values,))


class Stage(object):
    """A search stage: `params` maps names to domains; `search` is grid, random, bayes, tpe, genetic or cmaes."""

    def __init__(self, name, params, search="grid", trials=None, where=None, **options):
        self.name, self.params, self.search, self.trials = name, dict(params), search, trials
        self.where = [where] if isinstance(where, str) else list(where or [])
        self.options = options

    def text(self):
        opts = dict(self.options)
        if self.trials is not None:
            opts = dict(trials=self.trials, **opts)
        head = "    search %s" % self.search
        if opts:
            head += " { %s }" % ", ".join("%s %s" % (k, option(v)) for k, v in opts.items())
        lines = [head] + ["    param %s in %s" % (k, domain_text(v)) for k, v in self.params.items()]
        lines += ["    where %s" % w for w in self.where]
        return '  stage %s {\n%s\n  }' % (json.dumps(self.name), "\n".join(lines))


def option(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    return num(v) if isinstance(v, (int, float)) else str(v)


# ----------------------------------------------------------------------------- objectives


class Objective(object):
    def __init__(self, direction, expr):
        self.direction, self.expr = direction, objective_expr(expr)


def maximize(expr):
    """`objective maximize EXPR`: a metric name, an expression, or weights {metric: weight}."""
    return Objective("maximize", expr)


def minimize(expr):
    return Objective("minimize", expr)


def objective_expr(expr):
    if isinstance(expr, dict):  # a weighted sum of metrics
        return " + ".join("%s * %s" % (num(w), m) for m, w in expr.items())
    return str(expr)


# ----------------------------------------------------------------------------- the study


class Study(object):
    """A study, as the `.optstudy` language declares it (see docs/language.md)."""

    def __init__(self, name, strategy, data, stages, objective="sharpe", objectives=None, constraints=(),
                 start=None, end=None, params=None, cash=None, commission=None, sizing=None,
                 workers=None, seed=None, timeout=None, retries=None, validate=None, folder=None):
        self.name, self.strategy, self.data, self.stages = name, strategy, data, list(stages)
        self.objectives = [o if isinstance(o, Objective) else maximize(o) for o in (objectives or [objective])]
        self.constraints = list(constraints)
        self.start, self.end, self.params = start, end, dict(params or {})
        self.cash, self.commission, self.sizing = cash, commission, sizing
        self.workers, self.seed, self.timeout, self.retries, self.validate = workers, seed, timeout, retries, validate
        self.folder = os.path.abspath(folder or os.getcwd())

    # The study file -------------------------------------------------------------------------

    def strategy_lines(self):
        """(declaration, the study's strategy name): a backtrader SPEC, a class/function, or a built-in name."""
        spec = self.strategy
        if not isinstance(spec, str):  # a Strategy class or a factory defined at a file's top level
            import inspect
            spec = "%s:%s" % (os.path.abspath(inspect.getsourcefile(spec)), spec.__name__)
        if ":" not in spec:
            return "", spec  # a built-in strategy
        return 'strategy py_strategy backtrader %s\n\n' % json.dumps(spec), "py_strategy"

    def text(self):
        decl, name = self.strategy_lines()
        body = ["  data %s%s%s" % (json.dumps(os.path.abspath(os.path.join(self.folder, self.data))),
                                   " from %s" % self.start if self.start else "", " to %s" % self.end if self.end else "")]
        for key, v in (("cash", self.cash), ("commission", self.commission), ("workers", self.workers),
                       ("seed", self.seed), ("timeout", self.timeout), ("retries", self.retries)):
            if v is not None:
                body.append("  %s %s" % (key, v))
        if self.sizing is not None:
            body.append("  sizing %s" % self.sizing)  # "percent 95" or "fixed 10"
        overrides = " { %s }" % ", ".join("%s = %s" % (k, num(v)) for k, v in self.params.items()) if self.params else ""
        body.append("  strategy %s%s" % (name, overrides))
        if len(self.objectives) == 1:
            body.append("  objective %s %s" % (self.objectives[0].direction, self.objectives[0].expr))
        else:
            body.append("  objectives {\n%s\n  }" % "\n".join("    %s %s" % (o.direction, o.expr) for o in self.objectives))
        body += ["  constraint %s" % c for c in self.constraints]
        if self.validate:
            body.append("  validate %s" % self.validate)
        body += [s.text() for s in self.stages]
        return "%sstudy %s {\n%s\n}\n" % (decl, json.dumps(self.name), "\n".join(body))

    def path(self):
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")[:40] or "study"
        return os.path.join(self.folder, ".optstudy-py-%s.optstudy" % slug)

    def write(self, path=None):
        """Writes the study file (by default hidden in `folder`); returns its path."""
        path = path or self.path()
        with open(path, "w", encoding="utf-8") as f:
            f.write("// Written by the optstudy Python package for study %s.\n%s" % (json.dumps(self.name), self.text()))
        return path

    # Running --------------------------------------------------------------------------------

    def check(self):
        """The study's findings (`optstudy check --json`): a list of diagnostics; raises nothing."""
        out = subprocess.run(cli() + ["check", self.write(), "--json"], capture_output=True, text=True, cwd=self.folder)
        try:
            return json.loads(out.stdout)["diagnostics"]
        except (ValueError, KeyError):
            raise OptStudyError(out.stderr or out.stdout)

    def run(self, out=None, on_event=None, quiet=False):
        """Runs the study; returns a Result. `on_event(dict)` sees every run event as it comes."""
        return run(self.write(), out=out, on_event=on_event, quiet=quiet, cwd=self.folder)


def cli():
    """The command that runs OptStudy's CLI."""
    node = os.environ.get("OPTSTUDY_NODE") or "node"
    given = os.environ.get("OPTSTUDY_CLI")
    if given:
        return [node, given] if given.endswith(".js") else given.split()
    found = shutil.which("optstudy")
    if found:
        return [found]
    here = os.path.dirname(os.path.abspath(__file__))
    for up in ("..", os.path.join("..", "..")):
        js = os.path.normpath(os.path.join(here, up, "dist", "cli.js"))
        if os.path.isfile(js):
            return [node, js]
    raise OptStudyError("cannot find OptStudy's CLI: set OPTSTUDY_CLI to the path of dist/cli.js")


def run(study_file, out=None, on_event=None, quiet=False, cwd=None):
    """Runs a `.optstudy` file with `optstudy run --json`; returns a Result."""
    args = cli() + ["run", os.path.abspath(study_file), "--json"] + (["--out", os.path.abspath(out)] if out else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    events = []
    try:
        for line in proc.stdout:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            events.append(e)
            if on_event:
                on_event(e)
            elif not quiet and e.get("type") == "stage":
                print("stage %s: best %s" % (e.get("name"), (e.get("best") or {}).get("score")), file=sys.stderr)
    except KeyboardInterrupt:  # Ctrl-C in a notebook: the run stops cleanly and keeps what finished
        proc.send_signal(signal.SIGINT)
        for line in proc.stdout:
            try:
                events.append(json.loads(line))
            except ValueError:
                pass
    err = proc.stderr.read()
    code = proc.wait()
    end = next((e for e in reversed(events) if e.get("type") == "end"), None)
    if end is None:
        raise OptStudyError("the run did not start (exit %d):\n%s" % (code, err.strip() or "\n".join(
            e.get("message", "") for e in events if e.get("type") == "log")))
    # A study that cannot run (a syntax error, a data file outside the study's folder) ends
    # "failed" before any trial: that is an error for the script, not an empty result.
    if end.get("status") == "failed" and not any(e.get("type") == "trial" for e in events):
        raise OptStudyError(end.get("error") or err.strip() or "the run failed (exit %d)" % code)
    return Result(events, end, code, err)


# ----------------------------------------------------------------------------- results


class Trial(object):
    """One trial: number, stage, params, metrics, score, state (complete|failed|infeasible), error."""

    def __init__(self, e):
        self.number, self.stage = e.get("number"), e.get("stage")
        self.params, self.metrics = e.get("params") or {}, e.get("metrics") or {}
        self.score, self.state, self.error = e.get("score"), e.get("state", "complete"), e.get("error")

    def as_dict(self):
        return dict(number=self.number, stage=self.stage, state=self.state, score=self.score, error=self.error,
                    **{"param." + k: v for k, v in self.params.items()}, **self.metrics)

    def __repr__(self):
        return "Trial(%s, %s, score=%r, %s)" % (self.number, self.params, self.score, self.state)


class Result(object):
    """A finished (or cancelled) run: the best trial, every trial, the Pareto front, the validation."""

    def __init__(self, events, end, exit_code, stderr=""):
        self.events, self.end, self.exit_code, self.stderr = events, end, exit_code, stderr
        self.trials = [Trial(e) for e in events if e.get("type") == "trial"]
        self.best = Trial(dict(end["best"], state="complete")) if end.get("best") else None
        self.pareto = [Trial(dict(p, state="complete")) for p in end.get("pareto") or []]
        self.status, self.run_dir = end.get("status", "finished"), end.get("runDir")
        self.validation = end.get("validation")
        self.counts = end.get("counts") or {s: sum(1 for t in self.trials if t.state == s) for s in ("complete", "infeasible", "failed")}

    def analysis(self, reruns=False):
        """The run's analysis (rankings, importance, robustness) from `optstudy report RUN_DIR --json -`."""
        args = cli() + ["report", self.run_dir, "--json", "-"] + ([] if reruns else ["--no-reruns"])
        out = subprocess.run(args, capture_output=True, text=True)
        if out.returncode != 0:
            raise OptStudyError(out.stderr.strip())
        return json.loads(out.stdout)

    def to_dataframe(self):
        """Every trial as a pandas DataFrame (needs pandas)."""
        import pandas
        return pandas.DataFrame([t.as_dict() for t in self.trials])

    def __repr__(self):
        return "Result(%s, %d trials %s, best %r)" % (self.status, len(self.trials), self.counts, self.best)
