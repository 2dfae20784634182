/**
 * Semantic rules beyond the graph: what a step's condition may name, settings that can never
 * work together, and warnings for documents that are valid but probably not what was meant.
 */
import { Duration } from 'luxon';
import {
  DEFAULT_EXIT_ON,
  isIsoDuration,
  LOCAL_DATE_PATTERN,
  LOCAL_TIME_PATTERN,
  MAX_DURATION,
  scheduleSchema,
  type StepType,
} from './definition.ts';
import { isRecord, listOf, own, problem, quote, type Problem } from './validateFormat.ts';
import { canonicalEventName } from './events.ts';
import type { StepNode } from './validateGraph.ts';
import { nextOpening, NoOpeningError } from './windows.ts';

export interface Findings {
  errors: Problem[];
  warnings: Problem[];
}

const EVENT_CHANNEL: Record<string, StepType> = { email: 'email', sms: 'sms', call: 'voice' };
const DELIVERY_OR_TASK: readonly StepType[] = ['email', 'sms', 'voice', 'task'];

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
}

function article(type: string): string {
  // Said aloud, "sms" starts with a vowel sound ("an ess-em-ess").
  return /^(?:[aeiou]|sms)/.test(type) ? `an ${type}` : `a ${type}`;
}

/** An event names a channel by its prefix; `manual.outcome` can be recorded on any touchpoint. */
function conditionStepProblem(node: StepNode, target: StepNode): string | undefined {
  if (node.replyClasses !== undefined) {
    if (target.type === 'email' || target.type === 'sms') return undefined;
    return `"step" names ${quote(target.id)}, ${article(target.type)} step, but a reply answers an email or an SMS; name one of those, or leave "step" out for the latest reply to any message.`;
  }
  const event = node.event ?? '';
  const channel = EVENT_CHANNEL[event.split('.')[0] ?? ''];
  const named = `"step" names ${quote(target.id)}, ${article(target.type)} step`;
  if (channel !== undefined && target.type !== channel) {
    return `${named}, but ${quote(event)} comes from ${channel} steps; name ${article(channel)} step or wait for ${article(target.type)} event.`;
  }
  if (event === 'manual.outcome' && !DELIVERY_OR_TASK.includes(target.type)) {
    return `${named}, but a manual outcome is recorded on an email, sms, voice or task step; name one of those.`;
  }
  return undefined;
}

/**
 * A reply branch never sees the reply when `exitOn` ends the enrollment on every reply (the
 * default) or on every class it waits for.
 */
function replyConditionShadowed(classes: readonly string[], exitTriggers: ReadonlySet<string>): string | undefined {
  const anyReply = ['email.replied', 'sms.replied'].filter((t) => exitTriggers.has(t));
  if (anyReply.length > 0) {
    return `The branch waits for a reply's class, but "exitOn" lists ${anyReply.map(quote).join(' and ')}, which ends the enrollment on any reply before the branch sees it; replace ${anyReply.length > 1 ? 'them' : 'it'} in "exitOn" with the classes that should end it, e.g. "reply.unsubscribe" and "reply.not_interested".`;
  }
  const shadowed = classes.filter((c) => exitTriggers.has(`reply.${c}`));
  if (shadowed.length > 0 && shadowed.length === classes.length) {
    return `The branch waits for ${listOf(classes.map(quote))}, but "exitOn" ends the enrollment on ${shadowed.length > 1 ? 'each of them' : 'it'} ("reply.${shadowed[0]}"), so "then" is never taken; remove ${shadowed.length > 1 ? 'them' : 'it'} from "exitOn" or wait for another class.`;
  }
  return undefined;
}

export function stepRules(nodes: readonly StepNode[], rawSteps: readonly unknown[], exitOn: unknown): Findings {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const byId = new Map<string, StepNode>();
  for (const node of nodes) if (!byId.has(node.id)) byId.set(node.id, node);
  const exitTriggers = new Set((stringList(exitOn) ?? (exitOn === undefined ? DEFAULT_EXIT_ON : [])).map(canonicalEventName));

  for (const node of nodes) {
    const at = (...rest: Array<string | number>) => ['steps', node.index, ...rest];
    if (node.type === 'end' && node.next !== undefined) {
      errors.push(problem(at('next'), `An "end" step stops the enrollment, so its "next" (${quote(node.next)}) is never followed; remove "next" or change the step type.`));
    }
    if (node.type === 'branch') {
      if (node.next !== undefined) {
        warnings.push(problem(at('next'), `A branch continues with "then" or "else", so its "next" (${quote(node.next)}) is ignored; remove it.`));
      }
      if (node.then === node.else) {
        warnings.push(problem(at('else'), `"then" and "else" both point at ${quote(node.then ?? '')}, so the condition changes nothing; point them at different steps or use a wait step instead.`));
      }
      const target = node.eventStep === undefined ? undefined : byId.get(node.eventStep);
      const message = target && conditionStepProblem(node, target);
      if (message) errors.push(problem(at('when', 'step'), message));
      if (node.event !== undefined && exitTriggers.has(canonicalEventName(node.event))) {
        warnings.push(problem(at('when', 'event'), `The branch waits for ${quote(node.event)}, but "exitOn" ends the enrollment on that event, so "then" is never taken; remove it from "exitOn" or wait for another event.`));
      }
      const replyWarning = node.replyClasses && replyConditionShadowed(node.replyClasses, exitTriggers);
      if (replyWarning) warnings.push(problem(at('when', 'reply'), replyWarning));
    }
    if (node.type === 'task' && node.routes.length > 0) {
      const raw = rawSteps[node.index];
      const outcomes = stringList(isRecord(raw) ? own(raw, 'outcomes') : undefined) ?? ['done', 'skipped'];
      for (const [outcome] of node.routes) {
        if (outcomes.includes(outcome)) continue;
        warnings.push(problem(at('routes', outcome), `Route ${quote(outcome)} is not one of the task's outcomes (${listOf(outcomes)}), so it is never taken; add it to "outcomes" or remove the route.`));
      }
    }
  }
  if (!nodes.some((node) => DELIVERY_OR_TASK.includes(node.type))) {
    warnings.push(problem(['steps'], 'The sequence has no email, sms, voice or task step, so it never reaches the lead; add at least one.'));
  }
  return { errors, warnings };
}

const DAY_MS = 86_400_000;
const MAX_DURATION_MS = Duration.fromISO(MAX_DURATION).toMillis();

/**
 * A wait's `duration` or a branch's `within` the engine could not add: fractional years or
 * months (no calendar adds half a month), or longer than `MAX_DURATION` (P999999Y would throw on
 * every run). Business days count as calendar days at the schedule's rate (Mondays only: 7 each).
 */
function durationProblem(value: unknown, businessDays: boolean, scheduleDays: number): string | undefined {
  if (typeof value !== 'string' || !isIsoDuration(value)) return undefined; // reported by the schema
  const parts = Duration.fromISO(value).toObject();
  const { years = 0, months = 0, weeks = 0, days = 0 } = parts;
  if (!Number.isInteger(years) || !Number.isInteger(months)) {
    return `Duration ${quote(value)} has a fraction of a year or month, which no calendar can add; use whole years and months, or days and hours (e.g. "P45D").`;
  }
  let ms = Duration.fromISO(value).toMillis();
  if (businessDays) {
    const dayCount = weeks * 5 + days;
    ms += dayCount * (7 / Math.max(1, scheduleDays)) * DAY_MS - (weeks * 7 + days) * DAY_MS;
  }
  if (!Number.isFinite(ms) || ms > MAX_DURATION_MS) {
    const how = businessDays ? ' in calendar time at the schedule\'s business days' : '';
    return `Duration ${quote(value)} is longer${how} than the 10 years (${MAX_DURATION}) a wait or a "within" may last; shorten it.`;
  }
  return undefined;
}

/** Duration problems of every wait and branch, with the field they are in. */
export function durationRules(rawSteps: readonly unknown[], schedule: unknown): Problem[] {
  const days = isRecord(schedule) ? stringList(own(schedule, 'days')) : undefined;
  const scheduleDays = new Set(days ?? ['mon', 'tue', 'wed', 'thu', 'fri']).size;
  const problems: Problem[] = [];
  rawSteps.forEach((raw, index) => {
    if (!isRecord(raw)) return;
    const type = own(raw, 'type');
    const field = type === 'wait' ? 'duration' : type === 'branch' ? 'within' : undefined;
    if (!field) return;
    const message = durationProblem(own(raw, field), type === 'wait' && own(raw, 'businessDays') === true, scheduleDays);
    if (message) problems.push(problem(['steps', index, field], message));
  });
  return problems;
}

/**
 * A schedule that cannot open in the year after `now` (Mondays only, every Monday a holiday)
 * would fail every enrollment; judged in the schedule's own zone when it names one (holidays
 * are local dates, so another zone moves the answer by a day at most).
 */
export function scheduleOpensRule(schedule: unknown, now: Date): Problem[] {
  const parsed = scheduleSchema.safeParse(schedule ?? {});
  if (!parsed.success) return [];
  const { timezone, fallbackTimezone } = parsed.data;
  const zone = timezone !== 'lead' ? timezone : fallbackTimezone ?? 'UTC';
  let opening: Date | undefined;
  try {
    opening = nextOpening(now, { zone, schedule: parsed.data });
  } catch (error) {
    if (!(error instanceof NoOpeningError)) throw error;
  }
  if (opening && opening.getTime() - now.getTime() <= 366 * DAY_MS) return [];
  const { days, holidays } = parsed.data;
  return [
    problem(
      ['schedule'],
      `The schedule has no opening in the year after ${now.toISOString().slice(0, 10)} (days ${days.join(', ')}; ${holidays.length} holidays), so nothing could ever be sent; add days to "days" or remove holidays.`,
    ),
  ];
}

function isCalendarDate(text: string): boolean {
  const [year, month, day] = text.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function minutes(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

/** Minute-of-day membership; equal start and end means the whole day. */
function within(start: number, end: number, minute: number): boolean {
  if (start === end) return true;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

function timeOf(section: unknown, key: 'start' | 'end', fallback: string): string | undefined {
  const value = isRecord(section) ? own(section, key) : undefined;
  if (value === undefined) return fallback;
  return typeof value === 'string' && LOCAL_TIME_PATTERN.test(value) ? value : undefined;
}

export function settingsRules(input: Record<string, unknown>, rawSteps: readonly unknown[] | undefined): Findings {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const schedule = own(input, 'schedule');
  const quiet = own(input, 'quietHours');

  const holidays = isRecord(schedule) ? own(schedule, 'holidays') : undefined;
  (Array.isArray(holidays) ? holidays : []).forEach((day: unknown, i) => {
    if (typeof day !== 'string' || !LOCAL_DATE_PATTERN.test(day) || isCalendarDate(day)) return;
    errors.push(problem(['schedule', 'holidays', i], `Holiday ${quote(day)} is not a real calendar date; check the day of the month.`));
  });

  for (const [name, section] of [['schedule', schedule], ['quietHours', quiet]] as const) {
    if (isRecord(section) && own(section, 'start') === '24:00') {
      errors.push(problem([name, 'start'], 'Start time "24:00" is only allowed as an end time; use "00:00" for a window that starts at midnight.'));
    }
  }

  const exitOn = stringList(own(input, 'exitOn')) ?? [];
  // `meeting_booked` and `meeting.booked` are one trigger (EVENT_ALIASES).
  const canonical = exitOn.map(canonicalEventName);
  exitOn.forEach((trigger, i) => {
    const first = canonical.indexOf(canonical[i]!);
    if (first !== i) warnings.push(problem(['exitOn', i], `Exit trigger ${quote(trigger)} is already listed at exitOn[${first}]; remove the duplicate.`));
  });

  const [openAt, closeAt] = [timeOf(schedule, 'start', '08:00'), timeOf(schedule, 'end', '21:00')];
  const [quietFrom, quietTo] = [timeOf(quiet, 'start', '21:00'), timeOf(quiet, 'end', '08:00')];
  if (!openAt || !closeAt || !quietFrom || !quietTo) return { errors, warnings };
  const rawChannels = isRecord(quiet) ? own(quiet, 'channels') : undefined;
  const channels = rawChannels === undefined ? ['sms', 'voice'] : stringList(rawChannels) ?? [];
  if (quietFrom === quietTo && channels.length > 0) {
    warnings.push(problem(['quietHours'], `Quiet hours start and end at the same time (${quietFrom}), which reads as "all day" or "never"; set two different times, or list no "channels" to turn quiet hours off.`));
    return { errors, warnings };
  }
  const [o, c, qf, qt] = [openAt, closeAt, quietFrom, quietTo].map(minutes) as [number, number, number, number];
  const open = Array.from({ length: 1440 }, (_, m) => m).some((m) => within(o, c, m) && !within(qf, qt, m));
  const silenced = new Set(
    (rawSteps ?? []).flatMap((step) => {
      const type = isRecord(step) ? own(step, 'type') : undefined;
      return typeof type === 'string' && channels.includes(type) ? [type] : [];
    }),
  );
  if (!open && silenced.size > 0) {
    errors.push(problem(['quietHours'], `Quiet hours ${quietFrom}–${quietTo} cover the whole schedule window ${openAt}–${closeAt}, so ${[...silenced].join(' and ')} steps can never be sent; narrow the quiet hours or widen the schedule.`));
  }
  return { errors, warnings };
}
