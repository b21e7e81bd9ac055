// The socket methods and pushes the SDK uses, written by hand from docs/protocol.md and
// docs/messaging.md. index.d.ts merges them with the maps generated from the server's AsyncAPI
// document (protocol.d.ts): a generated entry wins, unless the document does not describe its
// reply yet; these fill what the document lacks.

export interface UserBrief {
  uId: number;
  firstName: string;
  lastName: string;
  userName: string;
  avatar: string;
  isInternal: boolean;
}

/** A chat message as pushed (onMessage) and returned by messages.sync / history. */
export interface Message {
  messageId: number;
  chatId: number;
  seq: number;
  from: number;
  /** 1 text, 2 red packet, 3 image, 4 voice, 5 remittance, 6 video, 7 file, 8 location,
   * 9 custom, 10 system, 11 coin exchange offer, 12 call record */
  type: number;
  subType: number;
  content: { [key: string]: unknown };
  clientMsgId: string | null;
  createAt: number;
  recalled?: boolean;
}

export interface ChatInfo {
  chatId: number;
  kind: 'private' | 'group' | 'supergroup';
  title: string;
  avatar: string;
  memo: string;
  ownerId: number | null;
  memberCount: number;
  lastSeq: number;
  createAt: number;
  role: 'owner' | 'admin' | 'member';
  readSeq: number;
  mutedUntil: number | null;
  userIds?: [number, number];
}

export interface Conversation extends ChatInfo {
  unread: number;
  lastMessage: Message | null;
}

export interface MessagesSendParams {
  to?: number;
  chatId?: number;
  type: number;
  content: { [key: string]: unknown } | string;
  clientMsgId?: string;
}

export interface MessagesSendReply {
  messageId: number;
  chatId: number;
  seq: number;
  createAt: number;
}

export interface ManualMethods {
  'system.heartbeat': { params: Record<string, never>; reply: { server_time: number } };
  'system.synctime': { params: { client_time?: number }; reply: { [key: string]: unknown } };
  'system.relayData': {
    params: { action: string; to: number[]; data?: unknown };
    reply: Record<string, never>;
  };
  'users.info': { params: { uIds: number[] }; reply: UserBrief[] };
  'web.account.myInfo': {
    params: Record<string, never>;
    reply: UserBrief & { hasPassword: boolean; phone: string | null; multiOnline: boolean;
      phoneSearchable: boolean; friendAdd: string };
  };
  'accounts.logout': { params: Record<string, never>; reply: Record<string, never> };
  'accounts.toggleMultiOnline': { params: { isOn: boolean }; reply: Record<string, never> };
  'accounts.getMultiOnline': { params: Record<string, never>; reply: { isOn: boolean } };
  'messages.send': { params: MessagesSendParams; reply: MessagesSendReply };
  'messages.sync': {
    params: { positions: { [chatId: string]: number }; limit?: number };
    reply: {
      chats: { chatId: number; lastSeq: number; readSeq: number; messages: Message[] }[];
      hasMore: boolean;
    };
  };
  'messages.history': {
    params: { chatId: number; beforeSeq?: number; limit?: number };
    reply: { chatId: number; messages: Message[]; hasMore: boolean };
  };
  'messages.conversations': { params: Record<string, never>; reply: Conversation[] };
  'messages.read': { params: { chatId: number; seq: number }; reply: { readSeq: number } };
  'messages.recall': { params: { chatId: number; messageId: number }; reply: Record<string, never> };
  'messages.delete': { params: { chatId: number; messageIds: number[] }; reply: { deleted: number } };
  'messages.typing': { params: { chatId: number }; reply: Record<string, never> };
  'chats.info': { params: { chatId: number }; reply: ChatInfo };
  'chats.create': {
    params: { title: string; kind?: 'group' | 'supergroup'; uIds?: number[]; memo?: string };
    reply: ChatInfo & { skipped: number[] };
  };
}

export interface ManualEvents {
  onMessage: Message;
  'messages.onRecall': { chatId: number; messageId: number; seq: number };
  'messages.onRead': { chatId: number; uId: number; seq: number };
  'messages.onTyping': { chatId: number; uId: number };
  'chats.onRemoved': { chatId: number; op: 'leave' | 'kick' };
  'presence.onUpdate': { uId: number; online: boolean; lastSeen: number | null };
  'accounts.onKicked': { reason: 'login_elsewhere'; device: string };
  'friends.onAdded': UserBrief;
  'friends.onRemoved': { uId: number };
  on_event: { action: string; from: number; to: number[]; data: unknown };
}
