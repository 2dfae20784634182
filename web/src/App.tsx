import { AppShell, Badge, Burger, Button, Group, Loader, NavLink, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { lazy, Suspense } from 'react';
import { useAuth } from './auth.tsx';
import { ErrorAlert } from './components/ErrorAlert.tsx';
import { LeadDetailPage } from './pages/LeadDetail.tsx';
import { LeadsPage } from './pages/Leads.tsx';
import { SequencesPage } from './pages/Sequences.tsx';
import { SignInPage } from './pages/SignIn.tsx';
import { TasksPage } from './pages/Tasks.tsx';
import { WebhooksPage } from './pages/Webhooks.tsx';
import { Link, match, navigate, usePath } from './router.tsx';

// The sequence editor (React Flow) and monitoring (Recharts) load on first visit, keeping the first page light.
const SequenceEditorPage = lazy(() => import('./pages/SequenceEditor.tsx').then((m) => ({ default: m.SequenceEditorPage })));
const MonitoringPage = lazy(() => import('./pages/Monitoring.tsx').then((m) => ({ default: m.MonitoringPage })));
const ReportsPage = lazy(() => import('./pages/Reports.tsx').then((m) => ({ default: m.ReportsPage })));

const NAV = [
  { to: '/leads', label: 'Leads' },
  { to: '/sequences', label: 'Sequences' },
  { to: '/tasks', label: 'Tasks' },
  { to: '/reports', label: 'Reports' },
  { to: '/monitoring', label: 'Monitoring' },
  { to: '/webhooks', label: 'Webhooks' },
];

function Page({ path }: { path: string }) {
  let params: Record<string, string> | null;
  if (path === '/' || path === '/leads') return <LeadsPage />;
  if ((params = match('/leads/:id', path))) return <LeadDetailPage id={params.id!} />;
  if (path === '/sequences') return <SequencesPage />;
  if ((params = match('/sequences/:id', path))) return <SequenceEditorPage id={params.id!} />;
  if (path === '/tasks') return <TasksPage />;
  if (path === '/monitoring') return <MonitoringPage />;
  if (path === '/reports') return <ReportsPage />;
  if (path === '/webhooks') return <WebhooksPage />;
  return (
    <Stack>
      <Title order={2}>Page not found</Title>
      <Text>
        There is nothing at {path}. <Link to="/leads">Go to the leads</Link>.
      </Text>
    </Stack>
  );
}

export function App() {
  const auth = useAuth();
  const path = usePath();
  const [opened, { toggle, close }] = useDisclosure();
  if (!auth.token) return <SignInPage />;
  if (auth.loading) return <Loader m="xl" aria-label="Loading" />;
  if (!auth.me) {
    return (
      <Stack p="xl" maw={560}>
        <ErrorAlert error={auth.error} title="Cannot sign in" />
        <Button onClick={auth.signOut}>Sign in with another token</Button>
      </Stack>
    );
  }
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 200, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Text fw={700} component="a" href="/leads" visibleFrom="xs" onClick={(e) => (e.preventDefault(), navigate('/leads'))}>
              Touchpoint
            </Text>
            <Text c="dimmed" size="sm" data-testid="workspace-name" truncate maw={{ base: 110, sm: 320 }} title={auth.me.workspace?.name ?? 'no workspace'}>
              {auth.me.workspace?.name ?? 'no workspace'}
            </Text>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <Badge variant="light" data-testid="role" visibleFrom="xs">
              {auth.me.role}
            </Badge>
            <Button variant="subtle" size="xs" onClick={auth.signOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        {NAV.map((item) => (
          <NavLink
            key={item.to}
            label={item.label}
            href={item.to}
            active={path === item.to || path.startsWith(`${item.to}/`) || (item.to === '/leads' && path === '/')}
            onClick={(event) => {
              event.preventDefault();
              close();
              navigate(item.to);
            }}
          />
        ))}
        <Text size="xs" c="dimmed" mt="md" px="sm" hiddenFrom="xs">
          {auth.me.workspace?.name ?? 'no workspace'} · {auth.me.role}
        </Text>
      </AppShell.Navbar>
      <AppShell.Main>
        <Suspense fallback={<Loader aria-label="Loading the page" />}>
          <Page path={path} />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
