/** The dashboard's pure helpers: the Prometheus parser, the sequence graph model, data completeness. */
import { describe, expect, it } from 'vitest';
import { completeness } from '../../web/src/leads/completeness.ts';
import { parseCsv } from '../../web/src/leads/csv.ts';
import { byLabel, histogramBuckets, histogramQuantile, parsePrometheus, sum } from '../../web/src/monitoring/prometheus.ts';
import { edgesOf, layout, problemsByStep, stepIndexOf } from '../../web/src/sequences/model.ts';
import type { SequenceDefinition } from '../../web/src/api/types.ts';

const METRICS = `# HELP touchpoint_deliveries_total Adapter calls
# TYPE touchpoint_deliveries_total counter
touchpoint_deliveries_total{channel="email",adapter="mock",outcome="sent"} 7
touchpoint_deliveries_total{channel="sms",adapter="telnyx",outcome="failed"} 2
touchpoint_deliveries_total{channel="sms",adapter="telnyx",outcome="sent"} 3
touchpoint_scheduler_lag_seconds_bucket{le="0.1"} 5
touchpoint_scheduler_lag_seconds_bucket{le="1"} 9
touchpoint_scheduler_lag_seconds_bucket{le="+Inf"} 10
touchpoint_scheduler_lag_seconds_sum 3.2
touchpoint_scheduler_lag_seconds_count 10
touchpoint_enrollments_due 4
weird{msg="a \\"quoted\\" value, with comma"} 1
`;

describe('prometheus text', () => {
  const samples = parsePrometheus(METRICS);
  it('parses samples with labels', () => {
    expect(sum(samples, 'touchpoint_deliveries_total', { outcome: 'sent' })).toBe(10);
    expect(byLabel(samples, 'touchpoint_deliveries_total', 'adapter')).toEqual({ mock: 7, telnyx: 5 });
    expect(sum(samples, 'touchpoint_enrollments_due')).toBe(4);
    expect(samples.find((s) => s.name === 'weird')?.labels.msg).toBe('a "quoted" value, with comma');
  });
  it('estimates quantiles and splits buckets', () => {
    expect(histogramQuantile(samples, 'touchpoint_scheduler_lag_seconds', 0.5)).toBeCloseTo(0.1);
    expect(histogramQuantile(samples, 'touchpoint_scheduler_lag_seconds', 0.9)).toBeCloseTo(1);
    expect(histogramQuantile([], 'touchpoint_scheduler_lag_seconds', 0.9)).toBeNull();
    expect(histogramBuckets(samples, 'touchpoint_scheduler_lag_seconds').map((b) => b.steps)).toEqual([5, 4, 1]);
    expect(histogramBuckets(samples, 'touchpoint_scheduler_lag_seconds').map((b) => b.bucket).at(-1)).toMatch(/^> \d/);
  });
});

describe('sequence model', () => {
  const definition: SequenceDefinition = {
    name: 'x',
    steps: [
      { id: 'intro', type: 'email' },
      { id: 'opened', type: 'branch', then: 'call', else: 'done' },
      { id: 'call', type: 'voice', next: 'done' },
      { id: 'task', type: 'task', routes: { skipped: 'done' } },
      { id: 'done', type: 'end' },
    ],
  };
  it('derives edges from order, next, branches and task routes', () => {
    expect(edgesOf(definition)).toEqual([
      { from: 'intro', to: 'opened', label: undefined },
      { from: 'opened', to: 'call', label: 'then' },
      { from: 'opened', to: 'done', label: 'else' },
      { from: 'call', to: 'done', label: 'next' },
      { from: 'task', to: 'done', label: 'skipped' },
      { from: 'task', to: 'done', label: undefined },
    ]);
  });
  it('lays branches side by side and unreachable steps last', () => {
    const places = layout(definition);
    expect(places.get('call')).toEqual({ row: 2, column: 0 });
    expect(places.get('done')).toEqual({ row: 2, column: 1 });
    expect(places.get('task')).toEqual({ row: 3, column: 0 });
  });
  it('points problems at their step', () => {
    expect(stepIndexOf('$.steps[12].then')).toBe(12);
    expect(stepIndexOf('$.schedule')).toBeNull();
    const map = problemsByStep(definition, [
      { path: '$.steps[1].else', message: 'dangling' },
      { path: '$.name', message: 'missing' },
    ]);
    expect(map.get('opened')?.[0]?.message).toBe('dangling');
    expect(map.get('$')?.[0]?.message).toBe('missing');
  });
});

describe('lead helpers', () => {
  it('grades data completeness', () => {
    expect(completeness({ email: 'a@b.co', phone: '+14155550101', timezone: 'Europe/Paris' }).score).toBe(3);
    expect(completeness({ email: 'nope', phone: '555-0101', timezone: 'Mars/Olympus' }).missing).toEqual([
      'email invalid',
      'phone not E.164',
      'time zone unknown',
    ]);
  });
  it('reads CSV for the preview', () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\n\n3,4', 10)).toEqual([['a', 'b'], ['x, y', 'say "hi"'], ['3', '4']]);
    expect(parseCsv('a\n1\n2\n3', 2)).toEqual([['a'], ['1']]);
  });
});

describe('dates', async () => {
  const { formatAt } = await import('../../web/src/components/format.ts');
  it('shows a time in the given zone with its name', () => {
    const at = '2026-03-08T15:30:00Z';
    expect(formatAt(at, 'America/Los_Angeles')).toMatch(/08:30|8:30/);
    expect(formatAt(at, 'America/Los_Angeles')).toMatch(/PDT|GMT-7/);
    expect(formatAt(at, 'Europe/Paris')).toMatch(/16:30|4:30/);
    expect(formatAt(null)).toBe('—');
  });
});
