"""Package discovery for the one installed package, ``kvdiff``.

The repository keeps the design card's top-level folders; they are installed under one name:
``cli/`` is the ``kvdiff`` package itself (its thin click commands and ``__main__``),
``analyzers/`` is ``kvdiff.analyzers`` and ``templates/`` is ``kvdiff.templates``. Subpackages are
discovered, so a new stage folder is installed without editing this file.
"""

from setuptools import find_packages, setup

ROOTS = {"kvdiff": "cli", "kvdiff.analyzers": "analyzers", "kvdiff.templates": "templates"}


def _packages() -> list[str]:
    names: list[str] = []
    for name, folder in ROOTS.items():
        names.append(name)
        names += [f"{name}.{sub}" for sub in find_packages(folder)]
    return names


setup(packages=_packages(), package_dir=ROOTS)
