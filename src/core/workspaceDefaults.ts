/**
 * What a new sequence takes from its workspace (`PATCH /api/workspaces/{id}`: the default
 * schedule, the default quiet hours, the holidays). The rule is "what the definition does not
 * write comes from the workspace", applied once, when the sequence is created: the stored first
 * version carries the values, so a later change of the workspace's defaults never moves a
 * sequence that exists (it keeps what it was created with; a new version is written as sent).
 *
 * - no `schedule`: the workspace's default schedule (when it has one), its holidays joined by the
 *   workspace's;
 * - a `schedule` without `holidays`: the workspace's holidays;
 * - a `schedule` with `holidays` (even `[]`): as written — the author chose;
 * - no `quietHours`: the workspace's default quiet hours (when it has them).
 *
 * Pure, and shared by the API (POST /api/sequences) and the dashboard's new-sequence editor.
 */

export interface WorkspaceDefaults {
  defaultSchedule: unknown;
  defaultQuietHours: unknown;
  holidays: readonly string[];
}

type Definition = Record<string, unknown>;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The definition with what it may have gained; `T`'s own fields keep their types. */
export type WithDefaults<T> = T & { schedule?: unknown; quietHours?: unknown };

export function withWorkspaceDefaults<T extends Definition>(definition: T, workspace: WorkspaceDefaults): WithDefaults<T> {
  const out: Definition = { ...definition };
  const holidays = [...new Set(workspace.holidays)].sort();
  if (!('schedule' in definition)) {
    if (isRecord(workspace.defaultSchedule)) {
      const own = Array.isArray(workspace.defaultSchedule.holidays) ? (workspace.defaultSchedule.holidays as string[]) : [];
      const joined = [...new Set([...own, ...holidays])].sort();
      out.schedule = { ...workspace.defaultSchedule, ...(joined.length > 0 || 'holidays' in workspace.defaultSchedule ? { holidays: joined } : {}) };
    } else if (holidays.length > 0) {
      // The built-in window (every field defaulted by the definition's schema) on the workspace's holidays.
      out.schedule = { holidays };
    }
  } else if (isRecord(definition.schedule) && !('holidays' in definition.schedule) && holidays.length > 0) {
    out.schedule = { ...definition.schedule, holidays };
  }
  if (!('quietHours' in definition) && isRecord(workspace.defaultQuietHours)) out.quietHours = { ...workspace.defaultQuietHours };
  return out as WithDefaults<T>;
}

/**
 * A starting definition (a template) for a workspace with defaults: the workspace's window and
 * quiet hours replace the template's, so the editor opens on what the workspace set.
 */
export function startingDefinition<T extends Definition>(template: T, workspace: WorkspaceDefaults): WithDefaults<T> {
  const { schedule, quietHours, ...rest } = template;
  const base: Definition = { ...rest };
  if (!isRecord(workspace.defaultSchedule) && schedule !== undefined) base.schedule = schedule;
  if (!isRecord(workspace.defaultQuietHours) && quietHours !== undefined) base.quietHours = quietHours;
  return withWorkspaceDefaults(base, workspace) as WithDefaults<T>;
}
