// The live connection: REST history first, then wss://<host>/ws with since_seq, reconnecting with
// exponential backoff and jitter and resuming from the last seq seen, so no sequenced event
// (opportunity, signal, risk alert) is missed or delivered twice across a reconnect.
//
// Sequenced events reach the app through one path, `deliver`, whether they came from REST or the
// socket: duplicates (the REST history and the socket's replay overlap on purpose) are dropped
// by seq. Lossy events (tick, bar, features) pass straight through.

const SEQUENCED = new Set(['opportunity', 'signal', 'risk_alert']);
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
/** The server sends a heartbeat every websocket.ping_interval_s (30 s by default). */
const SILENCE_LIMIT_MS = 75_000;
/** A TLS + WebSocket handshake that takes longer than this is given up and retried. */
const OPEN_LIMIT_MS = 15_000;

/** Seqs already delivered; old entries are pruned (anything at or below `floor` counts as seen). */
class SeqSet {
  constructor(keep = 50_000) {
    this.keep = keep;
    this.set = new Set();
    this.floor = -1;
    this.max = -1;
  }
  has(seq) {
    return seq <= this.floor || this.set.has(seq);
  }
  add(seq) {
    this.set.add(seq);
    if (seq > this.max) this.max = seq;
    if (this.set.size > this.keep * 1.2) {
      this.floor = this.max - this.keep;
      for (const s of this.set) if (s <= this.floor) this.set.delete(s);
    }
  }
  clear() {
    this.set.clear();
    this.floor = -1;
    this.max = -1;
  }
}

export class Stream {
  /**
   * @param {object} o
   * @param {string[]} o.channels      channels to subscribe to
   * @param {() => Promise<{events: object[], since: number}>} o.loadHistory  REST history:
   *        events shaped like socket messages ({type, seq, payload}), and the seq to resume after
   * @param {(msg: object, live: boolean) => void} o.onEvent  every event, deduplicated
   * @param {(state: string) => void} o.onState  idle | loading | connecting | connected |
   *        reconnecting (waiting retryInMs()) | offline (the browser says so; waiting too)
   * @param {(kind: string, info: object) => void} o.onNotice  'resumed' | 'gap' | 'reset'
   */
  constructor({ channels, loadHistory, onEvent, onState, onNotice }) {
    this.channels = channels;
    this.loadHistory = loadHistory;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onNotice = onNotice;
    this.seen = new SeqSet();
    this.resumeSeq = null; // null until the REST history is loaded
    this.ws = null;
    this.state = 'idle';
    this.attempt = 0;
    this.timer = 0;
    this.retryAt = 0;
    this.lastMessageAt = 0;
    this.helloSeq = 0;
    this.replayed = 0;
    this.resuming = false;
    this.freshHistory = false;
    this.loadingHistory = false;
    this.serverVersion = null;
    this.stats = { connects: 0, reconnects: 0, duplicates: 0, messages: 0, lastHeartbeatSeq: null, lastCloseCode: null };
    setInterval(() => this.watchdog(), 5_000);
    window.addEventListener('online', () => {
      if (this.state === 'reconnecting' || this.state === 'offline') this.connectSoon(0);
    });
  }

  start() {
    this.connectSoon(0);
  }

  setState(state) {
    this.state = state;
    this.onState(state);
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/ws`;
  }

  connectSoon(delayMs) {
    clearTimeout(this.timer);
    this.retryAt = performance.now() + delayMs;
    this.timer = setTimeout(() => this.connect(), delayMs);
  }

  async connect() {
    if (this.ws || this.loadingHistory) return;
    if (this.resumeSeq === null) {
      this.setState('loading');
      this.loadingHistory = true;
      try {
        const { events, since } = await this.loadHistory();
        for (const e of events.sort((a, b) => a.seq - b.seq)) this.deliver(e, false);
        this.resumeSeq = since;
        this.freshHistory = true; // the next connection starts from history: nothing to "resume"
      } catch {
        this.scheduleReconnect();
        return;
      } finally {
        this.loadingHistory = false;
      }
    }
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.lastMessageAt = performance.now();
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      this.lastMessageAt = performance.now();
      this.stats.messages++;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return; // not JSON: ignore (the server only sends JSON text)
      }
      this.handle(ws, msg);
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.stats.lastCloseCode = e.code;
      if (this.holdMs != null) {
        const hold = this.holdMs;
        this.holdMs = null;
        this.connectSoon(hold);
        this.setState('reconnecting');
      } else if (e.code === 1013) {
        // Too slow for the stream: the server asks us to resume by seq right away.
        this.connectSoon(250 + Math.random() * 250);
        this.setState('reconnecting');
      } else {
        this.scheduleReconnect();
      }
    };
    // Failures also arrive as a close event; nothing to add here (and nothing to log).
    ws.onerror = () => {};
  }

  handle(ws, msg) {
    switch (msg.type) {
      case 'hello': {
        this.serverVersion = msg.server;
        this.helloSeq = msg.seq ?? 0;
        if (this.resumeSeq !== null && this.helloSeq < this.resumeSeq) {
          // The server's seq went backwards (new data folder): our resume point means nothing
          // there. Start over from its REST history.
          this.seen.clear();
          this.resumeSeq = null;
          this.onNotice('reset', {});
          ws.close(4001, 'seq reset');
          return;
        }
        this.replayed = 0;
        this.resuming = this.stats.connects > 0 && !this.freshHistory;
        this.freshHistory = false;
        ws.send(JSON.stringify({ op: 'subscribe', channels: this.channels, symbols: ['*'], since_seq: this.resumeSeq }));
        return;
      }
      case 'subscribed':
        if (this.stats.connects > 0) this.stats.reconnects++;
        this.stats.connects++;
        this.attempt = 0;
        this.setState('connected');
        return;
      case 'heartbeat':
        this.stats.lastHeartbeatSeq = msg.seq;
        return;
      case 'error':
        if (msg.code === 'history_gap') this.onNotice('gap', { message: msg.message });
        return;
      case 'pong':
      case 'unsubscribed':
        return;
      default:
        if (SEQUENCED.has(msg.type)) {
          const fresh = this.deliver(msg, true);
          if (fresh && this.resuming && msg.seq <= this.helloSeq) this.replayed++;
          if (this.resuming && msg.seq >= this.helloSeq) {
            this.resuming = false;
            this.onNotice('resumed', { count: this.replayed });
          }
        } else {
          this.onEvent(msg, true);
        }
    }
  }

  /** Sequenced events only: drops duplicates, advances the resume point. */
  deliver(msg, live) {
    if (typeof msg.seq !== 'number') return false;
    if (this.seen.has(msg.seq)) {
      this.stats.duplicates++;
      return false;
    }
    this.seen.add(msg.seq);
    // The socket delivers every sequenced channel in seq order, so the highest seq seen is
    // where to resume; REST history sets its own (lower) starting point.
    if (live && (this.resumeSeq === null || msg.seq > this.resumeSeq)) this.resumeSeq = msg.seq;
    this.onEvent(msg, live);
    return true;
  }

  scheduleReconnect() {
    // Exponential backoff with "equal jitter": half fixed, half random, so clients that lost the
    // server together do not come back together, and no retry is immediate.
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt = Math.min(this.attempt + 1, 16);
    this.connectSoon(delay);
    this.setState(navigator.onLine === false ? 'offline' : 'reconnecting');
  }

  /** Milliseconds until the next connection attempt (for the countdown). */
  retryInMs() {
    return Math.max(0, this.retryAt - performance.now());
  }

  watchdog() {
    if (!this.ws) return;
    const quiet = performance.now() - this.lastMessageAt;
    // Silent while connected: a half-open connection. Still opening: a stuck handshake. Either
    // way, close it; onclose reconnects and resumes.
    if (this.state === 'connected' ? quiet > SILENCE_LIMIT_MS : quiet > OPEN_LIMIT_MS) this.ws.close();
  }

  /**
   * Closes the socket as a network failure would, and reconnects after `holdMs` (test and
   * debugging hook; resumes from the last seq seen like any other reconnect).
   */
  forceReconnect(holdMs = 0) {
    if (!this.ws) {
      this.connectSoon(holdMs);
      return;
    }
    this.holdMs = holdMs;
    this.ws.close(4000, 'client reconnect');
  }
}
