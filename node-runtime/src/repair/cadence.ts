// When the repair worker passes again, besides every cluster map change and the periodic safety
// net (CAIRN_REPAIR_INTERVAL_MS): a pure function, as the operator's requeue cadence is.
/** The first follow-up comes this soon after a pass that copied or dropped something. */
export const FOLLOW_UP_MS = 500;
/** Follow-ups that find nothing to do back off to this (then the periodic pass takes over). */
export const FOLLOW_UP_MAX_MS = 8_000;

/**
 * Pure: when the next pass should come, not waiting for the periodic one (ms; 0: nothing waits, -1:
 * waiting work made no progress through the back-off). Why: a holder's surplus
 * copy can be dropped only once the desired holders confirmed it, and those copies are made by
 * another member's pass at the same time — waiting a whole period (30 s) for each such round made
 * repair after a loss trickle. While chunks are under-replicated or misplaced here, passes follow
 * at once after progress, backing off (×2) while none is made, and stop when nothing is left.
 */
export function followUpDelay(previous: number, o: { progressed: boolean; waiting: number }): number {
  if (o.waiting === 0) return 0;
  if (o.progressed || previous === 0) return FOLLOW_UP_MS;
  // No progress through the whole back-off (a member down for good, R above the members): leave it to
  // the periodic pass until some pass makes progress again.
  if (previous < 0 || previous >= FOLLOW_UP_MAX_MS) return -1;
  return Math.min(FOLLOW_UP_MAX_MS, previous * 2);
}
