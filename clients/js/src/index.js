export { ImClient, MessageType, LOGIN_ENDED } from './client.js';
export { ImError, LOCAL } from './errors.js';
export { backoffDelay } from './backoff.js';
export { SeqTracker } from './seq.js';
