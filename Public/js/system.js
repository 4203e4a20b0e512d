// System panel: rates measured here from the stream (ticks/s, events/s over the last 5 s) and the
// server's own view from /admin/health (loopback or token only; on 401/403 the page falls back
// to the public /health for good). Latency percentiles are shown only when the health JSON
// carries them (any key with p50/p99 in it).

import { t } from './i18n.js';
import { formatBytes, formatInt, formatMs, formatRate, formatUptime } from './format.js';

const WINDOW_S = 5;
const POLL_MS = 5_000;
const PIPELINE_KEYS = ['ticks', 'bars', 'signals', 'opportunities', 'alerts', 'out_of_order', 'last_seq', 'feed'];

export class SystemPanel {
  constructor(root, stream) {
    this.root = root;
    this.stream = stream;
    this.ticks = 0;
    this.events = 0;
    this.samples = []; // [{ at, ticks, events }] one a second
    this.health = null;
    this.healthAt = 0;
    this.source = 'none';
    this.useAdmin = true;
    this.el = {};
    for (const dd of root.querySelectorAll('[data-stat]')) this.el[dd.dataset.stat] = dd;
    this.pipelineList = root.querySelector('[data-role="pipeline"]');
    this.sourceEl = root.querySelector('[data-role="health-source"]');
    this.latencyRows = [...root.querySelectorAll('.latency')];
    this.poll();
    setInterval(() => this.poll(), POLL_MS);
  }

  countTick() {
    this.ticks++;
  }

  countEvent() {
    this.events++;
  }

  /** Ticks and events per second over the last few seconds. */
  rates(now) {
    this.samples.push({ at: now, ticks: this.ticks, events: this.events });
    while (this.samples.length > WINDOW_S + 1) this.samples.shift();
    const first = this.samples[0];
    const span = (now - first.at) / 1000;
    if (span <= 0) return { ticks: 0, events: 0 };
    return { ticks: (this.ticks - first.ticks) / span, events: (this.events - first.events) / span };
  }

  async poll() {
    // While the stream is down the server most likely is too: no point (and no console noise)
    // in asking; the first poll after the reconnect refreshes everything.
    if (this.stream.state !== 'connected' && this.health) return;
    const path = this.useAdmin ? '/admin/health' : '/health';
    try {
      const r = await fetch(path, { cache: 'no-store' });
      if (r.status === 401 || r.status === 403) {
        this.useAdmin = false; // not an admin here: the public health is all we get
        return this.poll();
      }
      // 503 carries the same body, saying which component is degraded.
      if (!r.ok && r.status !== 503) throw new Error(String(r.status));
      this.health = await r.json();
      this.healthAt = performance.now();
      this.source = this.useAdmin ? 'admin' : 'public';
    } catch {
      this.source = 'none';
    }
  }

  /** Once a second. */
  render(now) {
    const { ticks, events } = this.rates(now);
    this.set('ticksPerSec', formatRate(ticks));
    this.set('eventsPerSec', formatRate(events));
    this.set('lastSeq', this.stream.resumeSeq == null ? '—' : formatInt(this.stream.resumeSeq));
    this.set('reconnects', formatInt(this.stream.stats.reconnects));
    const h = this.health;
    this.set('status', h?.status ?? '—');
    this.el.status.dataset.status = h?.status ?? 'unknown';
    this.set('version', h?.version ?? this.stream.serverVersion?.replace(/^dongfeng\//, '') ?? '—');
    this.set('connections', h ? formatInt(h.connections) : '—');
    const uptime = h ? h.uptime_s + (now - this.healthAt) / 1000 : null;
    this.set('uptime', formatUptime(uptime));
    this.sourceEl.textContent = t(`system.source.${this.source}`);

    const memory = this.root.querySelector('[data-optional="memory"]');
    memory.hidden = typeof h?.rss_bytes !== 'number';
    if (!memory.hidden) {
      const heap = typeof h.heap_bytes === 'number' ? ` · heap ${formatBytes(h.heap_bytes)}` : '';
      this.set('memory', formatBytes(h.rss_bytes) + heap);
    }

    const latency = h ? findLatency(h) : {};
    this.latencyRows.forEach((row) => {
      row.hidden = latency[row.dataset.percentile] == null;
    });
    if (latency.p50 != null) this.set('latencyP50', formatMs(latency.p50));
    if (latency.p99 != null) this.set('latencyP99', formatMs(latency.p99));

    this.renderPipeline(h?.pipeline);
  }

  renderPipeline(pipeline) {
    this.pipelineList.hidden = !pipeline;
    if (!pipeline) return;
    for (const key of PIPELINE_KEYS) {
      if (!(key in pipeline)) continue;
      let dd = this.pipelineList.querySelector(`dd[data-key="${key}"]`);
      if (!dd) {
        const dt = document.createElement('dt');
        dt.dataset.i18n = `pipeline.${key}`;
        dt.textContent = t(`pipeline.${key}`);
        dd = document.createElement('dd');
        dd.dataset.key = key;
        this.pipelineList.append(dt, dd);
      }
      const value = pipeline[key];
      const text = typeof value === 'number' ? formatInt(value) : String(value);
      if (dd.textContent !== text) dd.textContent = text;
    }
  }

  set(name, text) {
    const el = this.el[name];
    if (el && el.textContent !== text) el.textContent = text;
  }
}

/**
 * Finds p50/p99 latencies anywhere in the health JSON, in milliseconds. The unit is taken from
 * the key path (`_ns`, `_us`, `_ms`; milliseconds when it says nothing).
 */
export function findLatency(obj) {
  const found = {};
  const walk = (value, path) => {
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
      return;
    }
    if (typeof value !== 'number') return;
    const key = path.split('.').pop();
    const pct = /p50/i.test(key) ? 'p50' : /p99/i.test(key) && !/p99[._]?9/i.test(key) ? 'p99' : null; // not p99.9
    if (!pct || found[pct] != null) return;
    const tokens = path.toLowerCase().split(/[._]/);
    const scale = tokens.includes('ns') ? 1e-6
      : tokens.includes('us') || tokens.includes('micros') ? 1e-3
      : tokens.includes('s') || tokens.includes('seconds') ? 1e3
      : 1;
    found[pct] = value * scale;
  };
  walk(obj, '');
  return found;
}
