/**
 * Per-chat message order. `seq` numbers a chat's messages 1, 2, 3... without holes, so the
 * tracker keeps, per chat, the last seq it has handed on (its position) and:
 *  - drops a message at or below the position (a duplicate: a push seen twice, a resend's
 *    answer, a push that a sync already delivered);
 *  - hands on a message one past the position, then any buffered ones that follow it;
 *  - buffers a message further ahead (a gap: the missing push may be on its way, since
 *    pushes are not strictly ordered) and, if the gap is still open `gapWaitMs` later, asks
 *    for a `messages.sync`, whose pages close it.
 * Before a baseline is known (a fresh client without stored positions) messages are held and
 * replayed once it is set.
 */
export class SeqTracker {
  /**
   * @param {{emit: (msg: object) => void, requestSync: () => void, changed?: () => void,
   *          gapWaitMs?: number, maxBuffered?: number}} options
   */
  constructor({ emit, requestSync, changed = () => {}, gapWaitMs = 500, maxBuffered = 2000 }) {
    this._emit = emit;
    this._requestSync = requestSync;
    this._changed = changed;
    this.gapWaitMs = gapWaitMs;
    this.maxBuffered = maxBuffered;
    this.reset();
  }

  reset() {
    /** @type {Map<number, number>} chatId -> last seq handed on */
    this.positions = new Map();
    /** @type {Map<number, Map<number, object>>} chatId -> seq -> message, ahead of a gap */
    this._buffered = new Map();
    this._bufferedCount = 0;
    this._early = [];
    this.ready = false;
    clearTimeout(this._gapTimer);
    this._gapTimer = undefined;
  }

  /** Positions as stored: `{chatId: seq}`, or null before a baseline. */
  dump() {
    return this.ready ? Object.fromEntries(this.positions) : null;
  }

  /** Restore stored positions (see dump); the tracker is ready from then on. */
  load(stored) {
    if (!stored || typeof stored !== 'object') return;
    for (const [chat, seq] of Object.entries(stored)) {
      const chatId = Number(chat);
      if (Number.isInteger(chatId) && Number.isInteger(seq) && seq > (this.positions.get(chatId) ?? 0)) {
        this.positions.set(chatId, seq);
      }
    }
    this._setReady();
  }

  /** Start from these `[chatId, lastSeq]` pairs (older messages are history, not news). */
  baseline(pairs) {
    for (const [chatId, lastSeq] of pairs) {
      if (Number.isInteger(chatId) && Number.isInteger(lastSeq) && !this.positions.has(chatId)) {
        this.positions.set(chatId, lastSeq);
      }
    }
    this._setReady();
  }

  /** Ready with no position at all: the next sync fetches everything from each join. */
  markReady() {
    this._setReady();
  }

  _setReady() {
    if (this.ready) return;
    this.ready = true;
    const early = this._early;
    this._early = [];
    for (const msg of early) this.add(msg);
    this._changed();
  }

  lastSeq(chatId) {
    return this.positions.get(Number(chatId)) ?? 0;
  }

  /** The `positions` parameter of messages.sync. */
  syncPositions() {
    const out = {};
    for (const [chatId, seq] of this.positions) out[String(chatId)] = seq;
    return out;
  }

  /** A message from a push (or this client's own acknowledged send). */
  add(msg) {
    if (!msg || typeof msg !== 'object') return;
    const { chatId, seq } = msg;
    if (!Number.isInteger(chatId) || !Number.isInteger(seq)) return;
    if (!this.ready) {
      if (this._early.length < this.maxBuffered) this._early.push(msg);
      return;
    }
    const position = this.positions.get(chatId) ?? 0;
    if (seq <= position) return;
    if (seq === position + 1) {
      this._handOn(chatId, msg);
      this._drain(chatId);
      this._changed();
      return;
    }
    let chat = this._buffered.get(chatId);
    if (!chat) this._buffered.set(chatId, (chat = new Map()));
    if (!chat.has(seq) && this._bufferedCount < this.maxBuffered) {
      // Past the bound the message is not kept: the sync that closes the gap brings it.
      chat.set(seq, msg);
      this._bufferedCount += 1;
    }
    this._armGapTimer();
  }

  /** One page of a messages.sync answer. */
  applySync(reply) {
    if (!reply || !Array.isArray(reply.chats)) return;
    for (const chat of reply.chats) {
      const chatId = chat?.chatId;
      if (!Number.isInteger(chatId)) continue;
      const messages = Array.isArray(chat.messages) ? [...chat.messages] : [];
      messages.sort((a, b) => a.seq - b.seq);
      for (const msg of messages) {
        // Sync may skip seqs (messages deleted for this user): it is the authority here.
        if (Number.isInteger(msg?.seq) && msg.seq > (this.positions.get(chatId) ?? 0)) this._handOn(chatId, msg);
      }
      if (!reply.hasMore && Number.isInteger(chat.lastSeq) && chat.lastSeq > (this.positions.get(chatId) ?? 0)) {
        this.positions.set(chatId, chat.lastSeq);
      }
      this._drain(chatId);
    }
    this._changed();
    if (!reply.hasMore && this._bufferedCount) this._armGapTimer();
  }

  /** Whether a chat still waits for a missing seq. */
  hasGap() {
    return this._bufferedCount > 0;
  }

  _handOn(chatId, msg) {
    this.positions.set(chatId, msg.seq);
    this._emit(msg);
  }

  _drain(chatId) {
    const chat = this._buffered.get(chatId);
    if (!chat) return;
    let position = this.positions.get(chatId) ?? 0;
    for (const seq of [...chat.keys()]) {
      if (seq <= position) {
        chat.delete(seq);
        this._bufferedCount -= 1;
      }
    }
    while (chat.has(position + 1)) {
      const msg = chat.get(position + 1);
      chat.delete(position + 1);
      this._bufferedCount -= 1;
      this._handOn(chatId, msg);
      position += 1;
    }
    if (!chat.size) this._buffered.delete(chatId);
  }

  _armGapTimer() {
    if (this._gapTimer !== undefined) return;
    this._gapTimer = setTimeout(() => {
      this._gapTimer = undefined;
      if (this._bufferedCount) this._requestSync();
    }, this.gapWaitMs);
  }

  stop() {
    clearTimeout(this._gapTimer);
    this._gapTimer = undefined;
  }
}
