import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImClient, ImError } from '../src/index.js';
import { PASSWORD, SERVER, newUser, uniqueName } from './helpers.mjs';

test('register logs in: the token works for REST and the socket', async () => {
  const { client, username, userId } = await newUser('reg');
  assert.ok(Number.isInteger(userId) && userId > 0);
  assert.equal(typeof client.token, 'string');
  const me = await client.rest('GET', '/api/v1/me');
  assert.equal(me.uId, userId);
  assert.equal(me.userName, username);
  await client.connect();
  const info = await client.call('web.account.myInfo');
  assert.equal(info.uId, userId);
  client.close();
});

test('register refuses a taken username with the server code', async () => {
  const { username } = await newUser('taken');
  const other = new ImClient({ baseUrl: SERVER });
  const error = await other.register({ username, password: PASSWORD }).then(() => null, (e) => e);
  assert.ok(error instanceof ImError);
  assert.equal(error.status, 409);
  assert.equal(error.error, 'username_taken');
  assert.equal(other.token, undefined);
});

test('login answers a new session; a wrong password is an ImError 401', async () => {
  const { username, userId, token } = await newUser('login');
  const client = new ImClient({ baseUrl: SERVER });
  const answer = await client.login(username, PASSWORD, { device: 'test' });
  assert.equal(answer.userId, userId);
  assert.equal(client.userId, userId);
  assert.notEqual(client.token, token);
  const wrong = await new ImClient({ baseUrl: SERVER }).login(username, 'not-the-password').then(() => null, (e) => e);
  assert.ok(wrong instanceof ImError);
  assert.equal(wrong.code, 401);
  assert.equal(wrong.error, 'invalid_credentials');
});

test('logout ends the session: its token no longer works and the socket closes with 4003', async () => {
  const { client, token } = await newUser('logout');
  await client.connect();
  const states = [];
  client.on('state', (s) => states.push(s));
  await client.logout();
  assert.equal(client.state, 'closed');
  assert.equal(client.token, undefined);
  assert.deepEqual(states.at(-1), { state: 'closed', code: 4003, reason: 'logout' });
  const stale = new ImClient({ baseUrl: SERVER, token });
  const error = await stale.rest('GET', '/api/v1/me').then(() => null, (e) => e);
  assert.equal(error?.status, 401);
});

test('rest(): GET parameters go in the query string, POST bodies as JSON, refusals as ImError', async () => {
  const alice = await newUser('resta');
  const bob = await newUser('restb');
  const briefs = await alice.client.rest('GET', '/api/v1/users', { uIds: [alice.userId, bob.userId] });
  assert.deepEqual(briefs.map((b) => b.userName).sort(), [alice.username, bob.username].sort());
  const sent = await alice.client.rest('POST', '/api/v1/messages/send',
    { to: bob.userId, type: 1, content: { text: 'over REST' }, clientMsgId: uniqueName('c') });
  assert.equal(sent.seq, 1);
  const history = await bob.client.rest('GET', '/api/v1/messages/history', { chatId: sent.chatId });
  assert.deepEqual(history.messages.map((m) => m.content.text), ['over REST']);
  const refused = await alice.client.rest('POST', '/api/v1/messages/send', { to: alice.userId, type: 1, content: 'me' })
    .then(() => null, (e) => e);
  assert.ok(refused instanceof ImError);
  assert.equal(refused.code, 422);
  assert.equal(refused.status, 400);
  assert.equal(refused.method, 'POST /api/v1/messages/send');
});

test('uploadMedia() sends a multipart upload; the media goes out in a message', async () => {
  const alice = await newUser('media');
  const bob = await newUser('mediab');
  const file = new Blob(['hello, file'], { type: 'text/plain' });
  const upload = await alice.client.uploadMedia(file, { kind: 'file', name: 'note.txt' });
  assert.equal(upload.kind, 'file');
  assert.equal(upload.name, 'note.txt');
  assert.equal(upload.size, 11);
  await alice.client.connect();
  const sent = await alice.client.sendMessage({ to: bob.userId, type: 'file', content: { mediaId: upload.mediaId } });
  const [stored] = (await bob.client.rest('GET', '/api/v1/messages/history', { chatId: sent.chatId })).messages;
  assert.equal(stored.type, 7);
  assert.equal(stored.content.mediaId, upload.mediaId);
  assert.equal(stored.content.name, 'note.txt');
  alice.client.close();
});
