#!/usr/bin/env python3
"""Runs a real backtrader strategy for each OptStudy request (the external strategy protocol).

    strategy sma_bt command "python3 backtrader/bridge.py sma_cross" {
      param fast: int = 10
      param slow: int = 30
    }

The first argument names the strategy: one of the classes in STRATEGIES below, or
`package.module:ClassName` for your own (imported from the study's folder, where OptStudy
starts this process). Each request builds a Cerebro with the data file and date range of the
request, the broker's cash and commission, the sizing, and the analyzers whose results map
onto OptStudy's metric names; the answer is one JSON line, on the dedicated answer pipe when
OptStudy gives one (OPTSTUDY_ANSWER_FD), so the strategy's own prints are only its log.

For your own Cerebro (sizers, feeds, analyzers as objectives) prefer the built-in kind
`strategy NAME backtrader "file.py:make_cerebro"` (docs/backtrader.md): this file is the
minimal example of the protocol. Requires `pip install backtrader`. See README.md beside it.
"""
import datetime as dt
import importlib
import json
import math
import os
import sys
import traceback

import backtrader as bt


class SmaCross(bt.Strategy):
    """The classic: long when SMA(fast) crosses above SMA(slow), flat when below."""

    params = (("fast", 10), ("slow", 30))

    def __init__(self):
        self.cross = bt.ind.CrossOver(bt.ind.SMA(period=self.p.fast), bt.ind.SMA(period=self.p.slow))

    def next(self):
        if not self.position and self.cross > 0:
            self.buy()
        elif self.position and self.cross < 0:
            self.close()


STRATEGIES = {"sma_cross": SmaCross}


class PercentOfValue(bt.Sizer):
    """OptStudy's `sizing percent N`: an entry gets int(value / close * N / 100); an order
    against the open position (a `self.sell()` exit) gets the position's size, not a size from cash."""

    params = (("percent", 95.0),)

    def _getsizing(self, comminfo, cash, data, isbuy):
        pos = self.broker.getposition(data).size
        if pos and (pos > 0) != isbuy:
            return abs(pos)
        return int(self.broker.getvalue() / data.close[0] * (self.p.percent / 100.0))


def load_strategy(spec):
    if spec in STRATEGIES:
        return STRATEGIES[spec]
    if ":" in spec:
        module, _, name = spec.partition(":")
        sys.path.insert(0, os.getcwd())  # the study's folder: `mystrats.breakout:Breakout` imports from there
        return getattr(importlib.import_module(module), name)
    raise SystemExit(f"bridge.py: unknown strategy '{spec}'. Use one of {sorted(STRATEGIES)} or module:Class")


def parse_date(text):
    return dt.datetime.strptime(text, "%Y-%m-%d") if text else None


def columns(path):
    """Column indices by header name (Yahoo's `Adj Close,Volume` and backtrader's `Volume,OpenInterest` alike)."""
    with open(path) as f:
        names = [h.strip().lower().replace(" ", "") for h in f.readline().strip().split(",")]
    find = lambda *keys: next((names.index(k) for k in keys if k in names), -1)  # noqa: E731
    return dict(datetime=find("date"), open=find("open"), high=find("high"), low=find("low"), close=find("close"),
                volume=find("volume", "vol"), openinterest=find("openinterest", "oi"))


def run(strategy_cls, req):
    cerebro = bt.Cerebro(stdstats=False)
    fromdate = parse_date(req.get("from"))
    todate = parse_date(req.get("to"))
    feed = bt.feeds.GenericCSVData(
        dataname=req["data"],
        dtformat="%Y-%m-%d",
        **columns(req["data"]),
        fromdate=fromdate,
        # A daily bar carries the session end time: a midnight `todate` would drop the last day.
        todate=todate + dt.timedelta(days=1) - dt.timedelta(microseconds=1) if todate else None,
    )
    cerebro.adddata(feed)
    cerebro.broker.setcash(float(req["cash"]))
    cerebro.broker.setcommission(commission=float(req["commission"]))
    sizing = req["sizing"]
    if sizing["kind"] == "fixed":
        cerebro.addsizer(bt.sizers.FixedSize, stake=int(sizing["value"]))
    else:
        cerebro.addsizer(PercentOfValue, percent=float(sizing["value"]))
    cerebro.addstrategy(strategy_cls, **req["params"])
    cerebro.addanalyzer(bt.analyzers.TradeAnalyzer, _name="trades")
    cerebro.addanalyzer(bt.analyzers.DrawDown, _name="dd")
    cerebro.addanalyzer(bt.analyzers.SharpeRatio, _name="sharpe", timeframe=bt.TimeFrame.Days, annualize=True, riskfreerate=0.0)
    cerebro.addanalyzer(bt.analyzers.SQN, _name="sqn")
    cerebro.addanalyzer(bt.analyzers.Returns, _name="returns")
    strat = cerebro.run(maxcpus=1)[0]
    return metrics(strat, cerebro, float(req["cash"]))


def metrics(strat, cerebro, cash0):
    ta = strat.analyzers.trades.get_analysis()
    closed = ta.get("total", {}).get("closed", 0) or 0
    won_pnl = ta.get("won", {}).get("pnl", {}).get("total", 0.0) if closed else 0.0
    lost_pnl = ta.get("lost", {}).get("pnl", {}).get("total", 0.0) if closed else 0.0
    dd = strat.analyzers.dd.get_analysis()
    sharpe = strat.analyzers.sharpe.get_analysis().get("sharperatio")
    sqn = strat.analyzers.sqn.get_analysis().get("sqn")
    rets = strat.analyzers.returns.get_analysis()
    value = cerebro.broker.getvalue()
    out = {
        "final_value": value,
        "final_cash": cerebro.broker.getcash(),
        "total_return_pct": (value / cash0 - 1.0) * 100.0,
        "trades_closed": closed,
        "won": ta.get("won", {}).get("total", 0) if closed else 0,
        "lost": ta.get("lost", {}).get("total", 0) if closed else 0,
        "gross_profit": won_pnl,
        "gross_loss": lost_pnl,
        "profit_factor": won_pnl / abs(lost_pnl) if closed and lost_pnl else None,
        "max_drawdown_pct": dd.max.drawdown,
        "max_drawdown_money": dd.max.moneydown,
        "max_drawdown_len": dd.max.len,
        "sharpe_days_ann_rf0": sharpe,
        "sqn": sqn,
        "returns_rtot": rets.get("rtot"),
        "returns_rnorm100": rets.get("rnorm100"),
    }
    # JSON has no NaN or infinities: an undefined metric (a wiped-out account's -inf) is null.
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()}


def main():
    if len(sys.argv) < 2:
        raise SystemExit("usage: bridge.py STRATEGY   (a name in STRATEGIES or module:Class)")
    strategy_cls = load_strategy(sys.argv[1])
    fd = os.environ.get("OPTSTUDY_ANSWER_FD")
    out = os.fdopen(int(fd), "w") if fd else sys.stdout
    if fd:
        out.write("{}\n")  # answers come on this pipe only: prints on stdout stay log
        out.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except ValueError:
            continue
        try:
            answer = {"id": req["id"], "metrics": run(strategy_cls, req)}
        except Exception as e:  # one failing backtest fails its own trial only
            answer = {"id": req.get("id"), "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
        out.write(json.dumps(answer, allow_nan=False) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
