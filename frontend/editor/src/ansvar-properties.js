/**
 * The "Ansvarsgruppe" group of the properties panel: what our engine reads from a diagram.
 *
 * - user task: spiffworkflow:properties/property (form, dueIn, assignee, titleDetail,
 *   formDefaults, context, formCheck); other property names are left untouched
 * - service task: spiffworkflow:serviceTaskOperator (handler id, resultVariable)
 * - lane: its name is a case role
 * - sequence flow out of an exclusive/inclusive gateway (or one that has a condition):
 *   the conditionExpression body
 *
 * Choice lists come from `config.ansvar.choices` (see index.js). A value that is not in its
 * list is still offered, so opening and saving a diagram never loses it.
 */

import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import {
  Group,
  SelectEntry,
  TextFieldEntry,
  TextAreaEntry,
  isSelectEntryEdited,
  isTextFieldEntryEdited,
  isTextAreaEntryEdited
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is, isAny } from 'bpmn-js/lib/util/ModelUtil';

const LOW_PRIORITY = 400;

const ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;

export const USER_TASK_FIELDS = [
  { name: 'formJsonSchemaFilename', label: 'Skjema', choices: 'forms' },
  { name: 'dueIn', label: 'Frist (dueIn, f.eks. P7D)', validate: validateDuration },
  { name: 'assignee', label: 'Tildelt (uttrykk)' },
  { name: 'titleDetail', label: 'Tittel-tillegg (uttrykk)' },
  { name: 'formDefaults', label: 'Standardverdier', choices: 'formDefaults' },
  { name: 'context', label: 'Kontekst', choices: 'context' },
  { name: 'formCheck', label: 'Skjemakontroll', choices: 'formCheck' }
];

function validateDuration(value) {
  if (value && !ISO_DURATION.test(value.trim())) {
    return 'Skriv en ISO 8601-varighet, f.eks. P7D (7 dager) eller PT12H (12 timer).';
  }
  return null;
}

// choices ////////////////////

/** [{value, label}] with an empty option first and the current value kept if unknown. */
export function selectOptions(list, current) {
  const options = [ { value: '', label: '(ingen)' } ];
  const seen = new Set([ '' ]);
  (list || []).forEach(function(item) {
    const value = Array.isArray(item) ? String(item[0]) : String(item);
    const label = Array.isArray(item) ? String(item[1] != null ? item[1] : item[0]) : value;
    if (!seen.has(value)) {
      seen.add(value);
      options.push({ value, label });
    }
  });
  if (current && !seen.has(current)) {
    options.push({ value: current, label: current + ' (ikke i listen)' });
  }
  return options;
}

// moddle helpers ////////////////////

function extensionValues(bo) {
  const ext = bo.get('extensionElements');
  return ext ? ext.get('values') : [];
}

function findExtension(bo, type) {
  return extensionValues(bo).find(v => is(v, type));
}

export function getSpiffProperty(bo, name) {
  const container = findExtension(bo, 'spiffworkflow:Properties');
  const prop = container && container.get('properties').find(p => p.get('name') === name);
  return prop ? prop.get('value') : undefined;
}

/**
 * Commands that make sure bo has extensionElements with one element of `type`;
 * returns [commands, extensionElement].
 */
function ensureExtension(element, bo, type, attrs, bpmnFactory) {
  const commands = [];
  let ext = bo.get('extensionElements');

  if (!ext) {
    ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    commands.push({
      cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: bo, properties: { extensionElements: ext } }
    });
  }

  let found = ext.get('values').find(v => is(v, type));

  if (!found) {
    found = bpmnFactory.create(type, attrs);
    found.$parent = ext;
    commands.push({
      cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: ext, properties: { values: ext.get('values').concat([ found ]) } }
    });
  }

  return [ commands, found ];
}

function setSpiffProperty(element, name, value, bpmnFactory, commandStack) {
  const bo = getBusinessObject(element);
  value = (value || '').trim() ? value : '';
  const existing = findExtension(bo, 'spiffworkflow:Properties');
  const prop = existing && existing.get('properties').find(p => p.get('name') === name);
  let commands = [];

  if (!value) {
    if (!prop) {
      return;
    }
    const rest = existing.get('properties').filter(p => p !== prop);
    if (rest.length) {
      commands.push({
        cmd: 'element.updateModdleProperties',
        context: { element, moddleElement: existing, properties: { properties: rest } }
      });
    } else {

      // drop the empty container, so the XML stays as clean as it came
      const ext = bo.get('extensionElements');
      commands.push({
        cmd: 'element.updateModdleProperties',
        context: { element, moddleElement: ext, properties: { values: ext.get('values').filter(v => v !== existing) } }
      });
    }
  } else if (prop) {
    commands.push({
      cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: prop, properties: { value } }
    });
  } else {
    const [ ensure, container ] = ensureExtension(element, bo, 'spiffworkflow:Properties', { properties: [] }, bpmnFactory);
    const newProp = bpmnFactory.create('spiffworkflow:Property', { name, value });
    newProp.$parent = container;
    commands = ensure.concat([ {
      cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: container, properties: { properties: container.get('properties').concat([ newProp ]) } }
    } ]);
  }

  commandStack.execute('properties-panel.multi-command-executor', commands);
}

function getOperator(bo) {
  return findExtension(bo, 'spiffworkflow:ServiceTaskOperator');
}

function setOperatorAttr(element, attr, value, bpmnFactory, commandStack) {
  const bo = getBusinessObject(element);
  const operator = getOperator(bo);
  value = (value || '').trim() ? value : undefined;

  if (operator) {
    commandStack.execute('element.updateModdleProperties', {
      element, moddleElement: operator, properties: { [attr]: value }
    });
    return;
  }
  if (!value) {
    return;
  }
  const [ commands ] = ensureExtension(element, bo, 'spiffworkflow:ServiceTaskOperator', { [attr]: value }, bpmnFactory);
  commandStack.execute('properties-panel.multi-command-executor', commands);
}

// entry components ////////////////////

function useChoices() {
  const config = useService('config.ansvar', false) || {};
  return config.choices || {};
}

function UserTaskSelect(props) {
  const { element, id, field } = props;
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const choices = useChoices();
  const bo = getBusinessObject(element);

  return jsx(SelectEntry, {
    element,
    id,
    label: field.label,
    getValue: () => getSpiffProperty(bo, field.name) || '',
    setValue: value => setSpiffProperty(element, field.name, value, bpmnFactory, commandStack),
    getOptions: () => selectOptions(choices[field.choices], getSpiffProperty(bo, field.name))
  });
}

function UserTaskText(props) {
  const { element, id, field } = props;
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);

  return jsx(TextFieldEntry, {
    element,
    id,
    label: field.label,
    debounce,
    validate: field.validate,
    getValue: () => getSpiffProperty(bo, field.name) || '',
    setValue: value => setSpiffProperty(element, field.name, value, bpmnFactory, commandStack)
  });
}

function HandlerSelect(props) {
  const { element, id } = props;
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const choices = useChoices();
  const bo = getBusinessObject(element);
  const current = () => (getOperator(bo) && getOperator(bo).get('id')) || '';

  return jsx(SelectEntry, {
    element,
    id,
    label: 'Tjeneste (handler)',
    getValue: current,
    setValue: value => setOperatorAttr(element, 'id', value, bpmnFactory, commandStack),
    getOptions: () => selectOptions(choices.handlers, current())
  });
}

function ResultVariable(props) {
  const { element, id } = props;
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);

  return jsx(TextFieldEntry, {
    element,
    id,
    label: 'Resultatvariabel',
    debounce,
    getValue: () => (getOperator(bo) && getOperator(bo).get('resultVariable')) || '',
    setValue: value => setOperatorAttr(element, 'resultVariable', value, bpmnFactory, commandStack)
  });
}

function LaneRole(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const choices = useChoices();
  const bo = getBusinessObject(element);

  return jsx(SelectEntry, {
    element,
    id,
    label: 'Rolle (lane)',
    getValue: () => bo.get('name') || '',
    setValue: value => modeling.updateProperties(element, { name: value || undefined }),
    getOptions: () => selectOptions(choices.roles, bo.get('name'))
  });
}

function FlowCondition(props) {
  const { element, id } = props;
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);

  const getValue = () => {
    const condition = bo.get('conditionExpression');
    return (condition && condition.get('body')) || '';
  };

  const setValue = value => {
    const commands = [];
    const source = element.source;

    // a flow with a condition is no longer the gateway's default flow
    if (value && source && source.businessObject.get('default') === bo) {
      commands.push({
        cmd: 'element.updateProperties',
        context: { element: source, properties: { default: undefined } }
      });
    }

    const existing = bo.get('conditionExpression');
    if (value && existing) {
      commands.push({
        cmd: 'element.updateModdleProperties',
        context: { element, moddleElement: existing, properties: { body: value } }
      });
    } else {
      let expression;
      if (value) {
        expression = bpmnFactory.create('bpmn:FormalExpression', { body: value });
        expression.$parent = bo;
      }
      commands.push({
        cmd: 'element.updateProperties',
        context: { element, properties: { conditionExpression: expression } }
      });
    }
    commandStack.execute('properties-panel.multi-command-executor', commands);
  };

  return jsx(TextAreaEntry, {
    element,
    id,
    label: 'Betingelse (uttrykk)',
    description: 'F.eks. notice_ok == True. Tom betingelse: flyten velges aldri, med mindre den er standardflyt.',
    debounce,
    rows: 2,
    getValue,
    setValue
  });
}

// entries ////////////////////

function isConditionalFlow(element) {
  if (!is(element, 'bpmn:SequenceFlow')) {
    return false;
  }
  const bo = getBusinessObject(element);
  return !!bo.get('conditionExpression') ||
    !!(element.source && isAny(element.source, [ 'bpmn:ExclusiveGateway', 'bpmn:InclusiveGateway' ]));
}

export function ansvarEntries(element) {
  const entries = [];

  if (is(element, 'bpmn:UserTask')) {
    USER_TASK_FIELDS.forEach(function(field) {
      entries.push({
        id: 'ansvar-' + field.name,
        field,
        component: field.choices ? UserTaskSelect : UserTaskText,
        isEdited: field.choices ? isSelectEntryEdited : isTextFieldEntryEdited
      });
    });
  }

  if (is(element, 'bpmn:ServiceTask')) {
    entries.push(
      { id: 'ansvar-handler', component: HandlerSelect, isEdited: isSelectEntryEdited },
      { id: 'ansvar-resultVariable', component: ResultVariable, isEdited: isTextFieldEntryEdited }
    );
  }

  if (is(element, 'bpmn:Lane')) {
    entries.push({ id: 'ansvar-role', component: LaneRole, isEdited: isSelectEntryEdited });
  }

  if (isConditionalFlow(element)) {
    entries.push({ id: 'ansvar-condition', component: FlowCondition, isEdited: isTextAreaEntryEdited });
  }

  return entries;
}

export default class AnsvarPropertiesProvider {
  constructor(propertiesPanel) {
    propertiesPanel.registerProvider(LOW_PRIORITY, this);
  }

  getGroups(element) {
    return function(groups) {
      const entries = ansvarEntries(element);
      if (!entries.length) {
        return groups;
      }
      const group = { id: 'ansvarsgruppe', label: 'Ansvarsgruppe', entries, component: Group };
      const general = groups.findIndex(g => g.id === 'general');
      groups.splice(general >= 0 ? general + 1 : 0, 0, group);
      return groups;
    };
  }
}

AnsvarPropertiesProvider.$inject = [ 'propertiesPanel' ];
