/* The address keeps the view (issue #19): centre and zoom, the basemap, the layers shown, the
 * colour mode, the filters and the open plant card live in the address's hash,
 *   #map=14/51.12820/71.43040&base=osm&layers=plants,spaces&mode=species&status=alive&plant=42
 * so reload, back and a copied link open the same map. Moving the map replaces the address
 * (history.replaceState: back does not replay every drag); choosing a basemap, layers, colours
 * or filters, or opening a card, adds an entry (pushState), which back and forward restore.
 * A hash is read, never trusted: unknown names and numbers out of range are ignored. */
(function () {
  "use strict";
  var Jasyl = window.Jasyl;
  var OVERLAYS = ["regions", "spaces", "plants", "planned"];
  var MODES = ["condition", "species", "year", "status", "co2"];
  var FILTERS = ["condition", "species", "status", "region", "year_from", "year_to"];
  var applying = false;
  var address = (Jasyl.address = {plant: null, view: false});

  function layer(key) {
    var name = Jasyl.settings.layers[key];
    return name ? window[name] : null;
  }
  function basemaps() {
    var named = Jasyl.settings.layers.basemaps || {};
    return Object.keys(named).map(function (id) { return {id: id, layer: window[named[id]]}; });
  }
  function encode(params) {
    return Object.keys(params).map(function (key) {
      return key + "=" + encodeURIComponent(params[key]).replace(/%2C/g, ",").replace(/%2F/g, "/");
    }).join("&");
  }

  /* The map as it is now, in the address's words. */
  function state() {
    var map = Jasyl.map, centre = map.getCenter(), params = {};
    params.map = map.getZoom() + "/" + centre.lat.toFixed(5) + "/" + centre.lng.toFixed(5);
    basemaps().forEach(function (b) { if (map.hasLayer(b.layer)) params.base = b.id; });
    params.layers = OVERLAYS.filter(function (key) {
      var l = layer(key);
      return l && map.hasLayer(l);
    }).join(",");
    if (Jasyl.mode !== "condition") params.mode = Jasyl.mode;
    new URLSearchParams(Jasyl.filterQuery || "").forEach(function (value, key) { params[key] = value; });
    if (address.plant) params.plant = address.plant;
    return "#" + encode(params);
  }
  /* The language switcher posts, then is sent back: with the hash on its form's address the
   * browser keeps it across that redirect, so the view survives a change of language. */
  function keepInForms(hash) {
    document.querySelectorAll("header .lang form").forEach(function (form) {
      form.action = form.action.split("#")[0] + hash;
    });
  }
  function write(push) {
    if (applying) return;
    var hash = state();
    keepInForms(hash);
    if (hash === window.location.hash) return;
    var url = window.location.pathname + window.location.search + hash;
    if (push) history.pushState(null, "", url);
    else history.replaceState(null, "", url);
  }
  address.write = write;

  function applyView(value) {
    var parts = (value || "").split("/").map(Number);
    var z = parts[0], lat = parts[1], lon = parts[2];
    if (parts.length !== 3 || !(z >= 0 && z <= 22) || !(Math.abs(lat) <= 90) || !(Math.abs(lon) <= 180)) return false;
    Jasyl.map.setView([lat, lon], Math.round(z), {animate: false});
    return true;
  }
  function applyBase(id) {
    var all = basemaps(), chosen = all.filter(function (b) { return b.id === id; })[0];
    if (!chosen) return;
    all.forEach(function (b) { if (b !== chosen && Jasyl.map.hasLayer(b.layer)) Jasyl.map.removeLayer(b.layer); });
    if (!Jasyl.map.hasLayer(chosen.layer)) Jasyl.map.addLayer(chosen.layer);
  }
  function applyLayers(value) {
    var shown = value.split(",");
    OVERLAYS.forEach(function (key) {
      var l = layer(key);
      if (!l) return;
      if (shown.indexOf(key) >= 0 && !Jasyl.map.hasLayer(l)) Jasyl.map.addLayer(l);
      if (shown.indexOf(key) < 0 && Jasyl.map.hasLayer(l)) Jasyl.map.removeLayer(l);
    });
  }
  function applyMode(mode) {
    mode = MODES.indexOf(mode) >= 0 ? mode : "condition";
    var select = document.getElementById("style-by");
    if (select) select.value = mode;
    if (mode !== Jasyl.mode) Jasyl.setMode(mode);
  }
  /* The form back to the page's own defaults, then the address's filters on top. */
  function applyFilters(params) {
    var form = document.getElementById("filters");
    if (!form) return;
    form.reset();
    if (params.has("condition")) {
      var grades = params.get("condition").split(",");
      form.querySelectorAll("input[name=condition]").forEach(function (box) {
        box.checked = grades.indexOf(box.value) >= 0;
      });
    }
    FILTERS.slice(1).forEach(function (name) {
      if (params.has(name) && form.elements[name]) form.elements[name].value = params.get(name);
    });
    Jasyl.applyFilters();
  }
  /* The plant's card, opened where the plant stands (the view stays as the address says, or,
   * with no view in it, jumps to the plant). */
  function openPlant(id, keepView) {
    if (!/^\d+$/.test(id)) return Promise.resolve(null);
    return fetch("/api/v1/plants/" + id, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (plant) {
        if (!plant || plant.geometry.type !== "Point") return null;
        var c = plant.geometry.coordinates;
        if (!keepView) Jasyl.map.setView([c[1], c[0]], 18, {animate: false});
        return Jasyl.openCardAt(L.latLng(c[1], c[0]), 22);
      });
  }

  /* Everything the hash says, without writing the address back meanwhile. */
  function apply() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    applying = true;
    try {
      address.view = applyView(params.get("map"));
      if (params.has("base")) applyBase(params.get("base"));
      if (params.has("layers")) applyLayers(params.get("layers"));
      applyMode(params.get("mode"));
      applyFilters(params);
    } finally {
      applying = false;
    }
    var plant = params.get("plant");
    address.plant = plant;
    if (plant) return openPlant(plant, address.view);
    Jasyl.map.closePopup();
    return Promise.resolve(null);
  }
  address.apply = apply;

  address.start = function () {
    var map = Jasyl.map;
    if (window.location.hash) apply();
    map.on("moveend", function () { write(false); });
    map.on("baselayerchange overlayadd overlayremove", function () { write(true); });
    map.on("popupclose", function () {
      // Another card replacing this one closes it first: wait and see whether one is open.
      setTimeout(function () {
        if (applying || !address.plant || (map._popup && map.hasLayer(map._popup))) return;
        address.plant = null;
        write(false);
      }, 0);
    });
    window.addEventListener("popstate", apply);  // back, forward, and a link to #plant=…
    write(false);
  };
  /* A card opened by a click or a search hit: its plant joins the address. */
  address.opened = function (found) {
    var plant = found && found.kind === "plant" ? String(found.id) : null;
    if (plant === address.plant) return;
    address.plant = plant;
    write(true);
  };
  address.changed = function () { write(true); };
})();
