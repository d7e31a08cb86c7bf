// Paired rounds for side-by-side.ts: the anchor and the target measured in alternation, and the
// ratio read round by round. On a shared machine whose speed drifts over minutes (another tenant's
// load, the host's disk cache), a ratio of two figures taken minutes apart carries that drift; a
// ratio of two runs taken back to back mostly does not. Pure: figures in, ratios out.
import { summarise, type Summary } from './stats.ts';

/** One round: each target's figure, and which ran first. */
export interface Round {
  order: [string, string];
  figures: Record<string, number>;
  /** While each target ran: the CPU the other, idle one used (ms per second, i.e. ‰ of a core). */
  idleCpu?: Record<string, number>;
}

/** Round i's order: A B, then B A, and so on, so that neither target always runs first. */
export function orderOf(round: number, a: string, b: string): [string, string] {
  return round % 2 === 0 ? [a, b] : [b, a];
}

/** Each round's ratio of `target` to `anchor` (rounds missing either, or with a zero anchor, are left out) and their spread. */
export function pairedRatios(rounds: Round[], target: string, anchor: string): { ratios: number[]; summary?: Summary } {
  const ratios = rounds.flatMap((r) => {
    const t = r.figures[target],
      a = r.figures[anchor];
    return t !== undefined && a !== undefined && a > 0 ? [t / a] : [];
  });
  return { ratios, summary: ratios.length ? summarise(ratios) : undefined };
}
