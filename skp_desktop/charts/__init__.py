"""matplotlib Figure builders (never pyplot); no Qt.

Import the modules themselves: `series` and `theme` are plain dataclasses that any layer can
build without loading matplotlib; `trend`, `dashboard` and `export` import matplotlib.
"""
