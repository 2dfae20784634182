/** A signed-in person in no workspace (removed from their last, or new through SSO): create one, or wait for an invite. */
import { Button, Text } from '@mantine/core';
import { useAuth } from '../auth.tsx';
import { DoorCard } from '../pages/SignIn.tsx';
import { CreateWorkspaceForm } from './CreateWorkspace.tsx';

export function NoWorkspacePage() {
  const auth = useAuth();
  return (
    <DoorCard title="You are in no workspace yet">
      <Text size="sm">
        Signed in as {auth.me?.user?.email}. Open an invite link an admin sent you, or create a workspace of your own (you become its admin).
      </Text>
      <CreateWorkspaceForm />
      <Button variant="subtle" onClick={() => void auth.signOut()}>
        Sign out
      </Button>
    </DoorCard>
  );
}
