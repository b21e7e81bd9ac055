#!/usr/bin/env node
// Generate the SDK's method and push type maps (src/protocol.d.ts) from the server's AsyncAPI 3
// document (GET /api/asyncapi.json); src/index.d.ts merges them with the hand-written ones of
// src/manual.d.ts. Usage:
//
//   node scripts/gen-types.mjs http://127.0.0.1:8000/api/asyncapi.json            # -> src/protocol.d.ts
//   node scripts/gen-types.mjs asyncapi.json src/protocol.d.ts
//   node scripts/gen-types.mjs asyncapi.json -                                     # -> stdout
//
// The input shape it expects is described in README.md ("Types"): the channel at `/ws/`; one
// operation per socket method, named by the method, whose message payload is the method's
// params and whose `reply` message payload is its reply `data`; pushes as operations without a
// reply whose messages are named by the event, payload the push's `data`. Payloads may also be
// whole frames ({id, method, params} / {id, code, data} / {event, data}): they are unwrapped.
// components.schemas are JSON Schema as drf-spectacular writes it (OpenAPI's `nullable` too).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const MAX_BYTES = 20 * 1024 * 1024;
const MAX_DEPTH = 40;

/** The value at a local `$ref` ("#/components/schemas/X"), or undefined. */
function pointer(doc, ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined;
  let node = doc;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Follow `$ref`s (not into components.schemas, which become named types) up to a bound. */
function deref(doc, node) {
  for (let i = 0; i < 20 && node && typeof node === 'object' && typeof node.$ref === 'string'; i += 1) {
    const target = pointer(doc, node.$ref);
    if (target === undefined) throw new Error(`unresolved $ref ${node.$ref}`);
    node = target;
  }
  return node;
}

function asList(value) {
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object') return Object.values(value);
  return [];
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (name) => (IDENT.test(name) ? name : JSON.stringify(name));

// TypeScript's own global types, which a schema of the same name would hide in the generated file.
const GLOBAL_TYPES = new Set(['Array', 'Boolean', 'Date', 'Error', 'Exclude', 'Extract', 'Map', 'Number', 'Object',
  'Omit', 'Partial', 'Pick', 'Promise', 'Readonly', 'Record', 'Required', 'Set', 'String', 'Symbol']);

export function typeName(name) {
  const cleaned = String(name).replace(/[^A-Za-z0-9_$]+(.)?/g, (_, c) => (c ? c.toUpperCase() : ''));
  const safe = /^[A-Za-z_$]/.test(cleaned) ? cleaned : `T${cleaned}`;
  const typed = safe.charAt(0).toUpperCase() + safe.slice(1);
  return GLOBAL_TYPES.has(typed) ? `${typed}Schema` : typed;
}

function comment(text, indent) {
  if (!text || typeof text !== 'string') return '';
  const lines = text.replace(/\*\//g, '*\\/').trim().split('\n');
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`).join('\n')}\n${indent} */\n`;
}

/** JSON Schema (2020-12 or OpenAPI 3.0 flavoured) to a TypeScript type expression. */
export function tsType(schema, ctx, depth = 0, indent = '') {
  if (depth > MAX_DEPTH) return 'unknown';
  if (schema === true || schema === undefined || schema === null) return 'unknown';
  if (schema === false) return 'never';
  if (typeof schema !== 'object') return 'unknown';
  const nullable = schema.nullable === true;
  const withNull = (t) => (nullable && t !== 'unknown' && t !== 'null' ? `${t} | null` : t);
  if (typeof schema.$ref === 'string') {
    const match = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref);
    if (match) {
      const name = decodeURIComponent(match[1]);
      ctx.used.add(name);
      return withNull(ctx.names.get(name) ?? typeName(name));
    }
    return withNull(tsType(deref(ctx.doc, schema), ctx, depth + 1, indent));
  }
  if ('const' in schema) return withNull(JSON.stringify(schema.const));
  if (Array.isArray(schema.enum)) {
    const values = schema.enum.map((v) => (v === null ? 'null' : JSON.stringify(v)));
    return withNull([...new Set(values)].join(' | ') || 'never');
  }
  for (const combinator of ['oneOf', 'anyOf']) {
    if (Array.isArray(schema[combinator])) {
      const parts = schema[combinator].map((s) => tsType(s, ctx, depth + 1, indent));
      return withNull(parenthesize([...new Set(parts)]).join(' | '));
    }
  }
  if (Array.isArray(schema.allOf)) {
    const parts = schema.allOf.map((s) => tsType(s, ctx, depth + 1, indent));
    return withNull(parenthesize(parts).join(' & '));
  }
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (!types.length) {
    if (schema.properties || schema.additionalProperties !== undefined) types.push('object');
    else if (schema.items || schema.prefixItems) types.push('array');
    else return 'unknown';
  }
  const parts = types.map((type) => {
    switch (type) {
      case 'string': return schema.format === 'binary' ? 'Blob' : 'string';
      case 'integer':
      case 'number': return 'number';
      case 'boolean': return 'boolean';
      case 'null': return 'null';
      case 'array': return arrayType(schema, ctx, depth, indent);
      case 'object': return objectType(schema, ctx, depth, indent);
      default: return 'unknown';
    }
  });
  return withNull(parenthesize([...new Set(parts)]).join(' | '));
}

function parenthesize(parts) {
  return parts.length > 1 ? parts.map((p) => (/[|&]/.test(p) && !p.startsWith('{') ? `(${p})` : p)) : parts;
}

function arrayType(schema, ctx, depth, indent) {
  if (Array.isArray(schema.prefixItems)) {
    return `[${schema.prefixItems.map((s) => tsType(s, ctx, depth + 1, indent)).join(', ')}]`;
  }
  const item = tsType(schema.items, ctx, depth + 1, indent);
  return /[|& ]/.test(item) && !item.startsWith('{') ? `(${item})[]` : `${item}[]`;
}

function objectType(schema, ctx, depth, indent) {
  const properties = schema.properties && typeof schema.properties === 'object' ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const inner = `${indent}  `;
  const lines = Object.entries(properties).map(([name, prop]) => {
    const optional = required.has(name) ? '' : '?';
    const doc = comment(prop?.description, inner);
    return `${doc}${inner}${key(name)}${optional}: ${tsType(prop, ctx, depth + 1, inner)};`;
  });
  const extra = schema.additionalProperties;
  if (extra === false) {
    if (!lines.length) return 'Record<string, never>';
  } else if (extra && typeof extra === 'object') {
    lines.push(`${inner}[key: string]: ${tsType(extra, ctx, depth + 1, inner)};`);
  } else if (!lines.length) {
    return '{ [key: string]: unknown }';
  }
  return `{\n${lines.join('\n')}\n${indent}}`;
}

/** A payload without its frame, if it is a whole frame: params / data. */
function unwrap(doc, payload, field) {
  const resolved = deref(doc, payload);
  const props = resolved?.properties;
  if (props && typeof props === 'object') {
    // A request frame: its params (none declared: the method takes none).
    if (field === 'params' && props.method) return props.params;
    if (field === 'data' && props.data && (props.code || props.event || props.id)) return props.data;
  }
  return payload;
}

function messagesOf(doc, holder) {
  return asList(holder?.messages).map((m) => deref(doc, m)).filter((m) => m && typeof m === 'object');
}

function wsChannels(doc) {
  const channels = Object.entries(doc.channels ?? {});
  const ws = channels.filter(([, c]) => typeof c?.address === 'string' && /(^|\/)ws\/?$/.test(c.address.replace(/\?.*$/, '')));
  return new Set((ws.length ? ws : channels).map(([, c]) => c));
}

/**
 * The socket's methods and pushes from an AsyncAPI 3 document:
 * `{methods: Map<name, {params, reply, description}>, events: Map<name, {data, description}>}`.
 */
export function readContract(doc) {
  if (!doc || typeof doc !== 'object') throw new Error('the document is not a JSON object');
  if (typeof doc.asyncapi !== 'string') throw new Error('not an AsyncAPI document (no "asyncapi" version field)');
  if (!doc.asyncapi.startsWith('3.')) throw new Error(`AsyncAPI ${doc.asyncapi}: version 3 is expected`);
  const channels = wsChannels(doc);
  const methods = new Map();
  const events = new Map();
  for (const [opKey, rawOp] of Object.entries(doc.operations ?? {})) {
    const op = deref(doc, rawOp);
    if (!op || typeof op !== 'object') continue;
    const channel = deref(doc, op.channel);
    if (channel && channels.size && !channels.has(channel)) continue;
    const messages = messagesOf(doc, op).length ? messagesOf(doc, op) : messagesOf(doc, channel);
    const description = op.summary ?? op.description ?? messages[0]?.summary ?? messages[0]?.description;
    if (op.reply) {
      const reply = deref(doc, op.reply);
      const name = op['x-method'] ?? opKey;
      const request = messages[0];
      const replyMessage = messagesOf(doc, reply)[0] ?? messagesOf(doc, deref(doc, reply.channel))[0];
      methods.set(name, {
        params: request ? unwrap(doc, request.payload, 'params') : undefined,
        reply: replyMessage ? unwrap(doc, replyMessage.payload, 'data') : undefined,
        description,
      });
    } else {
      for (const message of messages) {
        const name = op['x-event'] ?? message.name ?? opKey;
        events.set(name, { data: unwrap(doc, message.payload, 'data'), description: message.summary ?? message.description ?? description });
      }
    }
  }
  if (!methods.size) throw new Error('no socket method found: expected operations with a reply on the /ws/ channel');
  return { methods, events };
}

/** The text of protocol.d.ts for an AsyncAPI 3 document. */
export function generate(doc, { source = 'the AsyncAPI document' } = {}) {
  const { methods, events } = readContract(doc);
  const schemas = doc.components?.schemas ?? {};
  const names = new Map();
  const taken = new Set(['Methods', 'Events']);
  for (const name of Object.keys(schemas)) {
    let candidate = typeName(name);
    while (taken.has(candidate)) candidate += '_';
    taken.add(candidate);
    names.set(name, candidate);
  }
  const ctx = { doc, names, used: new Set() };
  const out = [];
  out.push('// Generated by scripts/gen-types.mjs from ' + source.replace(/\n/g, ' ') + '. Do not edit:');
  out.push('// run `npm run gen-types -- <document>` again instead.');
  out.push('');
  const methodLines = [...methods.keys()].sort().map((name) => {
    const { params, reply, description } = methods.get(name);
    const p = params === undefined ? 'Record<string, never>' : tsType(params, ctx, 0, '    ');
    const r = reply === undefined ? 'unknown' : tsType(reply, ctx, 0, '    ');
    return `${comment(description, '  ')}  ${JSON.stringify(name)}: {\n    params: ${p};\n    reply: ${r};\n  };`;
  });
  const eventLines = [...events.keys()].sort().map((name) => {
    const { data, description } = events.get(name);
    return `${comment(description, '  ')}  ${JSON.stringify(name)}: ${tsType(data, ctx, 0, '  ')};`;
  });
  for (const [name, schema] of Object.entries(schemas)) {
    const body = tsType(schema, ctx, 0, '');
    out.push(`${comment(schema?.description, '')}export type ${names.get(name)} = ${body};`);
    out.push('');
  }
  out.push('/** Every socket method: its params and its reply data. */');
  out.push(`export interface Methods {\n${methodLines.join('\n')}\n}`);
  out.push('');
  out.push('/** Every push: its data, by event name. */');
  out.push(`export interface Events {\n${eventLines.join('\n')}\n}`);
  out.push('');
  return out.join('\n');
}

async function readSource(source) {
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source, { signal: AbortSignal.timeout(15000), headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`GET ${source}: HTTP ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_BYTES) throw new Error(`${source}: larger than ${MAX_BYTES} bytes`);
    return text;
  }
  const text = await readFile(source, 'utf8');
  if (text.length > MAX_BYTES) throw new Error(`${source}: larger than ${MAX_BYTES} bytes`);
  return text;
}

async function main(argv) {
  const [source, target = fileURLToPath(new URL('../src/protocol.d.ts', import.meta.url))] = argv;
  if (!source || source === '-h' || source === '--help') {
    console.error('usage: node scripts/gen-types.mjs <asyncapi.json | URL> [out.d.ts | -]');
    return 2;
  }
  const doc = JSON.parse(await readSource(source));
  const text = generate(doc, { source: /^https?:/.test(source) ? new URL(source).pathname : 'asyncapi.json' });
  if (target === '-') process.stdout.write(text);
  else {
    await writeFile(target, text);
    const { methods, events } = readContract(doc);
    console.error(`${target}: ${methods.size} methods, ${events.size} events`);
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error) => {
    console.error(`gen-types: ${error.message}`);
    process.exitCode = 1;
  });
}
