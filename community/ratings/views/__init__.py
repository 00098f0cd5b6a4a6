"""Views of the ratings package, one module per concern; importing registers routes
and site-page panels."""

import importlib
import pkgutil

# Every module in this folder is a concern (inspections, hazards, assessments).
for _info in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_info.name}")
