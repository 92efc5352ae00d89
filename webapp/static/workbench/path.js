/*
 * A diagram with the path a case has taken (test runs, supervisors' views; needs
 * ansvar-editor.js).
 *
 * Page contract: <div id="path-canvas"> and
 * <script type="application/json" id="path-config">
 *   {"xml": "...", "done": [ids], "current": [ids]}
 * Markers: path-done, path-current (current elements also get a "Nå her" badge, so colour
 * is not the only cue). Exposes window.ansvarPath = {viewer, ready}.
 */
(function() {
  'use strict';

  var readConfig = window.ansvarPageConfig;  // js/page-config.js

  function start() {
    var config = readConfig('path-config');
    var node = document.getElementById('path-canvas');
    if (!config || !node || !window.AnsvarEditor) {
      return;
    }
    var viewer = window.AnsvarEditor.createViewer({ container: node });

    var ready = viewer.importXML(config.xml).then(function(result) {
      var registry = viewer.get('elementRegistry');
      var canvas = viewer.get('canvas');
      var overlays = viewer.get('overlays');
      window.AnsvarEditor.fitView(viewer);
      (config.done || []).forEach(function(id) {
        if (registry.get(id)) {
          canvas.addMarker(id, 'path-done');
        }
      });
      (config.current || []).forEach(function(id) {
        var element = registry.get(id);
        if (!element) {
          return;
        }
        canvas.addMarker(id, 'path-current');
        if (!element.waypoints) {
          var badge = document.createElement('span');
          badge.className = 'ansvar-path-badge';
          badge.textContent = 'Nå her';
          overlays.add(element, 'ansvar-path', { position: { top: -20, left: 0 }, html: badge });
        }
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
    ready.catch(function() {});

    window.ansvarPath = { viewer: viewer, ready: ready };
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
