/**
 * The inbox's only script, served as `/inbox/live.js` (same origin, so the CSP needs just
 * `script-src 'self'`). It listens to `/inbox/events` and, when a request changes, re-reads the
 * page and swaps in its `<main>`: a list shows what waits now; a request page shows who decided.
 * On a request page the decide form stays as it is (what the reviewer typed, and the `argsHash` of
 * the args they read) unless the args it would decide changed, when the new page replaces it whole.
 * Without it (no script, old browser) the pages work as before and say to reload.
 *
 * @example
 * app.get('/inbox/live.js', (context) => context.body(INBOX_LIVE_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
 */
export const INBOX_LIVE_SCRIPT = `'use strict';
(function () {
  var body = document.body;
  var mode = body.getAttribute('data-live');
  var status = document.getElementById('live-status');
  if (!mode || !status || typeof EventSource !== 'function' || typeof fetch !== 'function' || typeof DOMParser !== 'function') return;
  var requestId = body.getAttribute('data-request');
  function say(text, on) {
    status.textContent = text;
    status.className = on ? 'note live on' : 'note live';
  }
  function hashOf(form) {
    var field = form && form.querySelector('input[name="argsHash"]');
    return field ? field.value : null;
  }
  var busy = false;
  var again = false;
  var timer = 0;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (response) {
        // Signed out meanwhile (a redirect to sign in) or an error page: let the browser show it.
        if (response.redirected || !response.ok) { location.reload(); return; }
        return response.text().then(function (text) {
          var fresh = new DOMParser().parseFromString(text, 'text/html').querySelector('main');
          var main = document.querySelector('main');
          if (!fresh || !main) return;
          var form = main.querySelector(':scope > form.decide');
          var freshForm = fresh.querySelector(':scope > form.decide');
          var keep = form && freshForm && hashOf(form) === hashOf(freshForm) ? form : null;
          Array.prototype.slice.call(main.childNodes).forEach(function (node) { if (node !== keep) main.removeChild(node); });
          var beforeKeep = true;
          Array.prototype.slice.call(fresh.childNodes).forEach(function (node) {
            if (keep && node === freshForm) { beforeKeep = false; return; }
            var adopted = document.adoptNode(node);
            if (keep && beforeKeep) main.insertBefore(adopted, keep); else main.appendChild(adopted);
          });
          var title = new DOMParser().parseFromString(text, 'text/html').querySelector('title');
          if (title) document.title = title.textContent;
        });
      })
      .catch(function () { say('Could not update this page: reload it to see changes.', false); })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }
  var source = new EventSource('/inbox/events');
  source.addEventListener('open', function () { say('Live: this page updates by itself.', true); });
  source.addEventListener('error', function () {
    say(source.readyState === EventSource.CLOSED ? 'Not live: reload the page to see changes.' : 'Reconnecting… until then, reload to see changes.', false);
  });
  source.addEventListener('change', function (event) {
    if (mode === 'request' && event.data !== requestId && event.data !== '*') return;
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  });
  source.addEventListener('bye', function () {
    source.close();
    say('Not live (signed out or the server stopped): reload the page.', false);
  });
})();
`;
