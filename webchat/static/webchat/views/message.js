// One message in the chat, by type: text, image, red packet, remittance, system notice.
import { h, time } from '../util.js';
import { TYPE } from '../store.js';
import { mediaBlobUrl } from '../media.js';
import { openRedPacket, receiveRemittance } from './money.js';

const SYSTEM_TEXT = {
  create: (app, c) => `${app.store.name(c.from)} created the group “${c.content.title ?? ''}”`,
  join: (app, c) => `${names(app, c.content.uIds)} joined`,
  leave: (app, c) => `${names(app, c.content.uIds)} left`,
  // from is null when an operator acted from the console.
  kick: (app, c) => `${names(app, c.content.uIds)} was removed${by(app, c)}`,
  mute: (app, c) => `${names(app, c.content.uIds)} ${c.content.until ? 'was muted' : 'may speak again'}`,
  admin: (app, c) => `${names(app, c.content.uIds)} is now an admin`,
  unadmin: (app, c) => `${names(app, c.content.uIds)} is no longer an admin`,
  owner: (app, c) => `${names(app, c.content.uIds)} is now the owner`,
  edit: (app, c) => `${app.store.name(c.from)} changed the group's details`,
  dissolve: () => 'The group was dissolved',
};

function by(app, c) {
  return c.from == null ? ' by an operator' : ` by ${app.store.name(c.from)}`;
}

/** A group notice (type 10) as a sentence. */
export function systemText(app, msg) {
  const text = SYSTEM_TEXT[msg.content?.op];
  return text ? text(app, msg) : `group update (${msg.content?.op})`;
}

function names(app, ids) {
  return (ids || []).map((id) => app.store.name(id)).join(', ');
}

export function money(value) {
  if (value === undefined || value === null || value === '') return '';
  const number = Number(value);
  if (!Number.isFinite(number)) return String(value);
  return number.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 18 });
}

/** The status of a remittance as the chat shows it: the latest step posted for it. */
function remittanceStep(app, msg) {
  const id = msg.content?.remittanceId;
  let step = msg.subType;
  for (const other of app.store.messages(msg.chatId)) {
    if (other.type === TYPE.REMITTANCE && other.content?.remittanceId === id && [200, 300].includes(other.subType)) {
      step = other.subType;
    }
  }
  return step;
}

function body(app, msg) {
  const c = msg.content || {};
  if (msg.recalled) return h('em', { class: 'muted' }, 'message recalled');
  switch (msg.type) {
    case TYPE.TEXT:
      return h('p', { class: 'text' }, c.text ?? '');
    case TYPE.IMAGE: {
      const img = h('img', { alt: c.name ? `image ${c.name}` : 'image', class: 'thumb', loading: 'lazy',
        width: c.width && c.height ? Math.min(240, c.width) : undefined,
        height: c.width && c.height ? Math.round(Math.min(240, c.width) * c.height / c.width) : undefined });
      const button = h('button', { type: 'button', class: 'image', 'aria-label': 'Show the full image' }, img);
      if (msg.localPreview) {
        img.src = msg.localPreview;
      } else if (!c.url) {
        return h('span', { class: 'muted' }, '[image]');
      } else {
        // data-loaded once the picture is decoded and shown, not merely requested
        img.addEventListener('load', () => { img.dataset.loaded = '1'; }, { once: true });
        mediaBlobUrl(app, c.url).then((url) => { img.src = url; },
          () => button.replaceWith(h('span', { class: 'muted' }, 'image unavailable')));
      }
      button.addEventListener('click', () => showImage(img.src, img.alt));
      return button;
    }
    case TYPE.REDPACKET: {
      if (msg.subType === 200) {
        const who = msg.from === app.store.me.userId ? 'You' : app.store.name(msg.from);
        return h('p', { class: 'notice' }, `${who} got ${money(c.price)} from a red packet${c.isLast ? ' (all taken)' : ''}`);
      }
      const mine = msg.from === app.store.me.userId;
      return h('div', { class: 'packet' }, h('span', { class: 'tag packet-tag' }, 'Red packet'),
        h('strong', {}, c.title || 'Red packet'),
        h('span', { class: 'muted' }, ` from ${mine ? 'you' : app.store.name(msg.from)}`),
        h('button', { type: 'button', class: 'open-packet', onclick: () => openRedPacket(app, c.redPacketId, { mine }) },
          mine ? 'Details' : 'Open'));
    }
    case TYPE.REMITTANCE: {
      const payee = c.payee === app.store.me.userId;
      const labels = { 100: 'sent', 200: 'received', 300: c.expired ? 'expired, returned' : 'returned', 400: 'reminder' };
      if (msg.subType !== 100) {
        return h('p', { class: 'notice' }, `Transfer of ${money(c.amount)} ${labels[msg.subType] || ''}`);
      }
      const step = remittanceStep(app, msg);
      const status = step === 200 ? 'received' : step === 300 ? 'returned' : 'waiting to be received';
      return h('div', { class: 'transfer' }, h('span', { class: 'tag transfer-tag' }, 'Transfer'),
        h('strong', {}, `Transfer ${money(c.amount)}`),
        h('span', { class: 'muted' }, ` to ${payee ? 'you' : app.store.name(c.payee)} · ${status}`),
        payee && step === 100
          ? h('button', { type: 'button', class: 'receive', onclick: () => receiveRemittance(app, c.remittanceId) }, 'Receive')
          : null);
    }
    case TYPE.SYSTEM:
      return h('p', { class: 'notice' }, systemText(app, msg));
    case TYPE.LOCATION:
      return h('p', {}, `Location ${c.lat}, ${c.lng}`);
    default:
      return h('p', { class: 'muted' }, `[${({ 4: 'voice', 6: 'video', 7: 'file', 9: 'custom', 11: 'exchange offer', 12: 'call' })[msg.type] || 'message'}]`);
  }
}

function showImage(src, alt) {
  if (!src) return;
  const img = h('img', { src, alt, class: 'full' });
  const close = h('button', { type: 'button', class: 'link close', 'aria-label': 'Close' }, '×');
  const dlg = h('dialog', { class: 'modal viewer', 'aria-label': 'Image' }, close, img);
  close.addEventListener('click', () => dlg.close());
  dlg.addEventListener('click', (e) => { if (e.target === dlg) dlg.close(); });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
}

function outbox(app, msg, conv) {
  const byClient = ![TYPE.REDPACKET, TYPE.REMITTANCE, TYPE.SYSTEM, TYPE.EXCHANGE, TYPE.CALL].includes(msg.type);
  if (msg.from !== app.store.me.userId || msg.notice || !byClient) return null;
  if (msg.status === 'failed') {
    const retriable = msg.type !== TYPE.IMAGE || msg.content?.mediaId != null;
    return h('span', { class: 'state failed' }, `not sent: ${msg.error || 'error'} `,
      retriable ? h('button', { type: 'button', class: 'link retry', onclick: () => app.chat.retry(msg) }, 'Retry') : null);
  }
  if (msg.status === 'sending') {
    const waiting = app.client.state !== 'open';
    return h('span', { class: 'state pending', dataset: { outbox: waiting ? 'waiting' : 'sending' } },
      waiting ? 'waiting for connection…' : 'sending…');
  }
  if (conv?.kind === 'private' && (app.store.peerRead.get(msg.chatId) ?? 0) >= msg.seq) {
    return h('span', { class: 'state read' }, '✓✓ read');
  }
  return h('span', { class: 'state sent' }, '✓ sent');
}

export function renderMessage(app, msg, conv) {
  const mine = msg.from === app.store.me.userId;
  const system = msg.type === TYPE.SYSTEM || msg.notice || (msg.type === TYPE.REDPACKET && msg.subType === 200)
    || (msg.type === TYPE.REMITTANCE && msg.subType !== 100);
  const el = h('li', {
    class: `msg ${system ? 'system' : mine ? 'mine' : 'theirs'}`,
    dataset: { seq: msg.seq ?? '', messageId: msg.messageId ?? '', clientMsgId: msg.clientMsgId ?? '', type: msg.type },
  });
  if (!system && !mine && conv?.kind !== 'private') el.append(h('span', { class: 'from' }, app.store.name(msg.from)));
  el.append(body(app, msg));
  el.append(h('span', { class: 'meta' }, h('time', {}, time(msg.createAt)), ' ', outbox(app, msg, conv)));
  return el;
}
