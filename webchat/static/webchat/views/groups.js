// Groups: create one with members chosen among the friends; the member list.
import { h, dialog, problem } from '../util.js';

export async function createGroupDialog(app) {
  const title = h('input', { name: 'title', required: true, maxlength: 128 });
  const boxes = h('fieldset', { class: 'people' }, h('legend', {}, 'Members'), h('p', { class: 'muted' }, 'Loading friends…'));
  const error = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit' }, 'Create group');
  const form = h('form', { class: 'stack' }, h('label', {}, h('span', {}, 'Group name'), title), boxes, error, button);
  const dlg = dialog('New group', form);
  title.focus();
  try {
    const friends = await app.client.call('friends.list', {});
    app.store.addUsers(friends);
    boxes.replaceChildren(h('legend', {}, 'Members'), ...(friends.length ? friends.map((f) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'member', value: f.uId }), ' ', app.store.name(f.uId))) : [h('p', { class: 'muted' }, 'No friends yet.')]));
  } catch (e) {
    error.textContent = problem(e);
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = '';
    try {
      const uIds = [...form.querySelectorAll('input[name=member]:checked')].map((i) => Number(i.value));
      const info = await app.client.call('chats.create', { title: title.value.trim(), kind: 'group', uIds });
      app.store.upsertConversation({ ...info, unread: 0, lastMessage: null });
      dlg.close();
      app.openChat(info.chatId);
      if (info.skipped?.length) app.toast(`Not added (their settings): ${info.skipped.map((id) => app.store.name(id)).join(', ')}`);
    } catch (e) {
      error.textContent = problem(e);
    } finally {
      button.disabled = false;
    }
  });
}

export async function membersDialog(app, conv) {
  const list = h('ul', { class: 'members', 'aria-label': 'Members' }, h('li', { class: 'muted' }, 'Loading…'));
  dialog(`Members of ${app.store.title(conv)}`, list);
  try {
    const answer = await app.client.call('chats.members', { chatId: conv.chatId, page: 1, count: 500 });
    const members = answer.members || [];
    app.store.addUsers(members.map((m) => ({ uId: m.uId, userName: m.userName, firstName: m.firstName, lastName: m.lastName })));
    const ids = members.map((m) => m.uId);
    try {
      app.store.setPresence(await app.client.call('presence.query', { uIds: ids.slice(0, 200) }));
    } catch { /* presence is a nicety */ }
    list.replaceChildren(...members.map((m) => {
      const p = app.store.presence.get(m.uId);
      return h('li', {}, h('span', { class: `dot ${p?.online ? 'on' : ''}`, 'aria-label': p?.online ? 'online' : 'offline' }),
        ' ', m.uId === app.store.me.userId ? `${app.store.name(m.uId)} (you)` : app.store.name(m.uId),
        m.role !== 'member' ? h('span', { class: 'role' }, ` ${m.role}`) : null);
    }));
  } catch (e) {
    list.replaceChildren(h('li', { class: 'error' }, problem(e)));
  }
}

/** Start (or open) a private chat with a friend. */
export async function newChatDialog(app) {
  const list = h('ul', { class: 'members', 'aria-label': 'Friends' }, h('li', { class: 'muted' }, 'Loading…'));
  const dlg = dialog('Chat with a friend', list);
  try {
    const friends = await app.client.call('friends.list', {});
    app.store.addUsers(friends);
    list.replaceChildren(...friends.map((f) => h('li', {}, h('button', { type: 'button', class: 'link', onclick: async () => {
      dlg.close();
      const existing = [...app.store.convs.values()].find((c) => c.kind === 'private' && app.store.peer(c) === f.uId);
      if (existing) app.openChat(existing.chatId);
      else app.openDraft(f.uId);
    } }, app.store.name(f.uId)))));
    if (!friends.length) list.replaceChildren(h('li', { class: 'muted' }, 'No friends yet.'));
  } catch (e) {
    list.replaceChildren(h('li', { class: 'error' }, problem(e)));
  }
}
