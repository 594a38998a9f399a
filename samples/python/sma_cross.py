#!/usr/bin/env python3
"""A pure-Python SMA-crossover strategy that speaks OptStudy's external strategy protocol.

OptStudy starts this once per worker (with OPTSTUDY_PROTOCOL=1) and writes one JSON request
per line to stdin:
  {"id":N,"params":{...},"data":"/abs/path","from":"YYYY-MM-DD"|null,"to":...,
   "cash":N,"commission":FRACTION,"sizing":{"kind":"fixed|percent","value":N}}
and reads one JSON answer per line from stdout: {"id":N,"metrics":{...}} or {"id":N,"error":"why"}.

It follows backtrader's default semantics (next-open market fills, margin checks, percent
commission per side, the open position marked to market and not counted as a trade), so a
study optimizing it finds the same optimum as the built-in `sma_cross`. Use it as a template
for your own Python strategy: replace `signals()`.

Only the standard library: runs with any python3.
"""
import json
import math
import sys

_cache = {}


def load(path, date_from, date_to):
    """Reads Date,Open,High,Low,Close[,Adj Close],Volume rows; inclusive date range."""
    key = (path, date_from, date_to)
    if key in _cache:
        return _cache[key]
    dates, opens, closes = [], [], []
    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
        cols = {name.strip().lower(): i for i, name in enumerate(header)}
        i_date, i_open, i_close = cols["date"], cols["open"], cols["close"]
        for line in f:
            parts = line.strip().split(",")
            if len(parts) < len(header):
                continue
            d = parts[i_date][:10]
            if (date_from and d < date_from) or (date_to and d > date_to):
                continue
            dates.append(d)
            opens.append(float(parts[i_open]))
            closes.append(float(parts[i_close]))
    _cache[key] = (dates, opens, closes)
    return _cache[key]


def sma(values, period):
    out = [None] * len(values)
    for i in range(period - 1, len(values)):
        out[i] = math.fsum(values[i - period + 1 : i + 1]) / period
    return out


def signals(closes, fast, slow):
    """+1 where the fast SMA crosses above the slow one, -1 where below, else 0."""
    a, b = sma(closes, fast), sma(closes, slow)
    out = [0] * len(closes)
    first = max(fast, slow) - 1
    if first >= len(closes):
        return out, len(closes)
    nzd = a[first] - b[first]
    for i in range(first + 1, len(closes)):
        up = nzd < 0 and a[i] > b[i]
        down = nzd > 0 and a[i] < b[i]
        out[i] = (1 if up else 0) - (1 if down else 0)
        d = a[i] - b[i]
        if d != 0:
            nzd = d
    return out, max(fast, slow)


def backtest(req):
    p = req["params"]
    fast, slow = int(p.get("fast", 10)), int(p.get("slow", 30))
    if fast < 1 or slow < 1:
        raise ValueError("fast and slow must be at least 1")
    dates, opens, closes = load(req["data"], req.get("from"), req.get("to"))
    if not dates:
        raise ValueError("no bars in the requested range")
    cash0 = float(req["cash"])
    comm = float(req["commission"])
    sizing = req["sizing"]
    cx, start = signals(closes, fast, slow)

    cash, pos, pp = cash0, 0, 0.0
    pending = None  # ("buy", size, created_close) or ("close",)
    values, trades, rejected, entry_comm = [], [], 0, 0.0
    entry_price = 0.0
    for i in range(len(closes)):
        if pending is not None:
            if pending[0] == "buy":
                size, created = pending[1], pending[2]
                if cash - size * created - abs(size) * comm * created < 0:
                    rejected += 1
                else:
                    new_cash = cash - size * opens[i]
                    c = abs(size) * comm * opens[i]
                    new_cash -= c
                    if new_cash < 0:
                        rejected += 1
                    else:
                        cash, pos, pp, entry_comm = new_cash, size, opens[i], c
                        entry_price = (0 * 0.0 + size * opens[i]) / size
            else:
                px = opens[i]
                pnl = pos * (px - pp) * 1.0
                cash += (pos * pp) + pnl
                c = abs(pos) * comm * px
                cash -= c
                trade_pnl = pos * (px - entry_price) * 1.0
                trades.append(trade_pnl - (0.0 + entry_comm + c))
                pos, pp = 0, 0.0
            pending = None
        if pos:
            dvalue = pos * closes[i]
            dun = pos * (closes[i] - pp) * 1.0
            pvu = 0.0 + (dvalue - dun) / 1.0
            pvu += dun
            values.append(cash + pvu)
        else:
            values.append(cash + (0.0 + 0.0))
        if i < start or i == len(closes) - 1:
            continue
        if pos == 0 and cx[i] > 0:
            if sizing["kind"] == "fixed":
                size = int(sizing["value"])
            else:
                size = int(cash / closes[i] * (sizing["value"] / 100.0))
            if size > 0:
                pending = ("buy", size, closes[i])
        elif pos > 0 and cx[i] < 0:
            pending = ("close",)

    return metrics(values, trades, cash0, cash, pos, rejected, len(dates))


def metrics(values, trades, cash0, cash, pos, rejected, bars):
    won = [t for t in trades if t >= 0]
    lost = [t for t in trades if t < 0]
    gross_profit = 0.0
    for t in won:
        gross_profit += t
    gross_loss = 0.0
    for t in lost:
        gross_loss += t
    peak, dd_pct, dd_money = -math.inf, 0.0, 0.0
    for v in values:
        peak = max(peak, v)
        dd_pct = max(dd_pct, 100.0 * (peak - v) / peak)
        dd_money = max(dd_money, peak - v)
    rets, prev = [], cash0
    for v in values:
        rets.append(v / prev - 1.0)
        prev = v
    avg = math.fsum(rets) / len(rets)
    sd = math.sqrt(math.fsum((r - avg) ** 2 for r in rets) / len(rets))
    sharpe = math.sqrt(252) * (avg / sd) if sd != 0 else None
    final_value = values[-1]
    return {
        "final_value": final_value,
        "final_cash": cash,
        "total_return_pct": (final_value / cash0 - 1.0) * 100.0,
        "trades_closed": len(trades),
        "trades_open": 1 if pos else 0,
        "won": len(won),
        "lost": len(lost),
        "gross_profit": gross_profit,
        "gross_loss": gross_loss,
        "profit_factor": gross_profit / abs(gross_loss) if trades and gross_loss != 0 else None,
        "max_drawdown_pct": dd_pct,
        "max_drawdown_money": dd_money,
        "sharpe_days_ann_rf0": sharpe,
        "rejected_orders": rejected,
        "bars": bars,
    }


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except ValueError:
            print("sma_cross.py: ignoring a line that is not JSON", file=sys.stderr)
            continue
        try:
            answer = {"id": req["id"], "metrics": backtest(req)}
        except Exception as e:  # one bad request fails its trial only
            answer = {"id": req.get("id"), "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
