"""The store: a DuckDB file holding the domain tables. The only code that runs SQL.

=============  ==========================================  ================================
module         input                                       output
=============  ==========================================  ================================
schema.py      -                                           DDL, migrations, schema version
db.py          a path                                      :class:`Store` (lock, migrate)
load.py        chunks of Arrow record batches              rows in the tables, ``ingests``,
                                                           ``rejects``; a ``LoadResult``
query.py       the tables                                  Arrow tables and record batches
                                                           for the graph builder and stats
=============  ==========================================  ================================

Examples
--------
>>> from trueclout.store import Store
>>> with Store(":memory:") as s:
...     s.counts()["accounts"]
0
"""

from .db import Store
from .load import LoadResult

__all__ = ["Store", "LoadResult"]
