"""Inserting a batch's rows through the driver's fastest path, inside the session's transaction.

The projection writes a few rows per event. Through ``session.execute(insert(table), rows)``
SQLAlchemy builds and processes a parameter dictionary per row, which cost more than the
database's own work. Here PostgreSQL gets the rows by binary COPY (asyncpg), and other
databases by one ``executemany`` of the statement SQLAlchemy compiled for them, with the
column types' own bind processors applied a column at a time: the same values SQLAlchemy
would send, with its per-row bookkeeping left out."""

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Date, DateTime, Table, TypeDecorator, insert
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dictionaries with the same keys, columns of ``table``)."""
    if not rows:
        return
    connection = await session.connection()
    columns = list(rows[0])
    dialect = connection.dialect
    if dialect.name == "postgresql" and dialect.driver == "asyncpg":
        raw = await connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name,
            columns=columns,
            records=[tuple(row[c] for c in columns) for row in rows]
            if len(columns) == 1
            else list(map(itemgetter(*columns), rows)),  # a tuple per row, built in C
        )
        return
    compiled = insert(table).values({c: None for c in columns}).compile(dialect=dialect)
    order = list(compiled.positiontup or ())
    if dialect.paramstyle not in ("qmark", "format", "numeric") or len(order) != len(columns):
        await session.execute(insert(table), list(rows))  # a style we have not met: the plain path
        return
    values = []
    for name in order:
        column = [row[name] for row in rows]
        kind = table.c[name].type
        process = kind.dialect_impl(dialect).bind_processor(dialect)
        stored_as = kind.impl if isinstance(kind, TypeDecorator) else kind
        if process is None:
            values.append(column)
        elif isinstance(stored_as, Date | DateTime):
            values.append(_once_per_value(process, column, times=isinstance(stored_as, DateTime)))
        else:
            values.append([process(v) for v in column])
    await connection.exec_driver_sql(str(compiled), list(zip(*values, strict=True)))


def _once_per_value(process: Callable[[Any], Any], column: list[Any], *, times: bool) -> list[Any]:
    """``process`` applied to every date or time of a column, once per distinct value: a
    batch's dates repeat (a household shares its permit date, an event's rows their
    recording time), and formatting one costs more than looking it up. Equal times at
    different offsets are formatted differently, so a time's offset is part of its key."""
    done: dict[Any, Any] = {}
    if times:
        keys = [None if v is None else (v, v.tzinfo) for v in column]
        return [
            done[k] if k in done else done.setdefault(k, process(v))
            for k, v in zip(keys, column, strict=True)
        ]
    return [done[v] if v in done else done.setdefault(v, process(v)) for v in column]
