"""Exports for the console: ``lavico/user/logs`` as CSV and Excel, streamed, with progress;
the CSV writer serves other lists too (a coupon's holders).

Both read one MongoDB cursor in batches and never hold the result: the CSV is
written to the response a few hundred rows at a time; the Excel file is written by
openpyxl's write-only mode to a temporary file (rows go to disk as they are
added), then sent in chunks and deleted. Progress (rows written of the total) is
kept in ``wxmember/web/console_exports`` under an id the page chose, so the page can
show it while the download runs, whichever process serves it.
"""

import csv
import io
import json
import os
import tempfile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from wxmember.web.console.present import action_name, mask_data, when

HEADER = ["时间", "用户openid", "动作", "动作说明", "数据"]
BATCH = 1000
REPORT_EVERY = 2000  # rows between two progress writes
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet holds 1,048,576 rows, the header included
CELL_MAX = 32_000  # Excel's cell holds 32,767 characters
CHUNK = 64 * 1024
FORMULA_START = ("=", "+", "-", "@")


def log_rows(logs, filters, masked):
    """``[time, wxid, action, 动作说明, data JSON]`` per record, newest first, a batch at a time."""
    for record in logs.scan(BATCH, **filters):
        data = record.get("data") or {}
        if masked:
            data = mask_data(data)
        yield [
            when(record.get("createTime")),
            record.get("wxid", ""),
            record.get("action", ""),
            action_name(record.get("action", "")),
            json.dumps(data, ensure_ascii=False, sort_keys=True, default=str),
        ]


def _csv_safe(value):
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


class Unwatched:
    """The progress of an export nobody follows (``update`` does nothing)."""

    def update(self, done, state=None):
        return None


def csv_chunks(rows, progress, header=HEADER):
    """The CSV (UTF-8 with BOM, so Excel reads the Chinese) as a stream of text chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    done = 0
    for row in rows:
        writer.writerow([_csv_safe(cell) for cell in row])
        done += 1
        if done % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if done % REPORT_EVERY == 0:
            progress.update(done)
    yield buffer.getvalue()
    progress.update(done, "done")


def _xlsx_cell(sheet, value):
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value[:CELL_MAX]))
    cell.data_type = "s"  # text, even when it starts with "=": never a formula
    return cell


def write_xlsx(rows, path, progress):
    """Write the rows to an Excel file at ``path`` (write-only: rows go to disk as added)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("日志")
    sheet.append(HEADER)
    done = 0
    for row in rows:
        if done >= XLSX_MAX_ROWS:
            break
        sheet.append([_xlsx_cell(sheet, value) for value in row])
        done += 1
        if done % REPORT_EVERY == 0:
            progress.update(done)
    book.save(path)
    progress.update(done, "sending")
    return done


def xlsx_file(rows, progress):
    """The Excel file in a temporary file: ``(path, rows written)``; the caller streams it."""
    handle, path = tempfile.mkstemp(prefix="wxmember-logs-", suffix=".xlsx")
    os.close(handle)
    try:
        return path, write_xlsx(rows, path, progress)
    except BaseException:
        os.unlink(path)
        raise


def file_chunks(path, progress, done):
    """The file's bytes in chunks; the file is deleted once sent (or abandoned)."""
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
        progress.update(done, "done")
    finally:
        os.unlink(path)
