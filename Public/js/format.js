// Number, time and duration formatting shared by the panels.
import { t, language } from './i18n.js';

/** Prices with 2 decimals (A-share tick size), more for prices under 1. */
export function formatPrice(p) {
  if (p == null || !Number.isFinite(p)) return '—';
  const decimals = Math.abs(p) >= 1 ? 2 : 4;
  return p.toFixed(decimals);
}

export function formatInt(n) {
  if (n == null || !Number.isFinite(n)) return '—';
  return Math.round(n).toLocaleString(language() === 'zh' ? 'zh-CN' : 'en-US');
}

/** A rate with one decimal under 10, none above. */
export function formatRate(n) {
  if (n == null || !Number.isFinite(n)) return '—';
  return n < 10 ? n.toFixed(1) : formatInt(n);
}

/** Compact volume: 12.3K / 4.5M. */
export function formatVolume(v) {
  if (v == null || !Number.isFinite(v)) return '—';
  if (v >= 1e8) return (v / 1e8).toFixed(2) + (language() === 'zh' ? '亿' : 'e8');
  if (v >= 1e4 && language() === 'zh') return (v / 1e4).toFixed(1) + '万';
  if (v >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (v >= 1e3) return (v / 1e3).toFixed(1) + 'K';
  return String(Math.round(v));
}

/** Elapsed milliseconds as "12s", "3m 04s", "2h 10m" (localised). */
export function formatAge(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  if (total < 60) return t('age.s', { n: total });
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h === 0) return t('age.m', { m, s: String(s).padStart(2, '0') });
  return t('age.h', { h, m: String(m).padStart(2, '0') });
}

export function formatUptime(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return '—';
  if (seconds < 86400) return formatAge(seconds * 1000);
  return t('uptime.d', { d: Math.floor(seconds / 86400), h: Math.floor((seconds % 86400) / 3600) });
}

const pad = (n) => String(n).padStart(2, '0');

/** Local wall-clock time of an epoch-ms timestamp, HH:MM:SS. */
export function formatClock(ts) {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatDateTime(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(ts)}`;
}

export function formatBytes(n) {
  if (n == null || !Number.isFinite(n)) return '—';
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}

export function formatMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}
