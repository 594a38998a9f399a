"""A backtrader script as its author would write it, optimized by OptStudy as it is.

`SmaCross` is the SMA crossover from backtrader's front page and quickstart; `LongOnlyPercent`
is a custom sizer (a share of the portfolio value for entries, the whole position for exits);
`ReturnOverDrawdown` is a custom analyzer (total return divided by the largest drawdown),
which the study `../backtrader-sma-cross.optstudy` uses as its objective.

`make_cerebro(**params)` is the cerebro factory OptStudy calls once per trial with the
trial's parameters: the same function you would call yourself for a single backtest (see the
bottom of this file) or hand to your own `optstrategy` loop.

Run by hand:   python3 smacross.py          (needs `backtrader` importable)
"""
import datetime
import os

import backtrader as bt

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "orcl-1995-2014.txt")


class SmaCross(bt.Strategy):
    """Long when the fast SMA crosses above the slow one, flat when it crosses below."""

    params = (("pfast", 10), ("pslow", 30))

    def __init__(self):
        sma1 = bt.ind.SMA(period=self.p.pfast)
        sma2 = bt.ind.SMA(period=self.p.pslow)
        self.crossover = bt.ind.CrossOver(sma1, sma2)

    def next(self):
        if not self.position:
            if self.crossover > 0:
                self.buy()
        elif self.crossover < 0:
            self.close()


class LongOnlyPercent(bt.Sizer):
    """Entries: `percent` of the portfolio value at the signal bar's close; exits: the whole position."""

    params = (("percent", 95),)

    def _getsizing(self, comminfo, cash, data, isbuy):
        position = self.broker.getposition(data)
        if not isbuy:
            return position.size
        return int(self.broker.getvalue() * self.p.percent / 100 / data.close[0])


class ReturnOverDrawdown(bt.Analyzer):
    """Total return (%) over the largest peak-to-trough drawdown (%) of the portfolio value."""

    def start(self):
        self.peak = self.start_value = self.strategy.broker.getvalue()
        self.max_dd = 0.0

    def notify_fund(self, cash, value, fundvalue, shares):
        self.peak = max(self.peak, value)
        self.max_dd = max(self.max_dd, (self.peak - value) / self.peak * 100.0)
        self.value = value

    def get_analysis(self):
        ret = (self.value / self.start_value - 1.0) * 100.0
        return {"return_pct": ret, "max_dd_pct": self.max_dd, "ratio": ret / self.max_dd if self.max_dd else None}


def make_cerebro(pfast=10, pslow=30, percent=95):
    """The whole backtest setup: data, broker, sizer, analyzers and the strategy."""
    cerebro = bt.Cerebro(stdstats=False)
    data = bt.feeds.YahooFinanceCSVData(
        dataname=DATA, fromdate=datetime.datetime(2005, 1, 1), todate=datetime.datetime(2014, 12, 31), adjclose=False
    )
    cerebro.adddata(data)
    cerebro.broker.setcash(100000.0)
    cerebro.broker.setcommission(commission=0.001)
    cerebro.addsizer(LongOnlyPercent, percent=percent)
    cerebro.addanalyzer(ReturnOverDrawdown, _name="rodd")
    cerebro.addanalyzer(bt.analyzers.TradeAnalyzer, _name="ta")
    cerebro.addanalyzer(bt.analyzers.SQN, _name="sqn")
    cerebro.addstrategy(SmaCross, pfast=pfast, pslow=pslow)
    return cerebro


if __name__ == "__main__":
    strat = make_cerebro().run()[0]
    print("return over drawdown:", strat.analyzers.rodd.get_analysis())
