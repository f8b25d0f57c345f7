"""Sphinx configuration of the pymc-robust-alloc documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
Notebooks are rendered from their committed outputs, never executed here: the
test suite executes them.
"""

from __future__ import annotations

import base64
import importlib
import json
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

import pymc_robust_alloc

DOCS = Path(__file__).resolve().parent
NOTEBOOKS = DOCS.parent / "notebooks"
#: Generated at build time (gitignored): notebook copies and gallery thumbnails.
EXAMPLES = DOCS / "examples"
THUMBNAILS = DOCS / "_generated" / "thumbnails"
#: The gallery, in order: ``notebooks/<name>.ipynb`` -> the code its thumbnail comes
#: from (the first PNG output of the first cell whose source contains it). A cell
#: tagged ``thumbnail`` wins over this; without either, the first PNG is used.
GALLERY = {
    "decision_making_under_contradictions": "plot_regret(",
    "mmm_robust_budget": "plot_plans(",
    "success_probability_allocation": "plot_success_curves(",
}
#: Modules whose whole ``__all__`` the API reference (``docs/api``) must document.
API_MODULES = (
    "pymc_robust_alloc",
    "pymc_robust_alloc.config",
    "pymc_robust_alloc.fit",
    "pymc_robust_alloc.plots",
    "pymc_robust_alloc.policy",
    "pymc_robust_alloc.success",
    "pymc_robust_alloc.views",
)
THUMBNAIL_TAG = "thumbnail"

logger = logging.getLogger(__name__)

project = "pymc-robust-alloc"
author = "pymc-robust-alloc developers"
copyright = "2025, pymc-robust-alloc developers"
version = release = pymc_robust_alloc.__version__

extensions = [
    "myst_nb",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_design",
]

exclude_patterns = ["_build", "_templates", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# MyST and notebooks ---------------------------------------------------------
myst_enable_extensions = ["amsmath", "colon_fence", "dollarmath"]
myst_heading_anchors = 3
nb_execution_mode = "off"
nb_merge_streams = True

# API reference ----------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {
    "members": True,
    "inherited-members": False,
    "exclude-members": "model_config",  # pydantic's own, not ours
}
autodoc_typehints = "none"  # numpydoc docstrings state the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# HTML -------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "pymc-robust-alloc"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    # Wide content where it matters: no page TOC beside the API reference (its
    # tables list the same), no section navigation beside a notebook.
    "secondary_sidebar_items": {
        "*": ["page-toc"],
        "examples/*": ["page-toc"],
        "api/*": [],
        "api/generated/*": [],
    },
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "icon_links": [],
}
html_sidebars = {"index": [], "concepts": [], "gallery": [], "examples/*": []}
html_context = {"default_mode": "light"}


# Gallery ------------------------------------------------------------------------
def _thumbnail_png(notebook: dict, hint: str = "") -> bytes | None:
    """Return the PNG a notebook's gallery card shows, or None if it has none."""
    cells = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
    tagged = [c for c in cells if THUMBNAIL_TAG in c.get("metadata", {}).get("tags", [])]
    hinted = [c for c in cells if hint and hint in "".join(c.get("source", ""))]
    for cell in tagged + hinted + cells:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                return base64.b64decode("".join(png) if isinstance(png, list) else png)
    return None


def _copy_if_changed(source: Path, target: Path) -> None:
    """Copy keeping the modification time, so unchanged pages are not rebuilt."""
    if target.exists() and target.stat().st_mtime == source.stat().st_mtime:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def build_gallery(app) -> None:
    """Copy the notebooks into the source tree and extract one thumbnail from each.

    A notebook that is missing, or has no PNG output (it was committed without
    running it), is reported as a warning, which fails a ``-W`` build.
    """
    for name, hint in GALLERY.items():
        source = NOTEBOOKS / f"{name}.ipynb"
        thumbnail = THUMBNAILS / f"{name}.png"
        thumbnail.parent.mkdir(parents=True, exist_ok=True)
        png = None
        if not source.exists():
            logger.warning("gallery: %s is missing", source)
        else:
            _copy_if_changed(source, EXAMPLES / source.name)
            png = _thumbnail_png(json.loads(source.read_text(encoding="utf-8")), hint)
            if png is None:
                logger.warning(
                    "gallery: %s has no PNG output; run scripts/run_notebooks.py", source
                )
        if png is None:
            shutil.copy2(DOCS / "_static" / "no-thumbnail.png", thumbnail)
        elif not thumbnail.exists() or thumbnail.read_bytes() != png:
            thumbnail.write_bytes(png)


def check_api_pages(app) -> None:
    """Warn about public names that no page of ``docs/api`` lists."""
    words = set()
    for page in (DOCS / "api").glob("*.rst"):
        words.update(re.findall(r"\w+", page.read_text(encoding="utf-8")))
    for module in API_MODULES:
        for name in importlib.import_module(module).__all__:
            if name not in words:
                logger.warning("api: %s.%s is public but not in docs/api", module, name)


def drop_object_base(app, name, obj, options, bases) -> None:
    """Show a class's public bases, and only when they say something (not ``object``)."""
    shown = []
    for base in bases:
        while base.__name__.startswith("_") and len(base.__bases__) == 1:
            base = base.__bases__[0]
        if base is not object:
            shown.append(base)
    bases[:] = shown


def drop_empty_bases(app, domain, objtype, content) -> None:
    """Remove the "Bases:" line that autodoc still writes when no base is left."""
    for paragraph in list(content.findall(nodes.paragraph)):
        if paragraph.astext().strip() == "Bases:":
            paragraph.parent.remove(paragraph)


def setup(app) -> None:
    """Build the gallery and check the API pages before Sphinx reads the sources."""
    app.connect("builder-inited", build_gallery)
    app.connect("builder-inited", check_api_pages)
    app.connect("autodoc-process-bases", drop_object_base)
    app.connect("object-description-transform", drop_empty_bases)
