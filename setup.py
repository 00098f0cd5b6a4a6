"""The wheel carries what the app serves besides its code.

templates/, static/ and migrations/ are edited at the checkout's root (where
`flask --app app` and the tests use them); a wheel build copies them into the
package as community/templates, community/static and community/migrations, where
community.config.site_dir finds them once installed. static/vendor (htmx, Pico:
`make assets`) and the compiled catalogues (*.mo: `make translations`) are built,
not committed: a wheel without them would serve pages without scripts, styles or
Chinese, so the build refuses to start until they are there (`make wheel`
builds them first). An editable install (`pip install -e .`) copies nothing: it
runs from the checkout.
"""

import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

SITE_DIRS = ("templates", "static", "migrations")
BUILT = (
    "static/vendor/htmx.min.js",
    "static/vendor/pico.min.css",
    "community/translations/zh_Hans_CN/LC_MESSAGES/messages.mo",
    "community/translations/en/LC_MESSAGES/messages.mo",
)


class BuildWithSiteFiles(build_py):
    def run(self):
        if getattr(self, "editable_mode", False):
            super().run()
            return
        here = os.path.dirname(os.path.abspath(__file__))
        missing = [path for path in BUILT if not os.path.isfile(os.path.join(here, path))]
        if missing:
            raise SystemExit(
                "The wheel needs the built assets and catalogues; run `make assets "
                "translations` (or `make wheel`) first. Missing: " + ", ".join(missing)
            )
        super().run()
        for name in SITE_DIRS:
            target = os.path.join(self.build_lib, "community", name)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(
                os.path.join(here, name),
                target,
                ignore=shutil.ignore_patterns("__pycache__", "*.py[co]"),
            )


setup(cmdclass={"build_py": BuildWithSiteFiles})
