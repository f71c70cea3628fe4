"""Write-back: CSV export, import/DML into Customer.io, and procedure calls.

- export: one object to CSV, streaming from the extraction the replicator uses;
- importer: rows (CSV or a table) -> validated writes, rejects file, journal for reruns;
  dml: the operations and write mechanics, derived from each catalog entry's write spec;
  appwriter / people: App API objects / Customers through the Track API;
- procedures + sqlcall: ``call NAME(args)`` with the connector's names and parameters;
- checks / fields: value validation and typing; csvfiles, tables, progress, wire: I/O pieces.
"""
