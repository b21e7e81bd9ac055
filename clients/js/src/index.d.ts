// Types of @im-server/client. The method and push maps (Methods, Events) merge protocol.d.ts,
// generated from the server's AsyncAPI document (scripts/gen-types.mjs), with manual.d.ts,
// written by hand for what the SDK itself uses: a generated entry wins unless its reply is not
// described (unknown), and the hand-written ones fill the gaps.
import type { Events as GeneratedEvents, Methods as GeneratedMethods } from './protocol.js';
import type { ManualEvents, ManualMethods } from './manual.js';

export type * from './protocol.js';
export type {
  ChatInfo, Conversation, ManualEvents, ManualMethods, MessagesSendParams, MessagesSendReply, UserBrief,
} from './manual.js';

type Described<T> = unknown extends T ? false : true;
type MethodEntry<K> = K extends keyof GeneratedMethods
  ? GeneratedMethods[K] extends { reply: infer R }
    ? Described<R> extends true ? GeneratedMethods[K] : K extends keyof ManualMethods ? ManualMethods[K] : GeneratedMethods[K]
    : never
  : K extends keyof ManualMethods ? ManualMethods[K] : never;

/** Every socket method known to the types: `{params, reply}` by name. */
export type Methods = { [K in keyof GeneratedMethods | keyof ManualMethods]: MethodEntry<K> };

/** Every push known to the types: its `data` by event name. */
export type Events = {
  [K in keyof GeneratedEvents | keyof ManualEvents]: K extends keyof GeneratedEvents ? GeneratedEvents[K]
    : K extends keyof ManualEvents ? ManualEvents[K] : never
};

/** A chat message: the onMessage push, and what messages.sync and messages.history return. */
export type Message = Events['onMessage'];

export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Local failure reasons (the error never got a server answer). */
export type LocalReason = 'timeout' | 'disconnected' | 'closed' | 'overflow' | 'too_large' | 'network';

export declare class ImError extends Error {
  constructor(code: number, message: string,
    extra?: { method?: string; status?: number; error?: string; reason?: LocalReason });
  /** The server's code (socket reply code, REST body code, else HTTP status), a close code
   * (4001-4003) when the login ended, or the local code of `reason`. */
  code: number;
  /** The socket method, or "POST /api/v1/..." for REST. */
  method?: string;
  /** REST only: the HTTP status. */
  status?: number;
  /** REST only: the symbolic code, e.g. "username_taken". */
  error?: string;
  reason?: LocalReason;
}

export declare const LOCAL: Readonly<Record<LocalReason, number>>;
export declare const LOGIN_ENDED: Readonly<{ 4001: 'token'; 4002: 'kicked'; 4003: 'logout' }>;
export declare const MessageType: Readonly<{
  text: 1; redPacket: 2; image: 3; voice: 4; remittance: 5; video: 6; file: 7;
  location: 8; custom: 9; system: 10; exchange: 11; call: 12;
}>;
export type MessageTypeName = keyof typeof MessageType;

export declare function backoffDelay(attempt: number, options?: { minMs?: number; maxMs?: number },
  random?: () => number): number;

/** Key-value storage for seq positions and the outbox; values are JSON text. Sync or async. */
export interface ImStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
}

export interface ImClientOptions {
  /** REST base, e.g. "https://im.example.com"; the socket is ws(s)://same-host/ws/?token= */
  baseUrl: string;
  token?: string;
  userId?: number;
  WebSocket?: unknown;
  fetch?: typeof fetch;
  storage?: ImStorage;
  /** Default time allowed for a call's reply (ms, 15000). */
  callTimeoutMs?: number;
  /** Time allowed for one socket handshake (ms, 10000). */
  connectTimeoutMs?: number;
  restTimeoutMs?: number;
  uploadTimeoutMs?: number;
  /** system.heartbeat interval (ms, 60000; 0: none). A heartbeat without a reply drops the socket. */
  heartbeatMs?: number;
  reconnect?: { minMs?: number; maxMs?: number; maxAttempts?: number };
  maxPendingCalls?: number;
  maxOutbox?: number;
  maxFrameBytes?: number;
  /** messages.send frames in flight at once (16, the server's pipeline depth). */
  sendWindow?: number;
  maxSendRetries?: number;
  syncLimit?: number;
  maxSyncPages?: number;
  /** How long a gap in seq may stay open before messages.sync is called (ms, 500). */
  gapWaitMs?: number;
  /** First connect without stored positions: 'latest' starts at each chat's lastSeq, 'all'
   * hands on every message since each join. */
  initialSync?: 'latest' | 'all';
  storagePrefix?: string;
}

export interface AuthAnswer { userId: number; token: string }

export interface StateEvent {
  state: ClientState;
  /** reconnecting: the attempt number (from 1) and the delay before it */
  attempt?: number;
  delayMs?: number;
  /** reconnecting, closed: the close code that caused it */
  code?: number;
  /** closed: 'token' (4001) | 'kicked' (4002) | 'logout' (4003) | 'client' | 'gave_up' */
  reason?: string;
}

export interface SendMessageInput {
  chatId?: number;
  to?: number;
  type?: MessageTypeName | number;
  content: { [key: string]: unknown } | string;
  clientMsgId?: string;
  [extra: string]: unknown;
}

export interface PendingMessage {
  chatId?: number;
  to?: number;
  type: number;
  content: unknown;
  clientMsgId: string;
}

export interface ClientEvents {
  state: StateEvent;
  message: Message;
  push: { event: string; data: unknown };
  sent: { clientMsgId: string; message: Message };
  sendFailed: { clientMsgId: string; params: PendingMessage; error: ImError };
  error: unknown;
}

export type EventMap = ClientEvents & Events;

export interface UploadAnswer {
  mediaId: number;
  kind: 'image' | 'voice' | 'video' | 'file';
  url: string;
  name: string;
  contentType: string;
  size: number;
  width: number | null;
  height: number | null;
  duration: number | null;
}

export declare class ImClient {
  constructor(options: ImClientOptions);
  readonly baseUrl: string;
  token: string | undefined;
  userId: number | undefined;
  readonly state: ClientState;
  /** Messages queued and not yet acknowledged, oldest first. */
  readonly pending: PendingMessage[];

  login(username: string, password: string, options?: { device?: string }): Promise<AuthAnswer>;
  register(input: { username: string; password: string; phone?: string | null; device?: string }): Promise<AuthAnswer>;
  logout(): Promise<void>;

  connect(options?: { timeoutMs?: number }): Promise<void>;
  close(): void;

  /** A method of the Methods map: its params and reply are typed. */
  call<M extends keyof Methods>(method: M, params?: Methods[M]['params'], options?: { timeoutMs?: number }): Promise<Methods[M]['reply']>;
  /** Any other method (one the type maps do not know yet). */
  call<M extends string>(method: M extends keyof Methods ? never : M, params?: object, options?: { timeoutMs?: number }): Promise<unknown>;

  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof EventMap>(name: K, handler: (value: EventMap[K]) => void): () => void;
  on<K extends string>(name: K extends keyof EventMap ? never : K, handler: (value: unknown) => void): () => void;
  once<K extends keyof EventMap>(name: K, handler: (value: EventMap[K]) => void): () => void;
  once<K extends string>(name: K extends keyof EventMap ? never : K, handler: (value: unknown) => void): () => void;
  off(name: string, handler: (value: any) => void): void;

  sendMessage(message: SendMessageInput): Promise<Message>;
  lastSeq(chatId: number): number;
  sync(): Promise<void>;

  rest<T = any>(method: string, path: string, body?: unknown, options?: { timeoutMs?: number }): Promise<T>;
  uploadMedia(file: Blob, options?: { kind?: UploadAnswer['kind']; duration?: number; name?: string; timeoutMs?: number }): Promise<UploadAnswer>;
}
