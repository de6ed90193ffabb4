"""A RealTalk server under `valgrind --tool=callgrind`, for the profiles in
this folder: the environment `load/src/server.rs` gives a node it starts
itself (per-IP and login limits lifted), a fresh data directory, and ready
once `/health` answers."""
import os, subprocess, time, urllib.request


def start(binary, port, out):
    """Starts `binary` writing its profile to `out`; returns the process and its base URL."""
    data = f"/tmp/prof-data-{port}"
    subprocess.run(["rm", "-rf", data])
    os.makedirs(data)
    env = {"PATH": os.environ["PATH"], "HOME": "/root", "TMPDIR": "/tmp", "PORT": str(port), "DATA_DIR": data,
           "JWT_SECRET": "load-generator-secret-0123456789abcdef",
           "RATE_LIMIT_PER_SECOND": "10000000", "RATE_LIMIT_BURST": "10000000",
           "AUTH_RATE_LIMIT_PER_MINUTE": "10000000", "WS_MAX_CONNECTIONS_PER_USER": "1000000",
           "LOG_FORMAT": "json", "RUST_LOG": "warn"}
    server = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(base + "/health", timeout=5)
            break
        except Exception:
            time.sleep(0.5)
    return server, base
