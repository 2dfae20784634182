import { Button, Code, Container, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useAuth } from '../auth.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';

export function SignInPage() {
  const auth = useAuth();
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Container size={460} py={64}>
      <Paper withBorder p="xl" radius="md">
        <form
          onSubmit={async (event) => {
            event.preventDefault();
            setBusy(true);
            setError(null);
            try {
              await auth.signIn(token.trim());
            } catch (e) {
              setError(e);
            } finally {
              setBusy(false);
            }
          }}
        >
          <Stack>
            <Title order={2}>Sign in to Touchpoint</Title>
            <Text size="sm" c="dimmed">
              Paste an API token. <Code>npm start</Code> prints one on its first start; create another with{' '}
              <Code>npx touchpoint tokens create --role admin</Code>. The token stays in this browser only.
            </Text>
            <PasswordInput label="API token" placeholder="tp_…" value={token} onChange={(e) => setToken(e.currentTarget.value)} required autoFocus />
            <ErrorAlert error={error} title="Sign-in failed" />
            <Button type="submit" loading={busy} disabled={!token.trim()}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Container>
  );
}
