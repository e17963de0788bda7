"""Run-time support of compiled pipelines: tables, externs, hashing, traces, devices."""
