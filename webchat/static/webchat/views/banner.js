// The connection banner: connecting, reconnecting, offline, and how many messages wait to be sent.
export class Banner {
  constructor(el) {
    this.el = el;
    this.state = 'idle';
    this.detail = {};
    this.pending = 0;
    addEventListener('online', () => this.render());
    addEventListener('offline', () => this.render());
  }

  setState(state, detail = {}) {
    this.state = state;
    this.detail = detail;
    this.render();
  }

  setPending(count) {
    this.pending = count;
    this.render();
  }

  render() {
    const waiting = this.pending ? ` ${this.pending} message${this.pending > 1 ? 's' : ''} waiting to be sent.` : '';
    let text = '';
    let kind = 'info';
    if (!navigator.onLine) {
      text = 'You are offline. Messages will be sent when the connection returns.';
      kind = 'bad';
    } else if (this.state === 'connecting') {
      text = 'Connecting…';
    } else if (this.state === 'reconnecting') {
      const next = this.detail.delayMs ? `, next try in ${Math.ceil(this.detail.delayMs / 1000)} s` : '';
      text = `Connection lost. Reconnecting (attempt ${this.detail.attempt ?? 1}${next})…`;
      kind = 'bad';
    } else if (this.state === 'closed') {
      text = 'Disconnected.';
      kind = 'bad';
    }
    if (text || waiting) {
      this.el.textContent = (text + waiting).trim();
      this.el.dataset.state = this.state;
      this.el.className = `banner ${kind}`;
      this.el.hidden = false;
    } else {
      this.el.hidden = true;
      this.el.dataset.state = this.state;
    }
  }
}
