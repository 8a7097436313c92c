"""The report site as data: inputs (:mod:`.inputs`), page view types (:mod:`.views`), one
builder module per page kind, and :func:`.build.build_site`, which assembles them. Pure: no I/O;
:mod:`kvdiff.analyzers.present.render` turns a :class:`.views.Site` into files."""
