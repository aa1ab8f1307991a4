"""Inserting a batch's rows through the driver's fastest path, inside the session's transaction.

The projection writes a few rows per event. Through ``session.execute(insert(table), rows)``
SQLAlchemy builds and processes a parameter dictionary per row, which cost more than the
database's own work. Here PostgreSQL gets the rows by binary COPY (asyncpg), and other
databases by one ``executemany`` of the statement SQLAlchemy compiled for them, with the
column types' own bind processors applied a column at a time: the same values SQLAlchemy
would send, with its per-row bookkeeping left out."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
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
            records=[tuple(row[c] for c in columns) for row in rows],
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
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        values.append(column if process is None else [process(v) for v in column])
    await connection.exec_driver_sql(str(compiled), list(zip(*values, strict=True)))
