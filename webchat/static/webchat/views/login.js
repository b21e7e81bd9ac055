// Log in or register. Calls onSession({userId, token}) once one of them succeeds.
import { h, fill, problem } from '../util.js';

export function renderLogin(root, { makeClient, onSession, notice }) {
  const error = h('p', { class: 'error', role: 'alert' });
  if (notice) error.textContent = notice;

  const field = (label, input) => h('label', {}, h('span', {}, label), input);
  const loginUser = h('input', { name: 'username', autocomplete: 'username', required: true, maxlength: 64 });
  const loginPass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 128 });
  const login = h('form', { class: 'card', 'aria-labelledby': 'login-title' },
    h('h2', { id: 'login-title' }, 'Log in'),
    field('Username', loginUser), field('Password', loginPass),
    h('button', { type: 'submit' }, 'Log in'));

  const regUser = h('input', { name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 64 });
  const regPass = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 6, maxlength: 128 });
  const regPhone = h('input', { name: 'phone', type: 'tel', autocomplete: 'tel', maxlength: 20 });
  const register = h('form', { class: 'card', 'aria-labelledby': 'register-title' },
    h('h2', { id: 'register-title' }, 'Register'),
    field('Username', regUser), field('Password (6 or more characters)', regPass), field('Phone (optional)', regPhone),
    h('button', { type: 'submit' }, 'Create account'));

  async function submit(event, action) {
    event.preventDefault();
    const form = event.currentTarget;
    const button = form.querySelector('button');
    button.disabled = true;
    error.textContent = '';
    try {
      const client = makeClient();
      const session = await action(client);
      onSession({ userId: session.userId, token: session.token });
    } catch (e) {
      error.textContent = problem(e);
    } finally {
      button.disabled = false;
    }
  }
  login.addEventListener('submit', (e) => submit(e, (c) => c.login(loginUser.value.trim(), loginPass.value, { device: 'web' })));
  register.addEventListener('submit', (e) => submit(e, (c) => c.register({
    username: regUser.value.trim(), password: regPass.value, phone: regPhone.value.trim() || undefined, device: 'web',
  })));

  fill(root, h('section', { class: 'login', 'aria-label': 'Sign in' },
    h('h1', {}, 'IM web chat'),
    h('p', { class: 'hint' }, 'Demo users: alice, bob, charlie (password demo1234, payment password 123456).'),
    error, h('div', { class: 'cards' }, login, register)));
  loginUser.focus();
}
