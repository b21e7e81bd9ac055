// Compiled with `tsc --noEmit -p test/typecheck` (when TypeScript is at hand): the declarations
// in src/index.d.ts fit the way an application uses the SDK. Never run.
import { ImClient, ImError, MessageType, type Message, type StateEvent } from '../../src/index.js';

export async function usage(): Promise<void> {
  const client = new ImClient({ baseUrl: 'http://127.0.0.1:8000', reconnect: { minMs: 500, maxMs: 15000 } });
  const { userId, token } = await client.login('alice', 'secret123', { device: 'web' });
  const n: number = userId;
  const t: string = token;
  await client.connect({ timeoutMs: 5000 });
  client.on('state', (s: StateEvent) => console.log(s.state, s.attempt, s.delayMs, n, t));
  client.on('message', (m: Message) => console.log(m.chatId, m.seq, m.content));
  client.on('messages.onRead', (r) => console.log(r.chatId + r.seq + r.uId));
  client.on('onMessage', (m) => console.log(m.messageId));
  client.on('some.future.push', (data) => console.log(data));
  const briefs = await client.call('users.info', { uIds: [2] });
  console.log(briefs[0].userName.toUpperCase());
  const sync = await client.call('messages.sync', { positions: { '-5': 40 }, limit: 100 });
  console.log(sync.hasMore, sync.chats[0]?.messages[0]?.seq);
  const anything = await client.call('wallet.info', {});
  console.log(anything);
  const sent: Message = await client.sendMessage({ chatId: -5, type: 'text', content: { text: 'hi' } });
  await client.sendMessage({ to: 2, type: MessageType.image, content: { mediaId: 1 } });
  console.log(sent.seq, client.lastSeq(sent.chatId), client.pending.length, client.state);
  const me = await client.rest<{ uId: number }>('GET', '/api/v1/me');
  console.log(me.uId);
  const upload = await client.uploadMedia(new Blob(['x']), { kind: 'image' });
  console.log(upload.mediaId);
  try {
    await client.call('users.info', { uIds: [1] }, { timeoutMs: 100 });
  } catch (error) {
    if (error instanceof ImError) console.log(error.code, error.method, error.reason);
  }
  client.close();
  await client.logout();
}

// @ts-expect-error: users.info takes uIds
void new ImClient({ baseUrl: '' }).call('users.info', { ids: [1] });
// @ts-expect-error: the state handler receives a StateEvent
new ImClient({ baseUrl: '' }).on('state', (s: number) => s);
