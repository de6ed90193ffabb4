"""Usage: python3 benches/ab_fanout.py LOAD_BIN BEFORE_BIN AFTER_BIN ROUNDS [fanout args...]

A/B of two server builds under one load generator (issue #9): each round
runs `LOAD_BIN --server-bin BEFORE_BIN fanout ARGS`, then the same with
AFTER_BIN, back to back, so both see the same machine and moment. Tail
latencies on a shared two-core box vary 2-5x between runs: compare series
of rounds, never one pair. Prints one line per run (load average, delivery
and send latency, the generator's own start lag, server CPU) and exits 1
if any run lost or duplicated a message or failed."""
import json, subprocess, sys

LOAD, BEFORE, AFTER, ROUNDS, ARGS = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
failed = False
for round_ in range(1, ROUNDS + 1):
    for label, binary in (("before", BEFORE), ("after", AFTER)):
        run = subprocess.run([LOAD, "--server-bin", binary, "fanout", *ARGS], capture_output=True, text=True)
        results = [json.loads(line[7:]) for line in run.stdout.splitlines() if line.startswith("RESULT ")]
        if run.returncode != 0 or not results:
            failed = True
            print(f"{label:6} {round_}: run failed (exit {run.returncode}): {run.stderr[-500:]}")
            continue
        result = results[-1]
        f, load = result["figures"], result["machine"]["loadavg"]
        d, s, lag = f["delivery_latency"], f["send_latency"], f.get("send_start_lag", {})
        failed |= bool(result["failures"]) or f["missing"] > 0 or f["duplicates"] > 0
        print(f"{label:6} {round_} load {load:16} {f['deliveries_per_s']:8.0f}/s"
              f" p50 {d['p50_ms']:6.2f} p95 {d['p95_ms']:7.2f} p99 {d['p99_ms']:7.2f} max {d['max_ms']:7.1f} ms"
              f" | send p99 {s['p99_ms']:7.2f} | start lag p99 {lag.get('p99_ms', 0):5.2f}"
              f" | server {f['server_cpu_cores']:.2f} cores, {f['server_cpu_us_per_delivery']:.1f} us/delivery"
              f" | missing {f['missing']} duplicated {f['duplicates']}")
sys.exit(1 if failed else 0)
