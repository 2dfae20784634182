/** Who is signed in: the token (kept in localStorage), its workspace and role. */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useState, type ReactNode } from 'react';
import { ApiError, get, storeToken, storedToken } from './api/client.ts';
import type { Me, Role } from './api/types.ts';

interface Auth {
  token: string | null;
  me: Me | undefined;
  loading: boolean;
  error: unknown;
  signIn(token: string): Promise<void>;
  signOut(): void;
  /** True when the signed-in role is at least `role`. */
  can(role: Role): boolean;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [token, setToken] = useState<string | null>(storedToken());
  const me = useQuery({
    queryKey: ['me', token],
    queryFn: () => get<Me>('/api/me'),
    enabled: token !== null,
    retry: (count, error) => !(error instanceof ApiError && error.status === 401) && count < 2,
  });

  const signIn = async (candidate: string) => {
    storeToken(candidate);
    try {
      const who = await get<Me>('/api/me');
      client.clear();
      client.setQueryData(['me', candidate], who);
      setToken(candidate);
    } catch (error) {
      storeToken(token);
      throw error;
    }
  };
  const signOut = () => {
    storeToken(null);
    client.clear();
    setToken(null);
  };
  const value: Auth = {
    token,
    me: me.data,
    loading: me.isLoading,
    error: me.error,
    signIn,
    signOut,
    can: (role) => (me.data?.role ? RANK[me.data.role] >= RANK[role] : false),
  };
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside AuthProvider');
  return auth;
}
