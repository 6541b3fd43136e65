"""Named queries: the SQL that services run, one module per area.

Services call these functions and never hold SQL text or a DB-API cursor themselves. The measured fast
paths (plain tuples from the DB-API cursor, bulk inserts) stay exactly as they were, behind a name.
"""
