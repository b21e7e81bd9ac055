/**
 * The one error type of the SDK. `code` is the server's number (a socket reply's `code`, a REST
 * body's `code`, else the HTTP status) or, for failures that never reached an answer, one of the
 * local codes below; `reason` names the local failure.
 *
 *   408 'timeout'       no answer within the time allowed
 *   499 'disconnected'  the socket closed before the answer came (the call may or may not have run)
 *   499 'closed'        the client was closed (close(), logout, or the server ended the login)
 *   429 'overflow'      too many calls waiting, or the outbox is full
 *   413 'too_large'     the frame is larger than the server accepts (maxFrameBytes)
 *   599 'network'       a REST request failed before any HTTP answer
 */
export class ImError extends Error {
  /**
   * @param {number} code
   * @param {string} message
   * @param {{method?: string, status?: number, error?: string, reason?: string}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message);
    this.name = 'ImError';
    this.code = code;
    this.method = extra.method;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.error !== undefined) this.error = extra.error;
    if (extra.reason !== undefined) this.reason = extra.reason;
  }
}

export const LOCAL = Object.freeze({
  timeout: 408,
  disconnected: 499,
  closed: 499,
  overflow: 429,
  too_large: 413,
  network: 599,
});

/** An ImError for a failure on this side of the wire. */
export function localError(reason, message, method) {
  return new ImError(LOCAL[reason], message, { method, reason });
}
