"""How much of an error message a record keeps: the start of it, saying it was cut, the whole in the log.

Job, run, upload and outbox errors are read on pages and in the API; a message built from bad input (a
dataset's rows, a receiver's answer) can be megabytes. Every record that stores an error keeps at most
MAX_CHARS through `bounded`, which writes the whole message to the application log when it cuts it.
"""

import logging

logger = logging.getLogger(__name__)

MAX_CHARS = 4000


def bounded(message, *, where: str, limit: int = MAX_CHARS) -> str:
    """`message` as text of at most `limit` characters; when longer, its start and a note saying how long it was
    and that the whole is in the log (logged here, with `where` naming the record)."""
    text = str(message)
    if len(text) <= limit:
        return text
    logger.warning("%s: error message of %d characters cut to %d; in full: %s", where, len(text), limit, text)
    note = f" [… cut: {len(text):,} characters in all; the whole message is in the application log]"
    return text[: max(0, limit - len(note))] + note
