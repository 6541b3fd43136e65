"""`regdesk drill`: the whole meeting rehearsed end to end with real station processes.

plan.py      who comes when, to which desk, which scans and buses (pure, deterministic by seed)
faults.py    what goes wrong: a desk offline, a bus stop on bundles, a hub outage, kill -9, partitions
worker.py    one long-lived process per station executing its script through the services
runner.py    founds the meeting, provisions the stations, runs the workers and the faults, final sync
reconcile.py proves every station holds the same events, tallies, badges and conflicts
report.py    Markdown + PDF with charts from what the workers measured
"""
