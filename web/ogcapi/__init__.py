"""OGC API – Features at ``/ogc``: what QGIS, GDAL and other GIS clients read."""
