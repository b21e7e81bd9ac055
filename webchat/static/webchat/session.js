// The saved login (token and user id) and the SDK's per-user storage (seq positions, outbox),
// both in localStorage so that a reload continues where the page was.

const SESSION = 'im.web.session';

export function savedSession() {
  try {
    const value = JSON.parse(localStorage.getItem(SESSION) || 'null');
    return value && typeof value.token === 'string' && Number.isInteger(value.userId) ? value : null;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  localStorage.setItem(SESSION, JSON.stringify({ userId: session.userId, token: session.token }));
}

export function forgetSession() {
  localStorage.removeItem(SESSION);
}

/** The SDK's storage option: {get(key), set(key, value)} of strings. The SDK's keys already
 * name the user, so positions and outboxes of two users never mix. */
export const sdkStorage = {
  get(key) {
    return localStorage.getItem(`im.web.${key}`);
  },
  set(key, value) {
    try {
      localStorage.setItem(`im.web.${key}`, value);
    } catch {
      // storage full or disabled: the client keeps working from memory
    }
  },
};
