"""Usage: python3 benches/callgrind_fanout.py SERVER_BIN LOAD_BIN PORT SECONDS MEMBERS

Callgrind profile of live fan-out (issue #9): a server under valgrind
(local bus, SQLite), driven by `realtalk-load fanout --url` at 10 messages/s
into 10 groups of MEMBERS members for SECONDS. Two runs of different length,
subtracted and divided by the difference in deliveries, give the cost of one
delivery plus its share of the send and the shared render; runs at two group
sizes separate the two (BENCHMARKS.md). Prints the output file and the
generator's delivery count; read the file with callgrind_annotate."""
import json, os, signal, subprocess, sys, time, urllib.request

BIN, LOAD, PORT, SECONDS, MEMBERS = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
data = f"/tmp/prof-fanout-{PORT}"
subprocess.run(["rm", "-rf", data])
os.makedirs(data)
# The environment `load/src/server.rs` gives a node it starts itself.
env = {"PATH": os.environ["PATH"], "HOME": "/root", "TMPDIR": "/tmp", "PORT": str(PORT), "DATA_DIR": data,
       "JWT_SECRET": "load-generator-secret-0123456789abcdef",
       "RATE_LIMIT_PER_SECOND": "10000000", "RATE_LIMIT_BURST": "10000000",
       "AUTH_RATE_LIMIT_PER_MINUTE": "10000000", "WS_MAX_CONNECTIONS_PER_USER": "1000000",
       "LOG_FORMAT": "json", "RUST_LOG": "warn"}
out = f"callgrind.fanout.{MEMBERS}.{SECONDS}.out"
server = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", BIN], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{PORT}"
for _ in range(600):
    try:
        urllib.request.urlopen(base + "/health", timeout=5); break
    except Exception:
        time.sleep(0.5)
run = subprocess.run([LOAD, "--url", base, "--server-pid", str(server.pid), "fanout", "--rate", "10",
                      "--groups", "10", "--members", MEMBERS, "--seconds", SECONDS],
                     capture_output=True, text=True)
result = next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))
figures = json.loads(result[len("RESULT "):])["figures"]
server.send_signal(signal.SIGINT)
server.wait(timeout=300)
print(out, "deliveries", figures["deliveries"], "missing", figures["missing"])
