import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImClient, SeqTracker } from '../src/index.js';
import { PASSWORD, SERVER, collect, lossyWebSocket, newUser, nextEvent, sleep, startProxy, track, waitFor } from './helpers.mjs';

const T = { timeout: 30000 };

test('messages sent while a client was disconnected arrive by sync, in seq order, once', T, async (t) => {
  const proxy = await startProxy();
  t.after(() => proxy.close());
  const alice = await newUser('gapa');
  const bob = await newUser('gapb', { baseUrl: proxy.url });
  await Promise.all([alice.client.connect(), bob.client.connect()]);
  const firstSeen = nextEvent(bob.client, 'message');
  const first = await alice.client.sendMessage({ to: bob.userId, content: 'g0' });
  await firstSeen;
  const got = collect(bob.client, 'message');

  proxy.down = true;
  proxy.cut();
  await nextEvent(bob.client, 'state', (s) => s.state === 'reconnecting');
  const texts = ['g1', 'g2', 'g3', 'g4', 'g5'];
  for (const text of texts) await alice.client.sendMessage({ chatId: first.chatId, content: text });
  await sleep(100);
  assert.deepEqual(got.items, [], 'nothing reaches a disconnected client');

  proxy.down = false;
  await waitFor(() => got.items.length >= texts.length, 10000, 'the missed messages');
  await sleep(200);
  assert.deepEqual(got.items.map((m) => m.content.text), texts);
  assert.deepEqual(got.items.map((m) => m.seq), [2, 3, 4, 5, 6]);
  assert.equal(bob.client.lastSeq(first.chatId), 6);
  alice.client.close();
  bob.client.close();
});

test('a push lost on an open socket: the gap in seq is noticed and filled by messages.sync', T, async () => {
  const alice = await newUser('lossa');
  const sentFrames = [];
  const lost = new Set(['h2', 'h3']);
  const drop = (frame) => frame.event === 'onMessage' && lost.has(frame.data?.content?.text);
  const bob = await newUser('lossb', { WebSocket: lossyWebSocket(drop, sentFrames), gapWaitMs: 200 });
  await Promise.all([alice.client.connect(), bob.client.connect()]);
  const got = collect(bob.client, 'message');
  const raw = collect(bob.client, 'onMessage');
  const texts = ['h1', 'h2', 'h3', 'h4', 'h5'];
  let chatId;
  for (const text of texts) {
    const params = chatId === undefined ? { to: bob.userId } : { chatId };
    chatId = (await alice.client.sendMessage({ ...params, content: text })).chatId;
  }
  await waitFor(() => got.items.length >= texts.length, 10000, 'every message');
  await sleep(300);
  assert.deepEqual(raw.items.map((m) => m.content.text), ['h1', 'h4', 'h5'], 'two pushes were lost');
  assert.deepEqual(got.items.map((m) => m.content.text), texts);
  assert.deepEqual(got.items.map((m) => m.seq), [1, 2, 3, 4, 5]);
  const syncs = sentFrames.filter((f) => f.method === 'messages.sync');
  assert.ok(syncs.length >= 1, 'the gap was repaired by messages.sync');
  assert.equal(syncs[0].params.positions[String(chatId)], 1, 'from the last seq before the gap');
  alice.client.close();
  bob.client.close();
});

test("a fresh client starts at each chat's last seq; initialSync 'all' hands on the past too", T, async () => {
  const alice = await newUser('basea');
  const bob = await newUser('baseb');
  let chatId;
  for (const text of ['p1', 'p2', 'p3']) {
    const params = chatId === undefined ? { to: bob.userId } : { chatId };
    chatId = (await alice.client.rest('POST', '/api/v1/messages/send', { ...params, type: 1, content: text })).chatId;
  }
  const latest = track(new ImClient({ baseUrl: SERVER }));
  await latest.login(bob.username, PASSWORD);
  const latestGot = collect(latest, 'message');
  await latest.connect();
  assert.equal(latest.lastSeq(chatId), 3);

  const everything = track(new ImClient({ baseUrl: SERVER, initialSync: 'all' }));
  await everything.login(bob.username, PASSWORD);
  const allGot = collect(everything, 'message');
  await everything.connect();
  assert.deepEqual(allGot.items.map((m) => m.content.text), ['p1', 'p2', 'p3']);

  const next = nextEvent(latest, 'message');
  await alice.client.rest('POST', '/api/v1/messages/send', { chatId, type: 1, content: 'p4' });
  assert.equal((await next).content.text, 'p4');
  await sleep(200);
  assert.deepEqual(latestGot.items.map((m) => m.content.text), ['p4']);
  latest.close();
  everything.close();
});

test('with storage, a new client of the user gets only what came after the last one', T, async () => {
  const map = new Map();
  const storage = { get: (key) => map.get(key), set: (key, value) => { map.set(key, value); } };
  const alice = await newUser('sposa');
  const bob = await newUser('sposb', { storage });
  await bob.client.connect();
  const seen = nextEvent(bob.client, 'message');
  const first = await alice.client.rest('POST', '/api/v1/messages/send', { to: bob.userId, type: 1, content: 's1' });
  await seen;
  bob.client.close();
  for (const text of ['s2', 's3']) {
    await alice.client.rest('POST', '/api/v1/messages/send', { chatId: first.chatId, type: 1, content: text });
  }
  const again = track(new ImClient({ baseUrl: SERVER, storage, syncLimit: 1 })); // one message a page
  await again.login(bob.username, PASSWORD);
  const got = collect(again, 'message');
  await again.connect();
  assert.deepEqual(got.items.map((m) => m.content.text), ['s2', 's3']);
  assert.equal(again.lastSeq(first.chatId), 3);
  again.close();
});

test('pushes out of order are put in order without a sync when the missing one comes in time', async () => {
  const emitted = [];
  let syncs = 0;
  const tracker = new SeqTracker({ emit: (m) => emitted.push(m.seq), requestSync: () => { syncs += 1; }, gapWaitMs: 100 });
  tracker.add({ chatId: 9, seq: 1 }); // before the baseline: held
  assert.deepEqual(emitted, []);
  tracker.baseline([[9, 2], [-4, 0]]);
  assert.deepEqual(emitted, [], 'older than the baseline: history, not news');
  for (const seq of [4, 3, 3, 5, 2]) tracker.add({ chatId: 9, seq });
  tracker.add({ chatId: -4, seq: 1 });
  assert.deepEqual(emitted, [3, 4, 5, 1]);
  await sleep(200);
  assert.equal(syncs, 0);
  tracker.add({ chatId: 9, seq: 8 });
  await waitFor(() => syncs === 1, 5000, 'a sync for the gap that stays open');
  tracker.applySync({ chats: [{ chatId: 9, lastSeq: 9, messages: [{ chatId: 9, seq: 6 }, { chatId: 9, seq: 8 }] }], hasMore: false });
  assert.deepEqual(emitted, [3, 4, 5, 1, 6, 8], 'seq 7 was deleted for this user: sync skips it');
  assert.equal(tracker.lastSeq(9), 9);
  tracker.stop();
});
