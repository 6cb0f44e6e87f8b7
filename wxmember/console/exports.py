"""Exports of ``lavico/user/logs`` for the console: CSV and Excel, streamed, with progress.

Both read one MongoDB cursor in batches and never hold the result: the CSV is
written to the response a few hundred rows at a time; the Excel file is written by
openpyxl's write-only mode to a temporary file (rows go to disk as they are
added), then sent in chunks and deleted. Progress (rows written of the total) is
kept in ``wxmember/console_exports`` under an id the page chose, so the page can
show it while the download runs, whichever process serves it.
"""

import csv
import io
import json
import os
import re
import tempfile
from datetime import timedelta

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from wxmember.clock import now_ms, utcnow
from wxmember.console.present import action_name, mask_data, when
from wxmember.records.logs import NEWEST_FIRST

PROGRESS = "wxmember/console_exports"
PROGRESS_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
HEADER = ["时间", "用户openid", "动作", "动作说明", "数据"]
BATCH = 1000
REPORT_EVERY = 2000  # rows between two progress writes
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet holds 1,048,576 rows, the header included
CELL_MAX = 32_000  # Excel's cell holds 32,767 characters
CHUNK = 64 * 1024
FORMULA_START = ("=", "+", "-", "@")


def log_filter(wxid=None, action=None, since=None, until=None):
    """The MongoDB filter of the logs page's query (times in ms, ``until`` exclusive)."""
    match = {name: value for name, value in (("wxid", wxid), ("action", action)) if value}
    bounds = {}
    if since is not None:
        bounds["$gte"] = since
    if until is not None:
        bounds["$lt"] = until
    if bounds:
        match["createTime"] = bounds
    return match


def log_rows(collection, match, masked):
    """``[time, wxid, action, 动作说明, data JSON]`` per record, newest first, a batch at a time."""
    cursor = collection.find(match, {"msgKey": 0, "reply": 0}).sort(NEWEST_FIRST)
    for record in cursor.batch_size(BATCH):
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


class Progress:
    """Rows written of the total, for one export the page follows."""

    def __init__(self, database, export_id, username, fmt, total):
        self.collection = database[PROGRESS]
        self.export_id = export_id if export_id and PROGRESS_ID.fullmatch(export_id) else None
        if self.export_id is None:
            return
        self.collection.replace_one(
            {"_id": self.export_id},
            {
                "username": username,
                "format": fmt,
                "state": "writing",
                "done": 0,
                "total": total,
                "createdAt": now_ms(),
                "expireAt": utcnow() + timedelta(days=1),
            },
            upsert=True,
        )

    def update(self, done, state="writing"):
        if self.export_id is not None:
            self.collection.update_one(
                {"_id": self.export_id}, {"$set": {"done": done, "state": state}}
            )


def ensure_indexes(database):
    database[PROGRESS].create_index("expireAt", expireAfterSeconds=0)


def progress_of(database, export_id, username):
    """The progress document of ``username``'s export, or None."""
    if not PROGRESS_ID.fullmatch(export_id or ""):
        return None
    return database[PROGRESS].find_one({"_id": export_id, "username": username})


def _csv_safe(value):
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def csv_chunks(rows, progress):
    """The CSV (UTF-8 with BOM, so Excel reads the Chinese) as a stream of text chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
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
