// Risk alerts feed, newest first, capped. New alerts are queued by `add` and inserted once per
// animation frame. Screen readers hear critical live alerts only, at most one every 10 s (the
// feed itself is not a live region: at a busy market it would never stop talking).

import { t } from './i18n.js';
import { formatClock } from './format.js';

const MAX_ITEMS = 100;
const ANNOUNCE_EVERY_MS = 10_000;
const ICONS = { info: 'ℹ', warning: '⚠', critical: '✖' }; // glyphs common system fonts have

export class AlertFeed {
  constructor(root, announcer) {
    this.list = root.querySelector('ol');
    this.emptyEl = root.querySelector('[data-role="alerts-empty"]');
    this.announcer = announcer;
    this.pending = [];
    this.count = 0; // items in the list
    this.lastAnnounce = -Infinity;
    this.unannounced = null;
  }

  add(alert, live) {
    this.pending.push({ alert, live });
    if (this.pending.length > MAX_ITEMS) this.pending.splice(0, this.pending.length - MAX_ITEMS);
    if (live && alert.severity === 'critical') this.unannounced = alert;
  }

  clear() {
    this.pending = [];
    this.list.replaceChildren();
    this.count = 0;
    this.emptyEl.hidden = false;
  }

  render(now) {
    if (this.pending.length) {
      const fragment = document.createDocumentFragment();
      // pending is oldest first; the list shows newest first.
      for (let i = this.pending.length - 1; i >= 0; i--) {
        const { alert, live } = this.pending[i];
        const li = this.item(alert);
        if (live) li.classList.add('flash-new');
        fragment.appendChild(li);
      }
      this.list.prepend(fragment);
      this.count += this.pending.length;
      this.pending = [];
      while (this.count > MAX_ITEMS) {
        this.list.lastElementChild.remove();
        this.count--;
      }
      this.emptyEl.hidden = this.count > 0;
    }
    if (this.unannounced && now - this.lastAnnounce >= ANNOUNCE_EVERY_MS) {
      const a = this.unannounced;
      this.announcer.textContent = t('alerts.announce', { kind: t(`kind.${a.kind}`), symbol: a.symbol ?? t('alerts.all') });
      this.lastAnnounce = now;
      this.unannounced = null;
    }
  }

  item(alert) {
    const li = document.createElement('li');
    li.className = `alert sev-${alert.severity}`;
    li.dataset.seq = alert.seq;
    li._alert = alert;
    li.innerHTML =
      '<span class="alert-icon" aria-hidden="true"></span>' +
      '<div class="alert-body"><div class="alert-head"><span class="sev"></span> <strong class="alert-kind"></strong> ' +
      '<span class="alert-symbol"></span><time class="alert-time"></time></div>' +
      '<div class="alert-message"></div></div>';
    li.addEventListener('animationend', () => li.classList.remove('flash-new'));
    this.fill(li, alert);
    return li;
  }

  fill(li, alert) {
    li.querySelector('.alert-icon').textContent = ICONS[alert.severity] ?? '•';
    li.querySelector('.sev').textContent = t(`severity.${alert.severity}`);
    li.querySelector('.alert-kind').textContent = t(`kind.${alert.kind}`);
    li.querySelector('.alert-symbol').textContent = alert.symbol ?? t('alerts.all');
    const time = li.querySelector('.alert-time');
    time.textContent = formatClock(alert.ts);
    time.dateTime = new Date(alert.ts).toISOString();
    const detail = alert.value != null && alert.threshold != null
      ? ` (${t('alerts.valueOf', { v: round(alert.value), t: round(alert.threshold) })})`
      : '';
    li.querySelector('.alert-message').textContent = `${alert.message ?? ''}${detail}`;
  }

  relabel() {
    for (const li of this.list.children) this.fill(li, li._alert);
  }
}

function round(v) {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString();
}
