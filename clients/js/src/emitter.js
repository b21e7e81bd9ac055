/** A small event emitter: a handler that throws does not stop the others (the error is reported
 * on 'error', or to the console when nobody listens to 'error'). */
export class Emitter {
  constructor() {
    /** @type {Map<string, Set<Function>>} */
    this._handlers = new Map();
  }

  on(name, handler) {
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    let set = this._handlers.get(name);
    if (!set) this._handlers.set(name, (set = new Set()));
    set.add(handler);
    return () => this.off(name, handler);
  }

  once(name, handler) {
    const wrapped = (value) => {
      this.off(name, wrapped);
      handler(value);
    };
    return this.on(name, wrapped);
  }

  off(name, handler) {
    const set = this._handlers.get(name);
    if (!set) return;
    set.delete(handler);
    if (!set.size) this._handlers.delete(name);
  }

  listenerCount(name) {
    return this._handlers.get(name)?.size ?? 0;
  }

  emit(name, value) {
    const set = this._handlers.get(name);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(value);
      } catch (error) {
        if (name !== 'error' && this.listenerCount('error')) this.emit('error', error);
        else console.error(error); // eslint-disable-line no-console
      }
    }
  }
}
