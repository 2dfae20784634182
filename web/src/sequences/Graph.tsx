/** The live graph of a sequence: one node per step, edges for order, jumps and branches. */
import { Background, Controls, MarkerType, ReactFlow, type Edge as FlowEdge, type Node } from '@xyflow/react';
import { useMemo } from 'react';
import type { Problem, SequenceDefinition } from '../api/types.ts';
import { edgesOf, layout } from './model.ts';

const COLORS: Record<string, string> = {
  email: '#4c6ef5',
  sms: '#7950f2',
  voice: '#12b886',
  wait: '#868e96',
  branch: '#fab005',
  task: '#fd7e14',
  end: '#212529',
};

export function SequenceGraph({
  definition,
  problems,
  selected,
  onSelect,
}: {
  definition: SequenceDefinition;
  problems: Map<string, Problem[]>;
  selected: string | null;
  onSelect: (stepId: string) => void;
}) {
  const { nodes, edges } = useMemo(() => {
    const steps = definition.steps ?? [];
    const places = layout(definition);
    const nodes: Node[] = steps.map((step) => {
      const bad = problems.has(step.id);
      const place = places.get(step.id) ?? { row: 0, column: 0 };
      return {
        id: step.id,
        position: { x: place.column * 240, y: place.row * 100 },
        data: { label: `${step.type} · ${step.name ?? step.id}${bad ? ' ⚠' : ''}` },
        ariaLabel: `Step ${step.id}, ${step.type}${bad ? ', has problems' : ''}`,
        style: {
          border: `2px solid ${bad ? '#fa5252' : (COLORS[step.type] ?? '#adb5bd')}`,
          background: selected === step.id ? '#edf2ff' : bad ? '#fff5f5' : 'white',
          borderRadius: 8,
          fontSize: 12,
          width: 200,
        },
      };
    });
    const ids = new Set(steps.map((s) => s.id));
    const edges: FlowEdge[] = edgesOf(definition)
      .filter((e) => ids.has(e.to))
      .map((e, i) => ({
        id: `${e.from}-${e.to}-${i}`,
        source: e.from,
        target: e.to,
        label: e.label,
        type: 'smoothstep',
        animated: e.label === 'then' || e.label === 'else',
        markerEnd: { type: MarkerType.ArrowClosed },
        style: { stroke: e.label === 'else' ? '#fa5252' : e.label === 'then' ? '#40c057' : '#868e96' },
      }));
    return { nodes, edges };
  }, [definition, problems, selected]);

  return (
    <div style={{ height: 480, border: '1px solid var(--mantine-color-gray-3)', borderRadius: 8 }} data-testid="sequence-graph">
      <ReactFlow
        // A new shape (a step added, removed or re-linked) mounts afresh, so fitView frames all of it.
        key={edges.map((e) => e.id).join('|') + nodes.map((n) => n.id).join('|')}
        nodes={nodes}
        edges={edges}
        fitView
        nodesDraggable={false}
        nodesConnectable={false}
        onNodeClick={(_, node) => onSelect(node.id)}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
