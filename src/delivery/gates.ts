/**
 * Send gates in order (docs/ENGINE.md, "Limit-aware claims"): each is asked only about the sends
 * every earlier gate admitted, so a gate that reserves (the rate limits) comes after one that
 * does not (a mailbox's daily cap) and never holds a place for a send another gate defers.
 */
import type { Admission, SendGate } from './types.ts';

export function gatesInOrder(gates: SendGate[]): SendGate {
  return {
    async admit(requests) {
      const answers: Admission[] = requests.map(() => ({ kind: 'now' }));
      let pending = requests.map((_, i) => i);
      for (const gate of gates) {
        if (pending.length === 0) break;
        const got = await gate.admit(pending.map((i) => requests[i]!));
        pending = pending.filter((i, j) => {
          const answer = got[j]!;
          if (answer.kind === 'now') return true;
          answers[i] = answer;
          return false;
        });
      }
      return answers;
    },
  };
}
