"""The Redis bridge under load: N ticks preloaded into P tick partitions (dfp:clean_ticks:{p}), then
1, 2 and 3 release gateways with leased partitions (redis.partition_count = P, gateway i prefers
the partitions p with p mod G = i) read, process, journal, acknowledge them and XADD what they
make; the time from the gateways' start until every partition's consumer group has nothing
pending or unread gives ticks/s. Run against one redis-server and against a 3-master Redis
Cluster (redis.cluster). Redis is pinned to core 0 and the gateways to core 1 (this machine has
two), so the figure says where it saturates: each run prints the CPU seconds Redis and the
gateways used.
Usage: bridge.py DONGFENG_BINARY [TICKS] [PARTITIONS]"""
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def free_port(limit=55000):
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < limit:
            return port


def resp(*args):
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def call(port, *args):
    """One command; the reply as text (enough for the integers and statuses read here)."""
    r = subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True, text=True, timeout=30)
    return r.stdout.strip()


def slot(key):
    """CRC16/XMODEM of the key, or of its hash tag (between the first { and the next }), mod 16384."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            key = key[start + 1:end]
    crc = 0
    for b in key.encode():
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc % 16384


class Redis:
    def __init__(self, work, cluster):
        self.work, self.cluster, self.procs = work, cluster, []
        self.ports = [free_port() for _ in range(3 if cluster else 1)]
        for port in self.ports:
            args = ["taskset", "-c", "0", "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--loglevel", "warning", "--dir", work]
            if cluster:
                args += ["--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf"]
            self.procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in self.ports:
            while call(port, "PING") != "PONG":
                time.sleep(0.05)
        if cluster:
            subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in self.ports], "--cluster-yes"],
                           capture_output=True, check=True)
            while not all("cluster_state:ok" in call(p, "CLUSTER", "INFO") for p in self.ports):
                time.sleep(0.1)

    def node(self, key):
        """The port serving key's slot."""
        if not self.cluster:
            return self.ports[0]
        s = slot(key)
        for port in self.ports:
            info = call(port, "CLUSTER", "NODES")
            for line in info.splitlines():
                f = line.split()
                if "myself" in f[2] and "master" in f[2]:
                    for r in f[8:]:
                        a, _, b = r.partition("-")
                        if a.isdigit() and int(a) <= s <= int(b or a):
                            return port
        raise RuntimeError(f"no node serves slot {s}")

    def cpu_seconds(self):
        total = 0.0
        for p in self.procs:
            with open(f"/proc/{p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait()


def stream(p, cluster):
    """A partition's tick stream: hash-tagged on a cluster, as the gateways name it there."""
    return f"dfp:clean_ticks:{{{p}}}" if cluster else f"dfp:clean_ticks:{p}"


def load(redis, n, partitions):
    """n ticks of 8 symbols over the partitions (symbol k goes to partition k mod P)."""
    symbols = ["600519.SH", "000001.SZ", "600036.SH", "300750.SZ", "601318.SH", "000858.SZ", "688981.SH", "002594.SZ"]
    per = {p: [] for p in range(partitions)}
    for i in range(n):
        k = i % 8
        price = f"{100 + (i % 5000) / 1000 + k:.2f}"
        tick = json.dumps({"symbol": symbols[k], "ts": 1732500000000 + i * 5, "price": float(price), "volume": 100})
        per[k % partitions].append(resp("XADD", stream(k % partitions, redis.cluster), "*", "data", tick))
    for p, commands in per.items():
        port = redis.node(stream(p, redis.cluster))
        subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=b"".join(commands), capture_output=True, check=True)
        call(port, "XGROUP", "CREATE", stream(p, redis.cluster), "dongfeng", "0")


class Gateway:
    def __init__(self, binary, work, name, redis, partitions, preferred):
        os.makedirs(work)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DFP_")}
        env.update(DFP_TLS_CERT_DIR=os.path.join(work, "certs"), DFP_REDIS_URL=f"redis://127.0.0.1:{redis.ports[0]}",
                   DFP_REDIS_CONSUMER=name, DFP_REDIS_PARTITION_COUNT=str(partitions),
                   DFP_REDIS_PARTITIONS=",".join(map(str, preferred)), DFP_REDIS_CLUSTER="true" if redis.cluster else "false",
                   DFP_JOURNAL_FSYNC="interval", DFP_MARKETS_ENABLED="false", DFP_LOG_LEVEL="warning")
        self.process = subprocess.Popen(["taskset", "-c", "1", binary, "serve", "--port", "0", "--feed", "none", "--log-level", "info",
                                         "--data-dir", os.path.join(work, "data")],
                                        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.port = None
        ready = threading.Event()

        def pump():
            for raw in self.process.stdout:
                m = re.search(rb"listening on https://[^\s]+:(\d+)", raw)
                if m and self.port is None:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()
        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(30) or self.port is None:
            raise RuntimeError("gateway did not start")
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        self.http = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))

    def health(self):
        with self.http.open(f"https://127.0.0.1:{self.port}/admin/health", timeout=10) as r:
            return json.loads(r.read())

    def cpu_seconds(self):
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.process.terminate()
        self.process.wait(20)


def settled(redis, partitions):
    for p in range(partitions):
        out = call(redis.node(stream(p, redis.cluster)), "XINFO", "GROUPS", stream(p, redis.cluster)).splitlines()
        fields = dict(zip(out[::2], out[1::2]))
        if fields.get("pending") != "0" or fields.get("lag") != "0":
            return False
    return True


def run(binary, n, partitions, gateways, cluster):
    work = tempfile.mkdtemp(prefix="dongfeng-bridge-")
    redis = Redis(work, cluster)
    started = []
    try:
        load(redis, n, partitions)
        redis_cpu0 = redis.cpu_seconds()
        t0 = time.monotonic()
        for i in range(gateways):
            started.append(Gateway(binary, os.path.join(work, f"g{i}"), f"g{i}", redis, partitions,
                                   [p for p in range(partitions) if p % gateways == i]))
        while not settled(redis, partitions):
            time.sleep(0.1)
        elapsed = time.monotonic() - t0
        processed = sum(g.health()["redis"]["source"]["acked"] for g in started)
        gw_cpu = sum(g.cpu_seconds() for g in started)
        print(f"{'cluster (3 masters)' if cluster else 'one redis-server':20} | {gateways} gateway{'s' if gateways > 1 else ' '} | "
              f"{n} ticks in {elapsed:6.2f} s | {n / elapsed:9.0f} ticks/s | acked {processed} | "
              f"CPU s: redis {redis.cpu_seconds() - redis_cpu0:5.1f}, gateways {gw_cpu:5.1f}", flush=True)
    finally:
        for g in started:
            g.stop()
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    binary = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    partitions = int(sys.argv[3]) if len(sys.argv) > 3 else 6
    print(f"bridge: {n} ticks over {partitions} partitions; redis on core 0, gateways on core 1 "
          f"(timed from the gateways' start to nothing pending or unread)")
    for cluster in (False, True):
        for gateways in (1, 2, 3):
            run(binary, n, partitions, gateways, cluster)


if __name__ == "__main__":
    main()
