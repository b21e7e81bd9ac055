// The conversation list: title, last message, time, unread count; newest first.
import { h, fill, time } from '../util.js';
import { TYPE } from '../store.js';
import { systemText, money } from './message.js';

export function preview(app, msg) {
  if (!msg) return 'No messages yet';
  if (msg.recalled) return 'message recalled';
  const c = msg.content || {};
  const who = msg.from === app.store.me.userId ? 'You: ' : '';
  switch (msg.type) {
    case TYPE.TEXT: return who + (c.text ?? '');
    case TYPE.IMAGE: return `${who}[image]`;
    case TYPE.REDPACKET: return `${who}[red packet] ${c.title || ''}`;
    case TYPE.REMITTANCE: return `[transfer] ${money(c.amount)}`;
    case TYPE.SYSTEM: return systemText(app, msg);
    default: return `${who}[message]`;
  }
}

export class ConversationList {
  constructor(app, el) {
    this.app = app;
    this.el = el;
    const redraw = () => this.render();
    for (const type of ['convs', 'user', 'presence']) app.store.addEventListener(type, redraw);
    this.render();
  }

  render() {
    const { store } = this.app;
    const items = store.conversationList().map((conv) => {
      const peer = store.peer(conv);
      const online = peer != null && store.presence.get(peer)?.online;
      const unread = conv.unread || 0;
      const current = store.current === conv.chatId;
      return h('li', {}, h('button', {
        type: 'button', class: `conv ${current ? 'current' : ''}`, 'aria-current': current ? 'true' : undefined,
        dataset: { chatId: conv.chatId, unread }, onclick: () => this.app.openChat(conv.chatId),
      },
      h('span', { class: 'conv-title' },
        peer != null ? h('span', { class: `dot ${online ? 'on' : ''}`, 'aria-label': online ? 'online' : 'offline' }) : h('span', { class: 'tag' }, 'group'),
        store.title(conv)),
      h('time', { class: 'conv-time' }, time(conv.lastMessage?.createAt)),
      h('span', { class: 'conv-last' }, preview(this.app, conv.lastMessage)),
      unread ? h('span', { class: 'badge', 'aria-label': `${unread} unread` }, String(unread)) : null));
    });
    fill(this.el, items.length ? items : h('li', { class: 'muted' }, 'No conversations yet.'));
  }
}
