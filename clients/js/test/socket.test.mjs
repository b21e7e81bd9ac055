import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImClient, ImError } from '../src/index.js';
import { PASSWORD, SERVER, collect, newUser, nextEvent, sleep, startProxy, track } from './helpers.mjs';

test('call() resolves the reply data; refusals are ImError with the server code and method', async () => {
  const alice = await newUser('calla');
  const bob = await newUser('callb');
  await alice.client.connect();
  assert.equal(alice.client.state, 'open');
  const briefs = await alice.client.call('users.info', { uIds: [bob.userId] });
  assert.deepEqual(briefs.map((b) => b.uId), [bob.userId]);

  const unknown = await alice.client.call('no.such.method').then(() => null, (e) => e);
  assert.ok(unknown instanceof ImError);
  assert.equal(unknown.code, 404);
  assert.equal(unknown.method, 'no.such.method');

  const invalid = await alice.client.call('users.info', { uIds: 'nope' }).then(() => null, (e) => e);
  assert.equal(invalid.code, 422);
  assert.match(invalid.message, /uIds/);

  const own = await alice.client.call('messages.send', { to: bob.userId, type: 1, content: { text: 'x' }, chatId: 5 })
    .then(() => null, (e) => e);
  assert.equal(own.code, 422);
  // Many calls at once: each reply reaches its own call.
  const many = await Promise.all([alice.userId, bob.userId, alice.userId].map((uId) =>
    alice.client.call('users.info', { uIds: [uId] })));
  assert.deepEqual(many.map(([brief]) => brief.uId), [alice.userId, bob.userId, alice.userId]);
  alice.client.close();
});

test('a call without a reply times out with ImError 408; calls before connect() are refused', async () => {
  const proxy = await startProxy();
  try {
    const { username } = await newUser('timeout');
    const client = track(new ImClient({ baseUrl: proxy.url, heartbeatMs: 0 }));
    const early = await client.call('users.info', { uIds: [1] }).then(() => null, (e) => e);
    assert.equal(early.reason, 'closed');
    await client.login(username, PASSWORD);
    await client.connect();
    proxy.muteReplies = true;
    const started = Date.now();
    const error = await client.call('users.info', { uIds: [client.userId] }, { timeoutMs: 300 }).then(() => null, (e) => e);
    assert.ok(error instanceof ImError);
    assert.equal(error.code, 408);
    assert.equal(error.reason, 'timeout');
    assert.ok(Date.now() - started >= 290);

    // Bounds: calls waiting for a reply, and the size of one request.
    proxy.muteReplies = false;
    const bounded = track(new ImClient({ baseUrl: SERVER, heartbeatMs: 0, maxPendingCalls: 2, maxFrameBytes: 1000 }));
    await bounded.login(username, PASSWORD);
    await bounded.connect();
    const waiting = [1, 2].map(() => bounded.call('users.info', { uIds: [1] }));
    const third = await bounded.call('users.info', { uIds: [1] }).then(() => null, (e) => e);
    assert.equal(third.code, 429);
    assert.equal(third.reason, 'overflow');
    assert.equal((await Promise.all(waiting)).length, 2, 'the two under the bound are answered');
    const big = await bounded.call('system.relayData', { action: 'x', to: [1], data: 'y'.repeat(2000) }).then(() => null, (e) => e);
    assert.equal(big.code, 413);
    assert.equal(big.reason, 'too_large');
    assert.equal(bounded.state, 'open');
    client.close();
    bounded.close();
  } finally {
    await proxy.close();
  }
});

test('a push reaches the other user: by its event name, as push, and onMessage as message', async () => {
  const alice = await newUser('pusha');
  const bob = await newUser('pushb');
  await Promise.all([alice.client.connect(), bob.client.connect()]);
  const relayed = nextEvent(bob.client, 'on_event');
  const pushes = collect(bob.client, 'push');
  await alice.client.call('system.relayData', { action: 'wave', to: [bob.userId], data: { n: 1 } });
  assert.deepEqual(await relayed, { action: 'wave', from: alice.userId, to: [bob.userId], data: { n: 1 } });

  const message = nextEvent(bob.client, 'message');
  const raw = nextEvent(bob.client, 'onMessage');
  const sent = await alice.client.sendMessage({ to: bob.userId, content: { text: 'hello bob' } });
  const got = await message;
  assert.deepEqual(await raw, got);
  assert.equal(got.messageId, sent.messageId);
  assert.equal(got.from, alice.userId);
  assert.deepEqual(got.content, { text: 'hello bob' });
  assert.equal(bob.client.lastSeq(sent.chatId), sent.seq);
  assert.equal(alice.client.lastSeq(sent.chatId), sent.seq);
  assert.deepEqual(pushes.items.map((p) => p.event), ['on_event', 'onMessage']);
  alice.client.close();
  bob.client.close();
});

test('a bad token: connect() rejects with 4001 and the client does not reconnect', async () => {
  const client = new ImClient({ baseUrl: SERVER, token: 'not-a-token', userId: 1, reconnect: { minMs: 20 } });
  const states = collect(client, 'state');
  const error = await client.connect().then(() => null, (e) => e);
  assert.ok(error instanceof ImError);
  assert.equal(error.code, 4001);
  await sleep(200);
  assert.deepEqual(states.items.map((s) => s.state), ['connecting', 'closed']);
  assert.equal(states.items.at(-1).reason, 'token');
});

test('logged out from elsewhere: state closed with 4003, no reconnect', async () => {
  const { client, token } = await newUser('elsewhere');
  await client.connect();
  const states = collect(client, 'state');
  const closed = nextEvent(client, 'state', (s) => s.state === 'closed');
  const other = new ImClient({ baseUrl: SERVER, token });
  await other.rest('POST', '/api/v1/auth/logout', {}); // the same session ended over REST
  await closed;
  await sleep(300);
  assert.deepEqual(states.items, [{ state: 'closed', code: 4003, reason: 'logout' }]);
  const refused = await client.call('users.info', { uIds: [1] }).then(() => null, (e) => e);
  assert.equal(refused.reason, 'closed');
});

test('kicked by a login elsewhere: accounts.onKicked, then closed with 4002, no reconnect', async () => {
  const { client, username } = await newUser('kicked');
  await client.connect();
  await client.call('accounts.toggleMultiOnline', { isOn: false });
  const kicked = nextEvent(client, 'accounts.onKicked');
  const closed = nextEvent(client, 'state', (s) => s.state === 'closed');
  const states = collect(client, 'state');
  await new ImClient({ baseUrl: SERVER }).login(username, PASSWORD, { device: 'tablet' });
  assert.deepEqual(await kicked, { reason: 'login_elsewhere', device: 'tablet' });
  assert.deepEqual(await closed, { state: 'closed', code: 4002, reason: 'kicked' });
  await sleep(300);
  assert.equal(states.items.length, 1);
});
