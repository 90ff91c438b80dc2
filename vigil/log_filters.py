"""Logging filters named by settings.LOGGING."""

import logging

# SVG presentation properties: WeasyPrint's HTML cascade reads the style attribute of every element, an inline SVG's
# included, and warns that these are not HTML properties once per element (thousands of lines for one report's
# charts, burying a real warning), although its SVG renderer then draws them. Its other warnings stay.
SVG_PROPERTIES = frozenset(
    {
        "clip-path",
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-opacity",
        "stroke-width",
        "text-anchor",
    }
)


class SvgPropertyWarnings(logging.Filter):
    """Drops WeasyPrint's "Ignored `stroke: ...`, unknown property" for SVG presentation properties."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (str(record.msg).startswith("Ignored `") and args and args[0] in SVG_PROPERTIES)
