"""The benchmark: ``python -m cio_replicate.bench``.

It measures, each figure next to its baseline in the same run: end-to-end
replication of a sandbox workspace, our loader against each driver's fastest
raw path, API calls against the minimum the API permits, rate-limit budget
use over loopback, incremental runs, and peak memory. Every measured run is a
subprocess, so that its peak resident memory is its own. The figures are
printed as a table and written, with the machine's description, to
BENCHMARKS.md.
"""
