"""WeasyPrint's warnings about SVG presentation properties in an inline chart are dropped; its others are kept."""

import logging


def test_svg_property_warnings_are_dropped_and_other_weasyprint_warnings_kept(caplog):
    from weasyprint.logger import LOGGER

    with caplog.at_level(logging.WARNING):
        LOGGER.warning("Ignored `%s: %s` at %d:%d, %s.", "stroke-width", "0.8", 1, 18, "unknown property")
        LOGGER.warning("Ignored `%s: %s` at %d:%d, %s.", "text-anchor", "middle", 1, 194, "unknown property")
        LOGGER.warning("Ignored `%s: %s` at %d:%d, %s.", "colour", "red", 1, 1, "unknown property")
        LOGGER.warning("Failed to load image at %r: %s", "chart.png", "not found")
    assert [r.getMessage() for r in caplog.records if r.name == "weasyprint"] == [
        "Ignored `colour: red` at 1:1, unknown property.",
        "Failed to load image at 'chart.png': not found",
    ]
