// Round-trip check: every diagram in ../../processes/ is read with bpmn-moddle plus our
// spiffworkflow descriptor (the same model the editor uses), written back, and both
// documents are compared element by element (tag, attributes, text; namespace declarations
// and the xsi:type of newly typed expressions aside). Run by `npm run build` and by
// `npm run check`; exits non-zero on any difference or import warning.

import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { BpmnModdle } from 'bpmn-moddle';
import { Parser } from 'saxen';

import spiffworkflow from './src/spiffworkflow.json' with { type: 'json' };
import { adaptModdle } from './src/moddle-adapt.js';
import { ensureLayout } from './src/auto-layout.js';

const here = dirname(fileURLToPath(import.meta.url));
const processesDir = join(here, '..', '..', 'processes');

/** Flatten a document to sorted lines "path | tag | attrs | text". */
function canonical(xml) {
  const lines = [];
  const stack = [];
  const parser = new Parser({ proxy: true });
  let text = '';

  parser.on('openTag', (el, decodeEntities, selfClosing) => {
    flushText();
    const attrs = Object.entries(el.attrs)
      .filter(([ k ]) => !k.startsWith('xmlns'))
      // cancelActivity="true" is the default (bpmn-moddle and SpiffWorkflow agree)
      .filter(([ k, v ]) => !(k === 'cancelActivity' && v === 'true'))
      .map(([ k, v ]) => `${k}=${decodeEntities(v)}`)
      .sort()
      .join(' ');
    const id = el.attrs.id || el.attrs.name || '';
    stack.push(`${el.name}#${id}`);
    lines.push(`${stack.join('/')} | ${attrs}`);
    if (selfClosing) {
      stack.pop();
    }
  });
  parser.on('closeTag', () => {
    flushText();
    stack.pop();
  });
  parser.on('text', (t, decode) => {
    text += decode(t);
  });
  parser.on('cdata', (t) => {
    text += t;
  });
  parser.on('error', (err) => {
    throw err;
  });

  function flushText() {
    const trimmed = text.trim();
    if (trimmed) {
      lines.push(`${stack.join('/')} | text=${trimmed}`);
    }
    text = '';
  }

  parser.parse(xml);
  return lines.sort();
}

function diff(a, b) {
  const setB = new Set(b), setA = new Set(a);
  return {
    lost: a.filter(l => !setB.has(l)),
    added: b.filter(l => !setA.has(l))
  };
}

const DI = /^(bpmndi|dc|di):|\/(bpmndi|dc|di):/;

/**
 * Read, (optionally) lay out, write. The semantic model must come back unchanged; with
 * `layout`, DI lines are left out of the comparison, and every flow node and flow must
 * have got a shape or edge.
 */
export async function checkRoundTrip(xml, name, allowedWarning = null, layout = false) {
  const moddle = adaptModdle(new BpmnModdle({ spiffworkflow }));
  const { rootElement, warnings, elementsById } = await moddle.fromXML(xml, 'bpmn:Definitions');
  const problems = [];
  if (layout) {
    ensureLayout(rootElement, moddle);
    const drawn = new Set(rootElement.get('diagrams').flatMap(d => d.get('plane').get('planeElement')).map(e => e.get('bpmnElement')));
    for (const element of Object.values(elementsById)) {
      if (element.$instanceOf('bpmn:FlowNode') || element.$instanceOf('bpmn:SequenceFlow') || element.$instanceOf('bpmn:Lane') || element.$instanceOf('bpmn:Participant')) {
        if (!drawn.has(element)) {
          problems.push(`${name}: layout: no DI for ${element.id}`);
        }
      }
    }
  }
  const { xml: out } = await moddle.toXML(rootElement, { format: true });
  const keep = l => !(layout && DI.test(l.split(' | ')[0].split('/').pop()));
  const { lost, added } = diff(canonical(xml).filter(keep), canonical(out).filter(keep));
  for (const w of warnings) {
    if (allowedWarning && allowedWarning.test(w.message)) {
      continue;
    }
    problems.push(`${name}: import warning: ${w.message.split('\n')[0]}`);
  }
  for (const l of lost) {
    problems.push(`${name}: lost    ${l}`);
  }
  for (const l of added) {
    problems.push(`${name}: added   ${l}`);
  }
  return { out, problems };
}

// A synthetic diagram with spiffworkflow elements our descriptor does not name.
const UNKNOWN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_x" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:userTask id="t">
      <bpmn:extensionElements>
        <spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="a.json"/></spiffworkflow:properties>
        <spiffworkflow:instructionsForEndUser>Les **dette**</spiffworkflow:instructionsForEndUser>
        <spiffworkflow:futureThing mode="x" level="2"><spiffworkflow:futureChild key="k">tekst</spiffworkflow:futureChild></spiffworkflow:futureThing>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:serviceTask id="s">
      <bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="h" resultVariable="r"><spiffworkflow:parameters><spiffworkflow:parameter id="p1" type="str" value="'v'"/></spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
    </bpmn:serviceTask>
  </bpmn:process>
</bpmn:definitions>
`;

export async function runCheck() {
  const files = readdirSync(processesDir).filter(f => f.endsWith('.bpmn')).sort();
  const problems = [];
  for (const f of files) {
    const xml = readFileSync(join(processesDir, f), 'utf8');
    problems.push(...(await checkRoundTrip(xml, f)).problems);
    problems.push(...(await checkRoundTrip(xml, f + ' (laid out)', null, true)).problems);
  }
  problems.push(...(await checkRoundTrip(UNKNOWN, 'synthetic-unknown-elements', /^unknown attribute </)).problems);

  if (problems.length) {
    console.error(problems.join('\n'));
    throw new Error(`round trip: ${problems.length} difference(s)`);
  }
  console.log(`round trip OK: ${files.length} diagrams in processes/ (as is and laid out) + synthetic unknown elements`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await runCheck();
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
