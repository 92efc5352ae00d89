/*
 * Diagram editor page of the process workbench (no build step; needs ansvar-editor.js).
 *
 * Page contract (ids): #canvas, #properties, #save-draft, #problem-list, #save-status and
 * <script type="application/json" id="editor-config">
 *   {"xml": "...", "revision": 3, "saveUrl": "...", "choices": {...}, "problems": [...],
 *    "csrfToken": "..."}
 * A problem: {"severity": "error"|"warning", "element_id": "Task_1"|null, "message": "...",
 *             "rule": "..."}.
 * Saving POSTs JSON {"xml", "revision"} with X-CSRFToken; 200 {revision, problems, message},
 * 409 {message, revision} (someone else saved: nothing is overwritten), 400 {message, problems}.
 * Exposes window.ansvarEditor = {modeler, save, ready, isDirty, renderProblems}.
 */
(function() {
  'use strict';

  var SEVERITY_LABEL = { error: 'Feil', warning: 'Advarsel' };

  var readConfig = window.ansvarPageConfig;  // js/page-config.js

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text != null) {
      node.textContent = text;
    }
    return node;
  }

  function start() {
    var config = readConfig('editor-config');
    var canvasNode = document.getElementById('canvas');
    if (!config || !canvasNode || !window.AnsvarEditor) {
      return;
    }

    var propertiesNode = document.getElementById('properties');
    var statusNode = document.getElementById('save-status');
    var listNode = document.getElementById('problem-list');
    var saveButton = document.getElementById('save-draft');

    var modeler = window.AnsvarEditor.createModeler({
      container: canvasNode,
      propertiesParent: propertiesNode,
      choices: config.choices || {}
    });

    var revision = config.revision;
    var dirty = false;
    var changeCount = 0;
    var pending = null;
    var lastProblems = config.problems || [];

    function setStatus(text, kind) {
      if (!statusNode) {
        return;
      }
      statusNode.textContent = text || '';
      statusNode.classList.remove('ansvar-status--error', 'ansvar-status--success', 'ansvar-status--info');
      statusNode.classList.add('ansvar-status--' + (kind || 'info'));
      statusNode.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    }

    function setDirty(value) {
      dirty = value;
      document.documentElement.setAttribute('data-editor-dirty', value ? 'true' : 'false');
    }

    function findElement(id) {
      return id ? modeler.get('elementRegistry').get(id) : null;
    }

    function elementLabel(element) {
      var bo = element.businessObject;
      return (bo && bo.name) ? bo.name : element.id;
    }

    function showElement(element) {
      var canvas = modeler.get('canvas');
      modeler.get('selection').select(element);
      if (typeof canvas.scrollToElement === 'function') {
        canvas.scrollToElement(element);
      }
    }

    function renderProblems(problems) {
      lastProblems = problems || [];
      var overlays = modeler.get('overlays');
      overlays.remove({ type: 'ansvar-problem' });

      // badges: one per element, red if any error, count and messages in the title
      var byElement = {};
      lastProblems.forEach(function(problem) {
        if (problem && problem.element_id && findElement(problem.element_id)) {
          (byElement[problem.element_id] = byElement[problem.element_id] || []).push(problem);
        }
      });
      Object.keys(byElement).forEach(function(id) {
        var list = byElement[id];
        var hasError = list.some(function(p) { return p.severity === 'error'; });
        var badge = el('span', 'ansvar-badge ansvar-badge--' + (hasError ? 'error' : 'warning'), String(list.length));
        badge.title = list.map(function(p) {
          return (SEVERITY_LABEL[p.severity] || p.severity) + ': ' + p.message;
        }).join('\n');
        badge.setAttribute('aria-hidden', 'true');
        overlays.add(id, 'ansvar-problem', { position: { top: -12, right: 12 }, html: badge });
      });

      if (!listNode) {
        return;
      }
      listNode.textContent = '';
      lastProblems.forEach(function(problem) {
        var severity = problem.severity === 'error' ? 'error' : 'warning';
        var item = el('li', 'ansvar-problem ansvar-problem--' + severity);
        item.setAttribute('data-severity', severity);
        if (problem.rule) {
          item.setAttribute('data-rule', problem.rule);
        }
        item.appendChild(el('strong', 'ansvar-problem__severity', (SEVERITY_LABEL[severity]) + ': '));
        item.appendChild(el('span', 'ansvar-problem__message', problem.message));
        var element = findElement(problem.element_id);
        if (element) {
          item.setAttribute('data-element-id', element.id);
          var button = el('button', 'ansvar-problem__show', 'Vis «' + elementLabel(element) + '»');
          button.type = 'button';
          button.addEventListener('click', function() {
            var current = findElement(element.id);
            if (current) {
              showElement(current);
            }
          });
          item.appendChild(document.createTextNode(' '));
          item.appendChild(button);
        }
        listNode.appendChild(item);
      });
    }

    function readJson(response) {
      return response.text().then(function(text) {
        try {
          return JSON.parse(text);
        } catch (e) {
          return {};
        }
      });
    }

    function save() {
      if (pending) {
        return pending;
      }

      // a field being typed in commits on blur (its input is debounced); commit it first
      var active = document.activeElement;
      var refocus = null;
      if (propertiesNode && active && active !== document.body && propertiesNode.contains(active)) {
        active.blur();
        refocus = active;
      }

      var startedAt = changeCount;
      setStatus('Lagrer …', 'info');
      if (saveButton) {
        saveButton.setAttribute('aria-busy', 'true');
      }

      pending = modeler.saveXML({ format: true }).then(function(result) {
        return fetch(config.saveUrl, {
          method: 'POST',
          credentials: 'same-origin',
          headers: {
            'Content-Type': 'application/json',
            'Accept': 'application/json',
            'X-CSRFToken': config.csrfToken || ''
          },
          body: JSON.stringify({ xml: result.xml, revision: revision })
        });
      }).then(function(response) {
        return readJson(response).then(function(data) {
          if (response.status === 200) {
            if (data.revision != null) {
              revision = data.revision;
            }
            renderProblems(data.problems || []);
            if (changeCount === startedAt) {
              setDirty(false);
            }
            setStatus(data.message || 'Lagret', 'success');
            return { ok: true, status: 200, data: data };
          }
          if (response.status === 409) {

            // someone else saved a newer revision: keep our diagram, do not overwrite theirs
            setStatus(data.message || 'Utkastet er endret av noen andre. Endringene dine er ikke lagret.', 'error');
          } else if (response.status === 400) {
            if (data.problems) {
              renderProblems(data.problems);
            }
            setStatus(data.message || 'Diagrammet kunne ikke lagres.', 'error');
          } else {
            setStatus(data.message || ('Kunne ikke lagre (HTTP ' + response.status + '). Endringene er ikke lagret.'), 'error');
          }
          return { ok: false, status: response.status, data: data };
        });
      }).catch(function(err) {
        setStatus('Kunne ikke lagre: ' + ((err && err.message) || 'ukjent feil') + '. Endringene er ikke lagret.', 'error');
        return { ok: false, status: 0, data: null };
      }).then(function(outcome) {
        pending = null;
        if (saveButton) {
          saveButton.removeAttribute('aria-busy');
        }
        if (refocus && document.contains(refocus) && document.activeElement === document.body) {
          refocus.focus();
        }
        return outcome;
      });

      return pending;
    }

    modeler.on('commandStack.changed', function() {
      changeCount += 1;
      if (!dirty) {
        setDirty(true);
        setStatus('Ulagrede endringer.', 'info');
      }
    });

    window.addEventListener('beforeunload', function(event) {
      if (dirty) {
        event.preventDefault();
        event.returnValue = '';
        return '';
      }
    });

    document.addEventListener('keydown', function(event) {
      var key = event.key || '';
      if ((event.ctrlKey || event.metaKey) && !event.altKey && key.toLowerCase() === 's') {
        event.preventDefault();
        event.stopPropagation();
        save();
      }
    }, true);

    if (saveButton) {
      saveButton.addEventListener('click', function(event) {
        event.preventDefault();
        save();
      });
    }

    setDirty(false);

    var ready = modeler.importXML(config.xml).then(function(result) {
      if (result.warnings && result.warnings.length && window.console) {
        window.console.warn('Diagrammet ble lest med merknader:', result.warnings);
      }
      window.AnsvarEditor.fitView(modeler, { leftPad: 130 });
      renderProblems(lastProblems);
      return result;
    }).catch(function(err) {
      setStatus('Diagrammet kunne ikke vises: ' + ((err && err.message) || 'ukjent feil'), 'error');
      throw err;
    });
    ready.catch(function() {});

    window.ansvarEditor = {
      modeler: modeler,
      save: save,
      ready: ready,
      isDirty: function() { return dirty; },
      renderProblems: renderProblems
    };
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
