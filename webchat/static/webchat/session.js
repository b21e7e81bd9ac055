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

/** The SDK's storage option: {get(key), set(key, value)}, kept apart per user. */
export function userStorage(userId) {
  const prefix = `im.web.${userId}.`;
  return {
    get(key) {
      const raw = localStorage.getItem(prefix + key);
      if (raw === null) return undefined;
      try {
        return JSON.parse(raw);
      } catch {
        return undefined;
      }
    },
    set(key, value) {
      try {
        if (value === undefined || value === null) localStorage.removeItem(prefix + key);
        else localStorage.setItem(prefix + key, JSON.stringify(value));
      } catch {
        // storage full or disabled: the client keeps working from memory
      }
    },
  };
}
