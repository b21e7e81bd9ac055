/**
 * Reconnect delays: exponential from `minMs`, capped at `maxMs`, with "equal jitter" (a delay is
 * drawn between half and all of the step), so clients cut off together do not come back
 * together. `attempt` counts from 1.
 */
export function backoffDelay(attempt, { minMs = 500, maxMs = 15000 } = {}, random = Math.random) {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const step = Math.min(maxMs, minMs * 2 ** exponent);
  return Math.round(step / 2 + random() * (step / 2));
}
