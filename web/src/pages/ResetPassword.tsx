/**
 * `/reset-password#token=…`: a one-time link (e-mailed, or printed by
 * `touchpoint users reset-password` / `users create`) to set a password. Setting it ends the
 * person's other sessions and signs them in here.
 */
import { Alert, Button, PasswordInput, Stack, Text } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { post } from '../api/client.ts';
import type { Body } from '../api/types.ts';
import { forgetLinkToken, linkTokenOf } from '../account/linkToken.ts';
import { useAuth } from '../auth.tsx';
import { navigate } from '../router.tsx';
import { DoorCard } from './SignIn.tsx';

export function ResetPasswordPage() {
  const auth = useAuth();
  const [token] = useState(() => linkTokenOf(window.location.hash));
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!token) {
    return (
      <DoorCard title="This link is incomplete">
        <Text>The address should end with <code>#token=…</code>. Open the whole link, or ask for a new one.</Text>
      </DoorCard>
    );
  }
  const mismatch = again !== '' && again !== password;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post('/api/auth/password', { token, password } satisfies Body<'/api/auth/password', 'post'>);
      forgetLinkToken();
      await auth.signedIn();
      navigate('/leads');
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <DoorCard title="Set your password">
      <form onSubmit={submit}>
        <Stack>
          <Text size="sm" c="dimmed">
            Your other sessions end when you set it; you are signed in here.
          </Text>
          <PasswordInput label="New password" description="10 to 200 characters" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} required autoFocus />
          <PasswordInput
            label="The same again"
            autoComplete="new-password"
            value={again}
            onChange={(e) => setAgain(e.currentTarget.value)}
            error={mismatch ? 'The two passwords differ.' : undefined}
            required
          />
          {error && (
            <Alert color="red" role="alert" title="The password was not set">
              {error}
            </Alert>
          )}
          <Button type="submit" loading={busy} disabled={!password || again !== password}>
            Set password and sign in
          </Button>
        </Stack>
      </form>
    </DoorCard>
  );
}
