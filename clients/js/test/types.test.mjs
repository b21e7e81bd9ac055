import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generate, readContract } from '../scripts/gen-types.mjs';
import { SERVER } from './helpers.mjs';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../scripts/gen-types.mjs', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/asyncapi.json', import.meta.url));
/** The methods and pushes the SDK itself relies on. */
const SDK_METHODS = ['messages.send', 'messages.sync', 'messages.conversations', 'web.account.myInfo', 'system.heartbeat'];

test('gen-types: methods from operations with a reply, events from the others, on the /ws/ channel only', async () => {
  // The fixture is a part of the server's document (frames as payloads, a method without
  // params, a reply not described yet, the J-IM channel beside) plus hand-made cases.
  const doc = JSON.parse(await readFile(fixture, 'utf8'));
  const { methods, events } = readContract(doc);
  assert.deepEqual([...methods.keys()].sort(),
    ['accounts.toggleMultiOnline', 'messages.send', 'messages.sync', 'system.heartbeat', 'users.info']);
  assert.deepEqual([...events.keys()].sort(), ['accounts.onKicked', 'onMessage', 'presence.onUpdate']);
  const text = generate(doc);
  // components.schemas become named types, with their descriptions
  assert.match(text, /export type UsersInfoReply = \{\n  uId: number;\n  \/\*\* family name/);
  assert.match(text, /"onMessage": Message;/);
  // a reply declared as a list of objects
  assert.match(text, /"users\.info": \{\n {4}params: UsersInfoParamsRequest;\n {4}reply: UsersInfoReply\[\];/);
  // request frames give their params (none: an empty object), reply frames their data
  assert.match(text, /"system\.heartbeat": \{\n {4}params: Record<string, never>;\n {4}reply: SystemHeartbeatReply;/);
  assert.match(text, /"messages\.sync": \{\n {4}params: \{\n {6}positions: \{\n {8}\[key: string\]: number;/);
  assert.match(text, /chats: SyncChat\[\];\n {6}hasMore: boolean;/);
  // a reply the document does not describe yet
  assert.match(text, /"messages\.send": \{\n {4}params: MessagesSendParamsRequest;\n {4}reply: unknown;/);
  // OpenAPI nullable, JSON Schema null, enums of numbers and strings, optional keys
  assert.match(text, /clientMsgId: string \| null;/);
  assert.match(text, /lastSeen: number \| null;/);
  assert.match(text, /export type MessagesSendParamsTypeEnum = 1 \| 2 \| 3 /);
  assert.match(text, /export type ReasonEnum = "login_elsewhere";/);
  assert.match(text, /recalled\?: boolean;/);
  assert.doesNotMatch(text, /jim\./);
});

test('gen-types: the command line writes the file; a document that is not AsyncAPI 3 is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gen-types-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'protocol.d.ts');
  const { stderr } = await run(process.execPath, [script, fixture, out], { timeout: 20000 });
  assert.match(stderr, /5 methods, 3 events/);
  assert.match(await readFile(out, 'utf8'), /export interface Methods \{/);

  const openapi = join(dir, 'openapi.json');
  await writeFile(openapi, JSON.stringify({ openapi: '3.0.3', paths: {} }));
  const failed = await run(process.execPath, [script, openapi, join(dir, 'x.d.ts')], { timeout: 20000 }).then(() => null, (e) => e);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /not an AsyncAPI document/);
  assert.throws(() => readContract({ asyncapi: '3.0.0', channels: {}, operations: {} }), /no socket method found/);
});

test("gen-types on the server's own /api/asyncapi.json gives the committed src/protocol.d.ts", async () => {
  const response = await fetch(`${SERVER}/api/asyncapi.json`, { signal: AbortSignal.timeout(15000) });
  assert.equal(response.status, 200);
  const doc = await response.json();
  const { methods, events } = readContract(doc);
  for (const name of SDK_METHODS) assert.ok(methods.has(name), `the document declares ${name}`);
  assert.ok(events.has('accounts.onKicked'), 'the document declares the pushes');
  const text = generate(doc, { source: "the server's /api/asyncapi.json" });
  assert.match(text, /"messages\.send": \{/);
  // The committed types are the server's contract: regenerate them when it changes.
  const committed = await readFile(fileURLToPath(new URL('../src/protocol.d.ts', import.meta.url)), 'utf8');
  const body = (s) => s.slice(s.indexOf('\n') + 1); // past the line naming the source
  assert.ok(body(committed) === body(text), 'src/protocol.d.ts is not what the server publishes: run '
    + '`npm run gen-types -- http://HOST/api/asyncapi.json` in clients/js and commit it');
});

/** tsc from TSC, or from clients/js/node_modules (npm install); null without TypeScript. */
function findTsc() {
  if (process.env.TSC) return process.env.TSC;
  const local = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  return existsSync(local) ? local : null;
}

test('index.d.ts type-checks an application, with the hand-written and with generated maps', { timeout: 120000 }, async (t) => {
  const tsc = findTsc();
  if (!tsc) {
    t.skip('TypeScript is not installed (npm install in clients/js, or TSC=/path/to/tsc)');
    return;
  }
  const node = tsc.endsWith('.js') || tsc.endsWith('/bin/tsc') ? [process.execPath, tsc] : [tsc];
  const project = fileURLToPath(new URL('./typecheck', import.meta.url));
  const first = await run(node[0], [...node.slice(1), '-p', project], { timeout: 100000 }).then(() => null, (e) => e);
  assert.equal(first, null, first && `${first.stdout}${first.stderr}`);

  // The same declarations over maps generated from the fixture document.
  const dir = await mkdtemp(join(tmpdir(), 'gen-check-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'src'));
  for (const name of ['index.d.ts', 'manual.d.ts']) {
    await copyFile(fileURLToPath(new URL(`../src/${name}`, import.meta.url)), join(dir, 'src', name));
  }
  await run(process.execPath, [script, fixture, join(dir, 'src', 'protocol.d.ts')], { timeout: 20000 });
  await writeFile(join(dir, 'use.ts'), [
    "import { ImClient } from './src/index.js';",
    "const c = new ImClient({ baseUrl: 'http://x' });",
    "export const p = c.call('messages.sync', { positions: { '1': 2 } }).then((r) => r.chats[0].messages[0].seq + (r.hasMore ? 1 : 0));",
    "c.on('presence.onUpdate', (u) => u.lastSeen ?? u.uId);",
    "// not in the document: the hand-written entries apply",
    "export const s = c.call('messages.send', { to: 1, type: 1, content: 'x' }).then((r) => r.seq);",
    "c.on('messages.onRead', (r) => r.seq);",
    "// @ts-expect-error: uIds is a list of numbers",
    "c.call('users.info', { uIds: 'x' });",
  ].join('\n'));
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM'], types: [] },
    files: ['use.ts'],
  }));
  const second = await run(node[0], [...node.slice(1), '-p', dir], { timeout: 100000 }).then(() => null, (e) => e);
  assert.equal(second, null, second && `${second.stdout}${second.stderr}`);
});
