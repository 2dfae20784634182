/**
 * The header's workspace: for a person, a menu of their workspaces (with their role in each) and
 * "New workspace…"; the choice is remembered in this browser. A token belongs to one workspace,
 * so it shows just the name.
 */
import { Badge, Button, Group, Menu, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useAuth } from '../auth.tsx';
import { CreateWorkspaceModal } from './CreateWorkspace.tsx';

export function WorkspaceSwitcher() {
  const auth = useAuth();
  const [creating, { open, close }] = useDisclosure(false);
  const name = auth.workspace?.name ?? 'no workspace';
  if (auth.mode !== 'session') {
    return (
      <Text c="dimmed" size="sm" data-testid="workspace-name" truncate maw={{ base: 110, sm: 320 }} title={name}>
        {name}
      </Text>
    );
  }
  return (
    <>
      <Menu position="bottom-start" withinPortal>
        <Menu.Target>
          <Button variant="subtle" color="gray" size="xs" data-testid="workspace-name" aria-label={`Workspace: ${name}. Switch workspace`} maw={{ base: 140, sm: 320 }}>
            <Text size="sm" truncate>
              {name} ▾
            </Text>
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Label>Your workspaces</Menu.Label>
          {auth.workspaces.map((w) => (
            <Menu.Item key={w.id} onClick={() => auth.switchWorkspace(w.id)} aria-current={w.id === auth.workspace?.id ? 'true' : undefined}>
              <Group justify="space-between" gap="md" wrap="nowrap">
                <Text size="sm" fw={w.id === auth.workspace?.id ? 700 : 400}>
                  {w.name}
                </Text>
                <Badge size="xs" variant="light">
                  {w.role}
                </Badge>
              </Group>
            </Menu.Item>
          ))}
          <Menu.Divider />
          <Menu.Item onClick={open}>New workspace…</Menu.Item>
        </Menu.Dropdown>
      </Menu>
      <CreateWorkspaceModal opened={creating} onClose={close} />
    </>
  );
}
