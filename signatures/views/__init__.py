"""Views, one module per part of the site; `signatures/urls.py` maps them."""
