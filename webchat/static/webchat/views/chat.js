// The open chat: header (title, presence or typing, actions), the messages with "older" paging,
// the composer (text, image), read positions and the outbox state of unsent messages.
import { h, fill, problem, uuid, time } from '../util.js';
import { TYPE } from '../store.js';
import { renderMessage } from './message.js';
import { sendRedPacketDialog, sendRemittanceDialog } from './money.js';
import { membersDialog } from './groups.js';

const PAGE = 30;
const TYPING_EVERY_MS = 3000;

export class ChatView {
  constructor(app, el) {
    this.app = app;
    this.el = el;
    this.conv = null;
    this.lastTyping = 0;
    this.readTimer = null;
    const redraw = (e) => { if (this.conv && e.detail.chatId === this.conv.chatId) this.renderList(); };
    app.store.addEventListener('thread', redraw);
    app.store.addEventListener('read', redraw);
    app.store.addEventListener('typing', (e) => { if (this.conv && e.detail.chatId === this.conv.chatId) this.renderStatus(); });
    app.store.addEventListener('presence', () => this.renderStatus());
    app.store.addEventListener('user', () => { if (this.conv) { this.renderTitle(); this.renderList(); } });
    app.store.addEventListener('convs', () => {
      if (this.conv?.chatId != null && !app.store.convs.has(this.conv.chatId)) this.showEmpty('You are no longer in this chat.');
      else if (this.conv?.chatId != null) this.conv = app.store.convs.get(this.conv.chatId);
    });
    document.addEventListener('visibilitychange', () => this.markRead());
    this.showEmpty();
  }

  showEmpty(text = 'Choose a conversation, or start one.') {
    this.conv = null;
    fill(this.el, h('p', { class: 'empty' }, text));
  }

  /** Open a chat by its conversation, or a draft ({draftPeer}) for a friend without a chat yet. */
  async open(conv) {
    this.conv = conv;
    this.titleEl = h('h2', { id: 'chat-title' });
    this.statusEl = h('p', { class: 'status', 'aria-live': 'polite' });
    const actions = h('div', { class: 'actions' });
    if (conv.chatId != null) {
      if (conv.kind !== 'private') actions.append(h('button', { type: 'button', onclick: () => membersDialog(this.app, this.conv) }, 'Members'));
      actions.append(h('button', { type: 'button', class: 'send-packet', onclick: () => sendRedPacketDialog(this.app, this.conv) }, 'Red packet'));
      if (conv.kind === 'private') actions.append(h('button', { type: 'button', class: 'send-transfer', onclick: () => sendRemittanceDialog(this.app, this.conv) }, 'Transfer'));
    }
    this.olderButton = h('button', { type: 'button', class: 'older link', onclick: () => this.loadOlder() }, 'Load older messages');
    this.listEl = h('ol', { class: 'messages', 'aria-label': 'Messages', 'aria-live': 'polite', 'aria-relevant': 'additions' });
    this.scroller = h('div', { class: 'scroller', tabindex: 0 }, this.olderButton, this.listEl);
    this.scroller.addEventListener('scroll', () => { if (this.scroller.scrollTop < 40) this.loadOlder(); });

    this.input = h('textarea', { name: 'text', rows: 2, maxlength: 20000, 'aria-label': 'Message', placeholder: 'Write a message' });
    this.input.addEventListener('input', () => this.typing());
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.form.requestSubmit(); }
    });
    this.file = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp', class: 'visually-hidden', id: 'image-input', 'aria-label': 'Send an image' });
    this.file.addEventListener('change', () => { const f = this.file.files[0]; this.file.value = ''; if (f) this.sendImage(f); });
    this.form = h('form', { class: 'composer' },
      h('label', { for: 'image-input', class: 'attach button', title: 'Send an image' }, 'Image'),
      this.file, this.input, h('button', { type: 'submit' }, 'Send'));
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.sendText(); });

    fill(this.el, h('header', { class: 'chat-head' }, h('div', {}, this.titleEl, this.statusEl), actions),
      this.scroller, this.form);
    this.renderTitle();
    this.renderStatus();
    this.renderList({ stick: true });
    this.input.focus();
    if (conv.chatId == null) return;
    const thread = this.app.store.thread(conv.chatId);
    if (!thread.loaded) await this.loadOlder({ first: true });
    this.queryPresence();
    this.markRead();
  }

  key() {
    return this.conv.chatId ?? `draft-${this.conv.draftPeer}`;
  }

  peer() {
    return this.conv.draftPeer ?? this.app.store.peer(this.conv);
  }

  renderTitle() {
    if (!this.conv) return;
    this.titleEl.textContent = this.conv.chatId == null ? this.app.store.name(this.conv.draftPeer) : this.app.store.title(this.conv);
  }

  renderStatus() {
    if (!this.conv || !this.statusEl) return;
    const typing = this.conv.chatId != null && this.app.store.typingIn(this.conv.chatId);
    if (typing) {
      this.statusEl.textContent = `${this.app.store.name(typing.uId)} is typing…`;
      this.statusEl.dataset.typing = '1';
      return;
    }
    delete this.statusEl.dataset.typing;
    if (this.conv.kind === 'group' || this.conv.kind === 'supergroup') {
      this.statusEl.textContent = `${this.conv.memberCount ?? ''} members`;
      return;
    }
    const p = this.app.store.presence.get(this.peer());
    this.statusEl.textContent = !p ? '' : p.online ? 'online' : p.lastSeen ? `last seen ${time(p.lastSeen)}` : 'offline';
    this.statusEl.dataset.online = p?.online ? '1' : '0';
  }

  async queryPresence() {
    const peer = this.peer();
    if (peer == null) return;
    try {
      this.app.store.setPresence(await this.app.client.call('presence.query', { uIds: [peer] }));
    } catch { /* presence is a nicety */ }
  }

  renderList({ stick = false, keepFromBottom = null } = {}) {
    if (!this.listEl) return;
    const s = this.scroller;
    const atBottom = stick || s.scrollHeight - s.scrollTop - s.clientHeight < 60;
    const fromBottom = s.scrollHeight - s.scrollTop;
    const thread = this.app.store.thread(this.key());
    const messages = this.app.store.messages(this.key());
    this.listEl.replaceChildren(...messages.map((m) => renderMessage(this.app, m, this.conv)));
    this.olderButton.hidden = this.conv.chatId == null || !thread.hasMore;
    if (keepFromBottom !== null) s.scrollTop = s.scrollHeight - keepFromBottom;
    else if (atBottom) s.scrollTop = s.scrollHeight;
    else s.scrollTop = s.scrollHeight - fromBottom;
    if (messages.length) this.markRead();
  }

  async loadOlder({ first = false } = {}) {
    const chatId = this.conv?.chatId;
    if (chatId == null || this.loading) return;
    const thread = this.app.store.thread(chatId);
    if (!first && !thread.hasMore) return;
    this.loading = true;
    this.olderButton.textContent = 'Loading…';
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    try {
      const oldest = first ? null : this.app.store.oldestSeq(chatId);
      const params = { chatId, limit: PAGE };
      if (oldest) params.beforeSeq = oldest;
      const page = await this.app.client.call('messages.history', params);
      await this.app.ensureUsers(page.messages.map((m) => m.from));
      for (const m of page.messages) this.app.store.addMessage(m, { fromHistory: true });
      thread.hasMore = page.hasMore;
      thread.loaded = true;
      if (this.conv?.chatId === chatId) this.renderList(first ? { stick: true } : { keepFromBottom: fromBottom });
    } catch (e) {
      this.app.toast(problem(e), 'bad');
    } finally {
      this.loading = false;
      this.olderButton.textContent = 'Load older messages';
    }
  }

  markRead() {
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => {
      const conv = this.conv?.chatId != null && this.app.store.convs.get(this.conv.chatId);
      if (!conv || document.visibilityState !== 'visible') return;
      const last = this.app.store.messages(conv.chatId).filter((m) => m.messageId != null).at(-1);
      const seq = Math.max(last?.seq ?? 0, conv.lastSeq ?? 0);
      if (conv.unread) { conv.unread = 0; this.app.store.emit('convs'); }
      if (seq > (conv.readSeq ?? 0) && this.app.client.state === 'open') {
        conv.readSeq = seq;
        this.app.client.call('messages.read', { chatId: conv.chatId, seq }).catch(() => { conv.readSeq = 0; });
      }
    }, 250);
  }

  typing() {
    const now = Date.now();
    if (this.conv?.chatId == null || now - this.lastTyping < TYPING_EVERY_MS || this.app.client.state !== 'open') return;
    this.lastTyping = now;
    this.app.client.call('messages.typing', { chatId: this.conv.chatId }).catch(() => {});
  }

  target() {
    return this.conv.chatId != null ? { chatId: this.conv.chatId } : { to: this.conv.draftPeer };
  }

  sendText() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = '';
    this.send(TYPE.TEXT, { text });
  }

  async sendImage(file) {
    const clientMsgId = uuid();
    const key = this.key();
    const preview = URL.createObjectURL(file);
    this.app.store.addPending(key, { type: TYPE.IMAGE, content: { name: file.name }, clientMsgId, localPreview: preview });
    this.renderList({ stick: true });
    let media;
    try {
      media = await this.app.client.uploadMedia(file, { kind: 'image' });
    } catch (e) {
      this.app.store.failPending(key, clientMsgId, problem(e));
      return;
    }
    await this.send(TYPE.IMAGE, { mediaId: media.mediaId }, { clientMsgId, pendingDone: true, localPreview: preview });
  }

  /** Send a failed message again, with its clientMsgId: stored once even if the first try was. */
  retry(msg) {
    if (this.conv?.chatId !== msg.chatId) return;
    this.app.store.thread(msg.chatId).items.delete('local:' + msg.clientMsgId);
    this.send(msg.type, msg.content, { clientMsgId: msg.clientMsgId });
  }

  async send(type, content, { clientMsgId = uuid(), pendingDone = false, localPreview } = {}) {
    const conv = this.conv;
    const key = this.key();
    if (!pendingDone) this.app.store.addPending(key, { type, content, clientMsgId });
    this.renderList({ stick: true });
    this.app.outboxChanged();
    try {
      const stored = await this.app.client.sendMessage({ ...this.target(), type, content, clientMsgId });
      const message = { from: this.app.store.me.userId, type, content, clientMsgId, createAt: Math.floor(Date.now() / 1000),
        ...stored, localPreview };
      if (conv.chatId == null) {
        this.app.store.threads.delete(key);
        await this.app.adoptChat(message.chatId);
        this.app.store.addMessage(message);
        this.app.openChat(message.chatId);
      } else {
        this.app.store.addMessage(message);
      }
    } catch (e) {
      this.app.store.failPending(key, clientMsgId, problem(e));
    } finally {
      this.app.outboxChanged();
    }
  }
}
