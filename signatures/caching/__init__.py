"""
The one room for speed code: HTTP caching of public pages (`http`), pages
kept in the shared cache (`pages`), our cache backends (`backends`) and
organizer data kept per process (`organizer_data`). Each piece has a figure
in bench/RESULTS.md that justifies it and a test that pins its behaviour.
"""
