/* "Where am I" (issue #19): a button under the zoom buttons that follows the phone's position
 * (watchPosition, high accuracy) and draws it with its accuracy circle; pressed again, it stops.
 * The first fix brings the map there (at most zoom 18). Our own ~2 KB instead of
 * leaflet.locatecontrol (18 KB with its CSS), which would have taken the map page over its
 * 300 KB budget (bench.page). */
(function () {
  "use strict";
  var Jasyl = window.Jasyl;
  var CIRCLE = {color: "#136aec", fillColor: "#136aec", fillOpacity: 0.15, weight: 1, interactive: false};
  var DOT = {radius: 8, color: "#fff", weight: 3, fillColor: "#2a93ee", fillOpacity: 1, className: "jasyl-position"};

  Jasyl.whereAmI = function (map, text) {
    var circle = null, dot = null, watching = false, button;

    function found(e) {
      var first = !dot;
      if (first) {
        circle = L.circle(e.latlng, L.extend({radius: e.accuracy}, CIRCLE)).addTo(map);
        dot = L.circleMarker(e.latlng, DOT).addTo(map);
      }
      circle.setLatLng(e.latlng).setRadius(e.accuracy);
      dot.setLatLng(e.latlng).bindTooltip(text.accuracy.replace("{distance}", Math.round(e.accuracy)));
      if (first) map.fitBounds(e.bounds, {maxZoom: 18, animate: false});
    }
    function stop() {
      watching = false;
      map.stopLocate();
      if (circle) map.removeLayer(circle);
      if (dot) map.removeLayer(dot);
      circle = dot = null;
      L.DomUtil.removeClass(button.parentNode, "active");
    }
    function failed(e) {
      stop();
      alert(text.noPosition + " (" + e.message + ")");
    }
    map.on("locationfound", function (e) { if (watching) found(e); });
    map.on("locationerror", function (e) { if (watching) failed(e); });

    var Control = L.Control.extend({
      options: {position: "topleft"},
      onAdd: function () {
        var bar = L.DomUtil.create("div", "leaflet-bar leaflet-control leaflet-control-locate");
        button = L.DomUtil.create("a", "", bar);
        button.href = "#";
        button.title = text.locate;
        button.setAttribute("role", "button");
        button.setAttribute("aria-label", text.locate);
        button.innerHTML = "&#9678;";  // ◎
        L.DomEvent.disableClickPropagation(bar);
        L.DomEvent.on(button, "click", function (e) {
          L.DomEvent.preventDefault(e);
          if (watching) return stop();
          watching = true;
          L.DomUtil.addClass(bar, "active");
          map.locate({watch: true, enableHighAccuracy: true, setView: false});
        });
        return bar;
      }
    });
    return new Control().addTo(map);
  };
})();
