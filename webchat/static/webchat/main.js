// The web chat's entry: the login screen, or the signed-in shell wired to the SDK's client.
import { ImClient, LOGIN_ENDED } from '../sdk/index.js';
import { h, fill, problem } from './util.js';
import { Store, TYPE } from './store.js';
import { TrackedWebSocket, dropSockets } from './net.js';
import { savedSession, saveSession, forgetSession, sdkStorage } from './session.js';
import { renderLogin } from './views/login.js';
import { Banner } from './views/banner.js';
import { ConversationList } from './views/conversations.js';
import { ChatView } from './views/chat.js';
import { createGroupDialog, newChatDialog } from './views/groups.js';
import { refreshWallet } from './views/money.js';
import { money } from './views/message.js';

const root = document.getElementById('root');
const banner = new Banner(document.getElementById('banner'));
const baseUrl = location.origin;

// For the browser tests and for debugging from the console.
window.imApp = { dropSockets, ready: false };

function showLogin(notice) {
  window.imApp.ready = false;
  renderLogin(root, {
    notice,
    makeClient: () => new ImClient({ baseUrl, WebSocket: TrackedWebSocket }),
    onSession: (session) => { saveSession(session); enter(session); },
  });
}

async function enter(session) {
  const client = new ImClient({
    baseUrl, token: session.token, userId: session.userId, WebSocket: TrackedWebSocket, storage: sdkStorage,
  });
  const store = new Store({ userId: session.userId });
  const app = makeApp(client, store);
  Object.assign(window.imApp, { client, store, app });
  renderShell(app);
  wire(app);
  banner.setState('connecting');
  try {
    await client.connect();
  } catch (e) {
    if (LOGIN_ENDED[e?.code] || e?.code === 401) return app.logout('Your login has ended; please log in again.');
    banner.setState(client.state, {});
  }
  app.showQueued();
  await Promise.all([app.loadConversations(), refreshWallet(app), app.loadMe()]);
  window.imApp.ready = true;
  document.body.dataset.ready = '1';
}

function makeApp(client, store) {
  const adopting = new Map(); // chatId -> the chats.info fetch under way
  const app = {
    client, store,
    toast(text, kind = 'info') {
      const el = h('p', { class: `toast ${kind}`, role: kind === 'bad' ? 'alert' : 'status' }, text);
      document.getElementById('toasts').append(el);
      setTimeout(() => el.remove(), 5000);
    },
    async ensureUsers(ids) {
      const missing = [...new Set(ids.filter((id) => id != null && !store.users.has(id)))];
      if (!missing.length) return;
      try {
        for (let i = 0; i < missing.length; i += 200) store.addUsers(await client.call('users.info', { uIds: missing.slice(i, i + 200) }));
      } catch { /* names fall back to "user N" */ }
    },
    async loadMe() {
      try {
        const me = await client.call('web.account.myInfo', {});
        Object.assign(store.me, me);
        store.addUsers([{ ...me, uId: store.me.userId }]);
      } catch { /* the header shows the id */ }
      const el = document.getElementById('me');
      if (el) el.textContent = store.name(store.me.userId);
    },
    async loadConversations() {
      try {
        const list = await client.call('messages.conversations', {});
        const ids = [];
        for (const conv of list) {
          if (conv.userIds) ids.push(...conv.userIds);
          if (conv.lastMessage) ids.push(conv.lastMessage.from);
        }
        await app.ensureUsers(ids);
        store.setConversations(list);
        const peers = list.map((c) => store.peer(c)).filter((id) => id != null);
        if (peers.length) store.setPresence(await client.call('presence.query', { uIds: peers.slice(0, 200) }));
      } catch (e) {
        app.toast(problem(e), 'bad');
      }
    },
    /** A chat first heard of from a message: its info joins the list, with the messages
     * already received in it as its last message and unread count. One fetch per chat. */
    adoptChat(chatId) {
      if (store.convs.has(chatId)) return Promise.resolve();
      if (!adopting.has(chatId)) {
        adopting.set(chatId, (async () => {
          try {
            const info = await client.call('chats.info', { chatId });
            await app.ensureUsers(info.userIds || []);
            const received = store.messages(chatId).filter((m) => m.messageId != null);
            const unread = received.filter((m) => m.from !== store.me.userId && m.type !== TYPE.SYSTEM && !m.recalled
              && m.seq > (info.readSeq ?? 0)).length;
            store.upsertConversation({ ...info, lastMessage: received.at(-1) ?? null, unread });
          } catch { /* not a member (any more) */ } finally {
            adopting.delete(chatId);
          }
        })());
      }
      return adopting.get(chatId);
    },
    openChat(chatId) {
      const conv = store.convs.get(chatId);
      if (!conv) return;
      store.current = chatId;
      store.emit('convs');
      app.chat.open(conv);
    },
    openDraft(peer) {
      store.current = null;
      store.emit('convs');
      app.chat.open({ chatId: null, kind: 'private', draftPeer: peer });
    },
    outboxChanged() {
      let count = 0;
      for (const thread of store.threads.values()) for (const m of thread.items.values()) if (m.status === 'sending') count += 1;
      banner.setPending(count);
    },
    /** Messages left in the SDK's outbox by an earlier page (a reload while offline): shown as
     * unsent until the SDK reports them 'sent' or 'sendFailed'. */
    showQueued() {
      for (const params of client.pending) {
        const key = params.chatId ?? null;
        if (key == null) continue;
        if (!store.thread(key).items.has('local:' + params.clientMsgId)) {
          store.addPending(key, { type: params.type, content: params.content, clientMsgId: params.clientMsgId });
        }
      }
      app.outboxChanged();
    },
    async logout(notice) {
      if (app.loggingOut) return;
      app.loggingOut = true;
      try { if (!notice) await client.logout(); } catch { /* the token is forgotten anyway */ }
      client.close();
      forgetSession();
      location.hash = '';
      window.imApp.ready = false;
      banner.setState('idle');
      showLogin(notice);
    },
  };
  return app;
}

function renderShell(app) {
  const balance = h('span', { id: 'balance', class: 'balance', 'aria-live': 'polite' }, 'Balance: …');
  const list = h('ul', { class: 'convs', 'aria-label': 'Conversations' });
  const chat = h('section', { class: 'chat', 'aria-labelledby': 'chat-title' });
  fill(root, h('div', { class: 'shell' },
    h('header', { class: 'top' },
      h('h1', {}, 'IM web chat'),
      h('span', { id: 'me', class: 'me' }, `user ${app.store.me.userId}`),
      balance,
      h('nav', { 'aria-label': 'Actions' },
        h('button', { type: 'button', onclick: () => newChatDialog(app) }, 'New chat'),
        h('button', { type: 'button', class: 'new-group', onclick: () => createGroupDialog(app) }, 'New group'),
        h('button', { type: 'button', class: 'logout', onclick: () => app.logout() }, 'Log out'))),
    h('nav', { class: 'side', 'aria-label': 'Conversation list' }, list),
    chat,
    h('div', { id: 'toasts', class: 'toasts' })));
  app.conversations = new ConversationList(app, list);
  app.chat = new ChatView(app, chat);
  app.store.addEventListener('wallet', () => {
    const w = app.store.wallet;
    const coin = w?.balances?.find((b) => b.isDefault)?.coin ?? '';
    balance.textContent = w?.error ? 'Balance: no wallet' : `Balance: ${money(w?.balance)} ${coin}`.trim();
    balance.dataset.balance = w?.balance ?? '';
  });
}

function wire(app) {
  const { client, store } = app;
  let wasDown = false;
  client.on('state', (detail) => {
    banner.setState(detail.state, detail);
    if (detail.state === 'reconnecting') wasDown = true;
    if (detail.state === 'open' && wasDown) {
      wasDown = false;
      app.loadConversations();
      refreshWallet(app);
    }
    if (detail.state === 'closed' && LOGIN_ENDED[detail.code] && !app.loggingOut) {
      app.logout(detail.code === 4002 ? 'You logged in elsewhere; this page was signed out.' : 'Your login has ended; please log in again.');
      return;
    }
    app.chat.renderList?.();
    app.outboxChanged();
  });
  client.on('message', async (msg) => {
    if (msg.messageId == null) return;
    await app.ensureUsers([msg.from]);
    store.addMessage(msg); // a message of a chat not listed yet makes the store ask for it ('unknown-chat')
    if (msg.type === TYPE.REDPACKET || msg.type === TYPE.REMITTANCE) refreshWallet(app);
  });
  client.on('onMessage', async (msg) => {
    if (msg.messageId != null) return; // stored messages come through 'message', in order
    await app.ensureUsers([msg.from]);
    store.addNotice(msg);
    refreshWallet(app);
  });
  client.on('messages.onRead', (d) => store.setRead(d));
  client.on('messages.onTyping', (d) => { app.ensureUsers([d.uId]).then(() => store.setTyping(d.chatId, d.uId)); });
  client.on('messages.onRecall', (d) => store.recall(d));
  client.on('presence.onUpdate', (d) => store.setPresence([d]));
  client.on('chats.onRemoved', (d) => store.removeConversation(d.chatId));
  client.on('chats.onDissolved', (d) => store.removeConversation(d.chatId));
  client.on('sent', ({ message }) => { store.addMessage(message); app.outboxChanged(); });
  client.on('sendFailed', ({ clientMsgId, params, error }) => {
    if (params.chatId != null) store.failPending(params.chatId, clientMsgId, problem(error));
    app.outboxChanged();
  });
  store.addEventListener('unknown-chat', (e) => app.adoptChat(e.detail.chatId));
}

const saved = savedSession();
if (saved) enter(saved);
else showLogin();
