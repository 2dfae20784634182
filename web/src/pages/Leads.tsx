import { Button, Checkbox, Group, Pagination, ScrollArea, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { get } from '../api/client.ts';
import type { LeadFilter, LeadListItem, Page } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { LoadDemoButton } from '../demo/DemoData.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt, leadName, relative } from '../components/format.ts';
import { BulkActions } from '../leads/BulkActions.tsx';
import { OwnerFilter, ownerName } from '../leads/OwnerSelect.tsx';
import { BulkEnroll } from '../leads/BulkEnroll.tsx';
import { CompletenessBadge } from '../leads/CompletenessBadge.tsx';
import { ImportCsv } from '../leads/ImportCsv.tsx';
import { LEAD_STATUSES, LeadStatusBadge } from '../leads/LeadStatusBadge.tsx';
import { NewLead } from '../leads/NewLead.tsx';
import { SavedFilters } from '../leads/SavedFilters.tsx';
import { SelectAllMatching } from '../leads/SelectAllMatching.tsx';
import { Link } from '../router.tsx';

const PAGE_SIZE = 25;
const STATUSES = LEAD_STATUSES.map((s) => ({ value: s.value, label: s.label }));

export function LeadsPage() {
  const auth = useAuth();
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search.trim(), 250);
  const [status, setStatus] = useState<string | null>(null);
  const [owner, setOwner] = useState<string | null>(null);
  // Cursor paging: cursors[i] opens page i + 1.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [pageIndex, setPageIndex] = useState(0);
  const [selected, setSelectedRows] = useState<Set<string>>(new Set());
  // "Select all N matching this filter": the bulk actions then cover the filter, not the rows.
  const [allMatching, setAllMatching] = useState<{ count: number } | null>(null);
  const setSelected = (rows: Set<string>) => {
    setSelectedRows(rows);
    setAllMatching(null);
  };
  const filter: LeadFilter = { ...(q ? { q } : {}), ...(status ? { status: status as LeadFilter['status'] } : {}), ...(owner ? { owner } : {}) };
  const [importing, setImporting] = useState(false);
  const [enrolling, setEnrolling] = useState(false);
  const [adding, setAdding] = useState(false);
  // The leads seen on any page, so the enroll dialog and the bulk actions can name and act on a selection across pages.
  const [known, setKnown] = useState<Record<string, LeadListItem>>({});

  const leads = useQuery({
    queryKey: ['leads', q, status, owner, cursors[pageIndex]],
    queryFn: () => get<Page<LeadListItem>>('/api/leads', { q, status, owner, cursor: cursors[pageIndex], limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
  const items = leads.data?.items ?? [];
  useEffect(() => {
    if (items.some((l) => known[l.id] !== l)) setKnown((before) => ({ ...before, ...Object.fromEntries(items.map((l) => [l.id, l])) }));
  }, [items, known]);
  const names = Object.fromEntries(Object.values(known).map((l) => [l.id, leadName(l)]));
  const selectedLeads = [...selected].flatMap((id) => (known[id] ? [known[id]] : []));
  const next = leads.data?.nextCursor ?? null;
  const resetPaging = () => {
    setCursors([undefined]);
    setPageIndex(0);
    setAllMatching(null);
  };
  const goTo = (page: number) => {
    const index = page - 1;
    if (index > pageIndex && next && cursors.length <= index) setCursors([...cursors, next]);
    setPageIndex(index);
  };
  const toggle = (id: string) => {
    const copy = new Set(selected);
    if (copy.has(id)) copy.delete(id);
    else copy.add(id);
    setSelected(copy);
  };
  const allShown = items.length > 0 && items.every((l) => selected.has(l.id));
  const filtered = q !== '' || status !== null || owner !== null;

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Leads</Title>
        <Group gap="xs">
          {auth.can('operator') && (
            <Button variant="light" disabled={selected.size === 0} onClick={() => setEnrolling(true)}>
              Enroll {(allMatching?.count ?? selected.size) || ''} in a sequence
            </Button>
          )}
          {auth.can('operator') && (
            <Button variant="default" onClick={() => setAdding(true)}>
              Add lead
            </Button>
          )}
          {auth.can('admin') && <Button onClick={() => setImporting(true)}>Import CSV</Button>}
        </Group>
      </Group>
      <Group grow preventGrowOverflow={false} wrap="wrap">
        <TextInput
          label="Search"
          placeholder="Name, email or company"
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
            resetPaging();
          }}
        />
        <Select
          label="Status"
          placeholder="Any status"
          clearable
          data={STATUSES}
          value={status}
          onChange={(v) => {
            setStatus(v);
            resetPaging();
          }}
        />
        <OwnerFilter
          value={owner}
          onChange={(v) => {
            setOwner(v);
            resetPaging();
          }}
        />
        <SavedFilters
          filter={filter}
          onApply={(f) => {
            setSearch(f.q ?? '');
            setStatus(f.status ?? null);
            setOwner(f.owner ?? null);
            resetPaging();
          }}
        />
      </Group>
      {auth.can('operator') && items.length > 0 && (
        <Group gap="xs">
          <Text size="sm">{allMatching ? `${allMatching.count.toLocaleString()} selected:` : selected.size > 0 ? `${selected.size} selected:` : 'Select leads to act on them:'}</Text>
          <BulkActions
            scope={allMatching ? { filter } : { leadIds: [...selected] }}
            leads={selectedLeads}
            count={allMatching?.count ?? selected.size}
            onDone={() => setSelected(new Set())}
          />
          {selected.size > 0 && <SelectAllMatching filter={filter} active={allMatching !== null} onChange={(all, count) => setAllMatching(all ? { count } : null)} />}
        </Group>
      )}
      <ErrorAlert error={leads.error} title="The leads could not be loaded" />
      {leads.isSuccess && items.length === 0 && !filtered && pageIndex === 0 && (
        <EmptyState
          title="No leads yet"
          action={
            auth.can('admin') ? (
              <Group gap="xs">
                <Button onClick={() => setImporting(true)}>Import a CSV</Button>
                <LoadDemoButton />
              </Group>
            ) : undefined
          }
        >
          Leads are the people your sequences reach. Import them from a CSV with an email or phone column (admins), or add one with
          “Add lead”. To see Touchpoint at work first, load demo data: sends, replies and tasks appear within a minute.
        </EmptyState>
      )}
      {leads.isSuccess && items.length === 0 && filtered && <Text c="dimmed">No lead matches this search or status.</Text>}
      {items.length > 0 && (
        <ScrollArea>
          <Table striped highlightOnHover verticalSpacing="xs" miw={900} aria-label="Leads">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={36}>
                  <Checkbox
                    aria-label="Select all leads on this page"
                    checked={allShown}
                    onChange={() => setSelected(allShown ? new Set() : new Set(items.map((l) => l.id)))}
                  />
                </Table.Th>
                <Table.Th>Name</Table.Th>
                <Table.Th>Email</Table.Th>
                <Table.Th>Company</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Owner</Table.Th>
                <Table.Th>Sequence · step</Table.Th>
                <Table.Th>Next touch (lead’s time)</Table.Th>
                <Table.Th>Data</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((lead) => (
                <Table.Tr key={lead.id}>
                  <Table.Td>
                    <Checkbox aria-label={`Select ${leadName(lead)}`} checked={selected.has(lead.id)} onChange={() => toggle(lead.id)} />
                  </Table.Td>
                  <Table.Td>
                    <Link to={`/leads/${lead.id}`}>{leadName(lead)}</Link>
                  </Table.Td>
                  <Table.Td>{lead.email ?? '—'}</Table.Td>
                  <Table.Td>{lead.company ?? '—'}</Table.Td>
                  <Table.Td>
                    <LeadStatusBadge status={lead.status} />
                  </Table.Td>
                  <Table.Td data-testid="lead-owner">{lead.owner ? ownerName(lead.owner) : <Text span c="dimmed" size="sm">Unowned</Text>}</Table.Td>
                  <Table.Td data-testid="lead-sequences">
                    {lead.liveEnrollments.length === 0
                      ? '—'
                      : lead.liveEnrollments.map((e) => (
                          <Text key={e.id} size="sm">
                            <Link to={`/sequences/${e.sequenceId}`}>{e.sequenceName}</Link> · {e.currentStepId ?? '—'}
                            {e.status !== 'active' ? ` (${e.status})` : ''}
                          </Text>
                        ))}
                  </Table.Td>
                  <Table.Td>
                    {(() => {
                      const next = lead.liveEnrollments.map((e) => e.nextRunAt).filter((t): t is string => Boolean(t)).sort()[0];
                      return next ? <span title={relative(next)}>{formatAt(next, lead.timezone)}</span> : '—';
                    })()}
                  </Table.Td>
                  <Table.Td>
                    <CompletenessBadge lead={lead} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      )}
      {(pageIndex > 0 || next) && (
        <Pagination
          total={next ? pageIndex + 2 : pageIndex + 1}
          value={pageIndex + 1}
          onChange={goTo}
          aria-label="Pages"
          getControlProps={(control) => ({ 'aria-label': `${control[0]!.toUpperCase()}${control.slice(1)} page` })}
        />
      )}
      <ImportCsv opened={importing} onClose={() => setImporting(false)} />
      <NewLead opened={adding} onClose={() => setAdding(false)} />
      <BulkEnroll
        leadIds={[...selected]}
        filter={allMatching ? filter : undefined}
        count={allMatching?.count ?? selected.size}
        names={names}
        opened={enrolling}
        onClose={() => {
          setEnrolling(false);
          setSelected(new Set());
        }}
      />
    </Stack>
  );
}
