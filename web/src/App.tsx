import { AppShell, Badge, Burger, Button, Group, Loader, NavLink, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { lazy, Suspense } from 'react';
import { useAuth } from './auth.tsx';
import { NoWorkspacePage } from './account/NoWorkspace.tsx';
import { WorkspaceSwitcher } from './account/WorkspaceSwitcher.tsx';
import { ErrorAlert } from './components/ErrorAlert.tsx';
import { AcceptInvitePage } from './pages/AcceptInvite.tsx';
import { DemoBanner } from './demo/DemoData.tsx';
import { LeadDetailPage } from './pages/LeadDetail.tsx';
import { LeadsPage } from './pages/Leads.tsx';
import { MailboxesPage } from './pages/Mailboxes.tsx';
import { MembersPage } from './pages/Members.tsx';
import { ResetPasswordPage } from './pages/ResetPassword.tsx';
import { SequencesPage } from './pages/Sequences.tsx';
import { SignInPage } from './pages/SignIn.tsx';
import { TasksPage } from './pages/Tasks.tsx';
import { TokensPage } from './pages/Tokens.tsx';
import { RepliesPage } from './pages/Replies.tsx';
import { WebhooksPage } from './pages/Webhooks.tsx';
import { SuppressionsPage } from './pages/Suppressions.tsx';
import { Link, match, navigate, usePath } from './router.tsx';
import { LiveStatus, LiveUpdates } from './live/LiveUpdates.tsx';
import { DisabledEndpointsBanner, DisabledEndpointsCount } from './webhooks/DisabledEndpoints.tsx';

// The sequence editor (React Flow) and monitoring (Recharts) load on first visit, keeping the first page light.
const SequenceEditorPage = lazy(() => import('./pages/SequenceEditor.tsx').then((m) => ({ default: m.SequenceEditorPage })));
const MonitoringPage = lazy(() => import('./pages/Monitoring.tsx').then((m) => ({ default: m.MonitoringPage })));
const WorkspaceSettingsPage = lazy(() => import('./pages/WorkspaceSettings.tsx').then((m) => ({ default: m.WorkspaceSettingsPage })));
const ReportsPage = lazy(() => import('./pages/Reports.tsx').then((m) => ({ default: m.ReportsPage })));

const NAV = [
  { to: '/leads', label: 'Leads' },
  { to: '/sequences', label: 'Sequences' },
  { to: '/tasks', label: 'Tasks' },
  { to: '/replies', label: 'Replies' },
  { to: '/reports', label: 'Reports' },
  { to: '/monitoring', label: 'Monitoring' },
  { to: '/mailboxes', label: 'Mailboxes' },
  { to: '/webhooks', label: 'Webhooks' },
  { to: '/suppressions', label: 'Suppressions' },
  { to: '/members', label: 'Members' },
  { to: '/tokens', label: 'API tokens', admin: true },
  { to: '/settings', label: 'Settings' },
];
/** Pages that work before sign-in: the one-time links. */
const DOORS: Record<string, () => React.JSX.Element> = { '/accept-invite': AcceptInvitePage, '/reset-password': ResetPasswordPage };

function Page({ path }: { path: string }) {
  let params: Record<string, string> | null;
  if (path === '/' || path === '/leads') return <LeadsPage />;
  if ((params = match('/leads/:id', path))) return <LeadDetailPage id={params.id!} />;
  if (path === '/sequences') return <SequencesPage />;
  if ((params = match('/sequences/:id', path))) return <SequenceEditorPage id={params.id!} />;
  if (path === '/tasks') return <TasksPage />;
  if (path === '/replies') return <RepliesPage />;
  if (path === '/monitoring') return <MonitoringPage />;
  if (path === '/reports') return <ReportsPage />;
  if (path === '/mailboxes') return <MailboxesPage />;
  if (path === '/webhooks') return <WebhooksPage />;
  if (path === '/suppressions') return <SuppressionsPage />;
  if (path === '/members') return <MembersPage />;
  if (path === '/tokens') return <TokensPage />;
  if (path === '/settings') return <WorkspaceSettingsPage />;
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
  const Door = DOORS[path];
  if (Door) return <Door />;
  if (auth.loading) return <Loader m="xl" role="status" aria-label="Loading" />;
  if (auth.error && !auth.me) {
    return (
      <Stack p="xl" maw={560}>
        <ErrorAlert error={auth.error} title="Cannot reach Touchpoint" />
        <Button onClick={() => window.location.reload()}>Try again</Button>
      </Stack>
    );
  }
  if (!auth.me) return <SignInPage />;
  if (!auth.workspace) return <NoWorkspacePage />;
  return (
    // One live stream per signed-in page, reopened for another workspace.
    <LiveUpdates key={`live-${auth.workspace.id}`}>
    <AppShell header={{ height: 56 }} navbar={{ width: 200, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Text fw={700} component="a" href="/leads" visibleFrom="xs" onClick={(e) => (e.preventDefault(), navigate('/leads'))}>
              Touchpoint
            </Text>
            <WorkspaceSwitcher />
          </Group>
          <Group gap="xs" wrap="nowrap">
            <LiveStatus />
            <Badge variant="light" data-testid="role" visibleFrom="xs">
              {auth.workspace.role}
            </Badge>
            {auth.me.user && (
              <Text size="sm" c="dimmed" visibleFrom="md" data-testid="signed-in-as">
                {auth.me.user.email}
              </Text>
            )}
            <Button variant="subtle" size="xs" onClick={() => void auth.signOut()}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        {NAV.filter((item) => !item.admin || auth.can('admin')).map((item) => (
          <NavLink
            key={item.to}
            label={item.label}
            href={item.to}
            rightSection={item.to === '/webhooks' ? <DisabledEndpointsCount /> : undefined}
            active={path === item.to || path.startsWith(`${item.to}/`) || (item.to === '/leads' && path === '/')}
            onClick={(event) => {
              event.preventDefault();
              close();
              navigate(item.to);
            }}
          />
        ))}
        <Text size="xs" c="dimmed" mt="md" px="sm" hiddenFrom="xs">
          {auth.workspace.name} · {auth.workspace.role}
        </Text>
      </AppShell.Navbar>
      <AppShell.Main>
        <DemoBanner key={`demo-${auth.workspace.id}`} />
        <DisabledEndpointsBanner key={`webhooks-${auth.workspace.id}`} path={path} />
        {/* A switch of workspace starts every page afresh: nothing from the other one lingers. */}
        <Suspense fallback={<Loader role="status" aria-label="Loading the page" />}>
          <Page key={auth.workspace.id} path={path} />
        </Suspense>
      </AppShell.Main>
    </AppShell>
    </LiveUpdates>
  );
}
