/**
 * CSV import: paste or pick a file, preview it (the first rows, plus the server's dry run with
 * each bad row's line and reason), then import for real.
 */
import { Alert, Badge, Button, FileInput, Group, Modal, ScrollArea, Stack, Table, Text, Textarea } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api/client.ts';
import type { ImportResult } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { parseCsv } from './csv.ts';

type ImportAnswer = ImportResult;

const sendCsv = (csv: string, dryRun: boolean) =>
  api<ImportAnswer>('POST', `/api/leads/import${dryRun ? '?dryRun=true' : ''}`, undefined, { raw: csv, contentType: 'text/csv' });

const SAMPLE = 'email,phone,first_name,last_name,company,timezone\nada@example.com,+14155550101,Ada,Lovelace,Analytical,America/Los_Angeles';

export function ImportCsv({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const client = useQueryClient();
  const [csv, setCsv] = useState('');
  const preview = useMutation({ mutationFn: () => sendCsv(csv, true) });
  const run = useMutation({
    mutationFn: () => sendCsv(csv, false),
    onSuccess: () => client.invalidateQueries({ queryKey: ['leads'] }),
  });
  const rows = parseCsv(csv, 11);
  const [header, ...body] = rows;
  const errorsByLine = new Map<number, string[]>();
  for (const e of preview.data?.errors ?? []) {
    errorsByLine.set(e.line, [...(errorsByLine.get(e.line) ?? []), `${e.field ? `${e.field}: ` : ''}${e.message}`]);
  }
  const reset = (text: string) => {
    setCsv(text);
    preview.reset();
    run.reset();
  };
  const close = () => {
    reset('');
    onClose();
  };

  return (
    <Modal opened={opened} onClose={close} title="Import leads from CSV" size="xl">
      <Stack>
        <Text size="sm" c="dimmed">
          The first line names the columns: email, phone, first_name, last_name, company, title, timezone. Other columns (a status or stage of your own too) become
          custom fields. Each lead needs an email or a phone.
        </Text>
        <FileInput
          label="CSV file"
          placeholder="Choose a .csv file"
          accept=".csv,text/csv"
          onChange={async (file) => reset(file ? await file.text() : '')}
        />
        <Textarea
          label="…or paste the CSV"
          placeholder={SAMPLE}
          autosize
          minRows={4}
          maxRows={10}
          value={csv}
          onChange={(e) => reset(e.currentTarget.value)}
          styles={{ input: { fontFamily: 'monospace' } }}
        />
        {header && (
          <ScrollArea>
            <Table striped withTableBorder fz="xs" aria-label="CSV preview">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Line</Table.Th>
                  {/* The check comes first: a reason is read with its line, not scrolled to. */}
                  {preview.data && <Table.Th miw={220}>Check</Table.Th>}
                  {header.map((h, i) => (
                    <Table.Th key={i} style={{ whiteSpace: 'nowrap' }}>{h}</Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {body.map((row, i) => {
                  const problems = errorsByLine.get(i + 2);
                  return (
                    <Table.Tr key={i} bg={problems ? 'var(--mantine-color-red-light)' : undefined}>
                      <Table.Td>{i + 2}</Table.Td>
                      {preview.data && <Table.Td miw={220}>{problems ? problems.join('; ') : <Badge color="green">ok</Badge>}</Table.Td>}
                      {header.map((_, j) => (
                        // One line per cell (long values are cut, the full one is the tooltip), so a bad row stays one row tall.
                        <Table.Td key={j} maw={220} title={row[j]} style={{ whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' }}>
                          {row[j]}
                        </Table.Td>
                      ))}
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </ScrollArea>
        )}
        {preview.data && (
          <Alert color={preview.data.failed ? 'yellow' : 'green'} title="Preview" data-testid="import-preview">
            {preview.data.rows} rows: {preview.data.imported} to import, {preview.data.duplicates} already known, {preview.data.failed} with
            errors.
            {preview.data.errors.length > 0 && (
              <ul>
                {preview.data.errors.slice(0, 50).map((e, i) => (
                  <li key={i}>
                    Line {e.line}
                    {e.field ? ` (${e.field})` : ''}: {e.message}
                  </li>
                ))}
              </ul>
            )}
          </Alert>
        )}
        {run.data && (
          <Alert color="green" title="Imported" data-testid="import-result">
            Imported {run.data.imported} leads; {run.data.duplicates} already known; {run.data.failed} rows with errors were left out.
          </Alert>
        )}
        <ErrorAlert error={preview.error ?? run.error} title="The CSV was not accepted" />
        <Group justify="flex-end">
          {run.data ? (
            <Button onClick={close}>Done</Button>
          ) : (
            <>
              <Button variant="default" disabled={!csv.trim()} loading={preview.isPending} onClick={() => preview.mutate()}>
                Preview
              </Button>
              <Button disabled={!preview.data || preview.data.imported === 0} loading={run.isPending} onClick={() => run.mutate()}>
                Import {preview.data ? `${preview.data.imported} leads` : ''}
              </Button>
            </>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}
