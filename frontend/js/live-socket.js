// graphql-transport-ws over one WebSocket, kept alive across network
// failures: reconnects with exponential backoff and full jitter (so a
// restarted server is not hit by every client at once), re-subscribes every
// active subscription with freshly computed variables (which is how a chat
// resumes with `afterSeq`), and reports its state for the UI.

const PROTOCOL = 'graphql-transport-ws';
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
const ACK_TIMEOUT_MS = 10_000;
/** We ping this often; silence for SILENCE_MS means the link is dead. */
const PING_EVERY_MS = 10_000;
const SILENCE_MS = 25_000;
/** Close code for a refused, expired or revoked token. */
const FORBIDDEN = 4403;

export class LiveSocket {
  /**
   * getToken(): the access token for connection_init.
   * onAuthFailed(tokenUsed): after a 4403; resolves true to reconnect.
   * onState(state): 'connecting' | 'online' | 'offline'.
   * onReconnect(): after every ack but the first, to refetch what has no replay.
   */
  constructor({ url, getToken, onAuthFailed, onState = () => {}, onReconnect = () => {} }) {
    Object.assign(this, { url, getToken, onAuthFailed, onState, onReconnect });
    this.subscriptions = new Map();
    this.nextId = 1;
    this.attempt = 0;
    this.everConnected = false;
    this.stopped = true;
    this.state = 'offline';
    this.onBrowserOnline = () => this.reconnectNow();
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.onBrowserOnline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onBrowserOnline);
    clearTimeout(this.retryTimer);
    this.teardown(1000);
    this.setState('offline');
  }

  /**
   * Registers a subscription that lives across reconnects until the returned
   * function is called. `variables` is a function, evaluated at each (re)subscribe.
   */
  subscribe({ query, variables = () => ({}), next, error = () => {}, complete = () => {} }) {
    const key = Symbol('subscription');
    const entry = { query, variables, next, error, complete, id: null };
    this.subscriptions.set(key, entry);
    if (this.state === 'online') this.sendSubscribe(entry);
    return () => {
      this.subscriptions.delete(key);
      if (entry.id && this.state === 'online') this.send({ id: entry.id, type: 'complete' });
    };
  }

  /** Drops the socket and connects again now (e.g. with a new token). */
  reconnectNow() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.teardown(1000);
    this.connect();
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }

  connect() {
    this.setState('connecting');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const token = this.getToken();
    let socket;
    try {
      socket = new WebSocket(`${scheme}//${location.host}${this.url}`, PROTOCOL);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    this.lastHeard = Date.now();
    socket.addEventListener('open', () => {
      this.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
      this.ackTimer = setTimeout(() => this.teardown(4408), ACK_TIMEOUT_MS);
    });
    socket.addEventListener('message', (event) => this.receive(event.data));
    socket.addEventListener('close', (event) => {
      if (socket !== this.socket) return;
      this.afterClose(event.code, token);
    });
  }

  receive(raw) {
    this.lastHeard = Date.now();
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    const entry = [...this.subscriptions.values()].find((item) => item.id && item.id === message.id);
    switch (message.type) {
      case 'connection_ack':
        clearTimeout(this.ackTimer);
        this.attempt = 0;
        this.setState('online');
        this.watchdog = setInterval(() => this.checkAlive(), PING_EVERY_MS);
        for (const item of this.subscriptions.values()) this.sendSubscribe(item);
        if (this.everConnected) this.onReconnect();
        this.everConnected = true;
        break;
      case 'ping':
        this.send({ type: 'pong' });
        break;
      case 'next':
        if (entry) {
          if (message.payload?.errors?.length) entry.error(message.payload.errors);
          else entry.next(message.payload?.data);
        }
        break;
      case 'error':
        entry?.error(message.payload);
        break;
      case 'complete':
        if (entry) {
          entry.id = null;
          entry.complete();
        }
        break;
      default:
        break;
    }
  }

  sendSubscribe(entry) {
    entry.id = String(this.nextId++);
    this.send({ id: entry.id, type: 'subscribe', payload: { query: entry.query, variables: entry.variables() } });
  }

  send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  checkAlive() {
    if (Date.now() - this.lastHeard > SILENCE_MS) {
      this.teardown(4000);
      this.afterClose(4000, null);
      return;
    }
    this.send({ type: 'ping' });
  }

  /** Forgets the current socket (its late events are ignored) and closes it. */
  teardown(code) {
    clearTimeout(this.ackTimer);
    clearInterval(this.watchdog);
    const socket = this.socket;
    this.socket = null;
    for (const entry of this.subscriptions.values()) entry.id = null;
    if (socket && socket.readyState <= WebSocket.OPEN) {
      try {
        socket.close(code >= 4000 || code === 1000 ? code : 1000);
      } catch {
        // already closing
      }
    }
  }

  async afterClose(code, tokenUsed) {
    this.teardown(1000);
    if (this.stopped) return;
    this.setState('offline');
    if (code === FORBIDDEN) {
      if (await this.onAuthFailed(tokenUsed)) this.connect();
      else this.stop();
      return;
    }
    this.scheduleRetry();
  }

  scheduleRetry() {
    this.setState('offline');
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
    const delay = 250 + Math.random() * ceiling;
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
