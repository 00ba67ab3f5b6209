/* Tocsin's own script: keep typed text through live refreshes, show local times, mark new
   timeline entries and whether live updates are connected, copy integration URLs. Everything
   works without it. */
(function () {
  'use strict';

  function isControl(el) {
    return !!el && !!el.matches && el.matches('input, textarea, select');
  }

  function selectChanged(select) {
    var options = select.options;
    if (select.multiple) {
      for (var i = 0; i < options.length; i++) {
        if (options[i].selected !== options[i].defaultSelected) return true;
      }
      return false;
    }
    var initial = 0;
    for (var j = 0; j < options.length; j++) {
      if (options[j].defaultSelected) { initial = j; break; }
    }
    return options.length > 0 && select.selectedIndex !== initial;
  }

  // True when someone has typed or chosen something in `container` that was not sent yet.
  function isDirty(container) {
    var controls = container.querySelectorAll('input, textarea, select');
    for (var i = 0; i < controls.length; i++) {
      var c = controls[i];
      if (c.type === 'hidden' || c.type === 'submit' || c.type === 'button') continue;
      if (c.type === 'checkbox' || c.type === 'radio') {
        if (c.checked !== c.defaultChecked) return true;
      } else if (c.tagName === 'SELECT') {
        if (selectChanged(c)) return true;
      } else if (c.value !== c.defaultValue) {
        return true;
      }
    }
    return false;
  }

  // A panel is busy while someone works in it: focused, changed, or showing why it was refused.
  function isBusy(panel) {
    var active = document.activeElement;
    return (isControl(active) && panel.contains(active)) ||
      panel.querySelector('.form-error') !== null || isDirty(panel);
  }

  // Each live panel remembers the newest incident version it has asked for. The same change
  // often arrives twice (our own form's incident-changed, then the server-sent event): the
  // second is skipped instead of aborting and repeating the first request.
  function triggerVersion(trigger) {
    if (!trigger || !trigger.detail) return null;
    var raw = null;
    if (trigger.type === 'sse:changed') raw = trigger.detail.data;
    if (trigger.type === 'incident-changed') raw = trigger.detail.version;
    var version = parseInt(raw, 10);
    return isNaN(version) ? null : version;
  }

  // A live refresh never replaces a panel someone is working in; it is marked stale instead
  // and brought up to date once they leave it without sending. (htmx:confirm comes before
  // htmx's own request syncing, so a skipped refresh never cancels one in flight.)
  document.addEventListener('htmx:confirm', function (evt) {
    var elt = evt.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute('data-live')) return;
    var version = triggerVersion(evt.detail.triggeringEvent);
    var asked = parseInt(elt.getAttribute('data-asked') || '0', 10);
    if (version !== null && version <= asked) {
      evt.preventDefault();
      return;
    }
    if (isBusy(elt)) {
      evt.preventDefault();
      elt.setAttribute('data-stale', '');
      return;
    }
    if (version !== null) elt.setAttribute('data-asked', String(version));
  });

  document.addEventListener('focusout', function (evt) {
    var panel = evt.target && evt.target.closest && evt.target.closest('[data-live][data-stale]');
    if (!panel) return;
    window.setTimeout(function () {
      if (panel.hasAttribute('data-stale') && !isBusy(panel)) htmx.trigger(panel, 'refresh');
    }, 300);
  });

  function localTimes(root) {
    var times = (root || document).querySelectorAll('time[datetime]');
    for (var i = 0; i < times.length; i++) {
      var t = times[i];
      var when = new Date(t.getAttribute('datetime'));
      if (!isNaN(when.getTime())) {
        t.title = t.getAttribute('datetime') + ' · your time: ' + when.toLocaleString();
      }
    }
  }

  var newestSeen = null;
  function markNewEntries() {
    var entries = document.querySelectorAll('.timeline .entry[data-seq]');
    if (!entries.length) return;
    var newest = 0;
    for (var i = 0; i < entries.length; i++) {
      var seq = parseInt(entries[i].getAttribute('data-seq'), 10);
      if (newestSeen !== null && seq > newestSeen) entries[i].classList.add('is-new');
      newest = Math.max(newest, seq);
    }
    newestSeen = newest;
  }

  document.addEventListener('htmx:afterSwap', function (evt) {
    var target = evt.detail.target;
    if (target && target.hasAttribute && target.hasAttribute('data-live')) {
      target.removeAttribute('data-stale');
    }
    localTimes(target);
    markNewEntries();
  });

  // The server ends each stream now and then and the browser reconnects within a second, so
  // "reconnecting" is only shown when the connection stays down.
  var reconnecting = null;
  function liveState(evt, state, text) {
    var page = evt.target && evt.target.closest && evt.target.closest('.incident-page');
    if (!page) return;
    page.setAttribute('data-live-state', state);
    var label = page.querySelector('.live-text');
    if (label) label.textContent = text;
  }
  document.addEventListener('htmx:sseOpen', function (evt) {
    window.clearTimeout(reconnecting);
    reconnecting = null;
    liveState(evt, 'open', 'Live updates on');
  });
  document.addEventListener('htmx:sseError', function (evt) {
    if (reconnecting !== null) return;
    reconnecting = window.setTimeout(function () {
      reconnecting = null;
      liveState(evt, 'error', 'Reconnecting…');
    }, 2000);
  });
  // Whatever started a change from this page, the notice area is for the latest answer only.
  document.addEventListener('htmx:beforeRequest', function (evt) {
    var verb = evt.detail.requestConfig && evt.detail.requestConfig.verb;
    var flash = document.getElementById('flash');
    if (flash && verb && verb !== 'get') flash.innerHTML = '';
  });

  document.addEventListener('click', function (evt) {
    var close = evt.target && evt.target.closest && evt.target.closest('.flash-close');
    var flash = document.getElementById('flash');
    if (close && flash) flash.innerHTML = '';
  });

  // Copy buttons next to integration URLs and keys; without the clipboard API they stay hidden
  // and the text (selected whole by one tap) is copied by hand.
  document.addEventListener('click', function (evt) {
    var button = evt.target && evt.target.closest && evt.target.closest('.copy-button');
    if (!button) return;
    navigator.clipboard.writeText(button.getAttribute('data-copy') || '').then(function () {
      button.textContent = 'Copied';
      window.setTimeout(function () { button.textContent = 'Copy'; }, 2000);
    }, function () {
      button.textContent = 'Select and copy';
    });
  });

  document.addEventListener('DOMContentLoaded', function () {
    if (navigator.clipboard && window.isSecureContext) {
      var copies = document.querySelectorAll('.copy-button[hidden]');
      for (var c = 0; c < copies.length; c++) copies[c].hidden = false;
    }
    var page = document.querySelector('.incident-page[data-version]');
    if (page) {
      var panels = page.querySelectorAll('[data-live]');
      for (var i = 0; i < panels.length; i++) {
        panels[i].setAttribute('data-asked', page.getAttribute('data-version'));
      }
    }
    localTimes(document);
    markNewEntries();
  });
})();
