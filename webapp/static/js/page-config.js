/* Reading a page's configuration: the server writes it as JSON in
 * <script type="application/json" id="...">, since the Content-Security-Policy allows no inline
 * scripts. Load this before a page script that calls window.ansvarPageConfig(id). */
(function() {
  'use strict';

  /** The parsed JSON of the element with this id, or null when it is missing or unreadable. */
  window.ansvarPageConfig = function(id) {
    var node = document.getElementById(id);
    if (!node) {
      return null;
    }
    try {
      return JSON.parse(node.textContent);
    } catch (e) {
      return null;
    }
  };
})();
