// A practice server ends a session after `auto_lock_minutes` without a request, but reading a
// long chart makes no request while the mouse and keys keep the screen awake. So that the
// session ends only when the screen locks, an active screen touches its session now and then.

/** How often, at most, an active screen touches its session on the server. */
export const KEEP_ALIVE_MS = 30_000;

/** Whether to touch the session now: there was input since the last touch, and the last touch
 * is at least KEEP_ALIVE_MS old. The last touch then always comes at or after the last input,
 * so the server's idle clock never runs ahead of the screen's. */
export function keepAliveDue(lastInput: number, lastTouch: number, now: number): boolean {
  return lastInput > lastTouch && now - lastTouch >= KEEP_ALIVE_MS;
}
