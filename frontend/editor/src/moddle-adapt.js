/**
 * Adapt a bpmn-moddle instance to SpiffWorkflow's dialect so that saving never loses
 * what the engine reads. Call once, right after the moddle is created and before import.
 *
 * 1. Unknown spiffworkflow:* elements. moddle-xml drops (with a warning) any element of a
 *    *registered* namespace whose type it does not know. SpiffWorkflow grows new extension
 *    elements over time, and a process owner saving a diagram must never lose one silently.
 *    For an unknown name in the spiffworkflow package we register a generic type on the fly:
 *    attributes land in $attrs, child elements in `values`, text in `body`; all are written
 *    back unchanged.
 * 2. Multi-instance data refs. SpiffWorkflow reads the text of
 *    <bpmn:loopDataInputRef>/<bpmn:loopDataOutputRef> as the name of a task-data variable
 *    (e.g. `members_to_confirm`); bpmn-moddle models them as references to
 *    ItemAwareElement ids and drops them as unresolved. We make them plain text.
 */

const PREFIX = 'spiffworkflow';

const MULTI_INSTANCE = 'bpmn:MultiInstanceLoopCharacteristics';
const DATA_REFS = [ 'loopDataInputRef', 'loopDataOutputRef' ];

export function adaptModdle(moddle) {
  if (moddle.__ansvarAdapted) {
    return moddle;
  }

  const registry = moddle.registry;

  // (2) plain-text multi-instance data refs; copies, as the package JSON is shared
  const mi = registry.typeMap[MULTI_INSTANCE];

  if (mi) {
    mi.properties = mi.properties.map(function(p) {
      const localName = p.ns ? p.ns.localName : p.name;
      if (DATA_REFS.indexOf(localName) === -1) {
        return p;
      }
      const copy = Object.assign({}, p, { type: 'String' });
      delete copy.isReference;
      Object.keys(mi.propertiesByName).forEach(function(key) {
        if (mi.propertiesByName[key] === p) {
          mi.propertiesByName[key] = copy;
        }
      });
      return copy;
    });
    delete moddle.typeCache[MULTI_INSTANCE];
  }

  // (1) generic types for unknown spiffworkflow elements
  const originalGetType = moddle.getType.bind(moddle);

  moddle.getType = function(descriptor) {
    const name = typeof descriptor === 'string' ? descriptor : null;

    if (name && name.indexOf(PREFIX + ':') === 0 && !registry.typeMap[name]) {
      const pkg = registry.getPackage(PREFIX);

      if (pkg) {
        registry.registerType({
          name: name.slice(PREFIX.length + 1),
          superClass: [ 'Element' ],
          properties: [
            { name: 'values', type: 'Element', isMany: true },
            { name: 'body', type: 'String', isBody: true }
          ]
        }, pkg);
      }
    }

    return originalGetType(descriptor);
  };

  moddle.__ansvarAdapted = true;

  return moddle;
}
