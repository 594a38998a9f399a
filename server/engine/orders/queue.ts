/**
 * Allocation-free queues for the bar loop: orders (the submitted and pending queues) and order
 * events waiting for the strategy. Both keep their slots between ticks: an array reset with
 * `length = 0` drops its store in V8, and a grid then paid a new one on every tick.
 */
import type { Order } from './order';

/** Orders in queue order. */
export class OrderQueue {
  items: (Order | undefined)[] = new Array<Order | undefined>(8).fill(undefined);
  n = 0;

  push(o: Order): void {
    if (this.n === this.items.length) this.items.push(...new Array<Order | undefined>(this.items.length).fill(undefined));
    this.items[this.n++] = o;
  }

  get(k: number): Order {
    return this.items[k]!;
  }

  indexOf(o: Order): number {
    for (let k = 0; k < this.n; k++) if (this.items[k] === o) return k;
    return -1;
  }

  removeAt(k: number): void {
    const it = this.items;
    for (let j = k + 1; j < this.n; j++) it[j - 1] = it[j];
    it[--this.n] = undefined;
  }

  /** Empties the queue (dropping the references). */
  clear(): void {
    const it = this.items;
    for (let k = 0; k < this.n; k++) it[k] = undefined;
    this.n = 0;
  }
}

export const FILLED = 0;
export const REJECTED = 1;
export const CANCELLED = 2;
const STATUS = ['filled', 'rejected', 'cancelled'] as const;

/** Order events of one tick, as columns. */
export class EventQueue {
  status = new Uint8Array(8);
  orders: (Order | undefined)[] = new Array<Order | undefined>(8).fill(undefined);
  /** The feed bar the event happened on. */
  bar = new Int32Array(8);
  /** An entry fill: the signed size it opened (its protective orders are due); else 0. */
  opened = new Float64Array(8);
  /** The raw fill price. */
  price = new Float64Array(8);
  n = 0;

  push(status: number, o: Order, bar: number, opened: number, price: number): void {
    if (this.n === this.status.length) this.grow();
    const k = this.n++;
    this.status[k] = status;
    this.orders[k] = o;
    this.bar[k] = bar;
    this.opened[k] = opened;
    this.price[k] = price;
  }

  statusName(k: number): (typeof STATUS)[number] {
    return STATUS[this.status[k]!]!;
  }

  clear(): void {
    for (let k = 0; k < this.n; k++) this.orders[k] = undefined;
    this.n = 0;
  }

  private grow(): void {
    const m = this.status.length * 2;
    const s = new Uint8Array(m);
    s.set(this.status);
    this.status = s;
    const b = new Int32Array(m);
    b.set(this.bar);
    this.bar = b;
    const o = new Float64Array(m);
    o.set(this.opened);
    this.opened = o;
    const p = new Float64Array(m);
    p.set(this.price);
    this.price = p;
    this.orders.length = m;
  }
}
