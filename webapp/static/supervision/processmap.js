/*
 * Supervisors' process map: a process diagram with how many steps wait at each element, the
 * median and longest wait, a heat map of waiting time and incident badges (needs
 * ansvar-editor.js). Clicking an element with waiting steps or incidents opens its list of cases.
 *
 * Page contract: <div id="process-map"> and
 * <script type="application/json" id="process-map-config">
 *   {"xml": "...", "elements": {"<id>": {"name", "waiting", "median_days", "longest_days",
 *    "incidents", "heat": 0..4, "url"}}}
 * Markers: heat-0 .. heat-4 (processmap.css); the overlay text says the same in words, so colour
 * is never the only cue. The table below the diagram holds the same figures for keyboard and
 * screen-reader users. Exposes window.ansvarProcessMap = {viewer, ready}.
 */
(function() {
  'use strict';

  var readConfig = window.ansvarPageConfig;  // js/page-config.js

  function days(n) {
    return n + ' d';
  }

  function summary(figures) {
    var parts = [];
    if (figures.waiting) {
      parts.push(figures.waiting + ' venter');
      parts.push('median ' + days(figures.median_days));
      parts.push('lengst ' + days(figures.longest_days));
    }
    return parts.join(' · ');
  }

  function addOverlays(viewer, elements) {
    var registry = viewer.get('elementRegistry');
    var canvas = viewer.get('canvas');
    var overlays = viewer.get('overlays');
    Object.keys(elements).forEach(function(id) {
      var element = registry.get(id);
      var figures = elements[id];
      if (!element || element.waypoints) {
        return;
      }
      var gfx = registry.getGraphics(element);
      var label = (figures.name || id) + ': ';
      if (figures.waiting) {
        canvas.addMarker(id, 'heat-' + (figures.heat || 0));
        var badge = document.createElement('span');
        badge.className = 'pm-badge pm-badge--heat-' + (figures.heat || 0);
        badge.textContent = summary(figures);
        overlays.add(element, 'ansvar-process-map', { position: { bottom: 4, left: 0 }, html: badge });
        label += summary(figures);
      }
      if (figures.incidents) {
        var incident = document.createElement('span');
        incident.className = 'pm-incident-badge';
        incident.textContent = '! ' + figures.incidents + ' feil';
        overlays.add(element, 'ansvar-process-map', { position: { top: -12, right: 12 }, html: incident });
        canvas.addMarker(id, 'pm-has-incident');
        label += (figures.waiting ? ' · ' : '') + figures.incidents + ' åpne feil';
      }
      if (figures.url) {
        canvas.addMarker(id, 'pm-clickable');
        if (gfx) {
          var title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
          title.textContent = label;
          gfx.insertBefore(title, gfx.firstChild);
        }
      }
    });
  }

  function start() {
    var config = readConfig('process-map-config');
    var node = document.getElementById('process-map');
    if (!config || !node || !window.AnsvarEditor) {
      return;
    }
    var elements = config.elements || {};
    var viewer = window.AnsvarEditor.createViewer({ container: node });

    var ready = viewer.importXML(config.xml).then(function(result) {
      window.AnsvarEditor.fitView(viewer);
      addOverlays(viewer, elements);
      viewer.get('eventBus').on('element.click', function(event) {
        var figures = elements[event.element.id];
        if (figures && figures.url) {
          window.location.href = figures.url;
        }
      });
      return result;
    }).catch(function(err) {
      var p = document.createElement('p');
      p.className = 'ansvar-status--error';
      p.setAttribute('role', 'alert');
      p.textContent = 'Diagrammet kunne ikke vises: ' + ((err && err.message) || 'ukjent feil') +
        '. Tabellen under har de samme tallene.';
      node.appendChild(p);
      throw err;
    });
    ready.catch(function() {});

    window.ansvarProcessMap = { viewer: viewer, ready: ready };
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
