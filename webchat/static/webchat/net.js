// The WebSocket the SDK is given: the browser's own, remembered while open so that the page
// (and the browser tests, through window.imApp.dropSocket) can cut the connection the way a
// network failure would; the SDK then reconnects and resends its outbox.

const open = new Set();

export class TrackedWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols);
    open.add(this);
    this.addEventListener('close', () => open.delete(this));
  }
}

/** Close every open socket abruptly (code 3000, "dropped"): not a logout, so the SDK reconnects. */
export function dropSockets() {
  let count = 0;
  for (const socket of open) {
    socket.close(3000, 'dropped');
    count += 1;
  }
  return count;
}
