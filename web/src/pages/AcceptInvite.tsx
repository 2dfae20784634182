/**
 * `/accept-invite#token=…`: an invite, and the link the first start prints for the first admin.
 * Someone new chooses their email (unless the invite names it) and a password: the account is
 * created and signed in. Someone with an account signs in first (the link alone never opens an
 * existing account — its creator holds it too) and the workspace is added to theirs.
 */
import { Alert, Badge, Button, Group, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiError, get, post } from '../api/client.ts';
import type { AcceptedInvite, Body, InvitePreview } from '../api/types.ts';
import { forgetLinkToken, linkTokenOf } from '../account/linkToken.ts';
import { useAuth } from '../auth.tsx';
import { navigate } from '../router.tsx';
import { DoorCard } from './SignIn.tsx';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function AcceptInvitePage() {
  const auth = useAuth();
  const [token] = useState(() => linkTokenOf(window.location.hash));
  const invite = useQuery({
    queryKey: ['invite', token],
    queryFn: () => get<InvitePreview>(`/api/auth/invites/${encodeURIComponent(token!)}`),
    enabled: token !== null,
    retry: false,
    staleTime: Infinity,
  });
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  /** Set when the email has an account: that person signs in here, then joins. */
  const [signInAs, setSignInAs] = useState<string | null>(null);

  if (!token) {
    return (
      <DoorCard title="This invite link is incomplete">
        <Text>The address should end with <code>#token=…</code>. Open the whole link you were sent, or ask an admin for a new one.</Text>
      </DoorCard>
    );
  }
  if (invite.isLoading || auth.loading) return <DoorCard title="Opening the invite…">{null}</DoorCard>;
  if (invite.error || !invite.data) {
    return (
      <DoorCard title="This invite cannot be used">
        <Alert color="red" role="alert">
          {messageOf(invite.error)}
        </Alert>
        <Button variant="default" onClick={() => navigate('/')}>
          Go to sign-in
        </Button>
      </DoorCard>
    );
  }

  const offer = invite.data;
  const person = auth.mode === 'session' ? auth.me?.user : undefined;
  const forSomeoneElse = person && offer.email && offer.email.toLowerCase() !== person.email.toLowerCase();

  const accept = async (body: Body<'/api/auth/invites/accept', 'post'>) => {
    const accepted = await post<AcceptedInvite>('/api/auth/invites/accept', body);
    forgetLinkToken();
    await auth.signedIn(accepted.workspaceId);
    navigate('/leads');
  };
  const run = (action: () => Promise<void>) => async (event?: FormEvent) => {
    event?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'sign_in_needed') setSignInAs(offer.email ?? email.trim());
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const heading = (
    <Group gap="xs">
      <Text>
        Join <b>{offer.workspace}</b> as
      </Text>
      <Badge variant="light">{offer.role}</Badge>
    </Group>
  );
  const failure = error ? (
    <Alert color={error instanceof ApiError && error.code === 'sign_in_needed' ? 'yellow' : 'red'} role="alert">
      {messageOf(error)}
    </Alert>
  ) : null;

  if (person) {
    return (
      <DoorCard title="Accept the invite">
        {heading}
        <Text size="sm">You are signed in as {person.email}.</Text>
        {forSomeoneElse ? (
          <>
            <Alert color="yellow">This invite is for {offer.email}. Sign out, then open the link again to accept it as {offer.email}.</Alert>
            <Button variant="default" onClick={() => void auth.signOut()}>
              Sign out
            </Button>
          </>
        ) : (
          <>
            {failure}
            <Button loading={busy} onClick={() => void run(() => accept({ token }))()}>
              Join {offer.workspace}
            </Button>
          </>
        )}
      </DoorCard>
    );
  }

  if (signInAs) {
    return (
      <DoorCard title="Sign in to accept">
        {heading}
        {failure}
        <form onSubmit={run(async () => {
          await auth.signInWithPassword(signInAs, password);
          await accept({ token });
        })}>
          <Stack>
            <TextInput label="Email" value={signInAs} readOnly />
            <PasswordInput label="Password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} required autoFocus />
            <Button type="submit" loading={busy} disabled={!password}>
              Sign in and join
            </Button>
          </Stack>
        </form>
      </DoorCard>
    );
  }

  return (
    <DoorCard title="Create your account">
      {heading}
      <form onSubmit={run(() => accept({ token, email: offer.email ? undefined : email.trim(), password, name: name.trim() || undefined }))}>
        <Stack>
          {offer.email ? (
            <TextInput label="Email" value={offer.email} readOnly description="The invite is for this address" />
          ) : (
            <TextInput label="Email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.currentTarget.value)} required autoFocus />
          )}
          <TextInput label="Your name" autoComplete="name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <PasswordInput
            label="Choose a password"
            description="10 to 200 characters"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            required
          />
          {failure}
          <Button type="submit" loading={busy} disabled={!password || (!offer.email && !email.trim())}>
            Create account and join
          </Button>
          <Text size="xs" c="dimmed">
            Already have an account? Enter its email: you will be asked to sign in, and the workspace is added to it.
          </Text>
        </Stack>
      </form>
    </DoorCard>
  );
}
