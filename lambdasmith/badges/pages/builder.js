// The badge builder's live preview (GET /). The server renders the same form, preview and
// snippets from the query string (lambdasmith/badges/pages/builder.py); this script redraws them
// as you type, so both must build the same URLs. No framework, nothing from another origin.
'use strict';

(function () {
  const form = document.getElementById('builder');
  if (!form) return;
  document.documentElement.classList.add('js');
  const preview = document.getElementById('preview');
  const message = document.getElementById('preview-message');
  const out = {
    markdown: document.getElementById('out-markdown'),
    html: document.getElementById('out-html'),
    shields: document.getElementById('out-shields'),
  };
  const STYLING = ['style', 'label', 'color', 'labelColor', 'logo'];
  const origin = window.location.origin;
  let pending = null;
  let timer = null;

  // Python's urllib.parse.quote(v, safe='') and quote_plus spellings, so both sides agree byte for byte.
  const seg = (v) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  const plus = (v) => seg(v).replace(/%20/g, '+');
  const query = (pairs) => pairs.map(([k, v]) => plus(k) + '=' + plus(v)).join('&');
  const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');

  function values() {
    const v = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      if (el.type === 'checkbox') v[el.name] = el.checked ? 'true' : '';
      else v[el.name] = el.value;
    }
    return v;
  }

  function urls(v) {
    const kind = v.kind || 'package';
    let parts, target, alt;
    const q = [];
    if (kind === 'package') {
      const provider = v.provider || 'nuget';
      const pkg = (v.package || '').trim();
      const org = (v.org || '').trim();
      if (!pkg || (provider === 'github' && !org)) return null;
      parts = ['badges', 'packages', provider].concat(provider === 'github' ? [org] : [], [pkg]);
      target = provider === 'nuget' ? 'https://www.nuget.org/packages/' + seg(pkg) : 'https://github.com/orgs/' + seg(org) + '/packages';
      alt = provider + ' ' + pkg;
      if ((v.version || '').trim()) q.push(['version', v.version]);
      if (v.prerelease === 'true') q.push(['prerelease', 'true']);
    } else {
      const repo = ['platform', 'owner', 'repo', 'branch'].map((n) => (v[n] || '').trim());
      if (repo.some((x) => !x)) return null;
      parts = ['badges', 'tests'].concat(repo);
      target = origin + '/redirect/test-results/' + repo.map(seg).join('/');
      alt = 'tests ' + repo[1] + '/' + repo[2] + ' ' + repo[3];
      if (kind === 'tests' && v.format) q.push(['format', v.format]);
    }
    const style = STYLING.filter((k) => (v[k] || '').trim() && !(k === 'style' && v[k] === 'flat') && !(k === 'logo' && kind === 'trend')).map((k) => [k, v[k]]);
    const path = '/' + parts.map(seg).join('/');
    let image = origin + path + (kind === 'trend' ? '/trend.svg' : '.svg');
    const json = origin + path + (q.length ? '?' + query(q) : '');
    const qs = query(q.concat(style));
    if (qs) image += '?' + qs;
    const shieldsPairs = [['url', json]].concat(style);
    return {
      image, json, target, alt,
      markdown: '[![' + alt + '](' + image + ')](' + target + ')',
      html: '<a href="' + escapeHtml(target) + '"><img src="' + escapeHtml(image) + '" alt="' + escapeHtml(alt) + '"></a>',
      shields: kind === 'trend' ? '' : 'https://img.shields.io/endpoint?' + shieldsPairs.map(([k, x]) => seg(k) + '=' + seg(x)).join('&'),
    };
  }

  function showFields(v) {
    for (const field of form.querySelectorAll('[data-kinds]')) {
      let visible = field.dataset.kinds.split(' ').includes(v.kind);
      if (field.dataset.provider && field.dataset.provider !== v.provider) visible = false;
      field.hidden = !visible;
    }
  }

  async function explain(u) {
    // The image shows the error badge; the JSON form of the same badge says why, in a sentence.
    if (pending) pending.abort();
    pending = new AbortController();
    try {
      const r = await fetch(u.json, { headers: { Accept: 'application/json' }, signal: pending.signal });
      if (r.ok) { message.textContent = ''; message.className = ''; return; }
      let text = 'The badge service answered ' + r.status + '.';
      try { const body = await r.json(); if (body && typeof body.message === 'string') text = body.message + '.'; } catch (e) { /* not JSON */ }
      message.textContent = text;
      message.className = 'error';
    } catch (e) {
      if (e.name !== 'AbortError') { message.textContent = 'The badge service could not be reached.'; message.className = 'error'; }
    }
  }

  function update() {
    const v = values();
    showFields(v);
    const u = urls(v);
    if (!u) {
      preview.hidden = true;
      preview.removeAttribute('src');
      message.textContent = 'Fill in the form to see your badge.';
      message.className = '';
      for (const k of Object.keys(out)) out[k].value = '';
      return;
    }
    preview.hidden = false;
    preview.alt = 'badge preview: ' + u.alt;
    if (preview.getAttribute('src') !== u.image) preview.src = u.image;
    for (const k of Object.keys(out)) out[k].value = u[k];
    document.querySelector('[data-snippet="shields"]').hidden = !u.shields;
    explain(u);
    const params = new URLSearchParams();
    for (const [k, x] of Object.entries(v)) if (x) params.set(k, x);
    history.replaceState(null, '', '?' + params.toString());
  }

  form.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(update, 250); });
  form.addEventListener('change', () => { clearTimeout(timer); update(); });
  form.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(timer); update(); });
  for (const button of document.querySelectorAll('button.copy')) {
    button.hidden = false;
    button.addEventListener('click', async () => {
      const area = document.getElementById(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(area.value);
      } catch (e) {
        area.select();
        document.execCommand('copy');
      }
      const before = button.textContent;
      button.textContent = 'Copied';
      setTimeout(() => { button.textContent = before; }, 1500);
    });
  }
  update();
})();
