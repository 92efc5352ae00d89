/*
 * One case's episodes, each on the diagram of its own version with the path it took (needs
 * ansvar-editor.js). A diagram is drawn when its <details class="pm-episode"> is opened (closed
 * ones cost nothing), so a case with many episodes stays light.
 *
 * Page contract: <details class="pm-episode" data-episode="<instance id>"> holding
 * <div id="episode-canvas-<instance id>">, and
 * <script type="application/json" id="episodes-config">
 *   {"diagrams": {"<definition id>": "<xml>"},
 *    "episodes": [{"id", "diagram": "<definition id>", "done": [ids], "current": [ids]}]}
 * Markers as workbench/path.js: path-done, path-current (current elements also get a "Nå her"
 * badge, so colour is not the only cue); a sequence flow is marked done when its source is done
 * and its target was reached. Exposes window.ansvarEpisodes = {viewers: {id: viewer}}.
 */
(function() {
  'use strict';

  var readConfig = window.ansvarPageConfig;  // js/page-config.js

  function mark(viewer, episode) {
    var registry = viewer.get('elementRegistry');
    var canvas = viewer.get('canvas');
    var overlays = viewer.get('overlays');
    var done = {};
    var reached = {};
    (episode.done || []).forEach(function(id) { done[id] = true; reached[id] = true; });
    (episode.current || []).forEach(function(id) { reached[id] = true; });
    Object.keys(done).forEach(function(id) {
      if (registry.get(id)) {
        canvas.addMarker(id, 'path-done');
      }
    });
    registry.filter(function(element) {
      return element.waypoints && element.source && element.target &&
        done[element.source.id] && reached[element.target.id];
    }).forEach(function(flow) {
      canvas.addMarker(flow.id, 'path-done');
    });
    (episode.current || []).forEach(function(id) {
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
  }

  function draw(config, episode, viewers) {
    var node = document.getElementById('episode-canvas-' + episode.id);
    var xml = config.diagrams && config.diagrams[episode.diagram];
    if (!node || !xml || viewers[episode.id]) {
      return;
    }
    var viewer = window.AnsvarEditor.createViewer({ container: node });
    viewers[episode.id] = viewer;
    viewer.importXML(xml).then(function() {
      window.AnsvarEditor.fitView(viewer);
      mark(viewer, episode);
    }).catch(function(err) {
      var p = document.createElement('p');
      p.className = 'ansvar-status--error';
      p.setAttribute('role', 'alert');
      p.textContent = 'Diagrammet kunne ikke vises: ' + ((err && err.message) || 'ukjent feil');
      node.appendChild(p);
    });
  }

  function start() {
    var config = readConfig('episodes-config');
    if (!config || !window.AnsvarEditor) {
      return;
    }
    var viewers = {};
    var byId = {};
    (config.episodes || []).forEach(function(episode) { byId[String(episode.id)] = episode; });
    Array.prototype.forEach.call(document.querySelectorAll('details.pm-episode'), function(details) {
      var episode = byId[details.getAttribute('data-episode')];
      if (!episode) {
        return;
      }
      if (details.open) {
        draw(config, episode, viewers);
      }
      details.addEventListener('toggle', function() {
        if (details.open) {
          draw(config, episode, viewers);
        }
      });
    });
    window.ansvarEpisodes = { viewers: viewers };
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
