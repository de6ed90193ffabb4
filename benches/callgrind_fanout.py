"""Usage: python3 benches/callgrind_fanout.py SERVER_BIN LOAD_BIN PORT SECONDS MEMBERS

Callgrind profile of live fan-out (issue #9): a server under valgrind
(local bus, SQLite), driven by `realtalk-load fanout --url` at 10 messages/s
into 10 groups of MEMBERS members for SECONDS. Two runs of different length,
subtracted and divided by the difference in deliveries, give the cost of one
delivery plus its share of the send and the shared render; runs at two group
sizes separate the two (BENCHMARKS.md). Prints the output file and the
generator's delivery count; read the file with callgrind_annotate."""
import json, signal, subprocess, sys

import callgrind_server

BIN, LOAD, PORT, SECONDS, MEMBERS = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
out = f"callgrind.fanout.{MEMBERS}.{SECONDS}.out"
server, base = callgrind_server.start(BIN, PORT, out)
run = subprocess.run([LOAD, "--url", base, "--server-pid", str(server.pid), "fanout", "--rate", "10",
                      "--groups", "10", "--members", MEMBERS, "--seconds", SECONDS],
                     capture_output=True, text=True)
result = next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))
figures = json.loads(result[len("RESULT "):])["figures"]
server.send_signal(signal.SIGINT)
server.wait(timeout=300)
print(out, "deliveries", figures["deliveries"], "missing", figures["missing"])
