/**
 * AnsvarEditor: the bpmn-js bundle of the process workbench (global `AnsvarEditor`).
 *
 *   AnsvarEditor.createModeler({ container, propertiesParent, choices }) -> bpmn-js Modeler
 *   AnsvarEditor.createViewer({ container })                            -> NavigatedViewer
 *   AnsvarEditor.fitView(modelerOrViewer, {minZoom, startZoom, leftPad})  fit, or show the start
 *
 * Diagrams without BPMN DI (like the shipped process library) are laid out on import.
 *
 * choices = { forms: [name], handlers: [name], roles: [[value, label]], formDefaults: [name],
 *             context: [name], formCheck: [name] }
 */

import Modeler from 'bpmn-js/lib/Modeler';
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule
} from 'bpmn-js-properties-panel';

import spiffworkflow from './spiffworkflow.json';
import { adaptModdle } from './moddle-adapt.js';
import AnsvarPropertiesProvider from './ansvar-properties.js';
import translateModule from './translate.js';
import { AutoLayoutModule, ensureLayout } from './auto-layout.js';

const AnsvarPropertiesModule = {
  __init__: [ 'ansvarPropertiesProvider' ],
  ansvarPropertiesProvider: [ 'type', AnsvarPropertiesProvider ]
};

const CHOICE_KEYS = [ 'forms', 'handlers', 'roles', 'formDefaults', 'context', 'formCheck' ];

function normalizeChoices(choices) {
  const result = {};
  CHOICE_KEYS.forEach(function(key) {
    const list = choices && choices[key];
    result[key] = Array.isArray(list) ? list.slice() : [];
  });
  return result;
}

export function createModeler(options) {
  const { container, propertiesParent, choices } = options || {};
  const modeler = new Modeler({
    container,
    propertiesPanel: { parent: propertiesParent },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      AnsvarPropertiesModule,
      AutoLayoutModule,
      translateModule
    ],
    moddleExtensions: { spiffworkflow },
    ansvar: { choices: normalizeChoices(choices) }
  });
  adaptModdle(modeler.get('moddle'));
  return modeler;
}

export function createViewer(options) {
  const { container } = options || {};
  const viewer = new NavigatedViewer({
    container,
    additionalModules: [ AutoLayoutModule, translateModule ],
    moddleExtensions: { spiffworkflow }
  });
  adaptModdle(viewer.get('moddle'));
  return viewer;
}

/**
 * Fit the diagram into view; if that makes it too small to read (a long process), show its
 * start at a readable zoom instead. `leftPad` (px) keeps the start clear of the palette.
 */
export function fitView(instance, options) {
  const { minZoom = 0.5, startZoom = 0.75, leftPad = 20 } = options || {};
  const canvas = instance.get('canvas');
  canvas.zoom('fit-viewport', 'auto');
  if (canvas.zoom() >= minZoom) {
    return;
  }
  const inner = canvas.viewbox().inner;
  canvas.zoom(startZoom);
  const box = canvas.viewbox();
  canvas.viewbox({
    x: inner.x - leftPad / startZoom,
    y: inner.y + inner.height / 2 - box.height / 2,
    width: box.width,
    height: box.height
  });
}

export { adaptModdle, ensureLayout, spiffworkflow as spiffworkflowDescriptor };
