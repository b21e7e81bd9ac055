// Red packets and remittances: send with the payment password, open, receive; the balance.
import { h, dialog, problem, amount, uuid } from '../util.js';
import { money } from './message.js';

export async function refreshWallet(app) {
  try {
    app.store.setWallet(await app.client.call('wallet.info', {}));
  } catch (e) {
    app.store.setWallet({ error: problem(e) });
  }
}

function field(label, input) {
  return h('label', {}, h('span', {}, label), input);
}

function passwordInput() {
  return h('input', { type: 'password', name: 'payment-password', autocomplete: 'off', required: true, maxlength: 128, inputmode: 'numeric' });
}

/** A form in a dialog whose submit runs `action`; the same clientMsgId is kept for every try
 * of this dialog, so a retry after a lost answer moves the money once. */
function moneyDialog(title, fields, submitLabel, action) {
  const error = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit' }, submitLabel);
  const form = h('form', { class: 'stack' }, ...fields, error, button);
  const dlg = dialog(title, form);
  const clientMsgId = uuid();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = '';
    try {
      await action(clientMsgId);
      dlg.close();
    } catch (e) {
      error.textContent = problem(e);
    } finally {
      button.disabled = false;
    }
  });
  form.querySelector('input, select')?.focus();
  return dlg;
}

export function sendRedPacketDialog(app, conv) {
  const isPrivate = conv.kind === 'private';
  const kind = h('select', { name: 'kind' },
    isPrivate ? h('option', { value: '1' }, 'Single (for the other user)') : null,
    h('option', { value: '2' }, 'Lucky: the total split at random'),
    h('option', { value: '3' }, 'Equal: the same amount each'));
  const total = h('input', { name: 'amount', inputmode: 'decimal', required: true, placeholder: '10.00' });
  const count = h('input', { name: 'count', type: 'number', min: 1, max: 1000, value: isPrivate ? 1 : 2, required: true });
  const title = h('input', { name: 'title', maxlength: 64, value: 'Best wishes' });
  const password = passwordInput();
  const amountLabel = h('span', {}, 'Total amount');
  const amountField = h('label', {}, amountLabel, total);
  const countField = field('Number of shares', count);
  const sync = () => {
    amountLabel.textContent = kind.value === '3' ? 'Amount per share' : kind.value === '1' ? 'Amount' : 'Total amount';
    countField.hidden = kind.value === '1';
  };
  kind.addEventListener('change', sync);
  sync();
  moneyDialog('Send a red packet', [field('Kind', kind), amountField, countField, field('Greeting', title),
    field('Payment password', password)], 'Send red packet', async (clientMsgId) => {
    const value = amount(total.value);
    if (value === null) throw new Error('Enter an amount such as 10 or 2.50');
    const type = Number(kind.value);
    const params = { chatId: conv.chatId, type, title: title.value.trim() || 'Red packet', password: password.value, clientMsgId };
    if (type === 1) Object.assign(params, { price: value, count: 1 });
    else if (type === 3) Object.assign(params, { price: value, count: Number(count.value) });
    else Object.assign(params, { total_price: value, count: Number(count.value) });
    await app.client.call('redpacket.create', params);
    refreshWallet(app);
  });
}

export async function openRedPacket(app, redPacketId, { mine = false } = {}) {
  const list = h('ul', { class: 'grabs', 'aria-label': 'Who got what' });
  const status = h('p', { role: 'status' }, mine ? '' : 'Opening…');
  const dlg = dialog('Red packet', h('div', { class: 'stack' }, status, list));
  let headline = '';
  if (!mine) {
    try {
      const got = await app.client.call('redpacket.get', { redPacketId });
      const share = (got.users || []).find((u) => u.userId === app.store.me.userId);
      headline = share ? `You got ${money(share.price)}` : 'Opened';
      refreshWallet(app);
    } catch (e) {
      headline = { 402: 'All shares have been taken.', 410: 'This red packet has expired.', 400: 'This is your own red packet.' }[e.code]
        || problem(e);
    }
  }
  try {
    const detail = await app.client.call('redpacket.detail', { redPacketId });
    const users = detail.users || [];
    await app.ensureUsers(users.map((u) => u.userId));
    status.textContent = `${headline ? headline + '. ' : ''}${detail.title || ''}: ${money(detail.total_price)} in ${detail.count} `
      + `share${detail.count > 1 ? 's' : ''}, ${detail.remainCount} left${detail.isExpire ? ' (expired)' : ''}.`;
    list.replaceChildren(...users.map((u) => h('li', {},
      h('span', {}, u.userId === app.store.me.userId ? 'You' : app.store.name(u.userId)), ' ',
      h('strong', {}, money(u.price)))));
    if (!users.length) list.replaceChildren(h('li', { class: 'muted' }, 'Nobody has opened it yet.'));
  } catch (e) {
    status.textContent = headline || problem(e);
  }
  return dlg;
}

export function sendRemittanceDialog(app, conv) {
  const payee = app.store.peer(conv);
  const value = h('input', { name: 'amount', inputmode: 'decimal', required: true, placeholder: '12.50' });
  const note = h('input', { name: 'description', maxlength: 225 });
  const password = passwordInput();
  moneyDialog(`Transfer to ${app.store.name(payee)}`, [field('Amount', value), field('Note (optional)', note),
    field('Payment password', password)], 'Send transfer', async (clientMsgId) => {
    const sum = amount(value.value);
    if (sum === null) throw new Error('Enter an amount such as 12.50');
    await app.client.call('remittance.remit', {
      type: 1, chatId: conv.chatId, payee, amount: sum, description: note.value.trim(), password: password.value, clientMsgId,
    });
    refreshWallet(app);
  });
}

export async function receiveRemittance(app, remittanceId) {
  try {
    const record = await app.client.call('remittance.receive', { remittanceId });
    app.toast(`Received ${money(record.amount)}`);
  } catch (e) {
    app.toast(problem(e), 'bad');
  }
  refreshWallet(app);
}
