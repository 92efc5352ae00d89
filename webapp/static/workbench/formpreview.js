/*
 * Live preview of a form while its JSON Schema is edited (no build step, no library).
 *
 * Page contract: <textarea id="schema-text">, optional <textarea id="ui-text">,
 * <div id="form-preview" aria-live="polite"> and
 * <script type="application/json" id="preview-config">{"url": "...", "csrfToken": "..."}
 * 400 ms after the last input, POSTs form-encoded schema=...&csrf_token=... (plus ui=... when
 * #ui-text exists) and puts the returned server-rendered HTML fragment (200, or 400 with
 * the error) into #form-preview. Only the newest answer is shown.
 * Exposes window.ansvarFormPreview = {refresh}.
 */
(function() {
  'use strict';

  var DELAY = 400;

  var readConfig = window.ansvarPageConfig;  // js/page-config.js

  function start() {
    var config = readConfig('preview-config');
    var schemaNode = document.getElementById('schema-text');
    var uiNode = document.getElementById('ui-text');
    var previewNode = document.getElementById('form-preview');
    if (!config || !schemaNode || !previewNode) {
      return;
    }

    var timer = null;
    var sequence = 0;
    var controller = null;

    function showMessage(text) {
      previewNode.textContent = '';
      var p = document.createElement('p');
      p.className = 'ansvar-status--error';
      p.textContent = text;
      previewNode.appendChild(p);
    }

    function refresh() {
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      var mine = ++sequence;
      if (controller) {
        controller.abort();
      }
      controller = typeof AbortController === 'function' ? new AbortController() : null;

      var body = new URLSearchParams();
      body.append('schema', schemaNode.value);
      if (uiNode) {
        body.append('ui', uiNode.value);
      }
      body.append('csrf_token', config.csrfToken || '');

      previewNode.setAttribute('aria-busy', 'true');
      return fetch(config.url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8',
          'X-CSRFToken': config.csrfToken || ''
        },
        body: body.toString(),
        signal: controller ? controller.signal : undefined
      }).then(function(response) {
        return response.text().then(function(text) {
          if (mine !== sequence) {
            return;
          }
          if (response.status === 200 || response.status === 400) {

            // a fragment rendered by our own server from our own templates
            previewNode.innerHTML = text;
          } else {
            showMessage('Forhåndsvisningen kunne ikke lages (HTTP ' + response.status + ').');
          }
        });
      }).catch(function(err) {
        if (mine === sequence && !(err && err.name === 'AbortError')) {
          showMessage('Forhåndsvisningen kunne ikke lages: serveren svarte ikke.');
        }
      }).then(function() {
        if (mine === sequence) {
          previewNode.removeAttribute('aria-busy');
        }
      });
    }

    function schedule() {
      if (timer) {
        clearTimeout(timer);
      }
      timer = setTimeout(refresh, DELAY);
    }

    schemaNode.addEventListener('input', schedule);
    if (uiNode) {
      uiNode.addEventListener('input', schedule);
    }

    window.ansvarFormPreview = { refresh: refresh };
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
