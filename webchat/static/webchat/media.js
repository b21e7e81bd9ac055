// Media links need the login token (a header, never the page's URL), so images are fetched
// with it and shown from blob: URLs, cached per link for the page's life.

const cache = new Map(); // link -> Promise<blob URL>
const MAX_CACHED = 200;

export function mediaBlobUrl(app, link) {
  if (!link) return Promise.reject(new Error('no link'));
  let pending = cache.get(link);
  if (!pending) {
    pending = fetchBlob(app, link);
    cache.set(link, pending);
    pending.catch(() => cache.delete(link));
    if (cache.size > MAX_CACHED) {
      const [oldest] = cache.keys();
      cache.get(oldest).then((url) => URL.revokeObjectURL(url), () => {});
      cache.delete(oldest);
    }
  }
  return pending;
}

async function fetchBlob(app, link) {
  const url = new URL(link, location.origin);
  // A url-only image sent by another client is not fetched (the page's policy allows this server only).
  if (url.origin !== location.origin) throw new Error('external image');
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 20000);
  try {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${app.client.token}` }, signal: controller.signal });
    if (!response.ok) throw new Error(`image unavailable (${response.status})`);
    return URL.createObjectURL(await response.blob());
  } finally {
    clearTimeout(timer);
  }
}
