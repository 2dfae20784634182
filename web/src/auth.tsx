/**
 * Who is signed in, and in which workspace they act. Two doors:
 * - a person, by email and password (or a one-time link, or SSO): the server keeps the session
 *   behind an HttpOnly cookie, and `GET /api/me` lists their workspaces and role in each; the
 *   workspace they pick is sent with every request and remembered per person in this browser;
 * - an API token pasted for automation (kept in localStorage): one workspace, one role.
 * Any 401 outside `/api/auth` means the session ended: the app goes back to the sign-in page.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { ApiError, api, post, setActiveWorkspace, setUnauthorizedHandler, storeToken, storedToken } from './api/client.ts';
import type { Me, Role } from './api/types.ts';

export interface WorkspaceChoice {
  id: string;
  name: string;
  role: Role;
}

interface Auth {
  /** `GET /api/me` as the server answered it; null when nobody is signed in. */
  me: Me | null | undefined;
  loading: boolean;
  error: unknown;
  /** How the dashboard is signed in: a person's session, or a pasted token. */
  mode: 'session' | 'token' | null;
  /** The workspace the dashboard acts in, and the role there. */
  workspace: WorkspaceChoice | null;
  /** A person's workspaces (a token's one). */
  workspaces: WorkspaceChoice[];
  signInWithPassword(email: string, password: string): Promise<void>;
  signInWithToken(token: string): Promise<void>;
  /** After a page that signed in through the server (accept an invite, set a password). */
  signedIn(workspaceId?: string): Promise<void>;
  switchWorkspace(id: string): void;
  signOut(): Promise<void>;
  /** True when the role in the current workspace is at least `role`. */
  can(role: Role): boolean;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const WORKSPACE_KEY = 'touchpoint.workspace';
const ME = ['me'];
const AuthContext = createContext<Auth | null>(null);

/** The workspace each person last chose in this browser, by user id. */
function rememberedWorkspaces(): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(WORKSPACE_KEY) ?? '{}');
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}
function remember(userId: string, workspaceId: string): void {
  localStorage.setItem(WORKSPACE_KEY, JSON.stringify({ ...rememberedWorkspaces(), [userId]: workspaceId }));
}

/** `/api/me` without the workspace header (a workspace the person left would refuse it); null for nobody. */
async function fetchMe(): Promise<Me | null> {
  try {
    return await api<Me>('GET', '/api/me', undefined, { anyWorkspace: true });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

function choicesOf(me: Me | null | undefined): WorkspaceChoice[] {
  if (!me) return [];
  if (me.workspaces) return me.workspaces;
  return me.workspace && me.role ? [{ id: me.workspace.id, name: me.workspace.name, role: me.role }] : [];
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [token, setToken] = useState<string | null>(storedToken());
  const [picked, setPicked] = useState<string | null>(null);
  const me = useQuery({ queryKey: ME, queryFn: fetchMe, retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2 });

  useEffect(() => {
    setUnauthorizedHandler(() => {
      if (client.getQueryData(ME) === null) return;
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
      client.setQueryData(ME, null);
    });
    return () => setUnauthorizedHandler(null);
  }, [client]);

  const workspaces = choicesOf(me.data);
  const userId = me.data?.user?.id;
  const wanted = picked ?? (userId ? rememberedWorkspaces()[userId] : undefined);
  const workspace = workspaces.find((w) => w.id === wanted) ?? workspaces.find((w) => w.id === me.data?.workspace?.id) ?? workspaces[0] ?? null;
  // Every request from here on acts in this workspace: set before the pages below render and fetch.
  setActiveWorkspace(me.data?.user ? (workspace?.id ?? null) : null);

  /** Forgets every page's data (it belonged to another person or workspace) and asks who is signed in. */
  // The ME query itself is never removed, only given new data: its observer would keep watching
  // a removed query, and the page would not learn that someone signed out.
  const forgetPages = () => client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
  const restart = async () => {
    forgetPages();
    await client.fetchQuery({ queryKey: ME, queryFn: fetchMe, staleTime: 0 });
  };

  const value: Auth = {
    me: me.data,
    loading: me.isLoading,
    error: me.error,
    mode: me.data ? (me.data.user ? 'session' : 'token') : null,
    workspace,
    workspaces,
    async signInWithPassword(email, password) {
      await post('/api/auth/login', { email, password });
      storeToken(null);
      setToken(null);
      setPicked(null);
      await restart();
    },
    async signInWithToken(candidate) {
      storeToken(candidate);
      try {
        const who = await fetchMe();
        if (!who) throw new ApiError(401, 'unauthorized', 'This token is not valid (missing, revoked or mistyped).');
        forgetPages();
        client.setQueryData(ME, who);
        setToken(candidate);
      } catch (error) {
        storeToken(token);
        throw error;
      }
    },
    async signedIn(workspaceId) {
      storeToken(null);
      setToken(null);
      setPicked(workspaceId ?? null);
      const who = await client.fetchQuery({ queryKey: ME, queryFn: fetchMe, staleTime: 0 });
      if (who?.user && workspaceId) remember(who.user.id, workspaceId);
      forgetPages();
    },
    switchWorkspace(id) {
      if (userId) remember(userId, id);
      setActiveWorkspace(id);
      forgetPages();
      setPicked(id);
    },
    async signOut() {
      if (token) {
        storeToken(null);
        setToken(null);
      } else {
        // Ends the session on the server; the cookie goes with the answer. Signed out here either way.
        await post('/api/auth/logout').catch(() => undefined);
      }
      setPicked(null);
      forgetPages();
      client.setQueryData(ME, null);
    },
    can: (role) => (workspace ? RANK[workspace.role] >= RANK[role] : false),
  };
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside AuthProvider');
  return auth;
}
