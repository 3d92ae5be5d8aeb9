/* Jasyl field mode's work area: a green space, the forester's region, the box around the phone or
 * a rectangle drawn on the map; its size told first (plants, green spaces, basemap tiles, MB),
 * refused beyond the server's limits, then its plants and green spaces kept in IndexedDB and a
 * self-hosted basemap's tiles in the service worker's cache (web/static/field-map.js).
 *
 * Made by field.js with what the page shares: JasylFieldArea({ db, $, t, say, state,
 * freshSession, render, round }) → { listen, renderKept, showStorage, keepArea }.
 */
window.JasylFieldArea = function (app) {
  'use strict';

  const { db, $, t, say, state, freshSession, render, round } = app;

  function areaQuery() {
    const kind = $('area-kind').value;
    if (kind === 'green_space' && $('area-space').value) return `green_space=${Number($('area-space').value)}`;
    if (kind === 'region' && state.session && state.session.region_id) return `region=${state.session.region_id}`;
    if (kind === 'rectangle' && state.rectangle) return `bbox=${state.rectangle.map(round).join(',')}`;
    if (kind === 'near' && state.position) {
      const { lat, lon } = state.position;
      const dLat = 0.0045, dLon = 0.0045 / Math.cos((lat * Math.PI) / 180);
      return `bbox=${[lon - dLon, lat - dLat, lon + dLon, lat + dLat].map(round).join(',')}`;
    }
    return null;
  }

  async function checkArea() {
    const query = areaQuery();
    if (!query) return say('area-message', t('choose_area'));
    await freshSession().catch(() => null);
    const answer = await fetch(`/api/v1/field/area?${query}&count_only=true`, { credentials: 'same-origin' });
    const body = await answer.json();
    if (!answer.ok) return say('area-message', body.message);
    const size = body.size;
    state.size = { query, ...size };
    say('area-message', [
      t('area_size', { plants: size.plants, spaces: size.green_spaces, mb: megabytes(size.approximate_bytes) }),
      size.tiles && size.tiles.bulk ? t('tiles_size', { count: size.tiles.count, mb: megabytes(size.tiles.bytes) }) : '',
      size.tiles && !size.tiles.bulk ? t('tiles_viewed_only') : '',
      tooLarge(size),
    ].filter(Boolean).join(' '));
    $('area-download').disabled = !size.allowed;
  }

  function megabytes(bytes) {
    return (bytes / 1e6).toFixed(1);
  }

  function tooLarge(size) {
    if (size.allowed) return '';
    if (size.plants > size.max_plants) return t('area_too_large', { max: size.max_plants });
    return t('area_over_budget', { mb: megabytes(size.total_bytes), budget: Math.round(size.budget_bytes / 1048576) });
  }

  async function downloadArea() {
    const query = areaQuery();
    if (!query) return say('area-message', t('choose_area'));
    const started = performance.now();
    const answer = await fetch(`/api/v1/field/area?${query}`, { credentials: 'same-origin' });
    const text = await answer.text();
    const body = JSON.parse(text || '{}');
    if (!answer.ok) return say('area-message', body.message);
    const received = performance.now();
    await keepArea(body);
    const stored = performance.now();
    await (await db).put('meta', {
      query, at: new Date().toISOString(), plants: body.plants.length, spaces: body.green_spaces.length,
      download_ms: Math.round(received - started), store_ms: Math.round(stored - received),
      bbox: areaBox(query, body), bytes: text.length,
    }, 'area');
    state.areaShown = false;
    await render();
    await keepTiles(body.size.tiles);
  }

  // The rectangle asked for, or the one around what was downloaded (for the map's outline).
  function areaBox(query, body) {
    if (query.startsWith('bbox=')) return query.slice(5).split(',').map(Number);
    const points = body.plants.filter((p) => p.lat != null);
    if (!points.length) return null;
    const lons = points.map((p) => p.lon), lats = points.map((p) => p.lat);
    return [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
  }

  // A self-hosted basemap's tiles over the area, fetched into the worker's cache.
  async function keepTiles(tiles) {
    const fieldMap = window.JasylFieldMap;
    if (!fieldMap || !tiles || !tiles.bulk || !window.caches) return;
    await fieldMap.dropTiles();
    const count = tiles.ranges.reduce((n, r) => n + (r.x1 - r.x0 + 1) * (r.y1 - r.y0 + 1), 0);
    const kept = await fieldMap.fetchTiles(tiles.ranges, (done) => say('tiles-kept', t('tiles_fetching', { done, count })));
    await (await db).put('meta', { basemap: tiles.basemap, ...kept, at: new Date().toISOString() }, 'tiles');
    await render();
    $('field').dataset.tiles = 'kept';
  }

  async function drawArea() {
    const fieldMap = window.JasylFieldMap;
    if (!fieldMap) return;
    say('area-message', t('draw_rectangle'));
    $('field-map').scrollIntoView({ block: 'center' });
    const bbox = await fieldMap.drawRectangle();
    if (!bbox) return;
    state.rectangle = bbox;
    fieldMap.showArea(bbox, false);
    await checkArea();
  }

  // The downloaded area replaces the one kept before; this phone's own new plants stay.
  async function keepArea(body) {
    const store = await db;
    const tx = store.transaction(['plants', 'spaces'], 'readwrite');
    const plants = tx.objectStore('plants');
    plants.delete(IDBKeyRange.bound('id:', 'id:\uffff'));  // the area's plants ('new:' ones stay)
    tx.objectStore('spaces').clear();
    for (const plant of body.plants) plants.put({ ...plant, key: `id:${plant.id}`, label: plant.inventory_number });
    for (const space of body.green_spaces) tx.objectStore('spaces').put(space);
    await tx.done;
  }

  async function showStorage() {
    if (!navigator.storage) return;
    const persisted = navigator.storage.persist ? await navigator.storage.persist() : false;
    const { usage, quota } = navigator.storage.estimate ? await navigator.storage.estimate() : {};
    say('storage', `${t(persisted ? 'persistent_yes' : 'persistent_no')} ` +
      (quota ? t('storage', { used: (usage / 1e6).toFixed(1), quota: Math.round(quota / 1e6) }) : ''));
  }

  async function renderTiles(area) {
    const fieldMap = window.JasylFieldMap;
    if (!fieldMap) return;
    const tiles = await (await db).get('meta', 'tiles');
    if (fieldMap.bulk) {
      say('tiles-kept', tiles ? t('tiles_kept', { count: tiles.count, mb: megabytes(tiles.bytes) }) : '');
    } else {
      say('tiles-kept', t('tiles_viewed_only'));
    }
    if (area && area.bbox && !state.areaShown) {
      fieldMap.showArea(area.bbox, !state.position);
      state.areaShown = true;
    }
  }

  // What is kept: the area's plants, green spaces and size, the basemap's tiles and theirs.
  async function renderKept() {
    const area = await (await db).get('meta', 'area');
    say('area-kept', area ? t('area_kept_size', {
      plants: area.plants, spaces: area.spaces, mb: megabytes(area.bytes || 0),
    }) : '');
    await renderTiles(area);
  }

  function listen() {
    $('area-kind').addEventListener('change', () => {
      $('area-space').hidden = $('area-kind').value !== 'green_space';
      $('area-draw').hidden = $('area-kind').value !== 'rectangle';
    });
    $('area-draw').addEventListener('click', drawArea);
    $('area-check').addEventListener('click', checkArea);
    $('area-download').addEventListener('click', downloadArea);
  }

  return { listen, renderKept, showStorage, keepArea };
};
