"""The use cases: plain functions over a unit of work (`ports.UnitOfWork`), with no Chalice
and no HTTP. Views parse, call one of these, and answer; queue and schedule handlers decode and
call; the seeds, the load script and the benchmarks call the same functions."""
