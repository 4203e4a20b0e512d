// Price chart on a canvas, drawn by hand: candles (or a line when they get too thin), volume,
// Bollinger bands from the features stream, triangles where opportunities fired, the last
// price, and a crosshair (pointer, or the arrow keys when the chart has focus). It draws at most
// once per animation frame, and only when something it shows changed; it follows the element's
// size (ResizeObserver) and devicePixelRatio.

import { t } from './i18n.js';
import { formatClock, formatPrice, formatVolume } from './format.js';

const AXIS_RIGHT = 66;
const AXIS_BOTTOM = 22;
const PAD_TOP = 10;
const PAD_LEFT = 8;
const VOLUME_SHARE = 0.18;
const TICK_REDRAW_MS = 100; // a tick alone redraws at most 10 times a second

export class PriceChart {
  /**
   * @param {HTMLElement} root   the chart panel (holds the canvas, legend and symbol picker)
   * @param {import('./market.js').Market} market
   */
  constructor(root, market) {
    this.market = market;
    this.wrap = root.querySelector('.chart-wrap');
    this.canvas = root.querySelector('canvas');
    this.legend = root.querySelector('[data-role="chart-legend"]');
    this.ctx = this.canvas.getContext('2d');
    this.symbol = null;
    this.drawnVersion = -1;
    this.dirty = true;
    this.lastTickDraw = 0;
    this.hover = null; // index into the visible bars, or null
    this.view = null; // geometry of the last draw, for hit testing
    this.cssWidth = 0;
    this.cssHeight = 0;
    this.dpr = window.devicePixelRatio || 1;
    this.readColors();

    new ResizeObserver(() => this.resize()).observe(this.wrap);
    this.watchPixelRatio();
    this.canvas.addEventListener('pointermove', (e) => this.pointAt(e.offsetX));
    this.canvas.addEventListener('pointerleave', () => this.setHover(null));
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.canvas.addEventListener('blur', () => this.setHover(null));
  }

  watchPixelRatio() {
    const query = matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`);
    query.addEventListener(
      'change',
      () => {
        this.resize();
        this.watchPixelRatio();
      },
      { once: true },
    );
  }

  /** Colours come from CSS custom properties, so themes stay in the stylesheet. */
  readColors() {
    const css = getComputedStyle(this.canvas);
    const v = (name) => css.getPropertyValue(name).trim();
    this.colors = {
      up: v('--up'),
      down: v('--down'),
      grid: v('--grid'),
      text: v('--muted'),
      band: v('--band-line'),
      bandFill: v('--band-fill'),
      bandMid: v('--band-mid'),
      cross: v('--fg'),
      last: v('--accent'),
      lastText: v('--accent-fg'),
      font: `11px ${css.fontFamily}`,
    };
    this.dirty = true;
  }

  resize() {
    const rect = this.wrap.getBoundingClientRect();
    this.cssWidth = Math.max(0, Math.floor(rect.width));
    this.cssHeight = Math.max(0, Math.floor(rect.height));
    this.dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(this.cssWidth * this.dpr);
    this.canvas.height = Math.round(this.cssHeight * this.dpr);
    this.canvas.style.width = `${this.cssWidth}px`;
    this.canvas.style.height = `${this.cssHeight}px`;
    this.dirty = true;
    this.draw(); // now, not next frame: a resized canvas is blank until drawn
  }

  setSymbol(symbol) {
    this.symbol = symbol;
    this.hover = null;
    this.dirty = true;
    this.relabel();
  }

  relabel() {
    const s = this.symbol && this.market.bySymbol.get(this.symbol);
    this.canvas.setAttribute('aria-label', t('chart.label', { symbol: this.symbol ?? '', n: s ? s.bars.length : 0 }));
    this.dirty = true;
  }

  /** A bar, features or marker of the shown symbol changed. */
  invalidate() {
    this.dirty = true;
  }

  /** A tick of the shown symbol arrived (cheap: only moves the forming bar and last price). */
  tickArrived(now) {
    if (now - this.lastTickDraw >= TICK_REDRAW_MS) {
      this.lastTickDraw = now;
      this.dirty = true;
    }
  }

  /** Called once per animation frame. */
  render() {
    if (this.dirty) this.draw();
  }

  pointAt(x) {
    const v = this.view;
    if (!v || v.count === 0) return;
    const i = Math.floor((x - v.left) / v.slot);
    this.setHover(i >= 0 && i < v.count ? i : null);
  }

  setHover(i) {
    if (i !== this.hover) {
      this.hover = i;
      this.dirty = true;
    }
  }

  key(e) {
    const v = this.view;
    if (!v || v.count === 0) return;
    let i = this.hover ?? v.count - 1;
    if (e.key === 'ArrowLeft') i = Math.max(0, i - 1);
    else if (e.key === 'ArrowRight') i = Math.min(v.count - 1, i + 1);
    else if (e.key === 'Home') i = 0;
    else if (e.key === 'End') i = v.count - 1;
    else if (e.key === 'Escape') i = null;
    else return;
    e.preventDefault();
    this.setHover(i);
  }

  draw() {
    this.dirty = false;
    const ctx = this.ctx;
    const W = this.cssWidth;
    const H = this.cssHeight;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.font = this.colors.font;
    const series = this.symbol ? this.market.bySymbol.get(this.symbol) : null;
    const bars = series ? series.bars.slice() : [];
    if (series?.forming) bars.push({ ...series.forming, forming: true });

    const plotW = W - PAD_LEFT - AXIS_RIGHT;
    const plotH = H - PAD_TOP - AXIS_BOTTOM;
    if (!series || bars.length === 0 || plotW < 40 || plotH < 40) {
      this.view = null;
      ctx.fillStyle = this.colors.text;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(t('chart.empty'), W / 2, H / 2);
      this.legend.textContent = '';
      return;
    }

    // How many bars fit: slots of 5-12 px, about 90 bars across.
    const slot = Math.max(5, Math.min(12, plotW / 90));
    const count = Math.min(bars.length, Math.floor(plotW / slot));
    const shown = bars.slice(bars.length - count);
    const left = PAD_LEFT + plotW - count * slot;
    const bands = shown.map((b) => series.features.get(b.start) ?? null);
    const priceH = plotH * (1 - VOLUME_SHARE);

    // Price range over candles and bands.
    let lo = Infinity;
    let hi = -Infinity;
    let maxVol = 0;
    shown.forEach((b, i) => {
      lo = Math.min(lo, b.low);
      hi = Math.max(hi, b.high);
      maxVol = Math.max(maxVol, b.volume ?? 0);
      const f = bands[i];
      if (f?.bb_upper != null) hi = Math.max(hi, f.bb_upper);
      if (f?.bb_lower != null) lo = Math.min(lo, f.bb_lower);
    });
    if (hi === lo) {
      hi += Math.abs(hi) * 0.001 || 1;
      lo -= Math.abs(lo) * 0.001 || 1;
    }
    const pad = (hi - lo) * 0.08;
    hi += pad;
    lo -= pad;
    const y = (p) => PAD_TOP + ((hi - p) / (hi - lo)) * priceH;
    const x = (i) => left + i * slot + slot / 2;
    this.view = { left, slot, count };

    // Grid and price axis.
    ctx.strokeStyle = this.colors.grid;
    ctx.lineWidth = 1;
    ctx.fillStyle = this.colors.text;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    const last = series.lastPrice;
    const lastY = last == null ? null : y(last);
    for (const p of niceTicks(lo, hi, Math.max(2, Math.floor(priceH / 48)))) {
      const yy = Math.round(y(p)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(PAD_LEFT, yy);
      ctx.lineTo(PAD_LEFT + plotW, yy);
      ctx.stroke();
      // The last-price tag wins over a grid label it would cover.
      if (lastY === null || Math.abs(yy - lastY) > 14) ctx.fillText(formatPrice(p), PAD_LEFT + plotW + 6, yy);
    }
    // Time axis: a label every ~90 px.
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const every = Math.max(1, Math.ceil(90 / slot));
    for (let i = count - 1; i >= 0; i -= every) {
      const xx = Math.round(x(i)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(xx, PAD_TOP);
      ctx.lineTo(xx, PAD_TOP + plotH);
      ctx.stroke();
      if (xx > PAD_LEFT + 24) ctx.fillText(formatClock(shown[i].start), xx, PAD_TOP + plotH + 5);
    }

    // Bollinger band: filled between upper and lower, middle dashed.
    const runs = bandRuns(bands);
    for (const [a, b] of runs) {
      ctx.beginPath();
      for (let i = a; i <= b; i++) ctx.lineTo(x(i), y(bands[i].bb_upper));
      for (let i = b; i >= a; i--) ctx.lineTo(x(i), y(bands[i].bb_lower));
      ctx.closePath();
      ctx.fillStyle = this.colors.bandFill;
      ctx.fill();
      ctx.strokeStyle = this.colors.band;
      ctx.lineWidth = 1.25;
      for (const key of ['bb_upper', 'bb_lower']) {
        ctx.beginPath();
        for (let i = a; i <= b; i++) ctx.lineTo(x(i), y(bands[i][key]));
        ctx.stroke();
      }
      ctx.setLineDash([4, 3]);
      ctx.strokeStyle = this.colors.bandMid;
      ctx.beginPath();
      for (let i = a; i <= b; i++) ctx.lineTo(x(i), y(bands[i].bb_middle));
      ctx.stroke();
      ctx.setLineDash([]);
    }

    // Volume.
    const volTop = PAD_TOP + priceH + 4;
    const volH = plotH - priceH - 4;
    if (maxVol > 0) {
      ctx.globalAlpha = 0.35;
      shown.forEach((b, i) => {
        const h = ((b.volume ?? 0) / maxVol) * volH;
        ctx.fillStyle = b.close >= b.open ? this.colors.up : this.colors.down;
        ctx.fillRect(x(i) - slot * 0.35, volTop + volH - h, slot * 0.7, h);
      });
      ctx.globalAlpha = 1;
    }

    // Candles, or a close line when slots are thin.
    const body = Math.max(1, slot * 0.6);
    shown.forEach((b, i) => {
      const up = b.close >= b.open;
      const color = up ? this.colors.up : this.colors.down;
      ctx.globalAlpha = b.forming ? 0.55 : 1;
      ctx.strokeStyle = ctx.fillStyle = color;
      const xx = Math.round(x(i)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(xx, y(b.high));
      ctx.lineTo(xx, y(b.low));
      ctx.stroke();
      const top = y(Math.max(b.open, b.close));
      const h = Math.max(1, y(Math.min(b.open, b.close)) - top);
      ctx.fillRect(xx - body / 2, top, body, h);
    });
    ctx.globalAlpha = 1;

    // Opportunity markers: ▲ under the bar for long, ▼ over it for short.
    const first = shown[0].start;
    const interval = series.intervalMs;
    for (const m of series.markers) {
      if (m.ts < first) continue;
      const i = indexOfBar(shown, m.ts, interval);
      if (i < 0) continue;
      const b = shown[i];
      const long = m.direction === 'long';
      const size = Math.max(4, Math.min(7, slot * 0.6));
      const yy = long ? y(b.low) + size + 4 : y(b.high) - size - 4;
      ctx.fillStyle = long ? this.colors.up : this.colors.down;
      ctx.strokeStyle = this.colors.cross;
      ctx.lineWidth = 0.75;
      ctx.beginPath();
      if (long) {
        ctx.moveTo(x(i), yy - size);
        ctx.lineTo(x(i) - size, yy + size * 0.7);
        ctx.lineTo(x(i) + size, yy + size * 0.7);
      } else {
        ctx.moveTo(x(i), yy + size);
        ctx.lineTo(x(i) - size, yy - size * 0.7);
        ctx.lineTo(x(i) + size, yy - size * 0.7);
      }
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
    }

    // Last price: dashed line and a tag on the axis.
    if (last != null && last >= lo && last <= hi) {
      const yy = Math.round(y(last)) + 0.5;
      ctx.strokeStyle = this.colors.last;
      ctx.setLineDash([2, 3]);
      ctx.beginPath();
      ctx.moveTo(PAD_LEFT, yy);
      ctx.lineTo(PAD_LEFT + plotW, yy);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = this.colors.last;
      ctx.fillRect(PAD_LEFT + plotW + 1, yy - 9, AXIS_RIGHT - 2, 18);
      ctx.fillStyle = this.colors.lastText;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      ctx.fillText(formatPrice(last), PAD_LEFT + plotW + 6, yy);
    }

    // Crosshair and legend.
    const hi_ = this.hover != null && this.hover < count ? this.hover : null;
    if (hi_ != null) {
      const xx = Math.round(x(hi_)) + 0.5;
      ctx.strokeStyle = this.colors.cross;
      ctx.globalAlpha = 0.5;
      ctx.beginPath();
      ctx.moveTo(xx, PAD_TOP);
      ctx.lineTo(xx, PAD_TOP + plotH);
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
    const b = shown[hi_ ?? count - 1];
    const f = bands[hi_ ?? count - 1];
    let text = `${this.symbol} ${formatClock(b.start)}  ` +
      t('chart.ohlc', { o: formatPrice(b.open), h: formatPrice(b.high), l: formatPrice(b.low), c: formatPrice(b.close), v: formatVolume(b.volume) });
    if (f?.bb_upper != null) text += `  BB ${formatPrice(f.bb_lower)} – ${formatPrice(f.bb_middle)} – ${formatPrice(f.bb_upper)}`;
    if (this.legend.textContent !== text) this.legend.textContent = text;
  }
}

/** Index of the bar holding `ts` in `bars` (sorted by start), or -1. */
function indexOfBar(bars, ts, interval) {
  let lo = 0;
  let hi = bars.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const b = bars[mid];
    if (ts < b.start) hi = mid - 1;
    else if (ts >= b.start + interval) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** Consecutive index ranges where the band is defined (null while warming up). */
function bandRuns(bands) {
  const runs = [];
  let start = -1;
  bands.forEach((f, i) => {
    const ok = f && f.bb_upper != null && f.bb_lower != null && f.bb_middle != null;
    if (ok && start < 0) start = i;
    if (!ok && start >= 0) {
      runs.push([start, i - 1]);
      start = -1;
    }
  });
  if (start >= 0) runs.push([start, bands.length - 1]);
  return runs;
}

/** Round-number ticks between lo and hi, about `n` of them (1-2-5 steps). */
function niceTicks(lo, hi, n) {
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** The row of symbol buttons above the chart, with each symbol's last price. */
export class SymbolPicker {
  constructor(root, market, onPick, preferred) {
    this.preferred = preferred;
    this.pickPending = false;
    this.userPicked = false;
    this.list = root.querySelector('[data-role="symbol-list"]');
    this.market = market;
    this.onPick = onPick;
    this.buttons = new Map();
    this.selected = null;
    this.versions = new Map();
    this.list.addEventListener('keydown', (e) => this.key(e));
  }

  add(symbol) {
    if (this.buttons.has(symbol)) return;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'symbol';
    button.setAttribute('aria-pressed', 'false');
    button.innerHTML = '<span class="symbol-name"></span><span class="symbol-price">—</span>';
    button.firstElementChild.textContent = symbol;
    button.addEventListener('click', () => {
      this.userPicked = true;
      this.onPick(symbol);
    });
    this.buttons.set(symbol, button);
    const next = [...this.buttons.keys()].sort().find((s) => s > symbol);
    this.list.insertBefore(button, next ? this.buttons.get(next) : null);
    if (symbol === this.preferred && this.selected && this.selected !== symbol && !this.userPicked) {
      this.onPick(symbol); // the symbol remembered from last time appeared after another was shown
    } else if (!this.selected && !this.pickPending) {
      // Symbols arrive in a burst at first paint: choose once they are all in, the one
      // remembered from last time if it is there.
      this.pickPending = true;
      queueMicrotask(() => {
        this.pickPending = false;
        if (!this.selected) this.onPick(this.buttons.has(this.preferred) ? this.preferred : [...this.buttons.keys()].sort()[0]);
      });
    }
  }

  select(symbol) {
    this.selected = symbol;
    for (const [s, b] of this.buttons) b.setAttribute('aria-pressed', String(s === symbol));
  }

  /** Arrow keys move between symbols (the buttons stay in the tab order too). */
  key(e) {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    const buttons = [...this.list.children];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    const next = buttons[(i + (e.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length];
    next.focus();
    e.preventDefault();
  }

  /** Updates the prices that changed (called a few times a second, not per tick). */
  refresh() {
    for (const [symbol, button] of this.buttons) {
      const s = this.market.bySymbol.get(symbol);
      if (!s || this.versions.get(symbol) === s.version) continue;
      this.versions.set(symbol, s.version);
      const price = s.lastPrice;
      const prev = s.previousClose;
      const el = button.lastElementChild;
      const text = formatPrice(price);
      if (el.textContent !== text) el.textContent = text;
      const trend = prev == null || price === prev ? 'flat' : price > prev ? 'up' : 'down';
      if (el.dataset.trend !== trend) el.dataset.trend = trend;
    }
  }
}
