// Per-symbol market data kept in memory for the chart and the symbol strip: recent bars (sorted,
// capped), features by bar start, the last tick, the bar still forming from ticks, and the points
// where opportunities fired. Live events and REST history merge into the same series.

const MAX_BARS = 600;
const MAX_MARKERS = 300;

export function parseInterval(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text ?? '');
  if (!m) return 1000;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2]];
}

class Series {
  constructor(symbol) {
    this.symbol = symbol;
    this.bars = []; // sorted by start
    this.features = new Map(); // bar start -> features
    this.markers = []; // { ts, direction, id }
    this.markerIds = new Set();
    this.lastTick = null;
    this.forming = null; // { start, open, high, low, close, volume }
    this.intervalMs = 1000;
    this.historyLoaded = false;
    this.historyLoading = false;
    this.version = 0; // bumped on every change that affects the chart
  }

  get lastPrice() {
    return this.lastTick?.price ?? this.forming?.close ?? this.bars.at(-1)?.close ?? null;
  }

  /** Close of the bar before the latest price, for the up/down colour. */
  get previousClose() {
    if (this.forming || this.lastTick) return this.bars.at(-1)?.close ?? null;
    return this.bars.at(-2)?.close ?? null;
  }

  addBar(bar) {
    this.intervalMs = parseInterval(bar.interval);
    const bars = this.bars;
    const last = bars.at(-1);
    if (!last || bar.start > last.start) bars.push(bar);
    else if (bar.start === last.start) bars[bars.length - 1] = bar;
    else {
      // Out of order (REST history merging under live data): binary search its place.
      let lo = 0;
      let hi = bars.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (bars[mid].start < bar.start) lo = mid + 1;
        else hi = mid;
      }
      if (bars[lo]?.start === bar.start) bars[lo] = bar;
      else bars.splice(lo, 0, bar);
    }
    if (bars.length > MAX_BARS) {
      bars.splice(0, bars.length - MAX_BARS);
      const oldest = bars[0].start;
      for (const ts of this.features.keys()) if (ts < oldest) this.features.delete(ts);
    }
    if (this.forming && this.forming.start <= bar.start) this.forming = null;
    this.version++;
  }

  addFeatures(f) {
    this.features.set(f.ts, f);
    if (this.features.size > MAX_BARS * 1.5) {
      const oldest = this.bars[0]?.start ?? -Infinity;
      for (const ts of this.features.keys()) if (ts < oldest) this.features.delete(ts);
    }
    this.version++;
  }

  addTick(tick) {
    this.lastTick = tick;
    const start = Math.floor(tick.ts / this.intervalMs) * this.intervalMs;
    const lastBar = this.bars.at(-1);
    if (lastBar && start <= lastBar.start) return; // belongs to a bar already closed
    const f = this.forming;
    if (!f || f.start !== start) {
      this.forming = { start, open: tick.price, high: tick.price, low: tick.price, close: tick.price, volume: tick.volume ?? 0 };
    } else {
      f.high = Math.max(f.high, tick.price);
      f.low = Math.min(f.low, tick.price);
      f.close = tick.price;
      f.volume += tick.volume ?? 0;
    }
    this.version++;
  }

  addMarker(opp) {
    if (this.markerIds.has(opp.id)) return false;
    this.markerIds.add(opp.id);
    this.markers.push({ ts: opp.created_ts, direction: opp.direction, id: opp.id });
    if (this.markers.length > MAX_MARKERS) {
      const dropped = this.markers.splice(0, this.markers.length - MAX_MARKERS);
      for (const m of dropped) this.markerIds.delete(m.id);
    }
    this.version++;
    return true;
  }
}

export class Market {
  constructor() {
    this.bySymbol = new Map();
    this.onNewSymbol = () => {};
  }

  series(symbol) {
    let s = this.bySymbol.get(symbol);
    if (!s) {
      s = new Series(symbol);
      this.bySymbol.set(symbol, s);
      this.onNewSymbol(symbol);
    }
    return s;
  }

  symbols() {
    return [...this.bySymbol.keys()].sort();
  }

  /** After a reconnect the lossy channels may have holes: reload history when next shown. */
  markStale() {
    for (const s of this.bySymbol.values()) s.historyLoaded = false;
  }
}
