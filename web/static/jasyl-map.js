/* Jasyl map page: styles, legend, filters (as tile query parameters), search, and the card a
 * click opens. The map and its layers are built by Folium; their variable names come in
 * the page's settings. Clicks ask the server what is there (VectorGrid's own click handling is
 * broken with Leaflet >= 1.8). State-changing requests send the CSRF token from the meta tag. */
(function () {
  "use strict";
  var Jasyl = (window.Jasyl = {mode: "condition", settings: null});

  function colourOf(list, value, fallback) {
    for (var i = 0; i < list.length; i++) if (list[i].value === value) return list[i].colour;
    return fallback;
  }
  function yearColour(year) {
    if (!year) return "#bdbdbd";
    var bands = Jasyl.settings.years;
    for (var i = 0; i < bands.length; i++) {
      var b = bands[i];
      if ((b.from === null || year >= b.from) && (b.to === null || year <= b.to)) return b.colour;
    }
    return "#bdbdbd";
  }
  // A plant (or a cell) without an assessed condition has its own colour, never grade I's.
  function conditionColour(grade) {
    if (grade === null || grade === undefined) return Jasyl.settings.notAssessed.colour;
    return colourOf(Jasyl.settings.conditions, Math.round(grade), "#bdbdbd");
  }
  function plantColour(p) {
    var s = Jasyl.settings;
    switch (Jasyl.mode) {
      case "species": return colourOf(s.species, p.species_id, "#bdbdbd");
      case "year": return yearColour(p.planting_year);
      case "status": return colourOf(s.statuses, p.status, "#bdbdbd");
      case "co2": return colourOf(s.co2, p.co2, s.noFigure.colour);
      default: return conditionColour(p.condition);
    }
  }

  Jasyl.plantStyle = function (p, z) {
    var radius = z > 16 ? 5 : (z > 14 ? 3 : 2);
    if (Jasyl.mode === "co2" && (p.co2 === undefined || p.co2 === null)) {
      // No figure: a hollow ring, apart from every class (never the lightest class's colour).
      return {radius: radius, fill: true, weight: 1, color: "#616161",
              fillColor: Jasyl.settings.noFigure.colour, fillOpacity: 0.6};
    }
    return {radius: radius, fill: true, weight: p.hazardous ? 1 : 0,
            color: "#b71c1c", fillColor: plantColour(p), fillOpacity: 0.85};
  };
  Jasyl.gridStyle = function (p, z) {
    var r = Math.min(14, 2 + Math.log(p.plants + 1) * 1.6);
    var colour = Jasyl.mode === "condition" ? conditionColour(p.condition) : "#607d8b";
    return {radius: r, fill: true, weight: 1, color: "#ffffff", fillColor: colour, fillOpacity: 0.75};
  };
  Jasyl.spaceStyle = function (p, z) {
    return {fill: true, weight: 1.5, color: "#1b5e20",
            fillColor: p.category === "public" ? "#66bb6a" : (p.category === "limited" ? "#aed581" : "#c5e1a5"),
            fillOpacity: 0.35};
  };

  /* Planned plantings: plan lines' areas (or their green spaces), fetched per view as GeoJSON
   * while the layer is shown; approved plans solid, drafts dashed. */
  var PLANNED = {color: "#6a1b9a", fillColor: "#ce93d8", weight: 2, fillOpacity: 0.35};
  function plannedStyle(feature) {
    var draft = feature.properties.status !== "approved";
    return {color: PLANNED.color, fillColor: PLANNED.fillColor, weight: PLANNED.weight,
            fillOpacity: PLANNED.fillOpacity, dashArray: draft ? "6 4" : null};
  }
  function plannedPopup(p) {
    return '<div class="card planned-card"><h3 class="card-title">' + escapeHtml(Jasyl.settings.text.planned) + "</h3>" +
      "<div>" + escapeHtml(p.title || "") + " · " + escapeHtml(String(p.year)) + " · " + escapeHtml(p.season) + " · " + escapeHtml(p.status) + "</div>" +
      "<div>" + escapeHtml(p.species) + " <i>" + escapeHtml(p.latin) + "</i> × " + escapeHtml(String(p.quantity)) + " " + escapeHtml(p.unit) + "</div>" +
      (p.green_space ? "<div>" + escapeHtml(p.green_space) + "</div>" : "") +
      '<div><a class="plan-link" href="/planting/plans/' + encodeURIComponent(p.plan_id) + '">' +
      escapeHtml(Jasyl.settings.text.planPage) + "</a></div></div>";
  }
  Jasyl.loadPlanned = function () {
    var group = Jasyl.planned, map = Jasyl.map;
    if (!group || !map.hasLayer(group)) return Promise.resolve(0);
    var b = map.getBounds();
    var bbox = [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90), Math.min(b.getEast(), 180), Math.min(b.getNorth(), 90)];
    var url = Jasyl.settings.text.plannedUrl + "?bbox=" + bbox.map(function (v) { return v.toFixed(5); }).join(",");
    return fetch(url, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : {features: []}; }).then(function (data) {
      group.clearLayers();
      L.geoJSON(data, {style: plannedStyle, onEachFeature: function (f, layer) {
        layer.bindPopup(plannedPopup(f.properties));
      }}).eachLayer(function (layer) { group.addLayer(layer); });
      return data.features.length;
    });
  };

  /* fetch() for state-changing requests: the session's CSRF token travels in a header. */
  Jasyl.send = function (method, url, body) {
    var token = document.querySelector('meta[name="csrf-token"]').content;
    return fetch(url, {method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body: body === undefined ? undefined : JSON.stringify(body)});
  };

  function legendRows() {
    var s = Jasyl.settings;
    var rows = {condition: s.conditions, species: s.species, status: s.statuses, year: s.years, co2: s.co2}[Jasyl.mode];
    var html = rows.map(function (r) {
      return '<div><i style="background:' + r.colour + '"></i>' + escapeHtml(r.label) + "</div>";
    }).join("");
    if (Jasyl.mode === "condition") html += '<div><i style="background:' + s.notAssessed.colour + '"></i>' + escapeHtml(s.notAssessed.label) + "</div>";
    else if (Jasyl.mode === "co2") html += '<div class="no-figure"><i style="background:' + s.noFigure.colour + ';border:1px solid #616161;border-radius:50%"></i>' +
      escapeHtml(s.noFigure.label) + '</div><div class="note">' + escapeHtml(s.text.co2Note) + "</div>";
    else html += '<div><i style="background:#bdbdbd"></i>' + escapeHtml(s.text.other) + "</div>";
    if (Jasyl.planned && Jasyl.map.hasLayer(Jasyl.planned)) {
      html += '<div class="planned-legend"><i style="background:' + PLANNED.fillColor + ";border:2px dashed " +
        PLANNED.color + ';border-radius:2px"></i>' + escapeHtml(s.text.plannedNote) + "</div>";
    }
    return html + '<div class="note">' + escapeHtml(s.text.cells) + "</div>";
  }
  function escapeHtml(text) {
    var d = document.createElement("div"); d.textContent = String(text); return d.innerHTML;
  }
  function drawLegend() {
    var legend = document.getElementById("legend-rows");
    if (legend) legend.innerHTML = legendRows();
  }

  function filterQuery() {
    var form = document.getElementById("filters");
    if (!form) return "";
    var params = new URLSearchParams();
    var conditions = Array.prototype.filter.call(form.querySelectorAll("input[name=condition]"), function (c) { return c.checked; });
    if (conditions.length && conditions.length < 6) params.set("condition", conditions.map(function (c) { return c.value; }).join(","));
    ["species", "status", "region", "year_from", "year_to"].forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value) params.set(name, field.value);
    });
    return params.toString();
  }
  /* The plant tiles' address: the filters, and colour=co2 in the "CO₂ stored" mode (only then
   * do the tiles carry each plant's class, which costs the server a computation per plant). */
  function plantTiles(query) {
    var asked = query + (Jasyl.mode === "co2" ? (query ? "&" : "") + "colour=co2" : "");
    return "/tiles/plants/{z}/{x}/{y}.pbf" + (asked ? "?" + asked : "");
  }
  Jasyl.applyFilters = function () {
    var query = filterQuery();
    Jasyl.plants.setUrl(plantTiles(query));
    Jasyl.filterQuery = query;
    // Downloads take what the map shows: the same query string as the plant tiles.
    Array.prototype.forEach.call(document.querySelectorAll("a.download"), function (link) {
      link.href = link.href.split("&")[0] + (query ? "&" + query : "");
    });
  };
  Jasyl.setMode = function (mode) {
    var tilesChange = (mode === "co2") !== (Jasyl.mode === "co2");
    Jasyl.mode = mode;
    drawLegend();
    if (tilesChange) Jasyl.plants.setUrl(plantTiles(filterQuery()));  // setUrl redraws
    else Jasyl.plants.redraw();
  };

  /* Nothing here: a resident may report the place (a tree missing, a planting wished for). */
  Jasyl.offerReport = function (latlng) {
    var text = Jasyl.settings.text;
    if (!text.reportPlace) return null;
    var href = text.reportUrl + "?lat=" + latlng.lat.toFixed(6) + "&lon=" + latlng.lng.toFixed(6);
    var link = '<a class="report-place" href="' + href + '">' + escapeHtml(text.reportPlace) + "</a>";
    L.popup().setLatLng(latlng).setContent(link).openOn(Jasyl.map);
    return null;
  };

  /* kind "green_space" asks for the green space there even if a tree stands on the spot. */
  Jasyl.openCardAt = function (latlng, zoom, kind) {
    var url = "/api/v1/plants/at?lat=" + latlng.lat + "&lon=" + latlng.lng + "&z=" + zoom;
    if (kind === "green_space") url += "&kind=green_space";
    return fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (found) {
      if (!found.html) return Jasyl.offerReport(latlng);
      L.popup({maxWidth: 380}).setLatLng(latlng).setContent(found.html).openOn(Jasyl.map);
      if (Jasyl.address) Jasyl.address.opened(found);
      return found;
    });
  };

  function search(text) {
    var list = document.getElementById("search-results");
    fetch("/api/v1/search?q=" + encodeURIComponent(text), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        var items = answer.items || [];
        list.innerHTML = items.length ? "" : "<li>" + escapeHtml(Jasyl.settings.text.nothing) + "</li>";
        items.forEach(function (item) {
          var li = document.createElement("li");
          li.textContent = item.label;
          li.className = "search-hit";
          li.onclick = function () { Jasyl.flyTo(item); list.innerHTML = ""; };
          list.appendChild(li);
        });
        if (items.length === 1) { Jasyl.flyTo(items[0]); }
      });
  }
  /* Search hits fly; pages opened for a record (?plant=, ?green_space=) jump, so the card
   * opens at once even on a slow machine. */
  Jasyl.flyTo = function (item, jump) {
    var map = Jasyl.map;
    var open = function () { Jasyl.openCardAt(L.latLng(item.lat, item.lon), map.getZoom(), item.kind); };
    var bounds = item.bbox ? [[item.bbox[1], item.bbox[0]], [item.bbox[3], item.bbox[2]]] : null;
    if (jump) {
      if (bounds) map.fitBounds(bounds, {maxZoom: 17, animate: false});
      else map.setView([item.lat, item.lon], 18, {animate: false});
      open();
      return;
    }
    map.once("moveend", open);
    if (bounds) map.flyToBounds(bounds, {maxZoom: 17});
    else map.flyTo([item.lat, item.lon], 18);
  };

  function openFromAddress() {
    var params = new URLSearchParams(window.location.search);
    if (params.get("plant")) {
      fetch("/api/v1/plants/" + encodeURIComponent(params.get("plant")), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (plant) {
          if (!plant) return;
          var c = plant.geometry.type === "Point" ? plant.geometry.coordinates : null;
          if (c) Jasyl.flyTo({lon: c[0], lat: c[1]}, true);
        });
    } else if (params.get("green_space")) {
      fetch("/api/v1/green_spaces/" + encodeURIComponent(params.get("green_space")), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (space) {
          if (!space) return;
          var bounds = L.geoJSON(space.geometry).getBounds();
          var c = bounds.getCenter();
          var b = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()];
          Jasyl.flyTo({kind: "green_space", lon: c.lng, lat: c.lat, bbox: b}, true);
        });
    }
  }

  Jasyl.init = function (settings) {
    Jasyl.settings = settings;
    var map = (Jasyl.map = window[settings.layers.map]);
    Jasyl.plants = window[settings.layers.plants];
    Jasyl.spaces = window[settings.layers.spaces];
    Jasyl.planned = settings.layers.planned ? window[settings.layers.planned] : null;
    Jasyl.adding = false;
    drawLegend();
    if (Jasyl.whereAmI) Jasyl.whereAmI(map, settings.text);  // jasyl-locate.js
    if (Jasyl.planned) {
      map.on("overlayadd overlayremove", drawLegend);
      Jasyl.planned.on("add", Jasyl.loadPlanned);
      map.on("moveend", Jasyl.loadPlanned);
    }
    map.on("click", function (e) {
      if (Jasyl.adding) {
        window.location = settings.newPlantUrl + "?lat=" + e.latlng.lat.toFixed(6) + "&lon=" + e.latlng.lng.toFixed(6);
        return;
      }
      Jasyl.openCardAt(e.latlng, map.getZoom());
    });
    var style = document.getElementById("style-by");
    var changed = function () { if (Jasyl.address) Jasyl.address.changed(); };
    if (style) style.addEventListener("change", function () { Jasyl.setMode(style.value); changed(); });
    var filters = document.getElementById("filters");
    if (filters) {
      filters.addEventListener("change", function () { Jasyl.applyFilters(); changed(); });
      filters.addEventListener("submit", function (e) { e.preventDefault(); Jasyl.applyFilters(); changed(); });
    }
    var searchForm = document.getElementById("search");
    if (searchForm) searchForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = searchForm.elements.q.value.trim();
      if (text.length >= 2) search(text);
    });
    var add = document.getElementById("add-plant");
    if (add) add.addEventListener("click", function () {
      Jasyl.adding = !Jasyl.adding;
      add.classList.toggle("active", Jasyl.adding);
      document.getElementById("add-hint").hidden = !Jasyl.adding;
      map.getContainer().style.cursor = Jasyl.adding ? "crosshair" : "";
    });
    openFromAddress();
    if (Jasyl.address) Jasyl.address.start();  // jasyl-address.js: the view in the hash
  };
})();
