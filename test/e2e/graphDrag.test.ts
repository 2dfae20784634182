/**
 * Issue 20, "Sequence builder", in Debian's Chromium: an admin drags in the sequence graph with
 * the mouse — a way's handle onto another step re-links it (the validator flags the step left
 * unreachable at once, and one Undo puts it back), a step onto an edge moves it there (one Undo
 * step, Redo again) — saves, and the API holds the re-wired definition. The graph re-fits after
 * each change; axe-core on the page; no page errors, no refused request. Waits are Playwright's
 * auto-waiting on a visible state, never a fixed sleep.
 */
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { seriousA11yViolations } from './axe.ts';
import { browserAvailable, buildDashboard, launchBrowser, signInWithToken, watchPage, type Browser } from './browser.ts';

const run = browserAvailable();

const definition = {
  name: 'Drag me',
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi', body: 'Hello {{ lead.firstName | default: "there" }}' },
    { id: 'pause', type: 'wait', duration: 'P2D' },
    { id: 'call', type: 'task', title: 'Call', outcomes: ['connected', 'no_answer'] },
    { id: 'check', type: 'branch', when: { outcome: ['connected'] }, within: 'P1D', then: 'done', else: 'text' },
    { id: 'text', type: 'sms', text: 'Hi, I tried to call.' },
    { id: 'done', type: 'end' },
  ],
};

type Box = { x: number; y: number; width: number; height: number };
const centre = (box: Box) => ({ x: box.x + box.width / 2, y: box.y + box.height / 2 });

describe.skipIf(!run)('dragging in the sequence graph', () => {
  let runtime: Runtime;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let token: string;
  let sequenceId: string;
  const problems: string[] = [];

  const graph = () => page.getByTestId('sequence-graph');
  const node = (id: string) => graph().getByTestId(`rf__node-${id}`);
  /**
   * The edge along way `way` from step `from` to step `to` (edge ids are `from-way-to-index`);
   * waited for attached, since a straight vertical edge has a zero-width box Playwright calls hidden.
   */
  const edge = (from: string, way: string, to: string) => graph().locator(`[data-testid^="rf__edge-${from}-${way}-${to}-"]`);
  const handle = (stepId: string, way: string) => node(stepId).locator(`.react-flow__handle[data-handleid="${way}"]`);
  const boxOf = async (target: Locator) => {
    const box = await target.boundingBox();
    if (!box) throw new Error(`${target.toString()} is not on screen`);
    return box;
  };
  /** A mouse drag in small moves, as a hand does (React Flow starts a drag past a threshold). */
  const drag = async (from: { x: number; y: number }, to: { x: number; y: number }) => {
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x + 5, from.y + 5, { steps: 2 });
    await page.mouse.move(to.x, to.y, { steps: 12 });
    await page.mouse.up();
  };
  /** The middle of an edge's drawn path, in page coordinates. */
  const middleOf = (target: Locator) =>
    target.locator('path.react-flow__edge-path').evaluate((element) => {
      // Runs in the page; the test's TypeScript has no DOM types, hence the narrow shape.
      type Path = {
        getTotalLength(): number;
        getPointAtLength(length: number): { matrixTransform(m: unknown): { x: number; y: number } };
        ownerSVGElement: { createSVGPoint(): unknown };
        getScreenCTM(): unknown;
      };
      const path = element as unknown as Path;
      const point = path.getPointAtLength(path.getTotalLength() / 2);
      const { x, y } = point.matrixTransform(path.getScreenCTM());
      return { x, y };
    });
  /** Every step's node lies inside the graph's frame: the graph re-fitted to its new shape (waited for: it fits once the nodes are measured). */
  const fitted = async () => {
    const inside = async () => {
      const frame = await boxOf(graph());
      const outside: string[] = [];
      for (const id of definition.steps.map((s) => s.id)) {
        const box = await boxOf(node(id));
        if (box.x < frame.x - 1 || box.y < frame.y - 1 || box.x + box.width > frame.x + frame.width + 1 || box.y + box.height > frame.y + frame.height + 1) outside.push(id);
      }
      return outside;
    };
    await expect.poll(inside).toEqual([]);
  };
  const accessible = async (name: string) => {
    for (const violation of await seriousA11yViolations(page)) problems.push(`axe ${name}: ${violation}`);
  };

  beforeAll(async () => {
    buildDashboard();
    const db = await openMemoryDatabase();
    runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent' }), { db, worker: false });
    baseUrl = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const workspace = await ensureWorkspace(runtime.db, 'default');
    token = (await createToken(runtime.db, workspace.id, 'admin', 'e2e graph drag')).token;
    const response = await fetch(`${baseUrl}/api/sequences`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(definition),
    });
    expect(response.status).toBe(201);
    sequenceId = ((await response.json()) as { id: string }).id;

    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(30_000);
    watchPage(page, problems);
    await signInWithToken(page, baseUrl, token);
    await page.getByRole('link', { name: 'Sequences' }).waitFor();
  }, 180_000);

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    const db = runtime?.db;
    await runtime?.close();
    await db?.close();
  });

  it('re-links a way by dragging its handle onto a step, and moves a step by dragging it onto an edge; the API holds both', async () => {
    await page.goto(`${baseUrl}/sequences/${sequenceId}`);
    await graph().scrollIntoViewIfNeeded();
    await edge('check', 'else', 'text').waitFor({ state: 'attached' });
    await page.getByTestId('validation').getByText('valid', { exact: true }).waitFor();
    await accessible('sequence graph');

    // The branch's else onto `done`: `text` is left unreachable, and the validator says so at once.
    await fitted();
    await drag(centre(await boxOf(handle('check', 'else'))), centre(await boxOf(node('done'))));
    await edge('check', 'else', 'done').waitFor({ state: 'attached' });
    await page.getByTestId('validation').getByText(/^\d+ problems?$/).waitFor();
    await node('text').getByText(/⚠/).waitFor();
    await fitted();
    // One Undo puts the way back.
    await page.getByRole('button', { name: 'Undo' }).click();
    await edge('check', 'else', 'text').waitFor({ state: 'attached' });
    await page.getByTestId('validation').getByText('valid', { exact: true }).waitFor();

    // The call's "no_answer" outcome (no route yet) onto `text`: it gets a route.
    await fitted();
    await drag(centre(await boxOf(handle('call', 'route:no_answer'))), centre(await boxOf(node('text'))));
    await edge('call', 'route:no_answer', 'text').waitFor({ state: 'attached' });

    // Letting go over empty canvas changes nothing: beside the first step (the only one in its row), away from the border (where the view pans).
    await fitted();
    const frame = await boxOf(graph());
    await drag(centre(await boxOf(handle('intro', 'next'))), { x: frame.x + frame.width - 60, y: centre(await boxOf(node('intro'))).y });
    await edge('intro', 'next', 'pause').waitFor({ state: 'attached' });

    // `intro` onto the edge from `pause` to `call`: the sequence now starts with the wait.
    await fitted();
    const target = await middleOf(edge('pause', 'next', 'call'));
    await drag(centre(await boxOf(node('intro'))), target);
    await edge('pause', 'next', 'intro').waitFor({ state: 'attached' });
    await edge('intro', 'next', 'call').waitFor({ state: 'attached' });
    await page.getByRole('list', { name: 'Steps' }).getByRole('listitem').first().filter({ hasText: '1. pause' }).waitFor();
    await page.getByTestId('validation').getByText('valid', { exact: true }).waitFor();
    await fitted();
    await accessible('sequence graph after a move');
    // The move is one step of the history.
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('list', { name: 'Steps' }).getByRole('listitem').first().filter({ hasText: '1. intro' }).waitFor();
    await edge('intro', 'next', 'pause').waitFor({ state: 'attached' });
    await edge('call', 'route:no_answer', 'text').waitFor({ state: 'attached' });
    await page.getByRole('button', { name: 'Redo' }).click();
    await edge('pause', 'next', 'intro').waitFor({ state: 'attached' });

    await page.getByRole('button', { name: 'Save as new version' }).click();
    await page.getByText('version 2', { exact: true }).waitFor();
    const saved = (await (await fetch(`${baseUrl}/api/sequences/${sequenceId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      definition: { steps: Array<Record<string, unknown>> };
    };
    const steps = saved.definition.steps;
    expect(steps.map((s) => s.id)).toEqual(['pause', 'intro', 'call', 'check', 'text', 'done']);
    expect(steps.find((s) => s.id === 'call')).toMatchObject({ routes: { no_answer: 'text' } });
    expect(steps.find((s) => s.id === 'check')).toMatchObject({ then: 'done', else: 'text' });
    // Array order says it all: no step needed a written `next`.
    expect(steps.filter((s) => 'next' in s)).toEqual([]);
  }, 180_000);

  it('offers the same edits from the keyboard: labelled ↑/↓ and targets', async () => {
    await page.getByRole('list', { name: 'Steps' }).getByRole('listitem').filter({ hasText: 'intro' }).click();
    const form = page.getByTestId('step-form-intro');
    await form.getByRole('button', { name: 'Move step up' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('list', { name: 'Steps' }).getByRole('listitem').first().filter({ hasText: '1. intro' }).waitFor();
    await edge('intro', 'next', 'pause').waitFor({ state: 'attached' });
    await edge('pause', 'next', 'call').waitFor({ state: 'attached' });
    await form.getByLabel('Then jump to (default: the next step)', { exact: true }).waitFor();
    await page.getByRole('list', { name: 'Steps' }).getByRole('listitem').filter({ hasText: 'call' }).click();
    // The route the drag gave the outcome, in its labelled field.
    expect(await page.getByTestId('step-form-call').getByLabel('When “no_answer”, go to', { exact: true }).inputValue()).toBe('text');
    await accessible('step form with outcome targets');
  }, 60_000);
});
