/**
 * The front door: email and password (the server's own sentences for a wrong password, a locked
 * email or too many tries), "Sign in with SSO" when the deployment offers it, a forgotten
 * password, and — for automation — pasting an API token, as before.
 */
import { Alert, Anchor, Button, Code, Container, Divider, Group, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { ssoErrorMessage } from '../../../src/core/ssoErrors.ts';
import { get, post } from '../api/client.ts';
import type { AuthOptions } from '../api/types.ts';
import { useAuth } from '../auth.tsx';

type Door = 'password' | 'token' | 'forgot';

/** Where the SSO button goes: the address `/api/auth/options` names, or the OIDC start route. */
export function ssoStartUrl(options: AuthOptions | undefined): string | null {
  if (!options?.sso) return null;
  const named = Object.entries(options as Record<string, unknown>).find(([key, value]) => /url$/i.test(key) && typeof value === 'string');
  return (named?.[1] as string | undefined) ?? '/api/auth/oidc/start';
}

/**
 * Why single sign-on came back without a session: the sentence for the `?sso_error=<code>` the
 * callback left in the address. Only codes travel in the URL and only our own sentences are shown,
 * so a crafted link cannot put words on the sign-in page; a code we do not know gets a plain one.
 */
function ssoMessage(): string | null {
  const code = new URLSearchParams(window.location.search).get('sso_error');
  if (code === null) return null;
  return ssoErrorMessage(code) ?? 'Single sign-on did not sign you in. Start again from this page.';
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function useSubmit(action: () => Promise<void>) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, onSubmit };
}

function Failure({ error, title }: { error: unknown; title: string }) {
  if (!error) return null;
  return (
    <Alert color="red" title={title} role="alert">
      {messageOf(error)}
    </Alert>
  );
}

function PasswordDoor({ options, onDoor }: { options: AuthOptions | undefined; onDoor: (door: Door) => void }) {
  const auth = useAuth();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { error, busy, onSubmit } = useSubmit(() => auth.signInWithPassword(email.trim(), password));
  const sso = ssoStartUrl(options);
  const fromSso = ssoMessage();
  return (
    <Stack>
      {sso && (
        <>
          <Button component="a" href={sso} variant="default">
            Sign in with SSO
          </Button>
          {fromSso && (
            <Alert color="red" title="Single sign-on did not sign you in" role="alert">
              {fromSso}
            </Alert>
          )}
          <Divider label="or with your email" labelPosition="center" />
        </>
      )}
      <form onSubmit={onSubmit}>
        <Stack>
          <TextInput label="Email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.currentTarget.value)} required autoFocus />
          <PasswordInput label="Password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} required />
          <Failure error={error} title="Sign-in failed" />
          <Button type="submit" loading={busy} disabled={!email.trim() || !password}>
            Sign in
          </Button>
        </Stack>
      </form>
      <Group justify="space-between">
        <Anchor component="button" type="button" size="sm" onClick={() => onDoor('forgot')}>
          Forgot your password?
        </Anchor>
        <Anchor component="button" type="button" size="sm" onClick={() => onDoor('token')}>
          Use an API token instead
        </Anchor>
      </Group>
    </Stack>
  );
}

function TokenDoor({ onDoor }: { onDoor: (door: Door) => void }) {
  const auth = useAuth();
  const [token, setToken] = useState('');
  const { error, busy, onSubmit } = useSubmit(() => auth.signInWithToken(token.trim()));
  return (
    <form onSubmit={onSubmit}>
      <Stack>
        <Text size="sm" c="dimmed">
          For automation and checks: an API token acts in one workspace with one role. Create one under <b>API tokens</b> or with{' '}
          <Code>npx touchpoint tokens create --role admin</Code>. It stays in this browser until you sign out.
        </Text>
        <PasswordInput label="API token" placeholder="tp_…" value={token} onChange={(e) => setToken(e.currentTarget.value)} required autoFocus />
        <Failure error={error} title="Sign-in failed" />
        <Button type="submit" loading={busy} disabled={!token.trim()}>
          Sign in
        </Button>
        <Anchor component="button" type="button" size="sm" onClick={() => onDoor('password')}>
          Use your email and password instead
        </Anchor>
      </Stack>
    </form>
  );
}

function ForgotDoor({ onDoor }: { onDoor: (door: Door) => void }) {
  const [email, setEmail] = useState('');
  const [answer, setAnswer] = useState<string | null>(null);
  const { error, busy, onSubmit } = useSubmit(async () => {
    setAnswer((await post<{ message: string }>('/api/auth/password-reset', { email: email.trim() })).message);
  });
  return (
    <form onSubmit={onSubmit}>
      <Stack>
        <Text size="sm" c="dimmed">
          We send a one-time link to set a new password (valid 24 hours).
        </Text>
        <TextInput label="Email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.currentTarget.value)} required autoFocus />
        {answer && (
          <Alert color="blue" data-testid="reset-answer">
            {answer}
          </Alert>
        )}
        <Failure error={error} title="The request was refused" />
        <Button type="submit" loading={busy} disabled={!email.trim()}>
          Send me a link
        </Button>
        <Anchor component="button" type="button" size="sm" onClick={() => onDoor('password')}>
          Back to sign-in
        </Anchor>
      </Stack>
    </form>
  );
}

/** The card every page before sign-in sits in (sign-in, accept an invite, set a password). */
export function DoorCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Container size={460} py={64}>
      <Paper withBorder p="xl" radius="md">
        <Stack>
          <Title order={2}>{title}</Title>
          {children}
        </Stack>
      </Paper>
    </Container>
  );
}

export function SignInPage() {
  const [door, setDoor] = useState<Door>('password');
  const options = useQuery({ queryKey: ['auth-options'], queryFn: () => get<AuthOptions>('/api/auth/options'), staleTime: Infinity });
  return (
    <DoorCard title={door === 'forgot' ? 'Forgot your password?' : 'Sign in to Touchpoint'}>
      {door === 'password' && <PasswordDoor options={options.data} onDoor={setDoor} />}
      {door === 'token' && <TokenDoor onDoor={setDoor} />}
      {door === 'forgot' && <ForgotDoor onDoor={setDoor} />}
    </DoorCard>
  );
}
