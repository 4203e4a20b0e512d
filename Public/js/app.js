// Wires the page together: REST history and the live stream feed the models (market series,
// opportunities, alerts, counters) as events arrive; one requestAnimationFrame loop renders what
// changed, at most once per frame, so a burst of events costs one DOM update, not one each.

import { initLanguage, language, onLanguageChange, setLanguage, t } from './i18n.js';
import { Stream } from './stream.js';
import { Market } from './market.js';
import { OpportunityTable } from './opportunities.js';
import { AlertFeed } from './alerts.js';
import { PriceChart, SymbolPicker } from './chart.js';
import { SystemPanel } from './system.js';

const CHANNELS = ['opportunities', 'risk_alerts', 'signals', 'bars', 'ticks', 'features'];
const HISTORY = { opportunities: 500, alerts: 100, bars: 300 };
const $ = (sel) => document.querySelector(sel);

// Errors are kept for the test hook (and still reach the console as usual).
const errors = [];
const keepError = (text) => errors.length < 50 && errors.push(text);
window.addEventListener('error', (e) => keepError(String(e.message)));
window.addEventListener('unhandledrejection', (e) => keepError(String(e.reason)));

function remembered(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage disabled: defaults
  }
}
function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* not remembered */
  }
}

initLanguage();
initColors();

// Market clock: the newest market timestamp seen, moved on by the wall clock since (ages of
// opportunities are market time, which is also right for a replayed feed).
let clockTs = null;
let clockAt = 0;
function observeMarketTime(ts) {
  if (clockTs === null || ts > clockTs) {
    clockTs = ts;
    clockAt = performance.now();
  }
}
const marketNow = () => (clockTs === null ? Date.now() : clockTs + (performance.now() - clockAt));

const market = new Market();
const table = new OpportunityTable($('#opportunities'), marketNow);
const alerts = new AlertFeed($('#alerts'), $('#announcer'));
const chart = new PriceChart($('#chart'), market);
const picker = new SymbolPicker($('#chart'), market, pickSymbol, remembered('dongfeng.symbol'));
market.onNewSymbol = (symbol) => {
  picker.add(symbol);
  table.addSymbol(symbol);
};

// Every opportunity seq this page received, for the test hook (the newest 100k at most: still
// a contiguous run, which is what a gap check needs).
const opportunitySeqs = [];

const stream = new Stream({
  channels: CHANNELS,
  loadHistory,
  onEvent,
  onState: showState,
  onNotice,
});
const system = new SystemPanel($('#system'), stream);

async function getJSON(path) {
  const r = await fetch(path, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

/** Live scorecards, beside each strategy in the rows; refreshed as bars close (every 10 s). */
async function refreshScores() {
  try {
    table.setScores((await getJSON('/api/v1/strategies')).items ?? []);
  } catch {
    // The next round tries again; the rows keep the last scores.
  }
}
refreshScores();
setInterval(refreshScores, 10_000);

/** First paint: recent opportunities, alerts and the symbols with their last bar. */
async function loadHistory() {
  const [opps, alertList, symbols] = await Promise.all([
    getJSON(`/api/v1/opportunities?limit=${HISTORY.opportunities}`),
    getJSON(`/api/v1/alerts?limit=${HISTORY.alerts}`),
    getJSON('/api/v1/symbols'),
  ]);
  for (const { symbol, last_bar: bar } of symbols.items ?? []) {
    const s = market.series(symbol);
    if (bar) s.addBar(bar);
  }
  const events = [
    ...opps.items.map((p) => ({ type: 'opportunity', seq: p.seq, payload: p })),
    ...alertList.items.map((p) => ({ type: 'risk_alert', seq: p.seq, payload: p })),
  ];
  // Each list says where to continue; resuming after the lower one misses nothing from either
  // (the overlap is dropped by seq).
  const next = [opps, alertList].map((l) => (typeof l.next_since_seq === 'number' ? l.next_since_seq : 0));
  return { events, since: Math.min(...next) };
}

function onEvent(msg, live) {
  const p = msg.payload;
  if (live) system.countEvent();
  switch (msg.type) {
    case 'tick': {
      system.countTick();
      observeMarketTime(p.ts);
      market.series(p.symbol).addTick(p);
      if (p.symbol === chart.symbol) chart.tickArrived(performance.now());
      break;
    }
    case 'bar': {
      const s = market.series(p.symbol);
      s.addBar(p);
      if (p.symbol === chart.symbol) {
        chart.invalidate();
        if (!s.historyLoaded) loadChartHistory(p.symbol);
      }
      break;
    }
    case 'features': {
      market.series(p.symbol).addFeatures(p);
      if (p.symbol === chart.symbol) chart.invalidate();
      break;
    }
    case 'opportunity': {
      opportunitySeqs.push(p.seq);
      if (opportunitySeqs.length > 100_000) opportunitySeqs.splice(0, 50_000);
      observeMarketTime(p.updated_ts);
      table.upsert(p, live);
      if (market.series(p.symbol).addMarker(p) && p.symbol === chart.symbol) chart.invalidate();
      break;
    }
    case 'risk_alert':
      alerts.add(p, live);
      break;
    default:
      break; // signals: counted, feed the resume point, not shown on their own
  }
}

function pickSymbol(symbol) {
  picker.select(symbol);
  chart.setSymbol(symbol);
  remember('dongfeng.symbol', symbol);
  loadChartHistory(symbol);
}

/** Recent bars and features of the shown symbol from REST, merged under the live ones. */
async function loadChartHistory(symbol) {
  const s = market.series(symbol);
  // A symbol with ticks but no closed bar yet has no history (REST answers 404): its first
  // live bar calls this again.
  if (s.historyLoaded || s.historyLoading || s.bars.length === 0) return;
  s.historyLoading = true;
  try {
    const enc = encodeURIComponent(symbol);
    const [bars, features] = await Promise.all([
      getJSON(`/api/v1/symbols/${enc}/bars?limit=${HISTORY.bars}`),
      getJSON(`/api/v1/symbols/${enc}/features?limit=${HISTORY.bars}`),
    ]);
    for (const b of bars.items) s.addBar(b);
    for (const f of features.items) s.addFeatures(f);
    s.historyLoaded = true;
    if (chart.symbol === symbol) chart.relabel();
  } catch {
    /* tried again on the next bar or pick */
  } finally {
    s.historyLoading = false;
  }
}

// Connection indicator.
const connEl = $('#conn');
const connText = connEl.querySelector('.conn-text');
let wasConnected = false;
function showState(state) {
  connEl.dataset.state = state;
  renderConnText();
  if (state === 'connected') {
    system.poll();
    if (wasConnected) {
      // Ticks, bars and features are lossy: refill the chart's history after a reconnect.
      market.markStale();
      if (chart.symbol) loadChartHistory(chart.symbol);
    }
    wasConnected = true;
  }
}
function renderConnText() {
  const state = connEl.dataset.state;
  const text = state === 'reconnecting' ? t('conn.reconnecting', { s: Math.ceil(stream.retryInMs() / 1000) })
    : state === 'idle' ? t('conn.connecting')
    : t(`conn.${state}`);
  if (connText.textContent !== text) connText.textContent = text;
}

// Short notices (resumed, history gap, reset).
const noticeEl = $('#notice');
let noticeTimer = 0;
function onNotice(kind, info) {
  if (kind === 'reset') {
    table.clear();
    alerts.clear();
    opportunitySeqs.length = 0;
  }
  const text = kind === 'resumed' ? t('conn.resumed', { n: info.count }) : t(`conn.${kind}`);
  noticeEl.textContent = text;
  noticeEl.hidden = false;
  noticeEl.dataset.kind = kind;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (noticeEl.hidden = true), kind === 'gap' ? 15_000 : 5_000);
}

// Language and colours.
$('#lang-toggle').addEventListener('click', () => setLanguage(language() === 'zh' ? 'en' : 'zh'));
onLanguageChange(() => {
  table.relabel();
  alerts.relabel();
  chart.relabel();
  renderConnText();
  system.render(performance.now());
});

function initColors() {
  const select = $('#updown');
  const stored = remembered('dongfeng.updown');
  const apply = (mode) => {
    document.documentElement.dataset.updown = mode;
    select.value = mode;
  };
  apply(stored === 'intl' ? 'intl' : 'cn');
  select.addEventListener('change', () => {
    apply(select.value);
    remember('dongfeng.updown', select.value);
    chart.readColors();
  });
}
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => chart.readColors());

// Longest main-thread task seen (test hook: the page must not freeze under a burst).
let longestTaskMs = 0;
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longestTaskMs = Math.max(longestTaskMs, e.duration);
  }).observe({ type: 'longtask', buffered: true });
} catch {
  /* not supported */
}

// The render loop: everything the events changed, once per frame.
let frames = 0;
let lastSecond = 0;
let lastPicker = 0;
function frame(now) {
  frames++;
  table.render();
  alerts.render(now);
  chart.render();
  if (now - lastPicker >= 250) {
    lastPicker = now;
    picker.refresh();
  }
  if (now - lastSecond >= 1000) {
    lastSecond = now;
    table.tickAges();
    system.render(now);
    renderConnText();
  }
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

// A small hook for tests and debugging from the console.
window.dongfeng = {
  /** Close the socket like a network failure would; reconnect after holdMs and resume. */
  forceReconnect: (holdMs = 0) => stream.forceReconnect(holdMs),
  state: () => stream.state,
  opportunitySeqs: () => opportunitySeqs.slice(),
  stats: () => ({
    ...stream.stats,
    resumeSeq: stream.resumeSeq,
    helloSeq: stream.helloSeq,
    frames,
    rows: table.visible.length,
    opportunities: table.rows.size,
    alerts: alerts.count,
    chartSymbol: chart.symbol,
    chartBars: chart.symbol ? market.series(chart.symbol).bars.length : 0,
    longestTaskMs,
    errors: errors.slice(),
  }),
};

stream.start();
