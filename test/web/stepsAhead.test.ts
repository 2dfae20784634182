/** The confirmation's count of what a cancel gives up: reachable sends and tasks, "up to" past a branch. */
import { describe, expect, it } from 'vitest';
import { stepsAhead, stepsAheadSentence } from '../../web/src/lead/stepsAhead.ts';

const steps = [
  { id: 'intro', type: 'email', subject: 's', body: 'b' },
  { id: 'pause', type: 'wait', duration: 'P1D' },
  { id: 'bump', type: 'email', subject: 's', body: 'b' },
  { id: 'text', type: 'sms', text: 't' },
  { id: 'call', type: 'task', title: 'Call' },
  { id: 'done', type: 'end' },
];

describe('steps ahead of an enrollment', () => {
  it('counts the sends and tasks still ahead, the current one when it has not run', () => {
    expect(stepsAheadSentence(stepsAhead(steps, 'pause', false))).toBe('3 scheduled steps will not run (1 email, 1 SMS, 1 task).');
    expect(stepsAhead(steps, 'intro', true).total).toBe(4);
    expect(stepsAhead(steps, 'intro', false).total).toBe(3);
    expect(stepsAheadSentence(stepsAhead(steps, 'done', false))).toMatch(/^No step/);
  });

  it('says "up to" past a branch and counts both ways once', () => {
    const branching = [
      { id: 'intro', type: 'email', subject: 's', body: 'b' },
      { id: 'opened', type: 'branch', when: { event: 'email.opened' }, within: 'P1D', then: 'call', else: 'bump' },
      { id: 'bump', type: 'email', subject: 's', body: 'b', next: 'call' },
      { id: 'call', type: 'voice', script: 'Hi' },
      { id: 'end', type: 'end' },
    ];
    const ahead = stepsAhead(branching, 'opened', true);
    expect(ahead).toMatchObject({ total: 2, branches: true });
    expect(stepsAheadSentence(ahead)).toBe('Up to 2 scheduled steps will not run (1 email, 1 call).');
  });

  it('survives loops and unknown steps', () => {
    const loop = [
      { id: 'a', type: 'email', subject: 's', body: 'b' },
      { id: 'b', type: 'branch', when: { outcome: ['x'] }, within: 'P1D', then: 'a', else: 'b' },
    ];
    expect(stepsAhead(loop, 'a', true).total).toBe(1);
    expect(stepsAhead(loop, 'missing', true).total).toBe(0);
    expect(stepsAhead(loop, null, true).total).toBe(0);
  });
});
