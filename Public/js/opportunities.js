// Opportunities table. One row per opportunity id, updated in place as its state changes.
// Events only touch the model (`upsert`); `render` runs at most once per animation frame and
// touches the DOM only for rows that changed, plus a reorder when the visible order changed.

import { t } from './i18n.js';
import { formatAge, formatDateTime, formatPrice } from './format.js';

const MAX_ROWS = 200; // rows in the DOM at most
const MAX_TRACKED = 1000; // opportunities remembered at most (oldest evicted first)
const STATUS_ORDER = { new: 0, updated: 1, blocked: 2, expired: 3 };

const SORTERS = {
  symbol: (a, b) => a.symbol.localeCompare(b.symbol),
  direction: (a, b) => a.direction.localeCompare(b.direction),
  confidence: (a, b) => a.confidence - b.confidence,
  strategies: (a, b) => a.strategies.length - b.strategies.length || a.strategies.join().localeCompare(b.strategies.join()),
  price: (a, b) => a.price - b.price,
  status: (a, b) => (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9),
  // Age ascending = newest first.
  age: (a, b) => b.created_ts - a.created_ts,
};

export class OpportunityTable {
  /**
   * @param {HTMLElement} root   the section holding the table and its filters
   * @param {() => number} clock market "now" in epoch ms, for ages
   */
  constructor(root, clock) {
    this.clock = clock;
    this.tbody = root.querySelector('tbody');
    this.countEl = root.querySelector('[data-role="opp-count"]');
    this.emptyEl = root.querySelector('[data-role="opp-empty"]');
    this.symbolSelect = root.querySelector('#filter-symbol');
    this.directionSelect = root.querySelector('#filter-direction');
    this.minConfidence = root.querySelector('#filter-confidence');
    this.minConfidenceOut = root.querySelector('#filter-confidence-value');
    this.hideExpired = root.querySelector('#filter-hide-expired');
    this.headers = [...root.querySelectorAll('th[data-sort]')];

    this.rows = new Map(); // id -> { opp, el, cells, stale, flash }
    this.scores = new Map(); // strategy -> { rate, count, bars }
    this.dirty = new Set(); // ids changed since the last render
    this.orderDirty = true; // filters, sort or membership changed
    this.visible = []; // rows currently in the DOM, in order
    this.symbols = new Set();
    this.sort = { key: 'age', ascending: true };

    for (const th of this.headers) {
      th.querySelector('button').addEventListener('click', () => this.sortBy(th.dataset.sort));
    }
    const refilter = () => {
      this.minConfidenceOut.value = Number(this.minConfidence.value).toFixed(2);
      this.orderDirty = true;
    };
    for (const el of [this.symbolSelect, this.directionSelect, this.minConfidence, this.hideExpired]) {
      el.addEventListener('input', refilter);
      el.addEventListener('change', refilter);
    }
    refilter();
    this.updateSortHeaders();
  }

  sortBy(key) {
    this.sort = this.sort.key === key ? { key, ascending: !this.sort.ascending } : { key, ascending: key === 'age' || key === 'symbol' };
    this.orderDirty = true;
    this.updateSortHeaders();
  }

  updateSortHeaders() {
    for (const th of this.headers) {
      const active = th.dataset.sort === this.sort.key;
      th.setAttribute('aria-sort', active ? (this.sort.ascending ? 'ascending' : 'descending') : 'none');
      th.querySelector('.sort-indicator').textContent = active ? (this.sort.ascending ? '↑' : '↓') : '↕';
    }
  }

  /** Model update for one opportunity event (REST history or live). */
  upsert(opp, live) {
    let row = this.rows.get(opp.id);
    if (row) {
      if (opp.seq <= row.opp.seq) return; // an older state than the one shown
      row.opp = opp;
      row.flash = live ? 'updated' : null;
    } else {
      row = { opp, el: null, cells: null, stale: true, flash: live ? 'new' : null };
      this.rows.set(opp.id, row);
      // render() evicts too; this bounds memory while no frames run (hidden tab).
      if (this.rows.size > MAX_TRACKED + 200) this.evict();
      if (!this.symbols.has(opp.symbol)) this.addSymbol(opp.symbol);
    }
    row.stale = true;
    this.dirty.add(opp.id);
    // A change of a sorted or filtered field can move the row.
    this.orderDirty = true;
  }

  clear() {
    this.rows.clear();
    this.dirty.clear();
    for (const row of this.visible) row.el.remove();
    this.visible = [];
    this.orderDirty = true;
  }

  addSymbol(symbol) {
    if (this.symbols.has(symbol)) return;
    this.symbols.add(symbol);
    const option = document.createElement('option');
    option.value = option.textContent = symbol;
    const before = [...this.symbolSelect.options].find((o) => o.value && o.value > symbol);
    this.symbolSelect.insertBefore(option, before ?? null);
  }

  matches(opp) {
    const symbol = this.symbolSelect.value;
    const direction = this.directionSelect.value;
    if (symbol && opp.symbol !== symbol) return false;
    if (direction && opp.direction !== direction) return false;
    if (opp.confidence < Number(this.minConfidence.value)) return false;
    if (this.hideExpired.checked && opp.status === 'expired') return false;
    return true;
  }

  evict() {
    if (this.rows.size <= MAX_TRACKED) return;
    // Forget expired ones first, then the least recently changed.
    const byAge = [...this.rows.values()].sort(
      (a, b) => (b.opp.status === 'expired') - (a.opp.status === 'expired') || a.opp.seq - b.opp.seq,
    );
    for (const row of byAge.slice(0, this.rows.size - MAX_TRACKED)) {
      this.rows.delete(row.opp.id);
      this.dirty.delete(row.opp.id);
    }
    this.orderDirty = true;
  }

  /** Once per animation frame: apply what changed. */
  render() {
    if (!this.orderDirty && this.dirty.size === 0) return;
    this.evict();
    if (this.orderDirty) {
      const compare = SORTERS[this.sort.key];
      const sign = this.sort.ascending ? 1 : -1;
      const wanted = [...this.rows.values()]
        .filter((r) => this.matches(r.opp))
        .sort((a, b) => sign * compare(a.opp, b.opp) || b.opp.seq - a.opp.seq)
        .slice(0, MAX_ROWS);
      this.reconcile(wanted);
      this.countEl.textContent = t('opps.count', { shown: wanted.length, total: this.rows.size });
      this.emptyEl.hidden = wanted.length > 0;
      this.orderDirty = false;
    }
    const now = this.clock();
    for (const row of this.visible) {
      if (row.stale) this.fill(row, now);
    }
    this.dirty.clear();
  }

  /** Puts exactly `wanted` in the tbody, in order, moving only rows that are out of place. */
  reconcile(wanted) {
    const keep = new Set(wanted);
    for (const row of this.visible) if (!keep.has(row)) row.el.remove();
    let cursor = this.tbody.firstElementChild;
    for (const row of wanted) {
      if (!row.el) this.build(row);
      if (row.el === cursor) {
        cursor = cursor.nextElementSibling;
      } else {
        this.tbody.insertBefore(row.el, cursor);
      }
    }
    this.visible = wanted;
  }

  build(row) {
    const tr = document.createElement('tr');
    const cells = {};
    for (const name of ['symbol', 'direction', 'confidence', 'strategies', 'price', 'status', 'age']) {
      const td = document.createElement(name === 'symbol' ? 'th' : 'td');
      if (name === 'symbol') td.scope = 'row';
      td.className = `col-${name}`;
      tr.appendChild(td);
      cells[name] = td;
    }
    cells.confidence.innerHTML =
      '<span class="conf"><span class="conf-bar" aria-hidden="true"><span class="conf-fill"></span></span><span class="conf-num"></span></span>';
    cells.confFill = cells.confidence.querySelector('.conf-fill');
    cells.confNum = cells.confidence.querySelector('.conf-num');
    cells.direction.innerHTML = '<span class="dir"><span class="dir-arrow" aria-hidden="true"></span><span class="dir-text"></span></span>';
    cells.dirBox = cells.direction.firstElementChild;
    cells.dirArrow = cells.direction.querySelector('.dir-arrow');
    cells.dirText = cells.direction.querySelector('.dir-text');
    cells.status.innerHTML = '<span class="badge"></span><span class="risk" hidden></span><span class="untradable" hidden></span>';
    cells.badge = cells.status.firstElementChild;
    cells.risk = cells.status.children[1];
    cells.untradable = cells.status.lastElementChild;
    tr.addEventListener('animationend', () => tr.classList.remove('flash-new', 'flash-a', 'flash-b'));
    row.el = tr;
    row.cells = cells;
    row.stale = true;
  }

  /** Writes one row's cells from its opportunity (only the ones whose text changed). */
  fill(row, now) {
    const { opp, cells, el } = row;
    set(cells.symbol, opp.symbol);
    const long = opp.direction === 'long';
    cells.dirBox.className = `dir ${long ? 'dir-long' : 'dir-short'}`;
    set(cells.dirArrow, long ? '▲' : '▼');
    set(cells.dirText, t(long ? 'dir.long' : 'dir.short'));
    const pct = Math.max(0, Math.min(1, opp.confidence));
    cells.confFill.style.width = `${(pct * 100).toFixed(1)}%`;
    set(cells.confNum, pct.toFixed(2));
    // Each strategy with its live hit rate (GET /api/v1/strategies), when it has one.
    const scored = opp.strategies.map((name) => [name, this.scores.get(name)]);
    set(cells.strategies, scored.map(([name, s]) => (s ? `${name} ${Math.round(s.rate * 100)}%` : name)).join(', '));
    cells.strategies.title = scored.filter(([, s]) => s)
      .map(([name, s]) => t('opps.hitRate', { name, rate: `${(s.rate * 100).toFixed(1)}%`, count: s.count, bars: s.bars }))
      .join('\n');
    set(cells.price, formatPrice(opp.price));
    cells.badge.className = `badge status-${opp.status}`;
    set(cells.badge, t(`status.${opp.status}`));
    const risk = opp.risk?.status ?? 'ok';
    cells.risk.hidden = risk === 'ok';
    if (risk !== 'ok') {
      cells.risk.className = `risk risk-${risk}`;
      set(cells.risk, `⚠ ${t(`risk.${risk}`)}`);
      cells.risk.title = (opp.risk.alerts ?? []).map((k) => t(`kind.${k}`)).join(', ');
    }
    // At the daily limit in its direction: the order could not be filled.
    cells.untradable.hidden = !opp.untradable;
    if (opp.untradable) set(cells.untradable, `⛔ ${t(`untradable.${opp.untradable}`)}`);
    set(cells.age, formatAge(now - opp.created_ts));
    cells.age.title = `${formatDateTime(opp.created_ts)} → ${formatDateTime(opp.updated_ts)}`;
    el.className = opp.status === 'expired' ? 'is-expired' : '';
    if (row.flash === 'new') el.classList.add('flash-new');
    else if (row.flash === 'updated') {
      // Alternate two identical animations so a second update restarts the flash.
      row.flip = !row.flip;
      el.classList.add(row.flip ? 'flash-a' : 'flash-b');
    }
    row.flash = null;
    row.stale = false;
  }

  /** Once a second: ages move on. */
  tickAges() {
    const now = this.clock();
    for (const row of this.visible) set(row.cells.age, formatAge(now - row.opp.created_ts));
  }

  /**
   * Live scorecards from GET /api/v1/strategies: each strategy's hit rate at its middle horizon
   * (5 bars by default), shown beside its name in the rows.
   */
  setScores(items) {
    const scores = new Map();
    for (const item of items) {
      const horizons = (item.live_score?.horizons ?? []).filter((h) => h.count > 0 && typeof h.hit_rate === 'number');
      const all = item.live_score?.horizons ?? [];
      const middle = all[Math.floor(all.length / 2)];
      const h = horizons.find((x) => x.bars === middle?.bars) ?? horizons[0];
      if (h) scores.set(item.name, { rate: h.hit_rate, count: h.count, bars: h.bars });
    }
    this.scores = scores;
    this.relabel();
  }

  /** Text changed with the language: re-fill every visible row. */
  relabel() {
    for (const row of this.rows.values()) row.stale = true;
    this.orderDirty = true;
  }
}

function set(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
