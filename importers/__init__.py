"""Survey files in, validated registry records out (shapefiles, GeoPackage, GeoJSON, CSV, XLSX).

The entry point is ``importers.services.import_file`` (the CLI's ``jasyl import`` and the web
upload page call it). The pipeline: ``sources`` opens the file and streams batches, ``encoding``
and ``crs`` decide how to read it, ``fields`` reads column names and the mapping file,
``detection`` checks the names against the values and decides (and reports) which column is
which, ``coordinates`` builds a table's locations (X/Y, one "lat, lon" column, WKT), ``rows``
validates each batch through ``registry.inventory.rules``, ``staging`` copies the valid rows into a
temporary table (or, in a large all-or-nothing import, new plants straight into ``plants``),
checks them set-wise and merges them into ``plants``, all in one transaction.

A mapping file (``--mapping``, TOML or YAML) overrides or completes what is recognised::

    crs = 3003                     # optional, like --crs
    encoding = "cp1251"            # optional, like --encoding
    layer = "trees"                # optional, like --layer
    records = "green_spaces"       # optional: "plants" or "green_spaces"; else decided by the
                                   # columns: polygons with a name and no species are green spaces

    [columns]                      # field = "column in the file" ("" ignores a column)
    species = "Essenza"            # or several columns joined: species = ["Genus", "Species"]
    lat_lon = "Coordinates"        # a table's location: lat_lon, lon_lat, wkt, or x and y
    inventory_number = "Identificativo"
    height = "RangeAltezza"        # also: trunk_diameter, trunk_circumference, crown_diameter,
                                   # planting_year, age_years, condition, planting_form, status,
                                   # quantity, length_m, area_m2, notes, address, hazardous, x, y
    [units]                        # when the column name does not say it; another is an error
    trunk_diameter = "in"          # mm, cm, m, in, ft (trunk_circumference too: ÷ π);
    height = "ft"                  # height/crown/length: mm, cm, m, in, ft; area: m2, ha, ft2, acre

    [values.condition]             # cell value → what the registry understands
    Buono = 1
    Morto = 6
    [values.height]
    "2) 10 - 16m" = 13

    [defaults]                     # for empty cells or missing columns
    condition = 1

    [species]                      # alias → catalogue code or any catalogue name; kept in the
    "Tilia X Americana" = "tilia_sp"  # catalogue by --keep-aliases or `jasyl species alias keep`

A layer of green spaces takes ``[columns]`` name, kind, category, balance_holder and notes.
Every key is checked; ``importers.fields.MAPPING_EXAMPLE`` is the worked example that
``jasyl import --help`` and the README show.
"""
