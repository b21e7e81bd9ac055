import { backoffDelay } from './backoff.js';
import { Emitter } from './emitter.js';
import { ImError, localError } from './errors.js';
import { SeqTracker } from './seq.js';

/** Message types by name (docs/messaging.md, "Types and content"). */
export const MessageType = Object.freeze({
  text: 1, redPacket: 2, image: 3, voice: 4, remittance: 5, video: 6, file: 7,
  location: 8, custom: 9, system: 10, exchange: 11, call: 12,
});

/** Close codes that end the login: never reconnect after them. */
export const LOGIN_ENDED = Object.freeze({ 4001: 'token', 4002: 'kicked', 4003: 'logout' });

/** The SDK's own event names: a server push of the same name is only emitted as 'push'. */
const OWN_EVENTS = new Set(['state', 'message', 'push', 'sent', 'sendFailed', 'error']);

const OPEN = 1; // WebSocket.OPEN

const DEFAULTS = {
  callTimeoutMs: 15000,
  connectTimeoutMs: 10000,
  restTimeoutMs: 15000,
  uploadTimeoutMs: 120000,
  heartbeatMs: 60000,
  maxPendingCalls: 1000,
  maxOutbox: 1000,
  maxFrameBytes: 397312,
  sendWindow: 16,
  maxSendRetries: 5,
  syncLimit: 200,
  maxSyncPages: 500,
  gapWaitMs: 500,
  initialSync: 'latest',
  storagePrefix: 'im',
};

const encoder = new TextEncoder();

function randomId() {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  const bytes = c.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function socketUrl(baseUrl, token) {
  const url = new URL('/ws/', baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('token', token);
  return url.toString();
}

function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    search.append(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  return search.toString();
}

/**
 * A client of the native protocol: REST login, one socket with request/reply by `id`, pushes
 * as events, reconnection with back-off, an idempotent outbox for messages and gap-aware
 * message delivery. See README.md.
 */
export class ImClient extends Emitter {
  constructor(options = {}) {
    super();
    if (!options.baseUrl) throw new TypeError('baseUrl is required, e.g. http://127.0.0.1:8000');
    this.baseUrl = String(options.baseUrl).replace(/\/+$/, '');
    this.token = options.token;
    this.userId = options.userId;
    this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    this._fetch = fetchImpl ? fetchImpl.bind(globalThis) : undefined;
    this._storage = options.storage;
    this.options = { ...DEFAULTS };
    for (const key of Object.keys(DEFAULTS)) if (options[key] !== undefined) this.options[key] = options[key];
    this.reconnect = { minMs: 500, maxMs: 15000, maxAttempts: Infinity, ...options.reconnect };
    /** 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed' */
    this.state = 'idle';
    this._ws = null;
    this._wsOpen = false;
    this._nextId = 1;
    /** @type {Map<number, any>} id -> call waiting for its reply (or for the socket) */
    this._calls = new Map();
    /** @type {any[]} messages not yet acknowledged, oldest first */
    this._outbox = [];
    this._attempt = 0;
    this._waiters = new Set();
    this._syncing = null;
    this._syncAgain = false;
    this._seq = new SeqTracker({
      emit: (msg) => this.emit('message', msg),
      requestSync: () => this._requestSync(),
      changed: () => this._persist(),
      gapWaitMs: this.options.gapWaitMs,
    });
    this._stateLoaded = this.userId != null ? this._loadState() : Promise.resolve();
  }

  // ---------------------------------------------------------------- accounts (REST)

  /** POST /api/v1/auth/login; keeps the token. Resolves `{userId, token}`. */
  async login(username, password, { device } = {}) {
    const body = { username, password };
    if (device !== undefined) body.device = device;
    const answer = await this._http('POST', '/api/v1/auth/login', body, { auth: false });
    await this._loggedIn(answer);
    return answer;
  }

  /** POST /api/v1/auth/register (which also logs in); keeps the token. Resolves `{userId, token}`. */
  async register({ username, password, phone, device } = {}) {
    const body = { username, password };
    if (phone !== undefined) body.phone = phone;
    if (device !== undefined) body.device = device;
    const answer = await this._http('POST', '/api/v1/auth/register', body, { auth: false });
    await this._loggedIn(answer);
    return answer;
  }

  /**
   * POST /api/v1/auth/logout: ends this login session (its sockets close with 4003), closes
   * the client, and forgets the token and the outbox (stored or not).
   */
  async logout() {
    const token = this.token;
    try {
      if (token) await this._http('POST', '/api/v1/auth/logout', {});
    } finally {
      this._shutdown({ code: 4003, reason: 'logout' });
      this._outbox = []; // nothing queued by this login is sent by another
      await this._persistNow();
      this.token = undefined;
      this.userId = undefined;
      this._seq.reset();
    }
  }

  async _loggedIn({ userId, token }) {
    const sameUser = userId === this.userId;
    this.token = token;
    if (!sameUser) {
      // Another user: the previous one's socket, calls and queue are not this one's.
      if (this.state !== 'idle' && this.state !== 'closed') this._shutdown({ code: 1000, reason: 'client' });
      this.userId = userId;
      this._seq.reset();
      this._rejectOutbox();
      this._outbox = [];
      this._stateLoaded = this._loadState();
    }
    await this._stateLoaded;
  }

  // ---------------------------------------------------------------- REST

  /**
   * An authenticated REST call; resolves the JSON answer. For GET, HEAD and DELETE a `body`
   * object becomes the query string (arrays written `1,2`).
   */
  rest(method, path, body, { timeoutMs } = {}) {
    return this._http(String(method).toUpperCase(), path, body, { timeoutMs });
  }

  /** POST /api/v1/media (multipart): `file` a Blob or File; resolves the upload's JSON. */
  uploadMedia(file, { kind = 'file', duration, name, timeoutMs } = {}) {
    const form = new FormData();
    form.append('kind', kind);
    if (duration !== undefined && duration !== null) form.append('duration', String(duration));
    form.append('file', file, name ?? file?.name ?? 'upload');
    return this._http('POST', '/api/v1/media', undefined, {
      form, timeoutMs: timeoutMs ?? this.options.uploadTimeoutMs,
    });
  }

  async _http(method, path, body, { auth = true, form, timeoutMs } = {}) {
    if (!this._fetch) throw new TypeError('no fetch implementation: pass options.fetch');
    let url = this.baseUrl + path;
    const headers = { Accept: 'application/json' };
    if (auth && this.token) headers.Authorization = `Bearer ${this.token}`;
    let payload;
    if (form) {
      payload = form;
    } else if (body !== undefined && body !== null) {
      if (method === 'GET' || method === 'HEAD' || method === 'DELETE') {
        const qs = queryString(body);
        if (qs) url += (url.includes('?') ? '&' : '?') + qs;
      } else {
        headers['Content-Type'] = 'application/json';
        payload = JSON.stringify(body);
      }
    }
    const label = `${method} ${path}`;
    const ms = timeoutMs ?? this.options.restTimeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), ms);
    let response;
    let text;
    try {
      response = await this._fetch(url, { method, headers, body: payload, signal: controller.signal });
      text = await response.text();
    } catch (error) {
      if (controller.signal.aborted) throw localError('timeout', `${label}: no answer within ${ms} ms`, label);
      throw localError('network', `${label}: ${error?.message ?? error}`, label);
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (!response.ok) {
      const info = data && typeof data === 'object' ? data : {};
      throw new ImError(Number.isInteger(info.code) ? info.code : response.status,
        typeof info.msg === 'string' ? info.msg : `HTTP ${response.status}`,
        { method: label, status: response.status, error: info.error });
    }
    return data;
  }

  // ---------------------------------------------------------------- the socket

  /**
   * Open the socket (ws(s)://same-host/ws/?token=...). Resolves once it is open, logged in and
   * caught up (messages.sync); rejects when the login has ended (the ImError's `code` is the
   * close code 4001/4002/4003) or after `timeoutMs` (the client keeps trying then).
   */
  connect({ timeoutMs } = {}) {
    if (this.state === 'open') return Promise.resolve();
    if (!this.token) return Promise.reject(new ImError(401, 'no token: log in first', { reason: 'closed' }));
    if (!this._WebSocket) {
      return Promise.reject(new TypeError('no WebSocket implementation: pass options.WebSocket '
        + '(Node.js 20: run with --experimental-websocket)'));
    }
    const waiter = this._waitForOpen(timeoutMs ?? this.options.connectTimeoutMs + this.options.callTimeoutMs * 2);
    if (this.state === 'idle' || this.state === 'closed') {
      this._attempt = 0;
      this._setState('connecting');
      this._openSocket();
    }
    return waiter;
  }

  /** Close the socket for good: no reconnect; calls and unsent messages are rejected. */
  close() {
    this._shutdown({ code: 1000, reason: 'client' });
  }

  _waitForOpen(ms) {
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      waiter.timer = setTimeout(() => {
        this._waiters.delete(waiter);
        reject(localError('timeout', `not connected within ${ms} ms (still trying)`, 'connect'));
      }, ms);
      this._waiters.add(waiter);
    });
  }

  _settleWaiters(error) {
    for (const waiter of this._waiters) {
      clearTimeout(waiter.timer);
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
    this._waiters.clear();
  }

  _setState(state, extra = {}) {
    this.state = state;
    this.emit('state', { state, ...extra });
  }

  _openSocket() {
    this._reconnectTimer = undefined;
    let ws;
    try {
      ws = new this._WebSocket(socketUrl(this.baseUrl, this.token));
    } catch (error) {
      this._ws = null;
      this._scheduleReconnect(1006, String(error?.message ?? error));
      return;
    }
    this._ws = ws;
    this._wsOpen = false;
    const handshake = setTimeout(() => {
      if (this._ws === ws && !this._wsOpen) {
        this._socketGone(ws, 1006, 'handshake timeout');
        try { ws.close(); } catch { /* already closing */ }
      }
    }, this.options.connectTimeoutMs);
    ws.onopen = () => {
      clearTimeout(handshake);
      if (ws !== this._ws) return;
      this._wsOpen = true;
      this._afterOpen(ws);
    };
    ws.onmessage = (event) => {
      if (ws === this._ws) this._onFrame(event.data);
    };
    ws.onclose = (event) => {
      clearTimeout(handshake);
      this._socketGone(ws, event.code, event.reason);
    };
    ws.onerror = () => {
      // After the open a close event follows. Before it some implementations (Node.js 20's)
      // report a refused connection by this event alone, so the attempt ends here.
      if (ws === this._ws && !this._wsOpen) {
        clearTimeout(handshake);
        this._socketGone(ws, 1006, 'connection failed');
        try { ws.close(); } catch { /* never opened */ }
      }
    };
  }

  /** Log-in check and catch-up on a fresh socket; then the client is 'open'. */
  async _afterOpen(ws) {
    try {
      await this._stateLoaded;
      if (this.userId == null) {
        const me = await this._request('web.account.myInfo', {}, undefined, true);
        if (ws !== this._ws) return;
        this.userId = me.uId;
        this._stateLoaded = this._loadState();
        await this._stateLoaded;
      }
      await this._catchUp();
    } catch (error) {
      if (ws !== this._ws) return; // the socket went away: its close is handled
      this.emit('error', error); // caught up later, at the next gap or reconnect
    }
    if (ws !== this._ws || !this._wsOpen) return;
    this._attempt = 0;
    this._setState('open');
    this._settleWaiters();
    this._startHeartbeat(ws);
    for (const call of [...this._calls.values()].sort((a, b) => a.id - b.id)) {
      if (!call.sent) this._transmit(call);
    }
    this._pump();
  }

  async _catchUp() {
    if (this._seq.ready) return this._sync();
    if (this.options.initialSync === 'all') {
      this._seq.markReady();
      return this._sync();
    }
    const chats = await this._request('messages.conversations', {}, undefined, true);
    this._seq.baseline((Array.isArray(chats) ? chats : []).map((c) => [c.chatId, c.lastSeq]));
    return undefined;
  }

  _socketGone(ws, code, reason) {
    if (ws !== this._ws) return;
    this._ws = null;
    this._wsOpen = false;
    this._stopHeartbeat();
    for (const call of [...this._calls.values()]) {
      if (call.sent && call.ws === ws) {
        this._forget(call);
        call.reject(localError('disconnected', `${call.method}: the socket closed before the reply`, call.method));
      }
    }
    if (this.state === 'closed') return;
    if (LOGIN_ENDED[code]) {
      this._shutdown({ code, reason: LOGIN_ENDED[code] });
      return;
    }
    this._scheduleReconnect(code, reason);
  }

  _scheduleReconnect(code, reason) {
    this._attempt += 1;
    if (this._attempt > this.reconnect.maxAttempts) {
      this._shutdown({ code, reason: 'gave_up' });
      return;
    }
    let delayMs = backoffDelay(this._attempt, this.reconnect);
    if (code === 1012 && this._attempt === 1) delayMs = 0; // lost pushes: reconnect at once and sync
    if (code === 4029) delayMs = Math.max(delayMs, Math.min(this.reconnect.maxMs, 5000)); // too many sockets
    this._setState('reconnecting', { attempt: this._attempt, delayMs, code, reason });
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = setTimeout(() => this._openSocket(), delayMs);
  }

  _shutdown({ code, reason }) {
    if (this.state === 'closed') return;
    clearTimeout(this._reconnectTimer);
    this._stopHeartbeat();
    this._seq.stop();
    const ws = this._ws;
    this._ws = null;
    this._wsOpen = false;
    if (ws) {
      try { ws.close(1000); } catch { /* already closed */ }
    }
    for (const call of [...this._calls.values()]) {
      this._forget(call);
      call.reject(localError('closed', `${call.method}: the client was closed (${reason})`, call.method));
    }
    this._rejectOutbox();
    this._setState('closed', { code, reason });
    this._settleWaiters(new ImError(code, `the client was closed (${reason})`, { reason: 'closed' }));
  }

  _startHeartbeat(ws) {
    this._stopHeartbeat();
    if (!this.options.heartbeatMs) return;
    this._heartbeat = setInterval(() => {
      this._request('system.heartbeat', {}, undefined, true).catch((error) => {
        // No answer on an open socket: it is dead without knowing it. Drop it and reconnect.
        if (error?.reason === 'timeout' && ws === this._ws) {
          this._socketGone(ws, 1006, 'heartbeat timeout');
          try { ws.close(); } catch { /* already closed */ }
        }
      });
    }, this.options.heartbeatMs);
  }

  _stopHeartbeat() {
    clearInterval(this._heartbeat);
    this._heartbeat = undefined;
  }

  // ---------------------------------------------------------------- calls

  /**
   * A socket method: resolves the reply's `data`, rejects with an ImError (the reply's code and
   * msg, or a local failure). A call made while (re)connecting waits for the socket, all within
   * `timeoutMs`.
   */
  call(method, params = {}, { timeoutMs } = {}) {
    if (typeof method !== 'string' || !method) return Promise.reject(new TypeError('method must be a non-empty string'));
    if (this.state === 'idle' || this.state === 'closed') {
      return Promise.reject(localError('closed', `${method}: not connected (call connect() first)`, method));
    }
    return this._request(method, params, timeoutMs, false);
  }

  _request(method, params, timeoutMs, internal) {
    if (this._calls.size >= this.options.maxPendingCalls) {
      return Promise.reject(localError('overflow', `${method}: too many calls waiting`, method));
    }
    const id = this._nextId++;
    const frame = JSON.stringify({ id, method, params: params ?? {} });
    if (encoder.encode(frame).length > this.options.maxFrameBytes) {
      return Promise.reject(localError('too_large', `${method}: the request is larger than ${this.options.maxFrameBytes} bytes`, method));
    }
    const ms = timeoutMs ?? this.options.callTimeoutMs;
    return new Promise((resolve, reject) => {
      const call = { id, method, frame, resolve, reject, sent: false, ws: null };
      call.timer = setTimeout(() => {
        this._calls.delete(id);
        reject(localError('timeout', `${method}: no reply within ${ms} ms`, method));
      }, ms);
      this._calls.set(id, call);
      if (this._wsOpen && (internal || this.state === 'open')) this._transmit(call);
    });
  }

  _transmit(call) {
    const ws = this._ws;
    if (!ws || !this._wsOpen || ws.readyState !== OPEN) return;
    call.sent = true;
    call.ws = ws;
    try {
      ws.send(call.frame);
    } catch {
      // the close event follows and fails the call as disconnected
    }
  }

  _forget(call) {
    clearTimeout(call.timer);
    this._calls.delete(call.id);
  }

  _onFrame(text) {
    if (typeof text !== 'string') return;
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (!frame || typeof frame !== 'object' || Array.isArray(frame)) return;
    if (typeof frame.event === 'string' && frame.id === undefined) {
      this._onPush(frame.event, frame.data);
      return;
    }
    if (frame.code === undefined) return;
    const call = frame.id === null || frame.id === undefined ? undefined : this._calls.get(frame.id);
    if (!call) {
      if (frame.code !== 200) this.emit('error', new ImError(frame.code, frame.msg ?? 'error'));
      return;
    }
    this._forget(call);
    if (frame.code === 200) call.resolve(frame.data);
    else call.reject(new ImError(frame.code, typeof frame.msg === 'string' ? frame.msg : `code ${frame.code}`, { method: call.method }));
  }

  _onPush(event, data) {
    this.emit('push', { event, data });
    if (!OWN_EVENTS.has(event)) this.emit(event, data);
    if (event === 'onMessage') this._seq.add(data);
  }

  // ---------------------------------------------------------------- messages

  /**
   * Queue a message: `{chatId | to, type ('text', 'image'... or a number), content, clientMsgId?}`.
   * Resolves with the stored message once the server acknowledges it; resent with the same
   * clientMsgId after a reconnect, so it is stored once.
   */
  sendMessage(message) {
    const { chatId, to, type = 'text', content, clientMsgId = randomId(), ...rest } = message ?? {};
    if ((chatId === undefined) === (to === undefined)) {
      return Promise.reject(new TypeError('give exactly one of chatId and to'));
    }
    const typeNumber = typeof type === 'number' ? type : MessageType[type];
    if (!Number.isInteger(typeNumber)) return Promise.reject(new TypeError(`unknown message type ${type}`));
    if (this.state === 'closed') {
      return Promise.reject(localError('closed', 'messages.send: the client is closed', 'messages.send'));
    }
    if (this._outbox.length >= this.options.maxOutbox) {
      return Promise.reject(localError('overflow', 'messages.send: the outbox is full', 'messages.send'));
    }
    if (this._outbox.some((entry) => entry.params.clientMsgId === clientMsgId)) {
      return Promise.reject(new TypeError(`clientMsgId ${clientMsgId} is already queued`));
    }
    const params = { ...rest, type: typeNumber, content, clientMsgId };
    if (chatId !== undefined) params.chatId = chatId;
    else params.to = to;
    const entry = this._newEntry(params);
    const promise = new Promise((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    this._outbox.push(entry);
    this._persist();
    this._pump();
    return promise;
  }

  _newEntry(params) {
    return { params, retries: 0, inFlight: false, notBefore: 0, resolve: undefined, reject: undefined };
  }

  /** Messages queued and not yet acknowledged, oldest first (copies). */
  get pending() {
    return this._outbox.map((entry) => ({ ...entry.params }));
  }

  /** The last seq handed on as 'message' in a chat (0: none yet). */
  lastSeq(chatId) {
    return this._seq.lastSeq(chatId);
  }

  /** Fetch what was missed (messages.sync until done); 'message' events follow. */
  sync() {
    if (this.state !== 'open') return Promise.reject(localError('closed', 'messages.sync: not connected', 'messages.sync'));
    return this._sync();
  }

  _pump() {
    if (this.state !== 'open' || !this._wsOpen) return;
    let inFlight = this._outbox.filter((entry) => entry.inFlight).length;
    const now = Date.now();
    let nextRetry = Infinity;
    for (const entry of this._outbox) {
      if (inFlight >= this.options.sendWindow) break;
      if (entry.inFlight) continue;
      if (entry.notBefore > now) {
        nextRetry = Math.min(nextRetry, entry.notBefore);
        continue;
      }
      entry.inFlight = true;
      inFlight += 1;
      this._request('messages.send', entry.params, undefined, true).then(
        (reply) => this._acknowledged(entry, reply),
        (error) => this._sendFailed(entry, error),
      );
    }
    if (nextRetry !== Infinity) {
      clearTimeout(this._pumpTimer);
      this._pumpTimer = setTimeout(() => this._pump(), nextRetry - now);
    }
  }

  _acknowledged(entry, reply) {
    entry.inFlight = false;
    const index = this._outbox.indexOf(entry);
    if (index < 0) return; // dropped meanwhile (logout)
    this._outbox.splice(index, 1);
    const { params } = entry;
    const message = {
      messageId: reply.messageId, chatId: reply.chatId, seq: reply.seq, from: this.userId,
      type: params.type, subType: 0,
      content: params.type === 1 && typeof params.content === 'string' ? { text: params.content } : params.content,
      clientMsgId: params.clientMsgId, createAt: reply.createAt,
    };
    this._persist();
    this._seq.add(message);
    entry.resolve?.(message);
    this.emit('sent', { clientMsgId: params.clientMsgId, message });
    this._pump();
  }

  _sendFailed(entry, error) {
    entry.inFlight = false;
    if (!this._outbox.includes(entry)) return;
    if (error?.reason === 'disconnected' || error?.reason === 'closed') return; // resent after the reconnect
    const retryable = error?.reason === 'timeout' || error?.reason === 'overflow'
      || error?.code === 429 || error?.code === 500 || error?.code === 503;
    if (retryable && entry.retries < this.options.maxSendRetries) {
      entry.retries += 1;
      entry.notBefore = Date.now() + backoffDelay(entry.retries, this.reconnect);
      this._pump();
      return;
    }
    this._outbox.splice(this._outbox.indexOf(entry), 1);
    this._persist();
    entry.reject?.(error);
    this.emit('sendFailed', { clientMsgId: entry.params.clientMsgId, params: { ...entry.params }, error });
    this._pump();
  }

  /** The promises of queued messages fail; the messages stay queued (and stored) for the next
   * connect() of the same user, which reports them by 'sent' / 'sendFailed'. */
  _rejectOutbox() {
    for (const entry of this._outbox) {
      const { reject } = entry;
      entry.resolve = undefined;
      entry.reject = undefined;
      reject?.(localError('closed', 'messages.send: the client was closed before the server acknowledged it', 'messages.send'));
    }
  }

  _requestSync() {
    if (this.state !== 'open' || !this._wsOpen) return; // the next connect syncs
    this._sync().catch((error) => {
      // A socket that went away syncs again when it is back; anything else is worth a word.
      if (error?.reason !== 'disconnected' && error?.reason !== 'closed') this.emit('error', error);
    });
  }

  _sync() {
    if (this._syncing) {
      this._syncAgain = true;
      return this._syncing;
    }
    this._syncing = (async () => {
      try {
        for (let page = 0; page < this.options.maxSyncPages; page += 1) {
          const reply = await this._request('messages.sync', {
            positions: this._seq.syncPositions(), limit: this.options.syncLimit,
          }, undefined, true);
          this._seq.applySync(reply);
          if (!reply?.hasMore) {
            if (!this._syncAgain) break;
            this._syncAgain = false;
          }
        }
      } finally {
        this._syncing = null;
        this._syncAgain = false;
      }
    })();
    return this._syncing;
  }

  // ---------------------------------------------------------------- storage

  _key(name) {
    return `${this.options.storagePrefix}:${this.userId}:${name}`;
  }

  async _loadState() {
    if (!this._storage || this.userId == null) return;
    try {
      const positions = await this._storage.get(this._key('positions'));
      if (positions) this._seq.load(JSON.parse(positions));
      const outbox = await this._storage.get(this._key('outbox'));
      const queued = new Set(this._outbox.map((entry) => entry.params.clientMsgId));
      for (const params of outbox ? JSON.parse(outbox) : []) {
        if (params && typeof params === 'object' && !queued.has(params.clientMsgId)
            && this._outbox.length < this.options.maxOutbox) {
          this._outbox.push(this._newEntry(params));
        }
      }
    } catch (error) {
      this.emit('error', error);
    }
  }

  _persist() {
    if (!this._storage || this.userId == null || this._persistQueued) return;
    this._persistQueued = true;
    queueMicrotask(() => {
      this._persistQueued = false;
      this._persistNow().catch((error) => this.emit('error', error));
    });
  }

  async _persistNow() {
    if (!this._storage || this.userId == null) return;
    const positions = this._seq.dump();
    if (positions) await this._storage.set(this._key('positions'), JSON.stringify(positions));
    await this._storage.set(this._key('outbox'), JSON.stringify(this._outbox.map((entry) => entry.params)));
  }
}
