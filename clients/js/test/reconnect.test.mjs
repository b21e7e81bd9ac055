import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImClient, backoffDelay } from '../src/index.js';
import { PASSWORD, SERVER, collect, newUser, nextEvent, startProxy, track, waitFor } from './helpers.mjs';

const T = { timeout: 30000 };

test('backoff: exponential from minMs, capped at maxMs, jittered within the upper half of each step', () => {
  const options = { minMs: 100, maxMs: 1000 };
  assert.deepEqual([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, options, () => 1)), [100, 200, 400, 800, 1000, 1000]);
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, options, () => 0)), [50, 100, 200, 400, 500]);
});

test('while the server is unreachable the client reports each attempt; a call waits and succeeds after', T, async (t) => {
  const proxy = await startProxy();
  t.after(() => proxy.close());
  const reconnect = { minMs: 100, maxMs: 400 };
  const { client, userId } = await newUser('recon', { baseUrl: proxy.url, reconnect });
  await client.connect();
  const states = collect(client, 'state');

  proxy.down = true;
  proxy.cut();
  await waitFor(() => states.items.filter((s) => s.state === 'reconnecting').length >= 5, 15000, 'five attempts');
  const waiting = client.call('users.info', { uIds: [userId] }, { timeoutMs: 10000 });
  proxy.down = false;
  await nextEvent(client, 'state', (s) => s.state === 'open', 10000);
  assert.deepEqual((await waiting).map((b) => b.uId), [userId]);

  const attempts = states.items.filter((s) => s.state === 'reconnecting');
  assert.deepEqual(attempts.map((s) => s.attempt), attempts.map((_, i) => i + 1));
  attempts.forEach(({ attempt, delayMs }) => {
    const step = Math.min(reconnect.maxMs, reconnect.minMs * 2 ** (attempt - 1));
    assert.ok(delayMs >= step / 2 && delayMs <= step, `attempt ${attempt}: ${delayMs} ms within [${step / 2}, ${step}]`);
  });
  assert.equal(states.items.at(-1).state, 'open');

  // After an open the count starts again.
  const again = nextEvent(client, 'state', (s) => s.state === 'reconnecting');
  proxy.cut();
  assert.equal((await again).attempt, 1);
  await nextEvent(client, 'state', (s) => s.state === 'open', 10000);
  client.close();
});

test('a socket that stops answering is found by the heartbeat and replaced', T, async (t) => {
  const proxy = await startProxy();
  t.after(() => proxy.close());
  const { client } = await newUser('beat', { baseUrl: proxy.url, heartbeatMs: 200, callTimeoutMs: 400 });
  await client.connect();
  proxy.muteReplies = true; // the connection stays up, nothing comes back
  const dropped = await nextEvent(client, 'state', (s) => s.state === 'reconnecting', 5000);
  assert.equal(dropped.reason, 'heartbeat timeout');
  proxy.cut();
  proxy.muteReplies = false;
  await nextEvent(client, 'state', (s) => s.state === 'open', 10000);
  assert.equal((await client.call('system.heartbeat')).server_time > 0, true);
  client.close();
});

test('connect() gives up waiting after timeoutMs but the client keeps trying', T, async (t) => {
  const proxy = await startProxy();
  t.after(() => proxy.close());
  const { username } = await newUser('late');
  proxy.down = true;
  const client = track(new ImClient({ baseUrl: proxy.url, reconnect: { minMs: 50, maxMs: 200 } }));
  client.token = (await new ImClient({ baseUrl: SERVER }).login(username, PASSWORD)).token;
  const error = await client.connect({ timeoutMs: 500 }).then(() => null, (e) => e);
  assert.equal(error.code, 408);
  assert.equal(client.state, 'reconnecting');
  const open = nextEvent(client, 'state', (s) => s.state === 'open', 10000);
  proxy.down = false;
  await open;
  client.close();
});
