import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImClient } from '../src/index.js';
import { PASSWORD, collect, history, newUser, nextEvent, sleep, startProxy, track } from './helpers.mjs';

const T = { timeout: 30000 };

test('messages sent while the network is down are delivered once each, in order, after the reconnect', T, async (t) => {
  const proxy = await startProxy();
  t.after(() => proxy.close());
  const alice = await newUser('outa', { baseUrl: proxy.url });
  const bob = await newUser('outb');
  await Promise.all([alice.client.connect(), bob.client.connect()]);
  const seen = nextEvent(bob.client, 'message');
  const first = await alice.client.sendMessage({ to: bob.userId, content: 'before the cut' });
  await seen;
  const bobGot = collect(bob.client, 'message');

  proxy.down = true;
  proxy.cut();
  await nextEvent(alice.client, 'state', (s) => s.state === 'reconnecting');
  const texts = ['one', 'two', 'three', 'four', 'five'];
  const promises = texts.map((text) => alice.client.sendMessage({ chatId: first.chatId, content: { text } }));
  assert.deepEqual(alice.client.pending.map((p) => p.content.text), texts);
  const clientMsgIds = alice.client.pending.map((p) => p.clientMsgId);
  await sleep(300);
  assert.equal((await history(bob.client, first.chatId)).length, 1, 'nothing is stored while the network is down');

  proxy.down = false;
  const sent = await Promise.all(promises);
  assert.deepEqual(alice.client.pending, []);
  assert.deepEqual(sent.map((m) => m.clientMsgId), clientMsgIds);
  assert.deepEqual(sent.map((m) => m.seq), [2, 3, 4, 5, 6]);

  const stored = await history(bob.client, first.chatId);
  assert.deepEqual(stored.map((m) => m.content.text), ['before the cut', ...texts], 'none lost, none twice');
  assert.deepEqual(stored.slice(1).map((m) => m.clientMsgId), clientMsgIds);
  assert.deepEqual(stored.slice(1).map((m) => m.messageId), sent.map((m) => m.messageId));
  await sleep(200);
  assert.deepEqual(bobGot.items.map((m) => m.content.text), texts);
  alice.client.close();
  bob.client.close();
});

test('a message whose reply was lost is resent with its clientMsgId and stored once', T, async (t) => {
  const proxy = await startProxy();
  t.after(() => proxy.close());
  const alice = await newUser('losta', { baseUrl: proxy.url, callTimeoutMs: 20000 });
  const bob = await newUser('lostb');
  await Promise.all([alice.client.connect(), bob.client.connect()]);
  const first = await alice.client.sendMessage({ to: bob.userId, content: 'hello' });
  const aliceGot = collect(alice.client, 'message');

  proxy.muteReplies = true; // the request reaches the server, its answer never comes back
  const promise = alice.client.sendMessage({ chatId: first.chatId, content: { text: 'reply lost' } });
  const pushed = await nextEvent(bob.client, 'message', (m) => m.content.text === 'reply lost');
  assert.equal(alice.client.pending.length, 1, 'stored, but not acknowledged to the sender');
  proxy.cut();
  proxy.muteReplies = false;

  const stored = await promise;
  assert.equal(stored.messageId, pushed.messageId);
  assert.equal(stored.seq, pushed.seq);
  const all = await history(bob.client, first.chatId);
  assert.deepEqual(all.map((m) => m.content.text), ['hello', 'reply lost']);
  await sleep(200);
  assert.deepEqual(aliceGot.items.map((m) => m.messageId), [pushed.messageId], "alice's own message once");
  alice.client.close();
  bob.client.close();
});

test('a refused message leaves the outbox and rejects with the server code', T, async () => {
  const alice = await newUser('refa');
  await alice.client.connect();
  const failed = nextEvent(alice.client, 'sendFailed');
  const error = await alice.client.sendMessage({ to: alice.userId, content: 'to myself' }).then(() => null, (e) => e);
  assert.equal(error.code, 422);
  assert.equal((await failed).error, error);
  assert.deepEqual(alice.client.pending, []);
  alice.client.close();
});

test('with storage, a message queued when the client closed is sent by the next client of that user', T, async (t) => {
  const proxy = await startProxy();
  t.after(() => proxy.close());
  const map = new Map();
  const storage = { get: (key) => map.get(key), set: (key, value) => { map.set(key, value); } };
  const alice = await newUser('stora', { baseUrl: proxy.url, storage });
  const bob = await newUser('storb');
  await Promise.all([alice.client.connect(), bob.client.connect()]);
  const first = await alice.client.sendMessage({ to: bob.userId, content: 'first' });
  proxy.down = true;
  proxy.cut();
  await nextEvent(alice.client, 'state', (s) => s.state === 'reconnecting');
  const queued = alice.client.sendMessage({ chatId: first.chatId, content: 'queued', clientMsgId: `q-${Date.now()}` });
  alice.client.close();
  assert.equal((await queued.then(() => null, (e) => e)).reason, 'closed');
  assert.equal(alice.client.pending.length, 1, 'kept for the next connect');

  proxy.down = false;
  const again = track(new ImClient({ baseUrl: proxy.url, storage }));
  await again.login(alice.username, PASSWORD);
  assert.deepEqual(again.pending.map((p) => p.content), ['queued']);
  const sent = nextEvent(again, 'sent');
  await again.connect();
  const { message } = await sent;
  assert.equal(message.content.text, 'queued');
  const all = await history(bob.client, first.chatId);
  assert.deepEqual(all.map((m) => m.content.text), ['first', 'queued']);
  again.close();
  bob.client.close();
});
