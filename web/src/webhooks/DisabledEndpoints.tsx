/**
 * Admins told on every page when the deliverer turned an endpoint off (a 410, or a day of
 * failures; docs/DASHBOARD.md, "Webhooks"): a count on the Webhooks item of the navigation, and
 * a banner above every page but the Webhooks page (which shows one per endpoint itself) that can
 * be dismissed for the endpoints it names — a later disabling shows it again. Both read the
 * endpoint list the Webhooks page reads (one query, one key), which the live stream's `webhook`
 * notices refresh (the deliverer sends one with each attempt it records, the one that disables
 * included); without the stream it is refetched once a minute.
 */
import { Alert, Anchor, Badge, Text, VisuallyHidden } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { get } from '../api/client.ts';
import type { WebhookEndpoint } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { useLiveInterval } from '../live/LiveUpdates.tsx';
import { navigate } from '../router.tsx';

export const WEBHOOK_ENDPOINTS_KEY = ['webhook-endpoints'];

export async function fetchWebhookEndpoints(): Promise<WebhookEndpoint[]> {
  return (await get<{ items: WebhookEndpoint[] }>('/api/webhook-endpoints')).items;
}

/** Endpoints the deliverer disabled (not those someone turned off): admins only, else none. */
export function useFailedEndpoints(): WebhookEndpoint[] {
  const auth = useAuth();
  const admin = auth.can('admin');
  const endpoints = useQuery({
    queryKey: WEBHOOK_ENDPOINTS_KEY,
    queryFn: fetchWebhookEndpoints,
    enabled: admin,
    refetchInterval: useLiveInterval(60_000),
  });
  if (!admin) return [];
  return endpoints.data?.filter((e) => !e.enabled && e.disabledReason !== null && e.disabledReason !== 'operator') ?? [];
}

/** One disabling of one endpoint: dismissing the banner hides it until another comes. */
const disabling = (e: WebhookEndpoint) => `${e.id}@${e.disabledAt ?? ''}`;
const DISMISSED = 'touchpoint.dismissedWebhookBanner';

function dismissedNow(): string[] {
  try {
    const stored: unknown = JSON.parse(sessionStorage.getItem(DISMISSED) ?? '[]');
    return Array.isArray(stored) ? stored.map(String) : [];
  } catch {
    return [];
  }
}

/** The count beside "Webhooks" in the navigation (nothing when none is disabled). */
export function DisabledEndpointsCount() {
  const failed = useFailedEndpoints();
  if (failed.length === 0) return null;
  return (
    <Badge color="red" size="sm" variant="filled" data-testid="webhook-disabled-count">
      {failed.length}
      <VisuallyHidden> {failed.length === 1 ? 'endpoint disabled' : 'endpoints disabled'}</VisuallyHidden>
    </Badge>
  );
}

export function DisabledEndpointsBanner({ path }: { path: string }) {
  const failed = useFailedEndpoints();
  const [dismissed, setDismissed] = useState(dismissedNow);
  const shown = failed.filter((e) => !dismissed.includes(disabling(e)));
  if (shown.length === 0 || path === '/webhooks') return null;
  const dismiss = () => {
    // Only the disablings shown now; remembered for this browser tab's session.
    const next = failed.map(disabling);
    sessionStorage.setItem(DISMISSED, JSON.stringify(next));
    setDismissed(next);
  };
  const one = shown.length === 1 ? shown[0] : undefined;
  return (
    <Alert
      color="red"
      variant="light"
      mb="md"
      title={one ? 'A webhook endpoint was disabled' : `${shown.length} webhook endpoints were disabled`}
      withCloseButton
      closeButtonLabel="Dismiss"
      onClose={dismiss}
      data-testid="webhook-disabled-notice"
    >
      <Text size="sm">
        {one ? `${one.url} was turned off: ${one.disabledReason === 'gone' ? 'the receiver answered 410 Gone' : 'every delivery failed for a day'}.` : 'The deliverer turned them off after failures.'}{' '}
        Their events wait. Fix the receiver, then enable it on the{' '}
        <Anchor
          underline="always"
          href="/webhooks"
          onClick={(event) => {
            event.preventDefault();
            navigate('/webhooks');
          }}
        >
          Webhooks page
        </Anchor>
        .
      </Text>
    </Alert>
  );
}
