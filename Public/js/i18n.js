// Language: 中文 (default, as the seed page was Chinese) or English, remembered in localStorage.
// Static text lives in the HTML with data-i18n="key" (textContent), data-i18n-label="key"
// (aria-label) and data-i18n-title="key" (title); code asks t(key, params) for dynamic text.

const STORAGE_KEY = 'dongfeng.lang';

const STRINGS = {
  zh: {
    'app.title': '东风破 · 实时交易信号',
    'app.subtitle': '实时交易信号网关',
    'lang.toggle': 'English',
    'lang.toggleLabel': '切换到英文界面',
    'colors.label': '涨跌颜色',
    'colors.cn': '红涨绿跌',
    'colors.intl': '绿涨红跌',
    'conn.connecting': '连接中…',
    'conn.connected': '已连接',
    'conn.reconnecting': '{s} 秒后重连…',
    'conn.offline': '已断开',
    'conn.loading': '加载历史…',
    'conn.resumed': '已恢复，补齐 {n} 条事件',
    'conn.gap': '断线过久，部分历史已不在服务器内存中',
    'conn.reset': '服务器序号已重置，重新加载历史',
    'chart.heading': '行情图',
    'chart.label': '{symbol} 价格图：最近 {n} 根K线，布林带，机会标记',
    'chart.empty': '等待行情数据…',
    'chart.legend.bands': '布林带 (20, 2)',
    'chart.legend.long': '做多机会',
    'chart.legend.short': '做空机会',
    'chart.symbols': '选择品种',
    'chart.ohlc': '开 {o} 高 {h} 低 {l} 收 {c} 量 {v}',
    'opps.heading': '交易机会',
    'opps.count': '显示 {shown} / 共 {total}',
    'opps.empty': '暂无符合条件的机会',
    'opps.col.symbol': '品种',
    'opps.col.direction': '方向',
    'opps.col.confidence': '置信度',
    'opps.col.strategies': '策略',
    'opps.hitRate': '{name}：最近 {count} 个信号 {bars} 根K线后命中率 {rate}',
    'opps.col.price': '价格',
    'opps.col.status': '状态',
    'opps.col.age': '时长',
    'opps.sortBy': '按{col}排序',
    'filter.symbol': '品种',
    'filter.direction': '方向',
    'filter.minConfidence': '最低置信度',
    'filter.all': '全部',
    'filter.hideExpired': '隐藏已过期',
    'dir.long': '做多',
    'dir.short': '做空',
    'status.new': '新',
    'status.updated': '更新',
    'status.expired': '已过期',
    'status.blocked': '已拦截',
    'risk.ok': '风控正常',
    'risk.warn': '风控警告',
    'risk.blocked': '风控拦截',
    'alerts.heading': '风险警报',
    'alerts.empty': '暂无警报',
    'alerts.announce': '严重警报：{kind} {symbol}',
    'alerts.all': '全市场',
    'alerts.valueOf': '值 {v} / 阈值 {t}',
    'severity.info': '提示',
    'severity.warning': '警告',
    'severity.critical': '严重',
    'kind.stale_feed': '行情中断',
    'kind.price_jump': '价格跳变',
    'kind.volatility_spike': '波动率激增',
    'kind.signal_rate': '信号过密',
    'kind.wide_spread': '买卖价差过宽',
    'kind.out_of_order': '行情乱序',
    'kind.off_session': '非交易时段行情',
    'kind.price_limit': '触及涨跌停',
    'untradable.limit_up': '涨停 · 无法买入',
    'untradable.limit_down': '跌停 · 无法卖出',
    'system.heading': '系统状态',
    'system.ticksPerSec': '行情/秒',
    'system.eventsPerSec': '事件/秒',
    'system.connections': '连接数',
    'system.uptime': '运行时间',
    'system.version': '版本',
    'system.status': '服务状态',
    'system.lastSeq': '最新序号',
    'system.reconnects': '重连次数',
    'system.memory': '内存 (RSS)',
    'system.latencyP50': '处理延迟 p50',
    'system.latencyP99': '处理延迟 p99',
    'system.pipeline': '流水线计数',
    'system.source.admin': '数据来自 /admin/health',
    'system.source.public': '数据来自 /health（无管理权限）',
    'system.source.none': '健康检查不可用',
    'pipeline.ticks': '行情',
    'pipeline.bars': 'K线',
    'pipeline.signals': '信号',
    'pipeline.opportunities': '机会',
    'pipeline.alerts': '警报',
    'pipeline.out_of_order': '乱序',
    'pipeline.last_seq': '序号',
    'pipeline.feed': '数据源',
    'age.s': '{n}秒',
    'age.m': '{m}分{s}秒',
    'age.h': '{h}时{m}分',
    'uptime.d': '{d}天{h}时',
    'footer.note': '数据为模拟行情，仅供演示，不构成投资建议。',
    'noscript': '此页面需要 JavaScript。',
  },
  en: {
    'app.title': 'Dongfeng · live trading signals',
    'app.subtitle': 'Real-time trading-signal gateway',
    'lang.toggle': '中文',
    'lang.toggleLabel': 'Switch to Chinese',
    'colors.label': 'Up/down colours',
    'colors.cn': 'Red up, green down',
    'colors.intl': 'Green up, red down',
    'conn.connecting': 'Connecting…',
    'conn.connected': 'Connected',
    'conn.reconnecting': 'Reconnecting in {s} s…',
    'conn.offline': 'Disconnected',
    'conn.loading': 'Loading history…',
    'conn.resumed': 'Resumed: {n} events caught up',
    'conn.gap': 'Offline too long: some history is no longer in the server’s memory',
    'conn.reset': 'Server sequence was reset; history reloaded',
    'chart.heading': 'Chart',
    'chart.label': '{symbol} price chart: last {n} bars, Bollinger bands, opportunity markers',
    'chart.empty': 'Waiting for market data…',
    'chart.legend.bands': 'Bollinger (20, 2)',
    'chart.legend.long': 'Long opportunity',
    'chart.legend.short': 'Short opportunity',
    'chart.symbols': 'Choose a symbol',
    'chart.ohlc': 'O {o} H {h} L {l} C {c} V {v}',
    'opps.heading': 'Opportunities',
    'opps.count': '{shown} shown of {total}',
    'opps.empty': 'No opportunities match the filters yet',
    'opps.col.symbol': 'Symbol',
    'opps.col.direction': 'Direction',
    'opps.col.confidence': 'Confidence',
    'opps.col.strategies': 'Strategies',
    'opps.hitRate': '{name}: hit rate {rate} over its last {count} signals, {bars} bars on',
    'opps.col.price': 'Price',
    'opps.col.status': 'Status',
    'opps.col.age': 'Age',
    'opps.sortBy': 'Sort by {col}',
    'filter.symbol': 'Symbol',
    'filter.direction': 'Direction',
    'filter.minConfidence': 'Min confidence',
    'filter.all': 'All',
    'filter.hideExpired': 'Hide expired',
    'dir.long': 'Long',
    'dir.short': 'Short',
    'status.new': 'New',
    'status.updated': 'Updated',
    'status.expired': 'Expired',
    'status.blocked': 'Blocked',
    'risk.ok': 'Risk OK',
    'risk.warn': 'Risk warning',
    'risk.blocked': 'Blocked by risk',
    'alerts.heading': 'Risk alerts',
    'alerts.empty': 'No alerts yet',
    'alerts.announce': 'Critical alert: {kind} {symbol}',
    'alerts.all': 'Market-wide',
    'alerts.valueOf': 'value {v} / threshold {t}',
    'severity.info': 'Info',
    'severity.warning': 'Warning',
    'severity.critical': 'Critical',
    'kind.stale_feed': 'Stale feed',
    'kind.price_jump': 'Price jump',
    'kind.volatility_spike': 'Volatility spike',
    'kind.signal_rate': 'Signal rate',
    'kind.wide_spread': 'Wide spread',
    'kind.out_of_order': 'Out-of-order ticks',
    'kind.off_session': 'Tick outside the session',
    'kind.price_limit': 'At the daily price limit',
    'untradable.limit_up': 'Limit-up · cannot buy',
    'untradable.limit_down': 'Limit-down · cannot sell',
    'system.heading': 'System',
    'system.ticksPerSec': 'Ticks/s',
    'system.eventsPerSec': 'Events/s',
    'system.connections': 'Connections',
    'system.uptime': 'Uptime',
    'system.version': 'Version',
    'system.status': 'Server status',
    'system.lastSeq': 'Last seq',
    'system.reconnects': 'Reconnects',
    'system.memory': 'Memory (RSS)',
    'system.latencyP50': 'Latency p50',
    'system.latencyP99': 'Latency p99',
    'system.pipeline': 'Pipeline counters',
    'system.source.admin': 'From /admin/health',
    'system.source.public': 'From /health (no admin access)',
    'system.source.none': 'Health check unavailable',
    'pipeline.ticks': 'Ticks',
    'pipeline.bars': 'Bars',
    'pipeline.signals': 'Signals',
    'pipeline.opportunities': 'Opportunities',
    'pipeline.alerts': 'Alerts',
    'pipeline.out_of_order': 'Out of order',
    'pipeline.last_seq': 'Seq',
    'pipeline.feed': 'Feed',
    'age.s': '{n}s',
    'age.m': '{m}m {s}s',
    'age.h': '{h}h {m}m',
    'uptime.d': '{d}d {h}h',
    'footer.note': 'Simulated market data for demonstration only; not investment advice.',
    'noscript': 'This page needs JavaScript.',
  },
};

let lang = 'zh';
const listeners = new Set();

function readStoredLanguage() {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return stored === 'en' || stored === 'zh' ? stored : null;
  } catch {
    return null; // storage disabled (private mode, file://): default language
  }
}

/** The text for `key` in the current language, `{name}` placeholders filled from `params`. */
export function t(key, params) {
  const text = STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

export function language() {
  return lang;
}

/** Calls `fn` after every language change (dynamic text re-renders itself). */
export function onLanguageChange(fn) {
  listeners.add(fn);
}

/** Translates every element marked with data-i18n* under `root`. */
export function translate(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}

export function setLanguage(next) {
  lang = next === 'en' ? 'en' : 'zh';
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* not remembered, still switched */
  }
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('app.title');
  translate();
  for (const fn of listeners) fn(lang);
}

export function initLanguage() {
  lang = readStoredLanguage() ?? 'zh';
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('app.title');
  translate();
}
