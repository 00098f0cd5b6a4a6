"""The spreadsheet import of residents (CSV or xlsx), for the command line and the
web import page: columns (the table of its columns), files (reading, the job's
stored files), rows (validating and writing rows), services (the web job a chunk
per step), jobs (the worker's queue that runs those steps), template (a site's
xlsx template), its pages on the residents blueprint and the enterprise's
start-page section."""

from community.residents.imports import jobs, permissions, start, views  # noqa: F401

# What the command line (import-residents, purge-expired) and the tests call.
from community.residents.imports.files import (  # noqa: F401
    HEADER,
    ImportRefused,
    max_bytes,
    purge_import_files,
)
from community.residents.imports.rows import import_file  # noqa: F401
