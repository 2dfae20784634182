/**
 * The in-process bus of live notices (docs/DASHBOARD.md, "Live updates"). The engine and the API
 * publish here after they commit; the open `/api/stream` responses of a workspace subscribe to
 * it; in distributed mode the relay (src/db/liveRelay.ts) taps it to pass this process's notices
 * to the others and publishes theirs here as `remote`. Publishing is a map lookup per workspace
 * and a call per subscriber: with nobody listening it costs the engine next to nothing.
 */
import type { LiveNotice, LiveSink } from '../core/live.ts';

export type NoticeListener = (notices: readonly LiveNotice[]) => void;
export type NoticeTap = (notices: readonly LiveNotice[], origin: 'local' | 'remote') => void;

export class LiveBus implements LiveSink {
  private readonly byWorkspace = new Map<string, Set<NoticeListener>>();
  private readonly taps = new Set<NoticeTap>();

  constructor(private readonly onError?: (error: unknown) => void) {}

  publish(notices: readonly LiveNotice[], origin: 'local' | 'remote' = 'local'): void {
    if (notices.length === 0) return;
    for (const tap of this.taps) this.call(() => tap(notices, origin));
    if (this.byWorkspace.size === 0) return;
    const grouped = new Map<string, LiveNotice[]>();
    for (const notice of notices) {
      if (!this.byWorkspace.has(notice.workspaceId)) continue;
      const list = grouped.get(notice.workspaceId);
      if (list) list.push(notice);
      else grouped.set(notice.workspaceId, [notice]);
    }
    for (const [workspaceId, list] of grouped) {
      for (const listener of this.byWorkspace.get(workspaceId) ?? []) this.call(() => listener(list));
    }
  }

  /** One workspace's notices; answers the unsubscribe. */
  subscribe(workspaceId: string, listener: NoticeListener): () => void {
    let set = this.byWorkspace.get(workspaceId);
    if (!set) this.byWorkspace.set(workspaceId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.byWorkspace.get(workspaceId) === set) this.byWorkspace.delete(workspaceId);
    };
  }

  /** Every notice, with where it came from (the relay sends on only its own process's). */
  tap(listener: NoticeTap): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  /** Workspaces with at least one subscriber in this process. */
  watched(): string[] {
    return [...this.byWorkspace.keys()];
  }

  private call(fn: () => void): void {
    // A subscriber's failure (a closed socket) must never reach the engine's commit path.
    try {
      fn();
    } catch (error) {
      this.onError?.(error);
    }
  }
}
