/**
 * Reads `/metrics?scope=cluster` every few seconds and keeps a short history, so counters become
 * rates. The cluster scope adds up every process's counters (in distributed mode the sends happen
 * on the workers); Prometheus scrapes each process's own `/metrics` instead.
 */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from '../api/client.ts';
import { parsePrometheus, sum, type Sample } from './prometheus.ts';
import { useLiveInterval } from '../live/LiveUpdates.tsx';

export interface Point {
  t: number;
  time: string;
  stepsPerMin: number;
  sendsPerMin: number;
  failuresPerMin: number;
  lagMeanMs: number | null;
  due: number;
  inFlight: number;
}

const KEEP = 60;
// Kept outside the component, so the charts keep their history while the operator visits other pages.
let kept: Point[] = [];
let lastScrape: { t: number; samples: Sample[] } | null = null;

export function useMetrics(intervalMs = 3_000) {
  const scrape = useQuery({
    queryKey: ['metrics'],
    queryFn: async () => parsePrometheus(await api<string>('GET', '/metrics?scope=cluster')),
    refetchInterval: useLiveInterval(intervalMs),
  });
  const [history, setHistory] = useState<Point[]>(kept);

  useEffect(() => {
    const samples = scrape.data;
    if (!samples) return;
    const t = scrape.dataUpdatedAt;
    const prev = lastScrape;
    lastScrape = { t, samples };
    if (!prev || t <= prev.t) return;
    const minutes = (t - prev.t) / 60_000;
    const rate = (name: string, where: Record<string, string> = {}) => Math.max(0, (sum(samples, name, where) - sum(prev.samples, name, where)) / minutes);
    const lagCount = sum(samples, 'touchpoint_scheduler_lag_seconds_count') - sum(prev.samples, 'touchpoint_scheduler_lag_seconds_count');
    const lagSum = sum(samples, 'touchpoint_scheduler_lag_seconds_sum') - sum(prev.samples, 'touchpoint_scheduler_lag_seconds_sum');
    const point: Point = {
      t,
      time: new Date(t).toLocaleTimeString(),
      stepsPerMin: Math.round(rate('touchpoint_step_executions_total') * 10) / 10,
      sendsPerMin: Math.round(rate('touchpoint_deliveries_total', { outcome: 'sent' }) * 10) / 10,
      failuresPerMin: Math.round(rate('touchpoint_deliveries_total', { outcome: 'failed' }) * 10) / 10,
      lagMeanMs: lagCount > 0 ? Math.round((lagSum / lagCount) * 1000) : null,
      due: sum(samples, 'touchpoint_enrollments_due'),
      inFlight: sum(samples, 'touchpoint_enrollments_in_flight'),
    };
    kept = [...kept.slice(-(KEEP - 1)), point];
    setHistory(kept);
  }, [scrape.data, scrape.dataUpdatedAt]);

  return { samples: scrape.data, error: scrape.error, isLoading: scrape.isLoading, history };
}
