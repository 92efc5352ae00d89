/*
 * Visual diff of two diagram versions (needs ansvar-editor.js).
 *
 * Page contract: <div id="diff-a">, <div id="diff-b"> and
 * <script type="application/json" id="diff-config">
 *   {"a": "<xml of the older version>", "b": "<xml of the newer version>",
 *    "added": [ids], "removed": [ids], "changed": [ids]}
 * A marks removed (diff-removed) and changed (diff-changed); B marks added (diff-added) and
 * changed. Colour is not the only cue: each marked element also gets a small text badge.
 * Exposes window.ansvarDiff = {a, b, ready}.
 */
(function() {
  'use strict';

  var BADGE = { 'diff-added': 'Ny', 'diff-removed': 'Fjernet', 'diff-changed': 'Endret' };

  var readConfig = window.ansvarPageConfig;  // js/page-config.js

  function mark(viewer, ids, marker) {
    var registry = viewer.get('elementRegistry');
    var canvas = viewer.get('canvas');
    var overlays = viewer.get('overlays');
    (ids || []).forEach(function(id) {
      var element = registry.get(id);
      if (!element) {
        return;
      }
      canvas.addMarker(element, marker);
      if (element.waypoints || element.type === 'label') {
        return;
      }
      var badge = document.createElement('span');
      badge.className = 'ansvar-diff-badge ansvar-diff-badge--' + marker;
      badge.textContent = BADGE[marker];
      overlays.add(element, 'ansvar-diff', { position: { top: -20, left: 0 }, html: badge });
    });
  }

  function show(viewer, xml, markers, node) {
    if (!xml) {
      return Promise.resolve(null);
    }
    return viewer.importXML(xml).then(function(result) {
      window.AnsvarEditor.fitView(viewer);
      markers.forEach(function(pair) {
        mark(viewer, pair[0], pair[1]);
      });
      return result;
    }).catch(function(err) {
      var p = document.createElement('p');
      p.className = 'ansvar-status--error';
      p.setAttribute('role', 'alert');
      p.textContent = 'Diagrammet kunne ikke vises: ' + ((err && err.message) || 'ukjent feil');
      node.appendChild(p);
      throw err;
    });
  }

  function start() {
    var config = readConfig('diff-config');
    var nodeA = document.getElementById('diff-a');
    var nodeB = document.getElementById('diff-b');
    if (!config || !nodeA || !nodeB || !window.AnsvarEditor) {
      return;
    }
    var a = window.AnsvarEditor.createViewer({ container: nodeA });
    var b = window.AnsvarEditor.createViewer({ container: nodeB });

    var ready = Promise.all([
      show(a, config.a, [ [ config.removed, 'diff-removed' ], [ config.changed, 'diff-changed' ] ], nodeA),
      show(b, config.b, [ [ config.added, 'diff-added' ], [ config.changed, 'diff-changed' ] ], nodeB)
    ]);
    ready.catch(function() {});

    window.ansvarDiff = { a: a, b: b, ready: ready };
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
