#!/usr/bin/env python3
"""Runs scripted order plans through REAL backtrader (the oracle's copy in ../shared/oracle),
for test/engine/oracle-random.test.ts: the same plan runs as a TypeScript strategy module in
the engine, and every metric, trade, fill and rejection must agree.

usage: python3 oracle-modules.py ORACLE_DIR PLANS.json [--data-dir DIR ...]
       (a JSON list of plans in, a JSON list of oracle-shaped results out)

A plan is a scenario (oracle.py's keys: data, from, to, cash, commission, slippage, sizing) plus
`protect` {stop, take, trail} (percent, 0 = off) and `actions`: at clock tick `tick`, or when
the order of action `onFill` fills, do `op` (buy | sell | close | cancel | target) on feed
`feed` with `type` (market | close | limit | stop | stop_limit | stop_trail), `size` (None:
the study's sizing), prices as `base * (1 + off)` (base: the feed's close, or the fill price
for `onFill`), `loff` for a stop-limit's limit, `trail` (a fraction) for a trailing stop, `oco`
(an earlier action), `label`, `cancel` (an earlier action), `target` {size|value|percent}.

The module rules this harness follows (docs/strategies.md "Orders"): an order against the
position cancels the feed's protective orders first (a size of 0, e.g. an order_target_* less
than one unit away, is no order and cancels nothing); protective orders are submitted at a fill
that opens a position from flat or reverses it, for the opened size; an order's kind is
`signal` when it is against the position, else `entry`.
"""
import json
import math
import os
import sys


def main(argv):
    oracle_dir = argv[0]
    plans = json.load(open(argv[1]))
    dirs = []
    i = 2
    while i < len(argv):
        if argv[i] == '--data-dir':
            dirs.append(argv[i + 1])
            i += 2
        else:
            i += 1
    sys.path.insert(0, oracle_dir)
    import backtrader as bt
    import oracle
    import strategies as S

    class Scripted(S.Recorder, bt.Strategy):
        params = (('plan', None), ('sizing', 'percent'), ('sizing_value', 95.0))
        _rotation = False

        def __init__(self):
            self._rec_init()
            self._rotation = len(self.datas) > 1
            self._protect = {}
            self._placed = {}
            self._by_tick = {}
            self._on_fill = {}
            for k, a in enumerate(self.p.plan['actions']):
                a = dict(a, idx=k)
                if a.get('onFill') is not None:
                    self._on_fill.setdefault(a['onFill'], []).append(a)
                else:
                    self._by_tick.setdefault(a['tick'], []).append(a)

        def start(self):
            for d in self.datas:
                self.broker.getposition(d)

        # -- orders: kind, and the protective group cancelled by an order against the position
        def buy(self, data=None, size=None, **kw):
            return self._order(True, data, size, kw)

        def sell(self, data=None, size=None, **kw):
            return self._order(False, data, size, kw)

        def _order(self, isbuy, data, size, kw):
            data = data if data is not None else self.data
            size = size if size is not None else self.getsizing(data, isbuy=isbuy)
            if not size:
                # No order: backtrader's buy()/sell() return None for size 0 without creating
                # one (strategy.py, `if size: return self.broker.buy(...)`, else None). That
                # happens when order_target_value/percent's difference is less than one unit:
                # it calls self.sell(size=comminfo.getsize(...)) = self.sell(size=0). No order
                # is not an order against the position, so the protective group stays (the
                # engine's orderTarget returns null there and cancels nothing; docs/strategies.md).
                # Cancelling here made backtrader drop a live take-profit (seed 16180, plan 243).
                return None
            pos = self.getposition(data).size
            against = pos != 0 and (pos > 0) != isbuy
            protective = kw.pop('_protective', False)
            if 'kind' not in kw:
                kw['kind'] = 'signal' if against else 'entry'
            if against and not protective:
                for o in self._protect.pop(data, []):
                    if o.alive():
                        self.cancel(o)
            fn = bt.Strategy.buy if isbuy else bt.Strategy.sell
            return fn(self, data=data, size=size, **kw)

        def _size(self, data):
            if self.p.sizing == 'fixed':
                return int(self.p.sizing_value)
            mult = self.broker.getcommissioninfo(data).p.mult
            x = self.broker.getvalue() / (data.close[0] * mult) * (self.p.sizing_value / 100.0)
            return int(x) if math.isfinite(x) else 0

        def _do(self, a, base=None):
            d = self.datas[a.get('feed', 0)]
            op = a['op']
            label = a.get('label')
            o = None
            if op == 'cancel':
                t = self._placed.get(a['cancel'])
                if t is not None:
                    self.cancel(t)
                return
            if op == 'close':
                o = self.close(data=d, label=label)
            elif op == 'target':
                t = a['target']
                if 'size' in t:
                    o = self.order_target_size(data=d, target=t['size'], label=label)
                elif 'value' in t:
                    o = self.order_target_value(data=d, target=t['value'], label=label)
                else:
                    o = self.order_target_percent(data=d, target=t['percent'] / 100.0, label=label)
            else:
                size = a.get('size')
                if size is None:
                    size = self._size(d)
                    if size <= 0:
                        return
                base = d.close[0] if base is None else base
                kw = dict(label=label)
                typ = a.get('type', 'market')
                if typ == 'close':
                    kw['exectype'] = bt.Order.Close
                elif typ == 'limit':
                    kw.update(exectype=bt.Order.Limit, price=base * (1 + a['off']))
                elif typ == 'stop':
                    kw.update(exectype=bt.Order.Stop, price=base * (1 + a['off']))
                elif typ == 'stop_limit':
                    kw.update(exectype=bt.Order.StopLimit, price=base * (1 + a['off']), plimit=base * (1 + a['loff']))
                elif typ == 'stop_trail':
                    kw.update(exectype=bt.Order.StopTrail, trailpercent=a['trail'])
                if a.get('oco') is not None:
                    leader = self._placed.get(a['oco'])
                    if leader is not None and leader.alive():
                        kw['oco'] = leader
                o = (self.buy if op == 'buy' else self.sell)(data=d, size=size, **kw)
            if o is not None:
                self._placed[a['idx']] = o

        def next(self):
            if self.first_next_dt is None:
                self.first_next_dt = self.datetime[0]
            for a in self._by_tick.get(len(self) - 1, []):
                self._do(a)

        # -- fills: the records, protective orders at an entry fill, then the plan's reactions
        def notify_order(self, order):
            if order.status == order.Partial:
                # The closing part of a reversal executed, its opening part was refused for cash
                # (the Margin notification follows): a fill like any other for the records.
                order.status = order.Completed
            filled = self._record_order(order)
            if not filled:
                return
            ex = order.executed
            prev, after = self._moves(order)
            if after != 0 and (prev == 0 or (prev > 0) != (after > 0)):
                self._protective(order, after)
            for k, o in list(self._placed.items()):
                if o is order or o.ref == order.ref:
                    for a in self._on_fill.get(k, []):
                        self._do(a, base=list(ex.exbits)[-1].price)

        def _protective(self, order, opened):
            pr = self.p.plan.get('protect') or {}
            sl, tp, tr = pr.get('stop', 0), pr.get('take', 0), pr.get('trail', 0)
            d = order.data
            size = abs(opened)
            fill = list(order.executed.exbits)[-1].price
            long_ = opened > 0
            side = self.sell if long_ else self.buy
            orders, oco = [], None
            if sl:
                px = fill * (1.0 - sl / 100.0) if long_ else fill * (1.0 + sl / 100.0)
                o = side(data=d, size=size, exectype=bt.Order.Stop, price=px, _checksubmit=False, kind='stop', _protective=True)
                orders.append(o)
                oco = oco or o
            if tp:
                px = fill * (1.0 + tp / 100.0) if long_ else fill * (1.0 - tp / 100.0)
                o = side(data=d, size=size, exectype=bt.Order.Limit, price=px, oco=oco, _checksubmit=False, kind='take', _protective=True)
                orders.append(o)
                oco = oco or o
            if tr:
                o = side(data=d, size=size, exectype=bt.Order.StopTrail, trailpercent=tr / 100.0, oco=oco, _checksubmit=False, kind='trail', _protective=True)
                orders.append(o)
            self._protect[d] = orders

        def _moves(self, order):
            """Position before and after this execution: backtrader's executed.psize is the
            intended position (its pseudo-update), also when the opening part was refused."""
            ex = order.executed
            prev = ex.psize - order.created.size
            return prev, prev + ex.size

        def _open_record(self, order, raw, size, comm):
            d = order.data
            ex = order.executed
            rec = dict(entry_date=S.fmt_dt(d, ex.dt), exit_date=None, entry_price=None, entry_fill_price=raw,
                       exit_price=None, exit_order_avg_price=None, size=size, pnl=None, pnlcomm=None,
                       commission=None, entry_comm=comm, exit_comm=None, barlen=None,
                       signal_date=S.fmt_dt(d, order.created.dt), exit_signal_date=None, exit_reason=None,
                       exit_signal=None, direction='long' if size > 0 else 'short')
            if self._rotation:
                rec.update(data=self._dname(d), n_fills=1, max_size=abs(size))
            self._cur[d] = rec

        def _track_fill(self, order, raw):
            d = order.data
            ex = order.executed
            bit = list(ex.exbits)[-1]
            prev, after = self._moves(order)
            cur = self._cur.get(d)
            if prev == 0 or cur is None:
                self._open_record(order, raw, ex.size, ex.comm)
                return
            flip = after != 0 and (prev > 0) != (after > 0)
            if self._rotation:
                cur['n_fills'] += 1
                if not flip:
                    cur['max_size'] = max(cur['max_size'], abs(after))
            if after != 0 and not flip:
                return
            kind = order.info.get('kind')
            reason = 'reverse' if flip else ('signal' if kind == 'entry' else kind)
            cur.update(exit_date=S.fmt_dt(d, ex.dt), exit_price=raw, exit_order_avg_price=ex.price,
                       exit_comm=0.0 + bit.closedcomm, exit_signal_date=S.fmt_dt(d, order.created.dt),
                       exit_reason=reason, exit_signal=order.info.get('label') if reason == 'signal' else None)
            self._closing.setdefault(d, []).append(cur)
            self._cur[d] = None
            if flip:
                self._open_record(order, raw, after, 0.0 + bit.openedcomm)

    out = []
    for plan in plans:
        try:
            out.append(run_plan(plan, dirs + oracle.DEFAULT_DATA_DIRS, bt, oracle, Scripted))
        except Exception as e:  # reported per plan, the batch goes on
            out.append({'error': '%s: %s' % (type(e).__name__, e)})
    json.dump(out, sys.stdout, allow_nan=False)
    sys.stdout.write('\n')


def run_plan(plan, dirs, bt, oracle, Scripted):
    cerebro = bt.Cerebro(stdstats=False)
    datas = []
    for f in plan['data']:
        feed, _ = oracle.make_feed(oracle.find_data(f, dirs), plan.get('from'), plan.get('to'))
        cerebro.adddata(feed, name=os.path.basename(f))
        datas.append(feed)
    oracle.setup_broker(cerebro, plan)
    sz = plan.get('sizing') or {'type': 'percent', 'percent': 95}
    sizing = ('fixed', int(sz['size'])) if sz['type'] == 'fixed' else ('percent', float(sz['percent']))
    cerebro.addstrategy(Scripted, plan=plan, sizing=sizing[0], sizing_value=sizing[1])
    A = bt.analyzers
    cerebro.addanalyzer(A.TradeAnalyzer, _name='ta')
    cerebro.addanalyzer(A.DrawDown, _name='dd')
    cerebro.addanalyzer(A.SharpeRatio, _name='sh_d', timeframe=bt.TimeFrame.Days, annualize=True, riskfreerate=0.0)
    cerebro.addanalyzer(A.SharpeRatio, _name='sh')
    cerebro.addanalyzer(A.SharpeRatio_A, _name='sh_a')
    cerebro.addanalyzer(A.TimeReturn, _name='yr', timeframe=bt.TimeFrame.Years)
    cerebro.addanalyzer(A.Returns, _name='ret')
    cerebro.addanalyzer(A.SQN, _name='sqn')
    cerebro.addanalyzer(oracle.EquityRecorder, _name='eq')
    strat = cerebro.run()[0]
    return oracle.collect(strat, plan, datas)


if __name__ == '__main__':
    main(sys.argv[1:])
