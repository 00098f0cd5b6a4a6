"""Shared pieces with no knowledge of any feature: one flat package of four kinds.

Kinds, lowest first. A core module imports modules of its own kind (never in a
circle, function-level imports included) and of the kinds below it, never one above;
`community.extensions` and `community.config` sit below all of core and import
nothing of the project.

1. Data helpers — rows, values and rules about them; no request, no template:
   `errors` (RuleViolation, Conflict, NotPermitted), `timeutil` (every "today",
   day and month), `validators`, `crypto` (encryption at rest, masking), `models`
   (audit log, notices, submission tokens), `audit`, `notify`, `rollups`,
   `pagination`, `uploads`, `storage` (stored files: a local folder or the
   database), `writes`. Some take registrations of their own (audit action labels,
   notice messages, rollup sources, kinds of stored file) but render nothing.
2. Registries — what the features contribute, at import time, to screens and
   commands that know no feature: `nav`, `start`, `figures`, `reminders`, `reviews`,
   `commands`, `jobs` (the worker's periodic jobs and queues, with its table and
   loop), and `events` (the HX-Trigger names, every one in one module).
3. Presentation — what a page or a download shows: `forms` (form base classes),
   `translate`, `badges`, `templating` (template globals and filters), `charts`,
   `csvout`.
4. Web plumbing — requests and answers: `partial` (fragment or page), `once`
   (submission tokens and the request's one commit), `htmx` (render, submit,
   saved: the one way a view answers), `inputs`, `security`, `compress`,
   `health` (/healthz in front of Flask), `urls`, `logs` (the one logging
   setup, request ids, the request line).

So `htmx` may use `forms` and `once`, `templating` may use `nav` and `crypto`, but
`once` never imports `htmx` and `models` never imports a registry. The package
layers above core (accounts, places, ...) are listed in README.md (Architecture)
and checked by tests/test_architecture.py.
"""
