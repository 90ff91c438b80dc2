"""What every chart of Vigil shares, on pages (plotly) and in PDFs (matplotlib SVG): the palette, the patterns that
tell series apart without colour, and SVG ids made unique so that several drawings can sit in one document."""

import re

# Okabe & Ito (2008), "Color Universal Design": told apart by the common colour-vision deficiencies; black last.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
# plotly's bar patterns, in the order series take them; HATCH_OF draws each as matplotlib's hatch.
PATTERNS = ["", "/", "\\", "x", ".", "+", "-", "|"]
HATCH_OF = {"": "", "/": "//", "\\": "\\\\", "x": "xx", ".": "..", "+": "++", "-": "--", "|": "||"}
# Lines told apart without colour: plotly's dash and marker, matplotlib's linestyle and marker, per series.
LINES = [
    ("solid", "circle", "-", "o"),
    ("dash", "square", "--", "s"),
    ("dot", "diamond", ":", "D"),
    ("dashdot", "triangle-up", "-.", "^"),
]

_ID = re.compile(r'\b(id)="([^"]+)"')
_HREF = re.compile(r'\b((?:xlink:)?href)="#([^"]+)"')
_URL = re.compile(r"url\(#([^)]+)\)")


def prefixed_svg(markup: str, prefix: str) -> str:
    """SVG markup from its <svg> element (it goes inline into HTML), each id and each reference to one prefixed:
    matplotlib numbers its ids per figure (patch_1, ...), so two drawings in one document would share them
    (WeasyPrint: "Anchor defined twice") and a reference could land in the other drawing."""
    markup = markup[markup.index("<svg") :]
    markup = _ID.sub(lambda m: f'{m[1]}="{prefix}-{m[2]}"', markup)
    markup = _HREF.sub(lambda m: f'{m[1]}="#{prefix}-{m[2]}"', markup)
    return _URL.sub(lambda m: f"url(#{prefix}-{m[1]})", markup)
