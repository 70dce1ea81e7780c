"""Split delimited AWS log lines (flow logs, ELB/ALB/NLB, S3 access, CloudFront...) into fields.

Two paths give the same result. The fast path hands a whole block to Arrow's CSV reader (C++,
multi-threaded). It is taken only when the block is clean: valid UTF-8, no line over
:data:`MAX_LINE`, no blank or directive lines inside, and every line splitting into the same
number of fields — and its row count is checked against the block's line count. Otherwise the
exact path splits the block line by line with :func:`~awsir.parse.tokens.split_line`, so every
line becomes a row or a quarantine entry with its line number and reason. Dirty input is rare;
clean input never runs a Python loop per line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from awsir.parse.quarantine import Quarantined
from awsir.parse.reading import Block
from awsir.parse.spec import FieldType, Layout, Table
from awsir.parse.tokens import split_line

MAX_LINE = 1 << 20
ARROW_BLOCK = 4 * MAX_LINE
"""Arrow's CSV reader parses blocks of this size on its threads; a row must fit in one, and
blocks with a line over MAX_LINE take the exact path, so every row fits."""
ARROW_TYPES = {
    FieldType.int: pa.int64(),
    FieldType.double: pa.float64(),
    FieldType.timestamp: pa.timestamp("us", "UTC"),  # ISO 8601 (no ``format``) only
}
"""Field types Arrow's CSV reader converts as it splits: what SQL would make of them, for less."""
EXTRA = "_extra"
LINE = "_line"


@dataclass
class Split:
    """String fields of one block: columns named by AWS field name, plus ``_line``."""

    strings: pa.Table | None
    quarantined: list[Quarantined] = field(default_factory=list)
    skipped: int = 0  # blank lines, headers and directives: structure, not records
    raw_of: Callable[[int], bytes] | None = None  # raw record by number, for the rare rejects
    final: frozenset[str] = frozenset()  # columns already typed and null-cleaned by the reader


@dataclass
class DelimitedReader:
    """Reads the blocks of one file; remembers the file's header or ``#Fields`` directive."""

    table: Table
    file: str
    names: list[str] | None = None  # AWS field names of this file's columns, in order
    guessed: bool = False  # names assumed from a headerless line's width (see guess_names)

    def __post_init__(self) -> None:
        if self.names is None and self.table.layout == Layout.header:
            self.names = list(self.table.default_order)
        self._by_name = {f.name: f for f in self.table.fields}

    def read(self, block: Block) -> Split:
        data = block.data
        start, skipped = self._leading_structure(block)
        body = data[start:]
        if not body or body.isspace():
            return Split(None, skipped=skipped + _blank_count(body))
        fast = self._fast(body, block.first_line + data[:start].count(b"\n"))
        if fast is not None:
            fast.skipped += skipped
            return fast
        return self._exact(block)

    # -- structure -------------------------------------------------------------------------

    def _is_structure(self, line: str) -> bool:
        if self.table.layout == Layout.w3c:
            return line.startswith("#")
        return self.table.layout == Layout.header and line.split(" ", 1)[0] == "version"

    def _take_structure(self, line: str) -> None:
        if self.table.layout == Layout.w3c and line.startswith("#Fields:"):
            self.names = line.split(":", 1)[1].split()
        elif self.table.layout == Layout.header:
            self.names = line.split(self.table.delimiter)

    def _leading_structure(self, block: Block) -> tuple[int, int]:
        """Header/directive lines at the top of the block: (bytes to skip, how many)."""
        offset, count = 0, 0
        while offset < len(block.data):
            end = block.data.find(b"\n", offset)
            end = len(block.data) if end < 0 else end + 1
            line = block.data[offset:end].decode("utf-8", "replace").rstrip("\r\n")
            if not self._is_structure(line):
                break
            self._take_structure(line)
            offset, count = end, count + 1
        return offset, count

    # -- fast path -------------------------------------------------------------------------

    def _fast(self, body: bytes, first_line: int) -> Split | None:
        # Whole-block checks, vectorized (a Python scan of a 32 MB block costs more than
        # parsing it). Invalid UTF-8 is left to Arrow, which rejects it (then: exact path).
        data = np.frombuffer(body, dtype=np.uint8)
        ends = np.flatnonzero(data == 10)
        lines = len(ends) + (0 if body.endswith(b"\n") else 1)
        lengths = np.diff(ends, prepend=-1)
        if lengths.size and (lengths.max() > MAX_LINE or lengths.min() <= 1):
            return None  # a line over the limit, or a blank line inside the block
        if ends.size and ((lengths == 2) & (data[ends - 1] == 13)).any():
            return None  # a blank CRLF line
        starts = ends[:-1] + 1 if body.endswith(b"\n") else ends + 1
        if self.table.layout == Layout.w3c and (data[starts] == ord("#")).any():
            return None  # a directive inside the block
        if self.table.layout == Layout.header and _any_line_starts(body, data, starts, b"version "):
            return None  # another header inside the block (files concatenated)
        if self.table.quote and _odd_quotes(data, ends, self.table.quote):
            return None
        cut = body.find(b"\n")
        try:
            first = body[: cut if cut >= 0 else len(body)].decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            return None
        groups = raw_groups(first, self.table)
        width, raw_width = len(groups), sum(groups)
        if not self._width_ok(width) and not self.guess_names(width):
            return None
        columns = [f"r{i}" for i in range(raw_width)]
        types, typed = self._arrow_types(groups)
        strings = self._arrow_read(body, columns, types) if types else None
        if strings is None:  # a value that is not its type: the SQL conversion says which
            types, typed = {}, set()
            strings = self._arrow_read(body, columns, types)
        if strings is None or strings.num_rows != lines:
            return None
        merged = _merge_groups(strings, groups, self.table)
        if merged is None:
            return None
        named, final = self._finish(self._named(merged, width), typed)
        numbers = pa.array(np.arange(first_line, first_line + lines, dtype=np.int64))
        return Split(named.append_column(LINE, numbers), final=final)

    def _arrow_types(self, groups: list[int]) -> tuple[dict[str, pa.DataType], set[str]]:
        """Raw columns Arrow's reader can type itself (ints, doubles, ISO 8601 times): a column
        that is a whole field, of a file whose values need no trimming. Also: those fields."""
        types: dict[str, pa.DataType] = {}
        typed: set[str] = set()
        if self.table.trim:
            return types, typed
        names = self.names or [f.name for f in self.table.fields]
        at = 0
        for i, size in enumerate(groups):
            field = self._by_name.get(names[i]) if i < len(names) else None
            if size == 1 and field is not None and not field.format:
                native = ARROW_TYPES.get(FieldType(field.type))
                if native is not None:
                    types[f"r{at}"] = native
                    typed.add(field.name)
            at += size
        return types, typed

    def _arrow_read(
        self, body: bytes, columns: list[str], types: dict[str, pa.DataType]
    ) -> pa.Table | None:
        """The block as columns (None if a row is malformed or a typed value does not convert).
        Typed columns take AWS's null tokens as null; string columns keep them as text."""
        invalid: list[int] = []
        if not _is_utf8(body):  # the SQL path quarantines the bad lines; Arrow cannot even
            return None  # hand them to on_invalid (it prints an "Exception ignored" traceback)

        def on_invalid(row: pacsv.InvalidRow) -> str:
            invalid.append(row.number)
            return "skip"

        try:
            table = pacsv.read_csv(
                pa.py_buffer(body),
                read_options=pacsv.ReadOptions(column_names=columns, block_size=ARROW_BLOCK),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.table.delimiter,
                    quote_char=self.table.quote or False,
                    double_quote=False,
                    newlines_in_values=False,
                    ignore_empty_lines=False,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: types.get(c, pa.string()) for c in columns},
                    null_values=self.table.missing,
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid:
            return None
        return None if invalid else table

    def _finish(self, named: pa.Table, typed: set[str]) -> tuple[pa.Table, frozenset[str]]:
        """Whole-field string columns lose their null tokens and ip_port columns are split,
        here with Arrow compute instead of SQL; returns the table and the fields whose values
        are now final (typed, cleaned or split)."""
        if self.table.trim:
            return named, frozenset(typed)
        final = set(typed)
        names: list[str] = []
        columns: list[pa.ChunkedArray] = []
        for name, column in zip(named.column_names, named.columns, strict=True):
            field = self._by_name.get(name)
            kind = FieldType(field.type) if field and name not in typed else None
            if kind in (FieldType.string, FieldType.ip, FieldType.ip_port):
                column = _without_tokens(column, self.table.missing)
                final.add(name)
            if kind == FieldType.ip_port and field is not None:
                split = _ip_port(column)
                if split is not None:
                    names += field.columns
                    columns += split
                    continue
                final.discard(name)  # the SQL conversion says which value is wrong
            names.append(name)
            columns.append(column)
        return pa.table(columns, names=names), frozenset(final)

    # -- exact path ------------------------------------------------------------------------

    def _exact(self, block: Block) -> Split:
        rows: list[list[str]] = []
        numbers: list[int] = []
        split = Split(None)
        pieces = block.data.split(b"\n")
        if pieces and pieces[-1] == b"":
            pieces.pop()
        for offset, raw in enumerate(pieces):
            number = block.first_line + offset
            raw = raw.rstrip(b"\r")
            if not raw.strip():
                split.skipped += 1
                continue
            if len(raw) > MAX_LINE:
                split.quarantined.append(
                    Quarantined(self.file, number, f"line longer than {MAX_LINE} bytes", raw)
                )
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                reason = f"not UTF-8 text (byte {exc.start})"
                split.quarantined.append(Quarantined(self.file, number, reason, raw))
                continue
            if self._is_structure(line):
                self._take_structure(line)
                split.skipped += 1
                continue
            if self.table.quote and line.count(self.table.quote) % 2:
                split.quarantined.append(Quarantined(self.file, number, "unbalanced quotes", raw))
                continue
            tokens = split_line(line, self.table)
            # Only a file's first record may settle a headerless layout (see guess_names).
            if not self._width_ok(len(tokens)) and (rows or not self.guess_names(len(tokens))):
                split.quarantined.append(
                    Quarantined(self.file, number, self._width_reason(len(tokens)), raw)
                )
                continue
            rows.append(tokens)
            numbers.append(number)
        if rows:
            width = max(len(r) for r in rows)
            columns = {f"c{i}": [r[i] if i < len(r) else None for r in rows] for i in range(width)}
            strings = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
            split.strings = self._named(strings, width).append_column(
                LINE, pa.array(numbers, pa.int64())
            )
        return split

    # -- shared ----------------------------------------------------------------------------

    def _expected(self) -> tuple[int, int | None]:
        """(fewest, most) fields a line may have; None: more go to ``_extra``."""
        if self.names is not None:
            return len(self.names), len(self.names)
        return self.table.min_fields or len(self.table.fields), None

    def guess_names(self, width: int) -> bool:
        """Headerless line of ``width`` fields where the defaults do not fit: when ``width`` is
        the count of all documented fields up to some version, assume AWS's documented order
        (what "all fields" custom formats use). Returns whether it did."""
        if self.table.layout != Layout.header or self.names != list(self.table.default_order):
            return False
        if width == len(self.table.fields) or (
            width < len(self.table.fields)
            and self.table.fields[width].since != self.table.fields[width - 1].since
        ):
            self.names = [f.name for f in self.table.fields[:width]]
            self.guessed = True
            return True
        return False

    def _width_ok(self, width: int) -> bool:
        low, high = self._expected()
        return width >= low and (high is None or width <= high)

    def _width_reason(self, width: int) -> str:
        low, high = self._expected()
        wanted = f"{low}" if low == high else f"at least {low}"
        return f"expected {wanted} fields, got {width}"

    def _named(self, strings: pa.Table, width: int) -> pa.Table:
        names = self.names or [f.name for f in self.table.fields]
        if width <= len(names):
            return strings.rename_columns(names[:width])
        kept = strings.select(range(len(names))).rename_columns(names)
        rest = [strings.column(i) for i in range(len(names), width)]
        extra = pc.binary_join_element_wise(*rest, self.table.delimiter)
        return kept.append_column(EXTRA, extra)


def _without_tokens(column: pa.ChunkedArray, tokens: list[str]) -> pa.ChunkedArray:
    if not tokens:
        return column
    hit = pc.is_in(column, value_set=pa.array(tokens, pa.string()))
    if not pc.any(hit).as_py():
        return column
    return pc.if_else(hit, pa.scalar(None, pa.string()), column)


def _ip_port(column: pa.ChunkedArray) -> list[pa.ChunkedArray] | None:
    """``1.2.3.4:80``, ``[2001:db8::1]:80`` or ``2001:db8::1:80`` as (address, port): the port
    follows the last ':'. None when a value has no ':' or no integer port."""
    parts = pc.split_pattern(column, ":", max_splits=1, reverse=True)
    if not pc.all(pc.equal(pc.list_value_length(parts), 2)).as_py():
        return None
    try:
        port = pc.cast(pc.list_element(parts, 1), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    address = pc.utf8_trim(pc.list_element(parts, 0), "[]")
    address = pc.if_else(pc.equal(address, ""), pa.scalar(None, pa.string()), address)
    return [address, port]


def _odd_quotes(data: np.ndarray, ends: np.ndarray, quote: str) -> bool:
    """Does any line hold an odd number of quote characters (counted for all lines at once)?"""
    quotes = np.flatnonzero(data == ord(quote))
    if not quotes.size:
        return False
    before = np.searchsorted(quotes, np.append(ends, len(data)))  # quotes before each line end
    return bool((np.diff(before, prepend=0) & 1).any())


def _any_line_starts(body: bytes, data: np.ndarray, starts: np.ndarray, prefix: bytes) -> bool:
    """Does a line (other than the first) begin with ``prefix``?"""
    for at in np.flatnonzero(data[starts] == prefix[0]):
        if body.startswith(prefix, int(starts[at])):
            return True
    return False


def raw_groups(line: str, table: Table) -> list[int]:
    """For each field of ``line``: how many delimiter-separated pieces it spans.

    A quoted value is one piece (Arrow honours quotes); a bracketed value such as S3's
    ``[06/Feb/2019:00:00:38 +0000]`` spans as many pieces as it has delimiters plus one.
    """
    plain = Table.model_validate({**table.model_dump(), "brackets": False})
    groups: list[int] = []
    open_bracket = False
    for piece in split_line(line, plain) if table.quote else line.split(table.delimiter):
        if open_bracket:
            groups[-1] += 1
            open_bracket = not piece.endswith("]")
        else:
            groups.append(1)
            open_bracket = table.brackets and piece.startswith("[") and not piece.endswith("]")
    return groups


def _merge_groups(strings: pa.Table, groups: list[int], table: Table) -> pa.Table | None:
    """Columns c0..cN from raw pieces; None when a bracketed value is not bracketed on some row."""
    columns, at = [], 0
    for size in groups:
        pieces = [strings.column(at + i) for i in range(size)]
        at += size
        if size == 1 and (
            not table.brackets
            or pieces[0].type != pa.string()
            or not _all(pc.starts_with(pieces[0], "["))
        ):
            columns.append(pieces[0])
            continue
        if not (_all(pc.starts_with(pieces[0], "[")) and _all(pc.ends_with(pieces[-1], "]"))):
            return None
        joined = pieces[0] if size == 1 else pc.binary_join_element_wise(*pieces, table.delimiter)
        columns.append(pc.utf8_slice_codeunits(joined, 1, -1))
    return pa.table(columns, names=[f"c{i}" for i in range(len(columns))])


def _all(mask: pa.ChunkedArray) -> bool:
    return bool(pc.all(mask).as_py())


def _blank_count(body: bytes) -> int:
    return sum(1 for line in body.split(b"\n")[:-1] if not line.strip()) if body else 0


def _is_utf8(body: bytes) -> bool:
    """Whether ``body`` is valid UTF-8, checked by Arrow's vectorized validator (no copy)."""
    offsets = pa.py_buffer(np.array([0, len(body)], dtype=np.int64).tobytes())
    raw = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(body)])
    try:
        raw.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True
