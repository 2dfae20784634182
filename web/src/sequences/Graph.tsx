/**
 * The live graph of a sequence: one node per step, edges for order, jumps and branches. An
 * admin re-links a way by dragging from its handle (the dots along a step's bottom edge, one per
 * way: next, then/else, each task outcome) onto another step, and moves a step by dragging it
 * onto an edge; the re-wiring is rewire.ts's, the same as the list's ↑/↓ and the form's targets.
 */
import {
  applyNodeChanges,
  Background,
  Controls,
  Handle,
  MarkerType,
  Position,
  ReactFlow,
  type Edge as FlowEdge,
  type FinalConnectionState,
  type Node,
  type NodeChange,
  type NodeProps,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Problem, SequenceDefinition } from '../api/types.ts';
import { edgesOf, layout } from './model.ts';
import { wayLabel, wayOfEdge, waysOf, type Way } from './rewire.ts';

const COLORS: Record<string, string> = {
  email: '#4c6ef5',
  sms: '#7950f2',
  voice: '#12b886',
  wait: '#868e96',
  branch: '#fab005',
  task: '#fd7e14',
  end: '#212529',
};

type StepNodeData = { label: string; stepId: string; ways: Way[]; border: string; background: string; connectable: boolean };
type StepNode = Node<StepNodeData, 'step'>;

/** Where handle `i` of `n` sits along the bottom edge, in percent. */
const handleAt = (i: number, n: number) => `${((i + 1) / (n + 1)) * 100}%`;

function StepNodeView({ data }: NodeProps<StepNode>) {
  const n = data.ways.length;
  return (
    <div style={{ border: `2px solid ${data.border}`, background: data.background, borderRadius: 8, fontSize: 12, width: 200, padding: '8px 6px', textAlign: 'center', color: '#212529' }}>
      <Handle type="target" position={Position.Top} isConnectable={data.connectable} />
      <div>{data.label}</div>
      {n > 1 && (
        <div style={{ position: 'relative', height: 12, marginTop: 4 }} aria-hidden>
          {data.ways.map((way, i) => (
            <span key={way} style={{ position: 'absolute', left: handleAt(i, n), transform: 'translateX(-50%)', fontSize: 9, color: '#495057', whiteSpace: 'nowrap' }}>
              {wayLabel(way)}
            </span>
          ))}
        </div>
      )}
      {data.ways.map((way, i) => (
        <Handle
          key={way}
          id={way}
          type="source"
          position={Position.Bottom}
          isConnectable={data.connectable}
          title={data.connectable ? `Drag onto a step: where “${wayLabel(way)}” of ${data.stepId} goes` : undefined}
          style={{ left: handleAt(i, n), width: 10, height: 10 }}
        />
      ))}
    </div>
  );
}

const NODE_TYPES = { step: StepNodeView };

const pointOf = (event: MouseEvent | TouchEvent) => ('changedTouches' in event ? event.changedTouches[0] : event) ?? { clientX: 0, clientY: 0 };

/** The step under the pointer, if any. */
function nodeAt(event: MouseEvent | TouchEvent): string | undefined {
  const { clientX, clientY } = pointOf(event);
  for (const element of document.elementsFromPoint(clientX, clientY)) {
    const id = element.closest('.react-flow__node')?.getAttribute('data-id');
    if (id) return id;
  }
  return undefined;
}

/** The edge under the pointer that does not touch step `moving` (moving a step onto its own edge changes nothing). */
function edgeAt(event: MouseEvent | TouchEvent, edges: FlowEdge[], moving: string): FlowEdge | undefined {
  const { clientX, clientY } = pointOf(event);
  for (const element of document.elementsFromPoint(clientX, clientY)) {
    const id = element.closest('.react-flow__edge')?.getAttribute('data-id');
    const edge = id ? edges.find((e) => e.id === id) : undefined;
    if (edge && edge.source !== moving && edge.target !== moving) return edge;
  }
  return undefined;
}

export function SequenceGraph({
  definition,
  problems,
  selected,
  onSelect,
  onRelink,
  onMove,
}: {
  definition: SequenceDefinition;
  problems: Map<string, Problem[]>;
  selected: string | null;
  onSelect: (stepId: string) => void;
  /** Given, the graph is editable: a way dragged onto a step. */
  onRelink?: (from: string, way: Way, to: string) => void;
  /** Given, the graph is editable: a step dragged onto the way `way` out of step `after`. */
  onMove?: (stepId: string, after: string, way: Way) => void;
}) {
  const editable = Boolean(onRelink && onMove);
  const computed = useMemo(() => {
    const steps = definition.steps ?? [];
    const places = layout(definition);
    const nodes: StepNode[] = steps.map((step) => {
      const bad = problems.has(step.id);
      const place = places.get(step.id) ?? { row: 0, column: 0 };
      return {
        id: step.id,
        type: 'step',
        position: { x: place.column * 240, y: place.row * 110 },
        data: {
          label: `${step.type} · ${step.name ?? step.id}${bad ? ' ⚠' : ''}`,
          stepId: step.id,
          ways: waysOf(step),
          border: bad ? '#fa5252' : (COLORS[step.type] ?? '#adb5bd'),
          background: selected === step.id ? '#edf2ff' : bad ? '#fff5f5' : 'white',
          connectable: editable,
        },
        ariaLabel: `Step ${step.id}, ${step.type}${bad ? ', has problems' : ''}`,
      };
    });
    const byId = new Map(steps.map((s) => [s.id, s]));
    const edges: FlowEdge[] = edgesOf(definition)
      .filter((e) => byId.has(e.to))
      .map((e, i) => {
        const way = wayOfEdge(byId.get(e.from)!, e);
        return {
          id: `${e.from}-${way}-${e.to}-${i}`,
          source: e.from,
          sourceHandle: way,
          target: e.to,
          label: e.label,
          type: 'smoothstep',
          animated: e.label === 'then' || e.label === 'else',
          markerEnd: { type: MarkerType.ArrowClosed },
          style: { stroke: e.label === 'else' ? '#fa5252' : e.label === 'then' ? '#40c057' : '#868e96' },
        };
      });
    return { nodes, edges };
  }, [definition, problems, selected, editable]);

  // Nodes move while dragged; every change of the definition puts them back where the layout
  // says, except the one in the hand (a validation answer arriving mid-drag must not drop it).
  const [nodes, setNodes] = useState(computed.nodes);
  const dragging = useRef<string | null>(null);
  useEffect(
    () => setNodes((current) => computed.nodes.map((n) => (n.id === dragging.current ? { ...n, position: current.find((c) => c.id === n.id)?.position ?? n.position } : n))),
    [computed.nodes],
  );
  // Only a drag moves a node: arrow keys on a focused node would leave it off its place for good.
  const onNodesChange = useCallback(
    (changes: NodeChange<StepNode>[]) => setNodes((current) => applyNodeChanges(changes.filter((c) => c.type !== 'position' || dragging.current !== null), current)),
    [],
  );
  // The edge a dragged step would land on, drawn thicker.
  const [target, setTarget] = useState<string | null>(null);
  const edges = useMemo(() => computed.edges.map((e) => (e.id === target ? { ...e, style: { ...e.style, strokeWidth: 5 } } : e)), [computed.edges, target]);

  const onConnectEnd = (event: MouseEvent | TouchEvent, connection: FinalConnectionState) => {
    const from = connection.fromNode?.id;
    const way = connection.fromHandle?.id as Way | undefined;
    const to = connection.toNode?.id ?? nodeAt(event);
    // Let go over empty canvas, or back on the step it started from (a click on a handle): nothing changes.
    if (from && way && to && to !== from && connection.fromHandle?.type === 'source') onRelink?.(from, way, to);
  };

  return (
    <div style={{ height: 480, border: '1px solid var(--mantine-color-gray-3)', borderRadius: 8 }} data-testid="sequence-graph">
      <ReactFlow<StepNode>
        // A new shape (a step added, removed or re-linked) mounts afresh, so fitView frames all of it.
        key={computed.edges.map((e) => e.id).join('|') + computed.nodes.map((n) => n.id).join('|')}
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        fitView
        nodesDraggable={editable}
        nodesConnectable={editable}
        edgesReconnectable={false}
        onConnectEnd={onConnectEnd}
        onNodeDragStart={(_, node) => (dragging.current = node.id)}
        onNodeDrag={(event, node) => setTarget(edgeAt(event, computed.edges, node.id)?.id ?? null)}
        onNodeDragStop={(event, node) => {
          const edge = edgeAt(event, computed.edges, node.id);
          dragging.current = null;
          setTarget(null);
          setNodes(computed.nodes);
          if (edge) onMove?.(node.id, edge.source, edge.sourceHandle as Way);
        }}
        onNodeClick={(_, node) => onSelect(node.id)}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
