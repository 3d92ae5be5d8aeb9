/* Jasyl field mode's map: the basemap under the work area's plants, a rectangle drawn with two
 * taps, and the basemap tiles of a downloaded area kept for offline use.
 *
 * A self-hosted basemap's tiles z13–z18 over the area are fetched here, a few at a time, into the
 * cache the service worker answers them from ('jasyl-field-tiles', cache first), so the streets
 * show without signal. A third party's basemap is never fetched by area (OpenStreetMap's tile
 * usage policy forbids it): the worker keeps only the tiles the forester viewed.
 */
(function () {
  'use strict';

  const TILES = 'jasyl-field-tiles';
  const AT_ONCE = 6;
  const element = document.getElementById('field-map');
  if (!element || !window.L) {
    window.JasylFieldMap = null;
    return;
  }
  const settings = element.dataset;
  const map = L.map(element, { zoomControl: true, preferCanvas: true }).setView([51.1282, 71.4304], 13);
  const state = { tileErrors: [], area: null, drawing: null };
  // Vector tiles are drawn by protomaps-leaflet, in the map page's style; images by Leaflet.
  function basemapLayer() {
    const zoom = Number(settings.maxZoom) || 19;
    if (settings.vector === 'true' && window.protomapsL) {
      return protomapsL.leafletLayer({
        url: settings.tiles, attribution: settings.attribution, maxZoom: 19, maxDataZoom: zoom,
        flavor: 'light', lang: document.documentElement.lang || 'en', className: 'basemap',
      });
    }
    return L.tileLayer(settings.tiles, {
      attribution: settings.attribution, maxZoom: 19, maxNativeZoom: zoom, className: 'basemap',
    }).on('tileerror', (e) => { state.tileErrors.push(`${e.coords.z}/${e.coords.x}/${e.coords.y}`); });
  }
  if (settings.tiles) basemapLayer().addTo(map);
  const plants = L.layerGroup().addTo(map);

  function showPlants(list, open) {
    plants.clearLayers();
    for (const plant of list) {
      if (plant.lat == null || plant.lon == null) continue;
      L.circleMarker([plant.lat, plant.lon], {
        radius: 6, weight: 1, color: '#1b5e20', fillColor: plant.local ? '#ffb300' : '#43a047', fillOpacity: 0.9,
      }).on('click', () => open(plant)).addTo(plants);
    }
  }

  // The kept area's outline, and the map brought to it.
  function showArea(bbox, fit) {
    if (state.area) state.area.remove();
    state.area = null;
    if (!bbox) return;
    const [west, south, east, north] = bbox;
    state.area = L.rectangle([[south, west], [north, east]], { color: '#1b5e20', weight: 2, fill: false, interactive: false }).addTo(map);
    if (fit) map.fitBounds(state.area.getBounds(), { animate: false });
  }

  // Two taps on the map, opposite corners; resolves west, south, east, north (or null: cancelled).
  function drawRectangle() {
    if (state.drawing) state.drawing.finish(null);
    return new Promise((resolve) => {
      let first = null;
      let shape = null;
      const tap = (e) => {
        if (!first) {
          first = e.latlng;
          shape = L.rectangle([first, first], { color: '#e65100', weight: 2, interactive: false }).addTo(map);
          return;
        }
        const box = L.latLngBounds(first, e.latlng);
        finish([box.getWest(), box.getSouth(), box.getEast(), box.getNorth()]);
      };
      const move = (e) => { if (shape) shape.setBounds(L.latLngBounds(first, e.latlng)); };
      const finish = (bbox) => {
        map.off('click', tap).off('mousemove', move);
        if (shape) shape.remove();
        element.classList.remove('drawing');
        state.drawing = null;
        resolve(bbox && bbox[0] < bbox[2] && bbox[1] < bbox[3] ? bbox : null);
      };
      state.drawing = { finish };
      element.classList.add('drawing');
      map.on('click', tap).on('mousemove', move);
    });
  }

  function tileUrls(ranges) {
    const urls = [];
    for (const r of ranges) {
      for (let x = r.x0; x <= r.x1; x++) {
        for (let y = r.y0; y <= r.y1; y++) {
          urls.push(settings.tiles.replace('{z}', r.z).replace('{x}', x).replace('{y}', y));
        }
      }
    }
    return urls;
  }

  // Fetch each tile of the ranges and keep those the archive holds (a 204 is a tile it lacks).
  async function fetchTiles(ranges, progress) {
    const cache = await caches.open(TILES);
    const urls = tileUrls(ranges);
    const kept = { count: 0, bytes: 0, failed: 0 };
    let next = 0;
    let done = 0;
    async function worker() {
      while (next < urls.length) {
        const url = urls[next++];
        try {
          const answer = await fetch(url, { credentials: 'same-origin' });
          if (answer.status === 200) {
            const body = await answer.clone().arrayBuffer();
            await cache.put(url, answer);
            kept.count += 1;
            kept.bytes += body.byteLength;
          } else if (answer.status !== 204) {
            kept.failed += 1;
          }
        } catch (e) {
          kept.failed += 1;
        }
        done += 1;
        if (progress && done % 20 === 0) progress(done, urls.length);
      }
    }
    await Promise.all(Array.from({ length: Math.min(AT_ONCE, urls.length) }, worker));
    if (progress) progress(urls.length, urls.length);
    return kept;
  }

  // Tiles kept from an earlier area are dropped before a new area's are fetched.
  async function dropTiles() {
    await caches.delete(TILES);
  }

  window.JasylFieldMap = {
    map, state, showPlants, showArea, drawRectangle, fetchTiles, dropTiles,
    bulk: settings.bulk === 'true',
  };
})();
