#!/usr/bin/env python3
"""OptStudy's backtrader bridge: runs `strategy NAME backtrader "SPEC"` trials with real backtrader.

    python3 optstudy_bridge.py serve SPEC      # one long-lived process per worker (OptStudy starts it)
    python3 optstudy_bridge.py describe SPEC   # prints the parameters and analyzers as one JSON object
    python3 optstudy_bridge.py names FILE.py   # prints the Strategy classes and functions it defines

SPEC is `path/to/file.py:NAME` (relative to the study's folder, the working directory) or
`package.module:NAME` (imported with the study's folder on the import path). NAME is either

- a cerebro factory, `NAME(**params) -> bt.Cerebro`: the user's own feeds, sizers, broker,
  commission, slippage, analyzers and strategy, run as they are; or
- a `bt.Strategy` subclass, run in the bridge's default Cerebro with the study's data, cash,
  commission, slippage and sizing.

Protocol: requests are JSON lines on stdin (OptStudy's external strategy protocol plus `datas`,
`slippage` and `window`); answers are JSON lines on the file descriptor named by
OPTSTUDY_ANSWER_FD (3), never on stdout, which stays the strategy's own output. An answer is
`{"id", "metrics": {every user analyzer, flattened}, "record": {per-bar values and stamps,
closed trades' P&L, ...}}` — OptStudy computes the standard metrics from `record` with the same
code as for its own backtests — or `{"id", "error", "traceback"}`: a trial that raises fails
alone and this process serves the next one. Non-finite numbers are sent as "nan", "inf", "-inf".

Speed: price data is loaded once per process. After the first run, a feed whose class and
parameters (file, dates, columns, ...) are unchanged is reused preloaded, the way
`cerebro.optstrategy` reuses data in its worker processes (`runstrategies(predata=True)`).

Standard library only, besides backtrader itself (which OptStudy does not ship).
"""
import collections
import datetime as _dt
import functools
import importlib
import importlib.util
import inspect
import json
import math
import os
import sys
import time
import traceback

_T0 = (time.time(), time.process_time())  # the timeline's start (see Timeline)

bt = None  # imported in main(), so `describe` can report a missing backtrader as JSON


class SpecError(Exception):
    """SPEC names nothing loadable: reported as its message alone."""

# ----------------------------------------------------------------------------- the target


def load_target(spec):
    """The factory or Strategy class named by SPEC, with the study's folder on the import path."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise SpecError("'%s' is not FILE.py:NAME or module:NAME" % spec)
    module = load_module(where)
    if not hasattr(module, name):
        raise SpecError("'%s' has no '%s'%s" % (where, name, did_you_mean(name, candidates(module))))
    return getattr(module, name)


_modules = {}


def load_module(where):
    """The module WHERE (FILE.py relative to the study's folder, or a dotted module name), run
    once per process (a process that describes SPEC and then serves it imports it once)."""
    if where not in _modules:
        _modules[where] = import_module(where)
    return _modules[where]


def import_module(where):
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if where.endswith(".py") or os.sep in where or "/" in where:
        path = os.path.abspath(where)
        if not os.path.isfile(path):
            raise SpecError("no file '%s' (relative to the study's folder %s)" % (where, cwd))
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        modname = os.path.splitext(os.path.basename(path))[0]
        module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(modname, path))
        sys.modules.setdefault(modname, module)
        module.__spec__.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    return module


def candidates(module):
    """Names in a module that could be meant: factories and Strategy subclasses defined there."""
    out = []
    for k, v in vars(module).items():
        if k.startswith("_") or getattr(v, "__module__", None) != module.__name__:
            continue
        if is_strategy(v) or (inspect.isfunction(v)):
            out.append(k)
    return out


def did_you_mean(name, names):
    import difflib
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    if close:
        return " (did you mean '%s'?)" % close[0]
    return " (it has: %s)" % ", ".join(sorted(names)) if names else ""


def is_strategy(obj):
    return inspect.isclass(obj) and issubclass(obj, bt.Strategy)


def strategy_params(cls):
    """[(name, default)] of a Strategy class's params, declared order, inherited ones included."""
    return [(k, getattr(cls.params, k)) for k in cls.params._getkeys()]


# ----------------------------------------------------------------------------- describe


def param_entry(name, default, doc):
    kind = ("bool" if isinstance(default, bool) else "int" if isinstance(default, int)
            else "float" if isinstance(default, float) else "string" if isinstance(default, str) else None)
    entry = {"name": name, "doc": doc}
    if kind is None:
        entry["type"] = "float"  # None or an object: no default OptStudy can write
    else:
        entry["type"] = kind
        entry["default"] = default
    return entry


def describe(spec):
    """What the language server needs: the kind, the parameters and the analyzers' names."""
    target = load_target(spec)
    if is_strategy(target):
        params = [param_entry(k, v, "parameter of %s" % target.__name__) for k, v in strategy_params(target)]
        return {"kind": "strategy", "strategy": target.__name__, "params": params, "analyzers": [],
                "doc": first_line(target.__doc__) or "backtrader strategy %s" % target.__name__}
    if not callable(target):
        raise SpecError("'%s' is neither a cerebro factory nor a bt.Strategy subclass" % spec)
    sig = inspect.signature(target)
    params, takes_kwargs, required = [], False, False
    for p in sig.parameters.values():
        if p.kind == p.VAR_KEYWORD:
            takes_kwargs = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            required = required or p.default is p.empty
            default = None if p.default is p.empty else p.default
            params.append(param_entry(p.name, default, "parameter of the factory %s" % target.__name__))
    out = {"kind": "factory", "strategy": None, "params": params, "complete": not takes_kwargs,
           "doc": first_line(target.__doc__) or "cerebro factory %s" % target.__name__}
    if required:
        return out  # cannot be built with its defaults: the analyzers stay unknown
    cerebro = target()  # feeds are lazy: building the Cerebro reads no data
    if not isinstance(cerebro, bt.Cerebro):
        raise SpecError("the factory '%s' returned %s, not a bt.Cerebro" % (spec, type(cerebro).__name__))
    strat_cls = cerebro.strats[0][0][0] if cerebro.strats else None
    if strat_cls is not None:
        out["strategy"] = strat_cls.__name__
        if takes_kwargs:  # the factory passes its other keywords on to the strategy
            known = {p["name"] for p in params}
            params += [param_entry(k, v, "parameter of %s" % strat_cls.__name__) for k, v in strategy_params(strat_cls) if k not in known]
            out["complete"] = True
    out["analyzers"] = [kw.get("_name") or cls.__name__.lower() for cls, _, kw in cerebro.analyzers]
    return out


def names(where):
    """The Strategy classes and functions (cerebro factories) WHERE defines, in file order: what
    the editor offers after `FILE.py:` and shows on hover (the whole docstring; a class's
    parameters with their defaults, a function's signature)."""
    module = load_module(where)
    out = []
    for k in candidates(module):
        v = getattr(module, k)
        entry = {"name": k, "doc": first_line(v.__doc__), "fullDoc": inspect.cleandoc(v.__doc__)[:MAX_DOC] if isinstance(v.__doc__, str) else ""}
        if is_strategy(v):
            params = strategy_params(v)
            entry.update(kind="strategy", detail="bt.Strategy (%s)" % ", ".join(p for p, _ in params),
                         params=[{"name": p, "default": shown(d)} for p, d in params])
        else:
            try:
                sig = str(inspect.signature(v))
            except (TypeError, ValueError):
                sig = "(…)"
            entry.update(kind="function", detail=k + sig)
        out.append(entry)
    return {"names": out}


MAX_DOC = 4000


def shown(value):
    """A default as Python writes it, clipped (an object's repr can be long)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def first_line(doc):
    return (doc or "").strip().split("\n")[0].strip()


# ----------------------------------------------------------------------------- OptStudy's data files


def sniff(path):
    """Column layout of a CSV price file, found by header names (as OptStudy's loader reads it)."""
    with open(path, encoding="utf-8-sig") as f:
        header = [h.strip().lower().replace(" ", "").replace("_", "") for h in f.readline().strip().split(",")]
        first = next((ln.strip().split(",") for ln in f if ln.strip()), [])
    shift, tcol = 0, -1
    if "time" in header:
        tcol = header.index("time")
    elif len(first) == len(header) + 1 and len(first) > 1 and first[1].count(":") >= 1:
        tcol, shift = 1, 1  # backtrader's minute files: rows Date,Time,... under a header without Time
    def col(*names):
        for n in names:
            if n in header:
                i = header.index(n)
                return i + shift if shift and i >= 1 else i
        return -1
    lay = dict(datetime=0, time=tcol, open=col("open"), high=col("high"), low=col("low"), close=col("close"),
               volume=col("volume", "vol"), openinterest=col("openinterest", "oi"), dtformat="%Y-%m-%d")
    intraday = tcol >= 0
    if not intraday and first and (" " in first[0].strip() or "T" in first[0].strip()):
        intraday = True
        lay["dtformat"] = "%Y-%m-%d %H:%M:%S" if " " in first[0] else "%Y-%m-%dT%H:%M:%S"
    return lay, intraday


def bar_minutes(path, lay):
    """The most common positive gap in minutes between bars of the same day."""
    gaps, prev = collections.Counter(), None
    with open(path, encoding="utf-8-sig") as f:
        f.readline()
        for i, line in enumerate(f):
            if i > 5000:
                break
            t = line.strip().split(",")
            if len(t) < 2:
                continue
            stamp = (t[0].strip() + " " + t[lay["time"]].strip()) if lay["time"] >= 0 else t[0].strip().replace("T", " ")
            cur = _dt.datetime.strptime(stamp[:16], "%Y-%m-%d %H:%M")
            if prev is not None and prev.date() == cur.date() and cur > prev:
                gaps[int((cur - prev).total_seconds() // 60)] += 1
            prev = cur
    return gaps.most_common(1)[0][0] if gaps else 1


def make_feed(path):
    lay, intraday = sniff(path)
    kw = dict(dataname=path, headers=True, separator=",", nullvalue=float("nan"), **lay)
    if lay["time"] >= 0:
        kw["tmformat"] = "%H:%M:%S"
    if intraday:
        kw.update(timeframe=bt.TimeFrame.Minutes, compression=bar_minutes(path, lay))
    return bt.feeds.GenericCSVData(**kw)


# ----------------------------------------------------------------------------- the default Cerebro


def make_percent_sizer():
    class PercentOfValue(bt.Sizer):
        """`sizing percent N`: entries get int(value / (close * mult) * N / 100); an order against an
        open position (a tutorial's `self.sell()` exit) gets the position's size, never a size from cash."""
        params = (("percent", 95.0),)

        def _getsizing(self, comminfo, cash, data, isbuy):
            pos = self.broker.getposition(data).size
            if pos and (pos > 0) != isbuy:
                return abs(pos)
            mult = getattr(comminfo.p, "mult", 1.0) or 1.0
            return int(self.broker.getvalue() / (data.close[0] * mult) * (self.p.percent / 100.0))
    return PercentOfValue


def setup_broker(cerebro, req):
    broker = cerebro.broker
    broker.setcash(float(req.get("cash", 100000.0)))
    c = req.get("commission", 0.0)
    if isinstance(c, (int, float)):
        c = {"kind": "percent", "rate": c}
    kind = c.get("kind") or c.get("type")
    if kind == "percent":
        broker.setcommission(commission=float(c["rate"]))
    elif kind == "per_share":
        broker.setcommission(commission=float(c["amount"]), commtype=bt.CommInfoBase.COMM_FIXED, stocklike=True)
    elif kind == "per_contract":
        broker.setcommission(commission=float(c["amount"]), margin=float(c["margin"]), mult=float(c["mult"]))
    else:
        raise ValueError("unknown commission %r" % (c,))
    s = req.get("slippage")
    if s:
        kind = s.get("kind") or s.get("type")
        if kind == "percent":
            broker.set_slippage_perc(float(s["rate"]))
        else:
            broker.set_slippage_fixed(float(s["amount"]))


def default_cerebro(strategy_cls, req):
    cerebro = bt.Cerebro(stdstats=False)
    for d in req.get("datas") or ([{"file": req["data"]}] if req.get("data") else []):
        cerebro.adddata(make_feed(d["file"]))
    setup_broker(cerebro, req)
    sizing = req.get("sizing") or {"kind": "fixed", "value": 1}
    if sizing["kind"] == "fixed":
        cerebro.addsizer(bt.sizers.FixedSize, stake=int(sizing["value"]))
    else:
        cerebro.addsizer(make_percent_sizer(), percent=float(sizing["value"]))
    cerebro.addstrategy(strategy_cls, **req["params"])
    return cerebro


# ----------------------------------------------------------------------------- window and data reuse


def window_bound(stamp, session_time, day_time):
    """A window bound: `YYYY-MM-DD` is the whole day (from the session's start / to its end);
    `YYYY-MM-DDTHH:MM[:SS]` (a window cut between intraday bars) is that bar's time exactly."""
    if len(stamp) > 10:
        return _dt.datetime.fromisoformat(stamp.replace(" ", "T"))
    return _dt.datetime.combine(_dt.date.fromisoformat(stamp), session_time or day_time)


def apply_window(cerebro, date_from, date_to):
    """The run window on every feed (inclusive), narrowing the feed's own dates."""
    for d in cerebro.datas:
        if date_from:
            lo = window_bound(date_from, d.p.sessionstart, _dt.time.min)
            d.p.fromdate = lo if d.p.fromdate is None else max(d.p.fromdate, lo)
        if date_to:
            hi = window_bound(date_to, d.p.sessionend, _dt.time.max)
            d.p.todate = hi if d.p.todate is None else min(d.p.todate, hi)


class Ident(object):
    """An object compared by identity (a DataFrame as `dataname`); holds it so its id stays unique."""
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        return isinstance(other, Ident) and other.obj is self.obj

    def __hash__(self):
        return id(self.obj)


def freeze(v):
    if v is None or isinstance(v, (bool, int, float, str, bytes, _dt.date, _dt.time, _dt.timedelta)):
        return v
    if isinstance(v, (list, tuple)):
        return tuple(freeze(x) for x in v)
    return Ident(v)


class FeedCache(object):
    """Preloaded feeds of earlier runs of this process, by class and parameters."""

    def __init__(self, size=16):
        self.size = size
        self.feeds = collections.OrderedDict()

    @staticmethod
    def key(d):
        if d._clone or d.resampling or d.replaying or d.islive() or d.p.filters:
            return None
        items = tuple((k, freeze(getattr(d.p, k))) for k in d.p._getkeys())
        stamp = None
        name = d.p.dataname
        if isinstance(name, str) and os.path.isfile(name):
            st = os.stat(name)
            stamp = (st.st_mtime_ns, st.st_size)
        return (type(d), items, stamp)

    def keys_for(self, cerebro):
        """The feeds' keys when this Cerebro's data may be reused, else None."""
        p = cerebro.p
        if not (p.preload and p.runonce) or int(p.exactbars) or p.live or cerebro._doreplay or cerebro._dolive:
            return None
        keys = [self.key(d) for d in cerebro.datas]
        if not keys or any(k is None for k in keys) or refers_to_datas(cerebro):
            return None
        return keys

    def attach(self, cerebro, keys):
        """Swaps preloaded feeds in; True when every feed was there (the run skips loading)."""
        if not all(k in self.feeds for k in keys):
            return False
        for i, k in enumerate(keys):
            fresh, cached = cerebro.datas[i], self.feeds[k]
            self.feeds.move_to_end(k)
            cached._id, cached._name = fresh._id, fresh._name
            cached.setenvironment(cerebro)
            cerebro.datas[i] = cached
            cerebro.datasbyname[cached._name] = cached
        cerebro.runstrategies = functools.partial(type(cerebro).runstrategies, cerebro, predata=True)
        return True

    def keep(self, cerebro, keys):
        for k, d in zip(keys, cerebro.datas):
            self.feeds[k] = d
            self.feeds.move_to_end(k)
        while len(self.feeds) > self.size:
            self.feeds.popitem(last=False)


def refers_to_datas(cerebro):
    """Whether anything added to the Cerebro holds one of its feeds (then it cannot be swapped)."""
    datas = [id(d) for d in cerebro.datas]
    added = [a for group in cerebro.strats for (_, args, kwargs) in group for a in list(args) + list(kwargs.values())]
    added += [a for (_, _, args, kwargs) in cerebro.observers for a in list(args) + list(kwargs.values())]
    added += [a for (_, args, kwargs) in cerebro.analyzers + cerebro.indicators for a in list(args) + list(kwargs.values())]
    return any(id(a) in datas for a in added)


# ----------------------------------------------------------------------------- plot-only observers


# What reads a strategy's observers: `self.stats…`, `self.observers…`, `getobservers()`, or the
# names given to getattr. A source that mentions none of them cannot see whether they ran.
OBSERVER_WORDS = frozenset(("stats", "observers", "getobservers"))
_reads = {}


def source_reads_observers(source):
    import ast
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in OBSERVER_WORDS:
            return True
        if isinstance(node, ast.Name) and node.id in OBSERVER_WORDS:
            return True
        if isinstance(node, ast.Constant) and node.value in OBSERVER_WORDS:
            return True
    return False


def reads_observers(key, get_source):
    """Whether the code behind KEY may read observers; True when its source cannot be read."""
    hit = _reads.get(key)
    if hit is None:
        try:
            hit = source_reads_observers(get_source())
        except (OSError, TypeError):
            hit = True
        _reads[key] = hit
    return hit


def module_reads_observers(module):
    path = getattr(module, "__file__", None)
    if not path or not os.path.isfile(path):
        return True
    st = os.stat(path)
    def read():
        with open(path, encoding="utf-8") as f:
            return f.read()
    return reads_observers(("module", path, st.st_mtime_ns, st.st_size), read)


def added_classes(cerebro):
    """Every class the Cerebro was given: strategies, analyzers, observers, sizers, indicators."""
    out = [cls for group in cerebro.strats for (cls, _, _) in group]
    out += [cls for (cls, _, _) in cerebro.analyzers + cerebro.indicators]
    out += [cls for (_, cls, _, _) in cerebro.observers]
    out += [cls for (cls, _, _) in cerebro.sizers.values() if cls is not None]
    return out


def observers_unread(cerebro, extra_modules):
    """True when nothing in this run can read the standard observers: the strategy's and the
    user's code (every module behind an added class, the SPEC's module, modules of the study's
    folder) never names them, no class of backtrader's sub-packages does (AnnualReturn reads
    `stats.broker`), and no writer prints them."""
    if cerebro.writers or cerebro.p.writer:
        return False
    modules = dict((id(m), m) for m in extra_modules)
    for cls in added_classes(cerebro):
        for c in inspect.getmro(cls):
            name = c.__module__ or ""
            if name == "backtrader" or name.startswith("backtrader.") and name.count(".") == 1 or name == "builtins":
                continue  # backtrader's core: Strategy, Analyzer, Observer, Sizer, LineIterator…
            if name.startswith("backtrader."):
                if reads_observers(("class", name, c.__qualname__), lambda c=c: inspect.getsource(c)):
                    return False
                continue
            module = sys.modules.get(name)
            if module is None:
                return False
            modules[id(module)] = module
    return not any(module_reads_observers(m) for m in modules.values())


def drop_plot_observers(cerebro, extra_modules):
    """`stdstats` adds the Broker, BuySell and Trades observers: lines for plots, which OptStudy
    never draws. They only read the run's state, so a run without them trades the same bars the
    same way; when nothing can read them they are left out (a trial is 15-20 % faster)."""
    if cerebro.p.stdstats and observers_unread(cerebro, extra_modules):
        cerebro.p.stdstats = False


# ----------------------------------------------------------------------------- recording and answers


@functools.lru_cache(maxsize=None)
def make_recorder(with_trades):
    """The recording analyzer (one class per `with_trades`, made once: a class costs backtrader's
    metaclasses about a millisecond)."""
    class OptStudyRecord(bt.Analyzer):
        """Per bar: the broker value and the clock; per closed trade: pnl and pnlcomm (and, for
        `optstudy backtest`, the round trip: dates, prices, size)."""

        def start(self):
            self.trades, self.opened, self.last_fill = [], {}, {}
            self.broker = self.strategy.broker
            self.cash0 = self.broker.getvalue()
            self.values, self.stamps, self.pnl, self.pnlcomm = [], [], [], []
            self.rejected = self.in_market = self.long = self.short = 0

        def notify_cashvalue(self, cash, value):
            self.values.append(value)
            self.stamps.append(self.strategy.lines.datetime[0])
            for d in self.strategy.datas:
                if self.broker.getposition(d).size:
                    self.in_market += 1
                    break

        def notify_trade(self, trade):
            if with_trades:
                self.note_trade(trade)
            if trade.status == trade.Closed:
                self.pnl.append(trade.pnl)
                self.pnlcomm.append(trade.pnlcomm)
                if trade.long:
                    self.long += 1
                else:
                    self.short += 1

        def notify_order(self, order):
            if order.status in (order.Margin, order.Rejected):
                self.rejected += 1
            elif with_trades and order.status == order.Completed:
                self.last_fill[id(order.data)] = order.executed.price  # a trade's notice follows its fill's

        def note_trade(self, trade):
            if trade.justopened:
                self.opened[trade.ref] = (trade.data.num2date(trade.dtopen), trade.size)
            if trade.status != trade.Closed:
                return
            when, size = self.opened.pop(trade.ref, (trade.data.num2date(trade.dtopen), 0))
            self.trades.append({
                "entry_date": stamp_text(trade.data, when), "exit_date": stamp_text(trade.data, trade.data.num2date(trade.dtclose)),
                "entry_price": num(trade.price), "exit_price": num(self.last_fill.get(id(trade.data), float("nan"))),
                "size": size, "pnl": num(trade.pnl), "pnlcomm": num(trade.pnlcomm),
                "direction": "long" if trade.long else "short"})
    return OptStudyRecord


def stamp_text(data, when):
    return when.strftime("%Y-%m-%d" if data._timeframe >= bt.TimeFrame.Days else "%Y-%m-%dT%H:%M:%S")


_stamps = {}


def stamp(x):
    """A clock value as (yyyymmdd, seconds after midnight), memoized: every trial has the same bars."""
    s = _stamps.get(x)
    if s is None:
        d = bt.num2date(x)
        s = _stamps[x] = (d.year * 10000 + d.month * 100 + d.day, d.hour * 3600 + d.minute * 60 + d.second)
        if len(_stamps) > 2000000:
            _stamps.clear()
    return s


def num(x):
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if x != x else ("inf" if x > 0 else "-inf")
    return x


# backtrader Returns' annualisation factor by the first feed's timeframe (1.0 for the others)
TANN = {"Days": 252.0, "Weeks": 52.0, "Months": 12.0, "Years": 1.0}


def record_of(strat, rec):
    broker = strat.broker
    pos = broker.getposition(strat.datas[0])
    st = [stamp(x) for x in rec.stamps]
    tf = strat.datas[0]._timeframe
    out = {
        "intraday": tf < bt.TimeFrame.Days, "annual": TANN.get(bt.TimeFrame.getname(tf, 2), 1.0),
        "long": rec.long, "short": rec.short,
        "openTrades": sum(1 for d in strat.datas if broker.getposition(d).size),
        "cash0": num(rec.cash0), "finalCash": num(broker.getcash()),
        "values": [num(v) for v in rec.values], "dates": [s[0] for s in st],
        "pnl": [num(v) for v in rec.pnl], "pnlcomm": [num(v) for v in rec.pnlcomm],
        "rejected": rec.rejected, "inMarket": rec.in_market,
        "endSize": num(float(pos.size)), "endPrice": num(float(pos.price)),
    }
    if out["intraday"]:
        out["times"] = [s[1] for s in st]
    return out


MAX_KEYS = 200


def flatten(prefix, obj, out, budget):
    """Numbers of an analysis as `prefix.key.subkey`; at most `budget[0]` more keys."""
    if budget[0] <= 0:
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            flatten("%s.%s" % (prefix, key_text(k)), v, out, budget)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            flatten("%s.%d" % (prefix, i), v, out, budget)
    elif isinstance(obj, bool):
        out[prefix] = 1 if obj else 0
        budget[0] -= 1
    elif isinstance(obj, (int, float)) or obj is None:
        out[prefix] = num(float(obj)) if isinstance(obj, float) else obj
        budget[0] -= 1


def key_text(k):
    if isinstance(k, _dt.datetime):
        return k.date().isoformat() if k.time() in (_dt.time.min, _dt.time(23, 59, 59, 999990)) else k.isoformat()
    if isinstance(k, _dt.date):
        return k.isoformat()
    return str(k)


_truncated = set()


def analyzer_metrics(strat, recorder):
    out = {}
    for name, a in zip(strat.analyzers.getnames(), strat.analyzers):
        if a is recorder:
            continue
        budget = [MAX_KEYS]
        flatten(name, a.get_analysis(), out, budget)
        if budget[0] <= 0 and name not in _truncated:
            _truncated.add(name)
            sys.stderr.write("optstudy bridge: analyzer '%s' has more than %d values; the first %d are kept\n" % (name, MAX_KEYS, MAX_KEYS))
    return out


# ----------------------------------------------------------------------------- one trial


class Runner(object):
    def __init__(self, spec):
        self.spec = spec
        self.target = None
        self.load_error = None
        self.cache = FeedCache()
        self._own = None
        self.ran = 0
        try:
            self.target = load_target(spec)
        except Exception as e:  # every trial fails with the reason; `check` reports it earlier
            self.load_error = e

    def build(self, req):
        if self.load_error is not None:
            raise self.load_error
        if is_strategy(self.target):
            return default_cerebro(self.target, req)
        cerebro = self.target(**req["params"])
        if not isinstance(cerebro, bt.Cerebro):
            raise TypeError("the factory '%s' returned %s, not a bt.Cerebro" % (self.spec, type(cerebro).__name__))
        drop_plot_observers(cerebro, self.own_modules())
        return cerebro

    def own_modules(self):
        """The SPEC's module and the modules loaded from the study's folder or the SPEC's (not
        installed packages kept there, nor backtrader): the user's code."""
        if self._own is not None and self._own[0] == len(sys.modules):
            return self._own[1]
        home = sys.modules.get(getattr(self.target, "__module__", None) or "")
        roots = [os.getcwd() + os.sep]
        if home is not None and getattr(home, "__file__", None):
            roots.append(os.path.dirname(os.path.abspath(home.__file__)) + os.sep)
        out = [home] if home is not None else []
        for name, m in list(sys.modules.items()):
            f = getattr(m, "__file__", None)
            if not f or name == "backtrader" or name.startswith("backtrader.") or "-packages" + os.sep in f:
                continue
            if any(os.path.abspath(f).startswith(r) for r in roots):
                out.append(m)
        self._own = (len(sys.modules), out)
        return out

    def run(self, req):
        cerebro = self.build(req)
        if not cerebro.datas:
            raise ValueError("the Cerebro has no data feed")
        apply_window(cerebro, req.get("from"), req.get("to"))
        recorder_cls = make_recorder(bool(req.get("trades")))
        cerebro.addanalyzer(recorder_cls, _name="_optstudy")
        keys = self.cache.keys_for(cerebro)
        if keys is not None:
            self.cache.attach(cerebro, keys)
        strats = cerebro.run()
        if not strats:
            raise ValueError("the Cerebro ran no strategy")
        strat = strats[0]
        if keys is not None:
            self.cache.keep(cerebro, keys)
        recorder = next(a for a in strat.analyzers if isinstance(a, recorder_cls))
        if not recorder.values:
            raise ValueError("no bar in the run window %s … %s" % (req.get("from") or "start", req.get("to") or "end"))
        ans = {"metrics": analyzer_metrics(strat, recorder), "record": record_of(strat, recorder)}
        if req.get("trades"):
            ans["trades"] = recorder.trades
        self.ran += 1
        if self.ran == 1:
            settle_gc()
        return ans


def settle_gc():
    """After the first run, what stays for the process's life (modules, the user's classes, the
    preloaded feeds) moves out of the collector's sight and young collections come rarer: a
    backtest makes cyclic garbage fast (orders, lines), and with Python's defaults the collector
    took about a tenth of a Quickstart trial, mostly re-walking the same long-lived objects.
    Memory stays bounded (a collection every 50,000 new objects); results do not depend on it."""
    import gc
    gc.collect()
    gc.freeze()
    gc.set_threshold(50000, 20, 100)


class Timeline(object):
    """Where a bridge process spends its time, for `npm run bench` (OPTSTUDY_BRIDGE_TIMES=DIR):
    one JSON line per event in DIR/PID.jsonl, wall clock (epoch seconds, comparable between
    processes) and this process's CPU seconds — its start, `import backtrader` done, the SPEC
    loaded (and described), then per request [received, answered, its CPU]. Off (None) otherwise."""

    def __init__(self, folder):
        self.file = open(os.path.join(folder, "%d.jsonl" % os.getpid()), "a", encoding="utf-8")
        self.mark("start", *_T0)

    def mark(self, name, wall=None, cpu=None):
        self.line(["mark", name, time.time() if wall is None else wall, time.process_time() if cpu is None else cpu])

    def trial(self, got, cpu0):
        self.line(["trial", got, time.time(), time.process_time() - cpu0])

    def line(self, item):
        self.file.write(json.dumps(item) + "\n")
        self.file.flush()


def make_timeline():
    folder = os.environ.get("OPTSTUDY_BRIDGE_TIMES")
    try:
        return Timeline(folder) if folder else None
    except OSError:
        return None


_timeline = make_timeline()


def answer_channel():
    fd = os.environ.get("OPTSTUDY_ANSWER_FD")
    if fd:
        try:
            return os.fdopen(int(fd), "w", encoding="utf-8")
        except OSError:
            pass
    return sys.stdout  # run by hand: answers on stdout


def serve(spec):
    requests = os.fdopen(os.dup(0), encoding="utf-8")
    # User code must not read OptStudy's requests: its stdin is empty.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.stdin = open(os.devnull)
    out = answer_channel()
    out.write("{}\n")  # hello: answers come on this channel only
    out.flush()
    describe_first(spec)
    runner = Runner(spec)
    if _timeline:
        _timeline.mark("loaded")
    for line in requests:
        if not line.strip():
            continue
        got, cpu0 = time.time(), time.process_time()
        req = json.loads(line)
        try:
            ans = runner.run(req)
            ans["id"] = req["id"]
        except BaseException as e:  # noqa: BLE001 — user code may sys.exit(); the process survives
            if isinstance(e, KeyboardInterrupt):
                raise
            ans = {"id": req.get("id"), "error": "%s: %s" % (type(e).__name__, e), "traceback": traceback.format_exc(limit=-30)}
        sys.stdout.flush()
        out.write(json.dumps(ans, separators=(",", ":"), allow_nan=False) + "\n")
        out.flush()
        if _timeline:
            _timeline.trial(got, cpu0)
    out.flush()
    exit_now()


def exit_now():
    """Ends the process once OptStudy has closed its requests, without tearing the interpreter
    down: finalizing backtrader's modules and every object of the runs took 0.1-0.3 s that a run
    waited for at its end. What a user's code may expect at exit still happens: every file it
    left open is flushed, exit handlers (the user's, logging's) run, output is flushed.
    A process whose code started threads ends the usual way (that waits for them)."""
    import atexit
    import gc
    import io
    threading = sys.modules.get("threading")
    run_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_handlers is None or (threading is not None and threading.active_count() > 1):
        return
    # Every file still open, wherever the user's code keeps it (garbage not yet collected too),
    # flushed before the collector finalizes anything: in a cycle a text file may be finalized
    # after its buffer and lose what it held.
    gc.unfreeze()
    for obj in gc.get_objects():
        if isinstance(obj, io.IOBase):
            flush(obj)
    gc.collect()
    run_handlers()
    flush(sys.stdout)
    flush(sys.stderr)
    os._exit(0)


def flush(f):
    try:
        f.flush()
    except Exception:  # noqa: BLE001 — a closed or replaced stream: nothing to keep
        pass


def die_with_parent():
    """Linux: end with OptStudy even if it is killed outright (PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    except Exception:
        pass


def main(argv):
    global bt
    if len(argv) != 3 or argv[1] not in ("serve", "describe", "names"):
        sys.stderr.write("usage: optstudy_bridge.py serve|describe FILE.py:NAME, or names FILE.py\n")
        return 2
    try:
        import backtrader
        bt = backtrader
        if _timeline:
            _timeline.mark("imported")
    except ImportError as e:
        msg = "backtrader is not importable by %s (%s): install it for this Python, or set OPTSTUDY_PYTHON" % (sys.executable, e)
        if argv[1] != "serve":
            print(json.dumps({"error": msg}))
            return 0
        describe_first(argv[2], json.dumps({"error": msg}))
        sys.stderr.write(msg + "\n")
        return 3
    if argv[1] != "serve":
        print(answer_text(describe if argv[1] == "describe" else names, argv[2]))
        return 0
    die_with_parent()
    serve(argv[2])
    return 0


def answer_text(command, arg):
    """The JSON line of `describe` or `names`: the answer, or the error that prevented it."""
    try:
        return json.dumps(command(arg), default=str)
    except SpecError as e:
        return json.dumps({"error": str(e)})
    except BaseException as e:  # noqa: BLE001 — the user's module failed to import or build
        return json.dumps({"error": "%s: %s" % (type(e).__name__, e), "traceback": traceback.format_exc(limit=-10)})


def describe_first(spec, text=None):
    """A process started during a run's checks describes SPEC first, on the descriptor named by
    OPTSTUDY_DESCRIBE_FD (OptStudy reads it while it waits), then serves the run's trials: one
    `import backtrader` instead of two."""
    fd = os.environ.pop("OPTSTUDY_DESCRIBE_FD", None)
    if not fd:
        return
    try:
        with os.fdopen(int(fd), "w", encoding="utf-8") as f:
            f.write((text if text is not None else answer_text(describe, spec)) + "\n")
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv))
