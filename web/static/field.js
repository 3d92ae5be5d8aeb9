/* Jasyl field mode: record plants without signal, send each change exactly once.
 *
 * Every change gets a UUID made here (crypto.randomUUID) and waits in an outbox in IndexedDB
 * (idb, served from /vendor). The outbox is sent one change at a time, in the order recorded, when
 * the browser comes online, when the page opens, every 30 s, and on "Send now"; a change is marked
 * sent only after the server acknowledged it. A change whose answer was lost is simply sent again:
 * the server answers a known UUID with its stored result, never a second plant.
 */
(function () {
  'use strict';

  const root = document.getElementById('field');
  const lang = document.documentElement.lang || 'ru';
  const $ = (id) => document.getElementById(id);
  const UNSENT = new Set(['queued', 'conflict', 'refused']);
  const OLD_DAYS = 3;
  const state = { strings: {}, session: null, fixes: [], position: null, syncing: false, plant: null };
  let maxError = Number(root.dataset.maxGpsError) || 15;
  let sequence = 0;

  const db = idb.openDB('jasyl-field', 1, {
    upgrade(store) {
      store.createObjectStore('outbox', { keyPath: 'uuid' });
      store.createObjectStore('photos', { keyPath: 'uuid' });
      store.createObjectStore('plants', { keyPath: 'key' });
      store.createObjectStore('spaces', { keyPath: 'id' });
      store.createObjectStore('meta');
    },
  });

  // -- words ---------------------------------------------------------------------------------------
  function t(key, values) {
    let text = state.strings[key] || key;
    for (const [name, value] of Object.entries(values || {})) {
      text = text.split(`%(${name})s`).join(String(value));
    }
    return text;
  }

  async function loadStrings() {
    try {
      const answer = await fetch(`/field/strings.${lang}.json`);
      state.strings = await answer.json();
    } catch (e) {
      state.strings = {};
    }
  }

  function say(id, text) {
    $(id).textContent = text || '';
  }

  // -- the outbox ----------------------------------------------------------------------------------
  async function entries() {
    const all = await (await db).getAll('outbox');
    return all.sort((a, b) => a.seq - b.seq);
  }

  function compact(values) {
    const kept = {};
    for (const [key, value] of Object.entries(values)) {
      if (value !== '' && value !== null && value !== undefined) kept[key] = value;
    }
    return kept;
  }

  async function queue(kind, payload, plant, extra) {
    const store = await db;
    const pending = (await entries()).filter((e) => e.state === 'queued' && e.plant_key === plant.key);
    const entry = {
      uuid: crypto.randomUUID(),
      seq: Date.now() * 1000 + (sequence++ % 1000),
      kind,
      payload: compact(payload),
      plant_key: plant.key,
      label: plant.label,
      base_version: plant.version || null,
      after: pending.length ? pending[pending.length - 1].uuid : null,
      recorded_at: new Date().toISOString(),
      state: 'queued',
      user: state.who ? state.who.email : null,  // sent only under this sign-in, never another's
      ...extra,
    };
    await store.put('outbox', entry);
    return entry;
  }

  async function queuePhoto(entry, input) {
    const file = input.files && input.files[0];
    if (!file) return;
    await (await db).put('photos', {
      uuid: crypto.randomUUID(), change_uuid: entry.uuid, blob: file, name: file.name, state: 'queued',
    });
  }

  // What goes over the wire: the change as the server declares it (no local bookkeeping).
  function wire(entry, plants) {
    const change = { uuid: entry.uuid, kind: entry.kind, payload: entry.payload, recorded_at: entry.recorded_at };
    if (entry.gps_accuracy_m != null) change.gps_accuracy_m = entry.gps_accuracy_m;
    if (entry.gps_fixes != null) change.gps_fixes = entry.gps_fixes;
    if (entry.kind === 'edit_plant' || entry.kind === 'remove') {
      // A change made after another of this phone's changes to the plant builds on that one's
      // answer (the version it left), not on the version read before either was sent.
      const plant = plants[entry.plant_key];
      change.base_version = entry.after && plant ? plant.version : entry.base_version;
    }
    return change;
  }

  // -- sending -------------------------------------------------------------------------------------
  async function freshSession() {
    const answer = await fetch('/field/session', { cache: 'no-store', credentials: 'same-origin' });
    if (!answer.ok) throw new Error(`session ${answer.status}`);
    state.session = await answer.json();
    maxError = state.session.max_gps_error_m || maxError;
    if (state.session.signed_in) {
      state.who = { email: state.session.email, region_id: state.session.region_id };
      await (await db).put('meta', state.who, 'who');
    }
    return state.session;
  }

  async function send(entry, session, plants) {
    const answer = await fetch('/api/v1/field/changes', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': session.csrf_token },
      body: JSON.stringify(wire(entry, plants)),
    });
    const body = await answer.json().catch(() => ({}));
    return { status: answer.status, body };
  }

  async function plantsByKey() {
    const byKey = {};
    for (const plant of await (await db).getAll('plants')) byKey[plant.key] = plant;
    return byKey;
  }

  // The server's answer about a plant, kept as this phone's copy of it.
  async function remember(entry, body) {
    const store = await db;
    const result = body.result || {};
    const plant = (await store.get('plants', entry.plant_key)) || { key: entry.plant_key, label: entry.label };
    if (entry.kind === 'inspect') {
      plant.version = result.plant_version || plant.version;
      plant.condition = result.condition;
    } else {
      Object.assign(plant, result, { key: entry.plant_key });
      const point = result.geometry && result.geometry.coordinates;
      if (point && typeof point[0] === 'number') [plant.lon, plant.lat] = point;
    }
    plant.id = body.plant_id || plant.id;
    delete plant.local;
    await store.put('plants', plant);
  }

  async function sync() {
    if (state.syncing) return;
    state.syncing = true;
    try {
      if (!navigator.onLine) return say('sync-message', t('offline'));
      const session = await freshSession();
      if (!session.signed_in) return say('sync-message', t('sign_in_to_send'));
      const queued = (await entries()).filter((e) => e.state === 'queued');
      const others = queued.filter((e) => e.user && e.user !== session.email);
      for (const entry of queued.filter((e) => !others.includes(e))) {
        say('sync-message', t('sending'));
        const { status, body } = await send(entry, session, await plantsByKey());
        if (status === 200) {
          Object.assign(entry, { state: 'sent', answer: body, sent_at: new Date().toISOString() });
          await remember(entry, body);
        } else if (status === 409 && body.error === 'stale_version') {
          Object.assign(entry, { state: 'conflict', conflict: body });
        } else if ([403, 404, 409, 413, 422].includes(status)) {  // 409: a duplicate number
          Object.assign(entry, { state: 'refused', error: body.message || String(status) });
        } else if (status === 401) {
          return say('sync-message', t('sign_in_to_send'));
        } else {
          return say('sync-message', t('send_failed'));  // 400 (an old token), 5xx: again later
        }
        await (await db).put('outbox', entry);
        await render();
      }
      await sendPhotos(session);
      if (others.length) return say('sync-message', t('other_user', { who: others[0].user }));
      say('sync-message', (await unsentCount()) === 0 ? t('all_sent') : '');
    } catch (e) {
      say('sync-message', t('send_failed'));
    } finally {
      state.syncing = false;
      await render();
    }
  }

  // Photos go one by one after their change; a failed one is sent again whole, and the server
  // keeps one per photo UUID, so a resumed upload never makes a second copy.
  async function sendPhotos(session) {
    const store = await db;
    for (const photo of await store.getAll('photos')) {
      if (photo.state !== 'queued') continue;
      const change = await store.get('outbox', photo.change_uuid);
      if (!change || change.state !== 'sent') continue;
      const form = new FormData();
      form.append('photo', photo.blob, photo.name || 'photo.jpg');
      const answer = await fetch(`/api/v1/field/changes/${photo.change_uuid}/photos/${photo.uuid}`, {
        method: 'PUT', credentials: 'same-origin', headers: { 'X-CSRFToken': session.csrf_token }, body: form,
      });
      if (answer.ok) {
        await store.put('photos', { uuid: photo.uuid, change_uuid: photo.change_uuid, state: 'sent' });
      } else if (answer.status >= 500 || answer.status === 400 || answer.status === 401) {
        return;
      } else if (answer.status !== 404) {
        await store.put('photos', { ...photo, state: 'refused' });
      }
    }
  }

  async function unsentCount() {
    const store = await db;
    const changes = (await store.getAll('outbox')).filter((e) => UNSENT.has(e.state)).length;
    const photos = (await store.getAll('photos')).filter((p) => p.state === 'queued').length;
    return changes + photos;
  }

  // -- position ------------------------------------------------------------------------------------
  // Fixes worse than the threshold are dropped with a message; the good ones are averaged.
  function onFix(fix) {
    const { latitude, longitude, accuracy } = fix.coords;
    if (accuracy > maxError) {
      return say('gps-message', t('fix_dropped', { m: Math.round(accuracy), max: maxError }));
    }
    state.fixes.push({ lat: latitude, lon: longitude, accuracy });
    const n = state.fixes.length;
    const mean = (key) => state.fixes.reduce((sum, f) => sum + f[key], 0) / n;
    const spread = Math.max(...state.fixes.map((f) => f.accuracy)) / Math.sqrt(n);
    state.position = { lat: mean('lat'), lon: mean('lon'), accuracy: Math.round(spread * 10) / 10, fixes: n };
    say('gps-message', '');
    say('position', t('position', { m: state.position.accuracy, n }));
    if (n >= 5 && state.watch != null) navigator.geolocation.clearWatch(state.watch);
    if (n === 1 && window.JasylFieldMap) window.JasylFieldMap.map.setView([latitude, longitude], 17, { animate: false });
    renderPlants();
  }

  function locate() {
    if (!navigator.geolocation) return say('gps-message', t('no_gps'));
    if (state.watch != null) navigator.geolocation.clearWatch(state.watch);
    state.fixes = [];
    state.watch = navigator.geolocation.watchPosition(onFix, () => say('gps-message', t('no_gps')), {
      enableHighAccuracy: true, maximumAge: 0, timeout: 30000,
    });
  }

  // -- recording -----------------------------------------------------------------------------------
  function formValues(form) {
    const values = {};
    for (const element of form.elements) {
      if (!element.name || element.type === 'file' || element.value === '') continue;
      values[element.name] = element.type === 'number' || element.name === 'condition' ||
        element.name === 'species_id' ? Number(element.value) : element.value;
    }
    return values;
  }

  async function addPlant(event) {
    event.preventDefault();
    const form = event.target;
    if (!state.position) return say('gps-message', t('no_position'));
    const { lat, lon, accuracy, fixes } = state.position;
    const values = formValues(form);
    const species = form.elements.species_id.selectedOptions[0];
    const uuid = crypto.randomUUID();
    const plant = { key: `new:${uuid}`, label: species ? species.textContent : '', version: null };
    const entry = await queue('add_plant', { ...values, lon: round(lon), lat: round(lat) }, plant, {
      uuid, gps_accuracy_m: accuracy, gps_fixes: fixes,
    });
    await (await db).put('plants', { ...values, ...plant, uuid, lon, lat, local: true });
    await queuePhoto(entry, form.elements.photo);
    form.reset();
    say('sync-message', t('saved'));
    await render();
    sync();
  }

  function round(degrees) {
    return Math.round(degrees * 1e7) / 1e7;
  }

  function plantRef(plant) {
    return plant.local ? { plant_uuid: plant.uuid } : { plant_id: plant.id };
  }

  async function recordOnPlant(event, kind) {
    event.preventDefault();
    const form = event.target;
    let plant = state.plant;
    const values = formValues(form);
    if (kind === 'edit_plant' && plant.local) {
      if (await editUnsent(plant, values)) return closePlant(form);
      plant = (await (await db).get('plants', plant.key)) || plant;  // sent meanwhile: a real edit
    }
    const entry = await queue(kind, { ...plantRef(plant), ...values }, plant);
    if (form.elements.photo) await queuePhoto(entry, form.elements.photo);
    await closePlant(form);
  }

  async function closePlant(form) {
    form.reset();
    $('plant-dialog').close();
    say('sync-message', t('saved'));
    await render();
    sync();
  }

  // -- plants added on this phone, not sent yet ----------------------------------------------------
  // Until the server has its add, such a plant is only this phone's: an edit rewrites the queued
  // add (one change is sent, with the final values) and removing it drops the add and whatever
  // waits on it (nothing is sent). A sync under way is let finish first: a plant it sent is no
  // longer this phone's alone, and is edited like any other.
  async function unsentAdd(plant) {
    while (state.syncing) await new Promise((resolve) => setTimeout(resolve, 100));
    const add = await (await db).get('outbox', plant.uuid);
    return add && add.kind === 'add_plant' && add.state !== 'sent' ? add : null;
  }

  async function editUnsent(plant, values) {
    const add = await unsentAdd(plant);
    if (!add) return false;
    const store = await db;
    add.payload = compact({ ...add.payload, ...values });
    if (add.state === 'refused') Object.assign(add, { state: 'queued', error: null });  // corrected
    await store.put('outbox', add);
    await store.put('plants', { ...(await store.get('plants', plant.key)), ...values });
    return true;
  }

  async function dropUnsent() {
    const plant = state.plant;
    const add = await unsentAdd(plant);
    $('plant-dialog').close();
    if (!add) return render();
    const store = await db;
    const dropped = (await entries()).filter((e) => e.plant_key === plant.key && e.state !== 'sent');
    const uuids = new Set(dropped.map((e) => e.uuid));
    for (const uuid of uuids) await store.delete('outbox', uuid);
    for (const photo of await store.getAll('photos')) {
      if (uuids.has(photo.change_uuid)) await store.delete('photos', photo.uuid);
    }
    await store.delete('plants', plant.key);
    say('sync-message', t('dropped'));
    await render();
  }

  // -- conflicts -----------------------------------------------------------------------------------
  function openConflict(entry) {
    state.conflict = entry;
    const { current, yours, changed_by: by, changed_at: at } = entry.conflict;
    say('conflict-who', t('changed_by', { who: by, at: (at || '').slice(0, 16).replace('T', ' ') }));
    const head = $('conflict-table').tHead;
    head.innerHTML = '';
    const heading = head.insertRow();
    for (const word of ['field', 'server_value', 'your_value']) {
      heading.appendChild(document.createElement('th')).textContent = t(word);
    }
    const body = $('conflict-table').tBodies[0];
    body.innerHTML = '';
    for (const [name, mine] of Object.entries(yours || {})) {
      if (name === 'plant_id' || name === 'plant_uuid') continue;
      const row = body.insertRow();
      row.dataset.field = name;
      row.insertCell().textContent = name;
      row.insertCell().textContent = current && current[name] != null ? current[name] : '—';
      const cell = row.insertCell();
      const choose = cell.appendChild(document.createElement('input'));
      Object.assign(choose, { type: 'checkbox', checked: true, name: name });
      choose.style.width = 'auto';
      cell.appendChild(document.createTextNode(` ${mine}`));
    }
    say('conflict-message', '');
    $('conflict-dialog').showModal();
  }

  async function resolveConflict(keepMine) {
    const entry = state.conflict;
    const store = await db;
    const { current, current_version: version } = entry.conflict;
    const chosen = {};
    for (const box of $('conflict-table').querySelectorAll('input[type=checkbox]')) {
      if (box.checked) chosen[box.name] = entry.conflict.yours[box.name];
    }
    if (keepMine && !Object.keys(chosen).length) return say('conflict-message', t('nothing_chosen'));
    const plant = (await store.get('plants', entry.plant_key)) || { key: entry.plant_key };
    Object.assign(plant, current || {}, { key: entry.plant_key, version });
    await store.put('plants', plant);
    entry.state = 'resolved';
    await store.put('outbox', entry);
    if (keepMine) {
      const ref = entry.payload.plant_id ? { plant_id: entry.payload.plant_id } : { plant_uuid: entry.payload.plant_uuid };
      await queue(entry.kind, { ...ref, ...chosen }, { ...plant, label: entry.label });
    }
    $('conflict-dialog').close();
    await render();
    sync();
  }

  // -- export --------------------------------------------------------------------------------------
  function asDataUrl(blob) {
    return new Promise((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.readAsDataURL(blob);
    });
  }

  async function exportUnsent() {
    const store = await db;
    const changes = (await entries()).filter((e) => UNSENT.has(e.state));
    const wanted = new Set(changes.map((e) => e.uuid));
    const photos = [];
    for (const photo of await store.getAll('photos')) {
      if (photo.state === 'queued' && photo.blob) {
        photos.push({ uuid: photo.uuid, change_uuid: photo.change_uuid, name: photo.name, data: await asDataUrl(photo.blob) });
        wanted.add(photo.change_uuid);
      }
    }
    const file = { exported_at: new Date().toISOString(), changes: changes.map((e) => ({ ...e, ...wire(e, {}) })), photos };
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([JSON.stringify(file, null, 1)], { type: 'application/json' }));
    link.download = `jasyl-unsent-${file.exported_at.slice(0, 19).replace(/[:T]/g, '-')}.json`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    say('sync-message', t('exported', { n: changes.length }));
  }

  // -- drawing -------------------------------------------------------------------------------------
  function distance(plant) {
    if (!state.position || plant.lat == null) return Infinity;
    const dy = (plant.lat - state.position.lat) * 111320;
    const dx = (plant.lon - state.position.lon) * 111320 * Math.cos((plant.lat * Math.PI) / 180);
    return Math.hypot(dx, dy);
  }

  async function renderPlants() {
    const search = $('plant-search').value.trim().toLowerCase();
    const all = (await (await db).getAll('plants')).filter(
      (p) => !search || String(p.inventory_number || p.label || '').toLowerCase().includes(search));
    all.sort((a, b) => distance(a) - distance(b) || String(a.key).localeCompare(String(b.key)));
    if (window.JasylFieldMap) window.JasylFieldMap.showPlants(all, openPlant);
    const list = $('plants');
    list.innerHTML = '';
    for (const plant of all.slice(0, 30)) {
      const item = list.appendChild(document.createElement('li'));
      item.dataset.key = plant.key;
      const name = item.appendChild(document.createElement('span'));
      const metres = distance(plant);
      name.textContent = `${plant.inventory_number || plant.label || ''}` +
        (plant.local ? ` (${t('added_offline')})` : '') + (Number.isFinite(metres) ? ` · ${Math.round(metres)} m` : '');
      const open = item.appendChild(document.createElement('button'));
      open.type = 'button';
      open.textContent = '›';
      open.addEventListener('click', () => openPlant(plant));
    }
  }

  function openPlant(plant) {
    state.plant = plant;
    say('plant-title', `${plant.inventory_number || plant.label || ''}` + (plant.local ? ` (${t('added_offline')})` : ''));
    $('remove-form').hidden = Boolean(plant.local);
    $('drop-unsent').hidden = !plant.local;
    const edit = $('edit-form');
    for (const name of ['height_m', 'trunk_diameter_cm', 'notes']) {
      edit.elements[name].value = plant.local && plant[name] != null ? plant[name] : '';
    }
    $('plant-dialog').showModal();
  }

  async function renderOutbox() {
    const list = $('outbox');
    list.innerHTML = '';
    const photos = await (await db).getAll('photos');
    for (const entry of (await entries()).reverse()) {
      const item = list.appendChild(document.createElement('li'));
      item.dataset.uuid = entry.uuid;
      item.dataset.state = entry.state;
      const waiting = photos.filter((p) => p.change_uuid === entry.uuid && p.state === 'queued').length;
      item.appendChild(document.createElement('span')).textContent =
        `${t(entry.kind)} · ${entry.label || ''} · ${entry.recorded_at.slice(0, 16).replace('T', ' ')}` +
        (waiting ? ` · ${t('photo_queued')}` : '') + (entry.error ? ` · ${entry.error}` : '');
      const badge = item.appendChild(document.createElement('span'));
      badge.className = `state state-${entry.state}`;
      badge.textContent = t(entry.state);
      if (entry.state === 'conflict') {
        const resolve = item.appendChild(document.createElement('button'));
        resolve.type = 'button';
        resolve.className = 'resolve';
        resolve.textContent = t('conflict');
        resolve.addEventListener('click', () => openConflict(entry));
      }
    }
  }

  async function render() {
    say('connection', navigator.onLine ? t('online') : t('offline'));
    const unsent = await unsentCount();
    say('unsent-count', String(unsent));
    const old = Date.now() - OLD_DAYS * 86400000;
    $('old-unsent').hidden = !(await entries()).some((e) => e.state === 'queued' && Date.parse(e.recorded_at) < old);
    say('old-unsent', t('old_unsent'));
    await area.renderKept();
    await renderOutbox();
    await renderPlants();
  }

  async function loadSpecies() {
    const select = $('add-species');
    let items = [];
    try {
      items = (await (await fetch('/api/v1/species')).json()).items;
      await (await db).put('meta', items, 'species');
    } catch (e) {
      items = (await (await db).get('meta', 'species')) || [];
    }
    for (const species of items) {
      const option = select.appendChild(document.createElement('option'));
      option.value = species.id;
      option.textContent = species[`name_${lang}`] || species.name || species.latin;
    }
  }

  // The work area (web/static/field-area.js), given what it shares with the rest of the page.
  const area = window.JasylFieldArea({ db, $, t, say, state, freshSession, render, round });

  // -- start ---------------------------------------------------------------------------------------
  function listen() {
    $('send-now').addEventListener('click', sync);
    $('locate').addEventListener('click', locate);
    $('add-form').addEventListener('submit', addPlant);
    $('inspect-form').addEventListener('submit', (e) => recordOnPlant(e, 'inspect'));
    $('edit-form').addEventListener('submit', (e) => recordOnPlant(e, 'edit_plant'));
    $('remove-form').addEventListener('submit', (e) => recordOnPlant(e, 'remove'));
    $('plant-close').addEventListener('click', () => $('plant-dialog').close());
    $('drop-unsent').addEventListener('click', dropUnsent);
    $('conflict-mine').addEventListener('click', () => resolveConflict(true));
    $('conflict-server').addEventListener('click', () => resolveConflict(false));
    $('export').addEventListener('click', exportUnsent);
    $('plant-search').addEventListener('input', renderPlants);
    area.listen();
    window.addEventListener('online', () => { render(); sync(); });
    window.addEventListener('offline', render);
    setInterval(sync, 30000);
  }

  function adviseIphone() {
    const ios = /iPad|iPhone|iPod/.test(navigator.userAgent);
    const installed = window.navigator.standalone || matchMedia('(display-mode: standalone)').matches;
    $('iphone-advice').hidden = !(ios && !installed);
  }

  async function start() {
    state.who = await (await db).get('meta', 'who');
    listen();
    adviseIphone();
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('/field-sw.js', { scope: '/field' }).catch(() => null);
    }
    await loadStrings();
    await loadSpecies();
    await render();
    area.showStorage();
    await sync();
    root.dataset.ready = 'true';
  }

  window.JasylField = { db, sync, render, unsentCount, keepArea: area.keepArea, started: start() };
})();
