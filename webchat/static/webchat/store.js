// The app's state: conversations, the messages of each chat, users, presence, typing, read
// positions, the wallet balance. Views listen for its events ('convs', 'thread', 'user',
// 'wallet', 'presence', 'typing', 'read') and redraw.

export const TYPE = Object.freeze({
  TEXT: 1, REDPACKET: 2, IMAGE: 3, VOICE: 4, REMITTANCE: 5, VIDEO: 6, FILE: 7, LOCATION: 8,
  CUSTOM: 9, SYSTEM: 10, EXCHANGE: 11, CALL: 12,
});

export class Store extends EventTarget {
  constructor(me) {
    super();
    this.me = me;                 // {userId, ...user brief once known}
    this.users = new Map();       // uId -> user brief
    this.convs = new Map();       // chatId -> chat info + unread + lastMessage
    this.threads = new Map();     // chatId -> {items: Map(key -> message), hasMore, loaded}
    this.presence = new Map();    // uId -> {online, lastSeen}
    this.typing = new Map();      // chatId -> {uId, until}
    this.peerRead = new Map();    // chatId -> highest seq the other members read (live receipts)
    this.wallet = null;           // wallet.info's answer
    this.current = null;          // the open chat's id
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  thread(chatId) {
    let thread = this.threads.get(chatId);
    if (!thread) {
      thread = { items: new Map(), hasMore: true, loaded: false };
      this.threads.set(chatId, thread);
    }
    return thread;
  }

  /** The chat's messages in seq order; unsent ones (no seq yet) last, in the order sent. */
  messages(chatId) {
    const list = [...this.thread(chatId).items.values()];
    return list.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity) || (a.localAt ?? 0) - (b.localAt ?? 0));
  }

  oldestSeq(chatId) {
    let oldest = null;
    for (const m of this.thread(chatId).items.values()) {
      if (m.seq != null && (oldest === null || m.seq < oldest)) oldest = m.seq;
    }
    return oldest;
  }

  /** A stored message (a push, a sync, history, a send's answer): kept once per messageId;
   * it replaces the unsent copy with the same clientMsgId. Answers whether it was new. */
  addMessage(msg, { fromHistory = false } = {}) {
    if (msg.messageId == null) return false;
    const thread = this.thread(msg.chatId);
    const key = 'm' + msg.messageId;
    let carried = {};
    if (msg.clientMsgId && msg.from === this.me.userId) {
      const local = thread.items.get('local:' + msg.clientMsgId);
      if (local?.localPreview) carried = { localPreview: local.localPreview };
      thread.items.delete('local:' + msg.clientMsgId);
    }
    const isNew = !thread.items.has(key);
    thread.items.set(key, { ...carried, ...thread.items.get(key), ...msg, status: 'sent' });
    if (isNew && !fromHistory) this.#bumpConversation(msg);
    this.emit('thread', { chatId: msg.chatId });
    return isNew;
  }

  #bumpConversation(msg) {
    const conv = this.convs.get(msg.chatId);
    if (!conv) {
      this.emit('unknown-chat', { chatId: msg.chatId });
      return;
    }
    if (!conv.lastMessage || (msg.seq ?? 0) >= (conv.lastMessage.seq ?? 0)) conv.lastMessage = msg;
    conv.lastSeq = Math.max(conv.lastSeq ?? 0, msg.seq ?? 0);
    const counts = msg.from !== this.me.userId && msg.type !== TYPE.SYSTEM && !msg.recalled;
    if (counts && !(this.current === msg.chatId && document.visibilityState === 'visible')) {
      conv.unread = (conv.unread ?? 0) + 1;
    }
    this.emit('convs');
  }

  /** A message typed here, not yet acknowledged by the server (the SDK's outbox holds it). */
  addPending(chatId, local) {
    const thread = this.thread(chatId);
    thread.items.set('local:' + local.clientMsgId, {
      chatId, from: this.me.userId, seq: null, messageId: null, createAt: Math.floor(Date.now() / 1000),
      localAt: Date.now(), status: 'sending', ...local,
    });
    this.emit('thread', { chatId });
  }

  failPending(chatId, clientMsgId, error) {
    const item = this.thread(chatId).items.get('local:' + clientMsgId);
    if (item) {
      item.status = 'failed';
      item.error = error;
      this.emit('thread', { chatId });
    }
  }

  /** A grab notice of a red packet (2/200): a push only, never stored; shown in the chat. */
  addNotice(msg) {
    const key = `n:${msg.content?.redPacketId}:${msg.from}`;
    const thread = this.thread(msg.chatId);
    if (thread.items.has(key)) return;
    const last = this.messages(msg.chatId).filter((m) => m.seq != null).at(-1);
    thread.items.set(key, { ...msg, notice: true, seq: (last?.seq ?? 0) + 0.5, localAt: Date.now() });
    this.emit('thread', { chatId: msg.chatId });
  }

  recall({ chatId, messageId }) {
    const item = this.thread(chatId).items.get('m' + messageId);
    if (item) {
      item.recalled = true;
      item.content = {};
      this.emit('thread', { chatId });
    }
  }

  setConversations(list) {
    this.convs.clear();
    for (const conv of list) {
      this.convs.set(conv.chatId, conv);
      // A private chat's read receipts as they stood (messages.onRead moves them on from here).
      if (conv.peerReadSeq) this.peerRead.set(conv.chatId, Math.max(this.peerRead.get(conv.chatId) ?? 0, conv.peerReadSeq));
    }
    this.emit('convs');
  }

  upsertConversation(info) {
    const old = this.convs.get(info.chatId);
    this.convs.set(info.chatId, { unread: 0, lastMessage: null, ...old, ...info });
    this.emit('convs');
  }

  removeConversation(chatId) {
    this.convs.delete(chatId);
    if (this.current === chatId) this.current = null;
    this.emit('convs');
  }

  /** Conversations, the one with the latest message first. */
  conversationList() {
    const when = (c) => c.lastMessage?.createAt ?? c.createAt ?? 0;
    return [...this.convs.values()].sort((a, b) => when(b) - when(a) || b.chatId - a.chatId);
  }

  addUsers(briefs) {
    for (const user of briefs) this.users.set(user.uId, user);
    if (briefs.length) this.emit('user');
  }

  name(uId) {
    if (uId == null) return 'system';
    const user = this.users.get(uId);
    if (!user) return `user ${uId}`;
    return user.firstName || user.userName || user.nickName || `user ${uId}`;
  }

  /** The other user of a private chat. */
  peer(conv) {
    if (!conv || conv.kind !== 'private') return null;
    return (conv.userIds || []).find((id) => id !== this.me.userId) ?? null;
  }

  title(conv) {
    if (!conv) return '';
    if (conv.kind === 'private') return this.name(this.peer(conv));
    return conv.title || `group ${conv.chatId}`;
  }

  setPresence(entries) {
    for (const p of entries) this.presence.set(p.uId, { online: p.online, lastSeen: p.lastSeen });
    this.emit('presence');
  }

  setTyping(chatId, uId) {
    this.typing.set(chatId, { uId, until: Date.now() + 5000 });
    this.emit('typing', { chatId });
    setTimeout(() => this.emit('typing', { chatId }), 5100);
  }

  typingIn(chatId) {
    const t = this.typing.get(chatId);
    return t && t.until > Date.now() ? t : null;
  }

  setRead({ chatId, uId, seq }) {
    if (uId === this.me.userId) {
      const conv = this.convs.get(chatId);
      if (conv) {
        conv.readSeq = Math.max(conv.readSeq ?? 0, seq);
        this.emit('convs');
      }
      return;
    }
    this.peerRead.set(chatId, Math.max(this.peerRead.get(chatId) ?? 0, seq));
    this.emit('read', { chatId });
  }

  setWallet(info) {
    this.wallet = info;
    this.emit('wallet');
  }
}
