/**
 * Generate diagram interchange (BPMN DI) for diagrams that have none.
 *
 * The process library is written as plain semantic BPMN (no bpmndi), and bpmn-js can only
 * show a diagram with DI. On import we lay such a diagram out once: columns by longest path
 * from the start (back edges ignored), one horizontal band per lane, branches on extra rows
 * in their lane, boundary events on their host's lower edge, orthogonal edges. The semantic
 * model is not touched; saving then stores the layout, which the author can improve.
 *
 * Handles what our engine runs: collaborations with participants and lanes, flat processes,
 * boundary events; a sub-process is drawn collapsed.
 */

const COL_W = 170;
const ROW_H = 130;
const POOL_LABEL_W = 30;
const PAD = 30;

function is(element, type) {
  return element && typeof element.$instanceOf === 'function' && element.$instanceOf(type);
}

function sizeOf(node) {
  if (is(node, 'bpmn:Gateway')) {
    return { width: 50, height: 50 };
  }
  if (is(node, 'bpmn:Event')) {
    return { width: 36, height: 36 };
  }
  return { width: 100, height: 80 };
}

/** True when the definitions already carry any diagram element. */
export function hasLayout(definitions) {
  return (definitions.get('diagrams') || []).some(function(diagram) {
    const plane = diagram.get('plane');
    return plane && (plane.get('planeElement') || []).length > 0;
  });
}

function leafLanes(laneSets) {
  const result = [];
  (laneSets || []).forEach(function(laneSet) {
    (laneSet.get('lanes') || []).forEach(function(lane) {
      const child = lane.get('childLaneSet');
      const leaves = child ? leafLanes([ child ]) : [];
      if (leaves.length) {
        result.push(...leaves);
      } else {
        result.push(lane);
      }
    });
  });
  return result;
}

/** Lay out one process; returns {shapes, edges, width, height} relative to (x0, y0). */
function layoutProcess(process, x0, y0, withPool) {
  const flowElements = process.get('flowElements') || [];
  const nodes = flowElements.filter(e => is(e, 'bpmn:FlowNode') && !is(e, 'bpmn:BoundaryEvent'));
  const boundaries = flowElements.filter(e => is(e, 'bpmn:BoundaryEvent'));
  const flows = flowElements.filter(e => is(e, 'bpmn:SequenceFlow'));
  const lanes = leafLanes(process.get('laneSets'));

  const index = new Map(nodes.map((n, i) => [ n, i ]));
  const anchor = e => (is(e, 'bpmn:BoundaryEvent') ? e.get('attachedToRef') : e);

  // effective edges between laid-out nodes
  const out = new Map(nodes.map(n => [ n, [] ]));
  const indeg = new Map(nodes.map(n => [ n, 0 ]));
  flows.forEach(function(flow) {
    const s = anchor(flow.get('sourceRef')), t = flow.get('targetRef');
    if (index.has(s) && index.has(t) && s !== t) {
      out.get(s).push({ t, flow });
      indeg.set(t, indeg.get(t) + 1);
    }
  });

  // back edges by DFS from the starts (start events first, then anything left)
  const state = new Map();
  const back = new Set();
  function dfs(n) {
    state.set(n, 1);
    out.get(n).forEach(function(edge) {
      const st = state.get(edge.t);
      if (st === 1) {
        back.add(edge.flow);
      } else if (!st) {
        dfs(edge.t);
      }
    });
    state.set(n, 2);
  }
  nodes.filter(n => is(n, 'bpmn:StartEvent')).forEach(n => state.get(n) || dfs(n));
  nodes.filter(n => indeg.get(n) === 0).forEach(n => state.get(n) || dfs(n));
  nodes.forEach(n => state.get(n) || dfs(n));

  // columns: longest path over forward edges (Kahn)
  const col = new Map(nodes.map(n => [ n, 0 ]));
  const fwdIn = new Map(nodes.map(n => [ n, 0 ]));
  nodes.forEach(n => out.get(n).forEach(e => back.has(e.flow) || fwdIn.set(e.t, fwdIn.get(e.t) + 1)));
  const queue = nodes.filter(n => fwdIn.get(n) === 0);
  const order = [];
  while (queue.length) {
    const n = queue.shift();
    order.push(n);
    out.get(n).forEach(function(e) {
      if (back.has(e.flow)) {
        return;
      }
      col.set(e.t, Math.max(col.get(e.t), col.get(n) + 1));
      fwdIn.set(e.t, fwdIn.get(e.t) - 1);
      if (fwdIn.get(e.t) === 0) {
        queue.push(e.t);
      }
    });
  }

  // lanes: band per leaf lane (+ one for nodes in no lane)
  const laneOf = new Map();
  lanes.forEach(function(lane, i) {
    (lane.get('flowNodeRef') || []).forEach(n => laneOf.set(n, i));
  });
  let bands = lanes.length;
  if (!bands || nodes.some(n => !laneOf.has(n))) {
    nodes.forEach(n => laneOf.has(n) || laneOf.set(n, lanes.length));
    bands = lanes.length + 1;
  }

  // rows within a band: follow the first placed predecessor, take the next free slot
  const row = new Map();
  const taken = new Set();
  const preferred = new Map();
  order.forEach(function(n) {
    const lane = laneOf.get(n);
    let r = preferred.has(n) ? preferred.get(n) : 0;
    while (taken.has(lane + '/' + col.get(n) + '/' + r)) {
      r += 1;
    }
    taken.add(lane + '/' + col.get(n) + '/' + r);
    row.set(n, r);
    out.get(n).forEach(function(e) {
      if (!back.has(e.flow) && !preferred.has(e.t)) {
        const fromBoundary = is(e.flow.get('sourceRef'), 'bpmn:BoundaryEvent');
        preferred.set(e.t, laneOf.get(e.t) === lane ? r + (fromBoundary ? 1 : 0) : 0);
      }
    });
  });

  const rowsPerBand = [];
  for (let b = 0; b < bands; b++) {
    rowsPerBand.push(1);
  }
  nodes.forEach(n => { rowsPerBand[laneOf.get(n)] = Math.max(rowsPerBand[laneOf.get(n)], row.get(n) + 1); });
  const bandTop = [];
  let y = y0;
  rowsPerBand.forEach(function(rows, b) {
    bandTop[b] = y;
    y += rows * ROW_H;
  });
  const height = y - y0;
  const cols = nodes.reduce((m, n) => Math.max(m, col.get(n) + 1), 1);
  const left = x0 + (withPool ? POOL_LABEL_W : 0);
  const width = (withPool ? POOL_LABEL_W : 0) + cols * COL_W + 2 * PAD;

  const bounds = new Map();
  nodes.forEach(function(n) {
    const size = sizeOf(n);
    const cx = left + PAD + col.get(n) * COL_W + COL_W / 2;
    const cy = bandTop[laneOf.get(n)] + row.get(n) * ROW_H + ROW_H / 2;
    bounds.set(n, { x: Math.round(cx - size.width / 2), y: Math.round(cy - size.height / 2), width: size.width, height: size.height });
  });

  const perHost = new Map();
  boundaries.forEach(function(b) {
    const host = bounds.get(b.get('attachedToRef'));
    if (!host) {
      return;
    }
    const k = perHost.get(host) || 0;
    perHost.set(host, k + 1);
    bounds.set(b, { x: host.x + host.width - 46 - k * 40, y: host.y + host.height - 18, width: 36, height: 36 });
  });

  const shapes = [];
  if (withPool) {
    lanes.forEach(function(lane, i) {
      shapes.push({ element: lane, bounds: { x: left, y: bandTop[i], width: width - POOL_LABEL_W, height: rowsPerBand[i] * ROW_H }, horizontal: true });
    });
  }
  nodes.concat(boundaries).forEach(function(n) {
    if (bounds.has(n)) {
      shapes.push({ element: n, bounds: bounds.get(n) });
    }
  });

  const edges = [];
  let backCount = 0;
  flows.forEach(function(flow) {
    const s = flow.get('sourceRef'), t = flow.get('targetRef');
    const sb = bounds.get(s), tb = bounds.get(t);
    if (!sb || !tb) {
      return;
    }
    const scx = sb.x + sb.width / 2, scy = sb.y + sb.height / 2;
    const tcx = tb.x + tb.width / 2, tcy = tb.y + tb.height / 2;
    const sRight = sb.x + sb.width, sBottom = sb.y + sb.height, sTop = sb.y;
    const tLeft = tb.x, tBottom = tb.y + tb.height, tTop = tb.y;
    let points;

    if (back.has(flow) || tLeft <= sRight) {
      const yb = Math.max(sBottom, tBottom) + 20 + (backCount++ % 3) * 8;
      points = [ [ scx, sBottom ], [ scx, yb ], [ tcx, yb ], [ tcx, tBottom ] ];
    } else if (is(s, 'bpmn:BoundaryEvent')) {
      points = tcy > sBottom
        ? [ [ scx, sBottom ], [ scx, tcy ], [ tLeft, tcy ] ]
        : [ [ scx, sBottom ], [ scx, sBottom + 20 ], [ tLeft - 20, sBottom + 20 ], [ tLeft - 20, tcy ], [ tLeft, tcy ] ];
    } else if (Math.abs(scy - tcy) < 1) {
      points = [ [ sRight, scy ], [ tLeft, tcy ] ];
    } else if (is(s, 'bpmn:Gateway')) {
      points = [ [ scx, tcy > scy ? sBottom : sTop ], [ scx, tcy ], [ tLeft, tcy ] ];
    } else if (is(t, 'bpmn:Gateway')) {
      points = [ [ sRight, scy ], [ tcx, scy ], [ tcx, scy > tcy ? tBottom : tTop ] ];
    } else {
      const midX = Math.round(tLeft - 25);
      points = [ [ sRight, scy ], [ midX, scy ], [ midX, tcy ], [ tLeft, tcy ] ];
    }
    edges.push({ element: flow, points: points.map(p => ({ x: Math.round(p[0]), y: Math.round(p[1]) })) });
  });

  return { shapes, edges, width, height };
}

/**
 * Add a BPMNDiagram to definitions without one. Returns true if a layout was made.
 * `moddle` is the bpmn-moddle instance the definitions came from.
 */
export function ensureLayout(definitions, moddle) {
  if (hasLayout(definitions)) {
    return false;
  }
  const roots = definitions.get('rootElements') || [];
  const collaboration = roots.find(r => is(r, 'bpmn:Collaboration'));
  const processes = roots.filter(r => is(r, 'bpmn:Process'));
  const used = new Set();
  const planeElements = [];
  const ids = new Set();
  (function collect(list) {
    (list || []).forEach(function(e) {
      if (!e || typeof e.get !== 'function') {
        return;
      }
      if (e.id) {
        ids.add(e.id);
      }
      [ 'flowElements', 'laneSets', 'lanes', 'participants', 'messageFlows', 'artifacts' ].forEach(function(key) {
        if (e.$descriptor && e.$descriptor.propertiesByName[key]) {
          collect(e.get(key));
        }
      });
      if (e.$descriptor && e.$descriptor.propertiesByName.childLaneSet && e.get('childLaneSet')) {
        collect([ e.get('childLaneSet') ]);
      }
    });
  })(roots);
  function diId(element) {
    let id = element.id + '_di', k = 2;
    while (ids.has(id)) {
      id = element.id + '_di' + (k++);
    }
    ids.add(id);
    return id;
  }
  function addShape(element, b, horizontal) {
    const attrs = { id: diId(element), bpmnElement: element, bounds: moddle.create('dc:Bounds', b) };
    if (horizontal) {
      attrs.isHorizontal = true;
    }
    if (is(element, 'bpmn:ExclusiveGateway')) {
      attrs.isMarkerVisible = true;
    }
    if (is(element, 'bpmn:SubProcess')) {
      attrs.isExpanded = false;
    }
    planeElements.push(moddle.create('bpmndi:BPMNShape', attrs));
  }
  function place(process, x0, y0, participant) {
    const result = layoutProcess(process, x0, y0, !!participant);
    if (participant) {
      addShape(participant, { x: x0, y: y0, width: result.width, height: result.height }, true);
    }
    result.shapes.forEach(s => addShape(s.element, s.bounds, s.horizontal));
    result.edges.forEach(function(e) {
      planeElements.push(moddle.create('bpmndi:BPMNEdge', {
        id: diId(e.element),
        bpmnElement: e.element,
        waypoint: e.points.map(p => moddle.create('dc:Point', p))
      }));
    });
    used.add(process);
    return result;
  }

  let y = 80;
  let planeOwner = null;
  if (collaboration) {
    planeOwner = collaboration;
    (collaboration.get('participants') || []).forEach(function(participant) {
      const process = participant.get('processRef');
      if (process && !used.has(process)) {
        y += place(process, 160, y, participant).height + 60;
      }
    });
  }
  processes.forEach(function(process) {
    if (!used.has(process)) {
      planeOwner = planeOwner || process;
      y += place(process, 160, y, null).height + 60;
    }
  });
  if (!planeOwner) {
    return false;
  }

  const plane = moddle.create('bpmndi:BPMNPlane', { id: 'BPMNPlane_' + planeOwner.id, bpmnElement: planeOwner, planeElement: planeElements });
  planeElements.forEach(e => { e.$parent = plane; });
  const diagram = moddle.create('bpmndi:BPMNDiagram', { id: 'BPMNDiagram_' + planeOwner.id, plane });
  plane.$parent = diagram;
  diagram.$parent = definitions;
  definitions.set('diagrams', [ diagram ]);
  return true;
}

/** diagram-js module: lay out DI-less diagrams as they are imported. */
function AutoLayoutOnImport(eventBus, moddle) {
  eventBus.on('import.parse.complete', function(event) {
    const definitions = event.definitions;
    if (definitions && !event.error) {
      ensureLayout(definitions, moddle);
    }

    // no return value: that would stop the event, and bpmn-js' own listeners need it
  });
}
AutoLayoutOnImport.$inject = [ 'eventBus', 'moddle' ];

export const AutoLayoutModule = {
  __init__: [ 'ansvarAutoLayout' ],
  ansvarAutoLayout: [ 'type', AutoLayoutOnImport ]
};
