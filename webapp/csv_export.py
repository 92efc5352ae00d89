"""CSV for the list pages' exports (register, figures, cockpit), streamed line by line."""
from __future__ import annotations

import csv
import io


def csv_lines(rows):
    """CSV text line by line, for a streamed response (an export never builds its whole file;
    the rows are plain values, so the generator needs no request context)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(row)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
