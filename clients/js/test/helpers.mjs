// Helpers of the SDK's tests. They run against a real server whose base URL is in IM_SERVER_URL
// (tests/clients/test_js_sdk.py starts one); every wait is bounded.
import net from 'node:net';
import { after } from 'node:test';
import { ImClient } from '../src/index.js';

export const SERVER = process.env.IM_SERVER_URL;
if (!SERVER) throw new Error('IM_SERVER_URL is not set: run these tests through tests/clients/test_js_sdk.py');

export const PASSWORD = 'secret123';
let counter = 0;

/** A username no earlier run has taken. */
export function uniqueName(prefix) {
  counter += 1;
  return `${prefix}${process.pid}x${Date.now().toString(36)}${counter}`;
}

const clients = new Set();
after(() => {
  // A failed test may leave its clients open: close them so the test process can end.
  for (const client of clients) client.close();
});

/** A registered user with its client (not connected). Options go to ImClient. */
export async function newUser(prefix, options = {}) {
  const client = track(new ImClient({ baseUrl: SERVER, reconnect: { minMs: 50, maxMs: 400 }, connectTimeoutMs: 3000,
    ...options }));
  const username = uniqueName(prefix);
  await client.register({ username, password: PASSWORD });
  return { client, username, userId: client.userId, token: client.token };
}

/** Close `client` after the file's tests (returns it). */
export function track(client) {
  clients.add(client);
  return client;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until `check()` is truthy; fail after `ms`. */
export async function waitFor(check, ms = 5000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** The next `name` event of `emitter` that satisfies `match`; fail after `ms`. */
export function nextEvent(emitter, name, match = () => true, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${name} event within ${ms} ms`));
    }, ms);
    const off = emitter.on(name, (value) => {
      if (!match(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

/** Every `name` event of `emitter`, collected in an array (call the returned stop()). */
export function collect(emitter, name) {
  const items = [];
  const stop = emitter.on(name, (value) => items.push(value));
  return { items, stop };
}

/**
 * A TCP proxy in front of the server: the network between a client and the server, which a
 * test can cut (every connection reset), take down (new connections refused) or make
 * lose the server's answers (bytes from the server dropped) to see what the client does.
 */
export async function startProxy(target = SERVER) {
  const upstream = new URL(target);
  const pairs = new Set();
  let port = 0;
  let listening = true;
  const proxy = {
    muteReplies: false,
    /** Down: connections are refused (the listener is closed) until it is up again. */
    get down() {
      return !listening;
    },
    set down(value) {
      if (value && listening) {
        listening = false;
        server.close();
      } else if (!value && !listening) {
        listening = true;
        server.listen(port, '127.0.0.1');
      }
    },
    connections: 0,
    url: '',
    cut() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    close() {
      proxy.cut();
      if (!listening) return Promise.resolve();
      listening = false;
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((client) => {
    proxy.connections += 1;
    const remote = net.connect(Number(upstream.port), upstream.hostname);
    const pair = [client, remote];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      remote.destroy();
    };
    client.on('data', (chunk) => remote.write(chunk));
    remote.on('data', (chunk) => {
      if (!proxy.muteReplies) client.write(chunk);
    });
    for (const socket of pair) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
  proxy.url = `http://127.0.0.1:${port}`;
  return proxy;
}

/**
 * A WebSocket that loses the incoming text frames `drop(frame)` picks: a push lost on the way
 * (the server's Redis away, say), seen from the client. Everything else is the real socket.
 */
export function lossyWebSocket(drop, sent = []) {
  return class LossyWebSocket {
    constructor(url) {
      this._ws = new WebSocket(url);
      this._ws.onopen = (event) => this.onopen?.(event);
      this._ws.onclose = (event) => this.onclose?.(event);
      this._ws.onerror = (event) => this.onerror?.(event);
      this._ws.onmessage = (event) => {
        let frame = null;
        try {
          frame = JSON.parse(event.data);
        } catch { /* not JSON: pass it on */ }
        if (frame && drop(frame)) return;
        this.onmessage?.(event);
      };
    }

    get readyState() {
      return this._ws.readyState;
    }

    send(data) {
      sent.push(JSON.parse(data));
      this._ws.send(data);
    }

    close(...args) {
      this._ws.close(...args);
    }
  };
}

/** Every message of a chat, oldest first, read with messages.history by `client` (paged). */
export async function history(client, chatId) {
  const all = [];
  let beforeSeq;
  for (let page = 0; page < 100; page += 1) {
    const params = { chatId, limit: 200 };
    if (beforeSeq !== undefined) params.beforeSeq = beforeSeq;
    const answer = await client.call('messages.history', params);
    all.unshift(...answer.messages);
    if (!answer.hasMore || !answer.messages.length) return all;
    beforeSeq = answer.messages[0].seq;
  }
  throw new Error('history: more than 100 pages');
}
