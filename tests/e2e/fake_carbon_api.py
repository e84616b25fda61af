#!/usr/bin/env python3
"""A loopback stand-in for the Electricity Maps (v3) and WattTime (v3) APIs, for the end-to-end
tests of live intensity. It answers in their formats around the current time and misbehaves on
purpose under a path prefix: /stall answers after 30 s, /garbage answers HTML, /status500 fails,
/hold answers nothing until the client hangs up and counts the requests held at once.
Binds 127.0.0.1 on a free port and prints the port on stdout; /_count gives request counts
(and max_held, the most /hold requests waiting at the same time).
With FAKE_EM_STEP_S=N in its environment, Electricity Maps' history is a series of one value
every N seconds over the last 30 minutes, cycling 40, 900, 300 g/kWh (hours made short, so
that a run of seconds spans several values)."""
import base64
import json
import os
import select
import socket
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

EM_TOKEN = "em-secret"
WT_USER, WT_PASSWORD, WT_TOKEN = "ada", "wt-pass", "wt-bearer-token"
EM_CI = 250.0       # gCO2e/kWh, every Electricity Maps value
EM_STEP = int(os.environ.get("FAKE_EM_STEP_S", "0"))
EM_CYCLE = (40.0, 900.0, 300.0)
WT_LBS = 1000.0     # lbs/MWh, every WattTime value (453.59237 g/kWh)
counts = {}
held = {"now": 0, "max_held": 0}
held_lock = threading.Lock()


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_time(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def em_answer(kind, zone, q):
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    point = lambda t: {"zone": zone, "carbonIntensity": EM_CI, "datetime": iso(t),
                       "updatedAt": iso(hour), "emissionFactorType": "lifecycle", "isEstimated": False}
    if kind == "latest":
        return point(hour)
    if kind == "history" and EM_STEP:
        now = int(time.time()) // EM_STEP * EM_STEP
        pts = []
        for t in range(now - 1800 // EM_STEP * EM_STEP, now + 1, EM_STEP):
            p = point(datetime.fromtimestamp(t, timezone.utc))
            p["carbonIntensity"] = EM_CYCLE[t // EM_STEP % 3]
            pts.append(p)
        return {"zone": zone, "history": pts}
    if kind == "history":
        return {"zone": zone, "history": [point(hour - timedelta(hours=h)) for h in range(23, -1, -1)]}
    if kind == "forecast":
        return {"zone": zone, "forecast": [point(hour + timedelta(hours=h)) for h in range(24)],
                "updatedAt": iso(hour)}
    if kind == "past-range":
        t, end = parse_time(q["start"][0]), parse_time(q["end"][0])
        data = []
        while t < end:
            data.append(point(t))
            t += timedelta(hours=1)
        return {"zone": zone, "data": data}
    return None


def wt_answer(kind, q):
    step = timedelta(minutes=5)
    if kind == "historical":
        t, end = parse_time(q["start"][0]), parse_time(q["end"][0])
    else:
        now = datetime.now(timezone.utc)
        t = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
        end = t + timedelta(hours=1)
    data = []
    while t < end:
        data.append({"point_time": t.isoformat(), "value": WT_LBS})
        t += step
    return {"data": data, "meta": {"data_point_period_seconds": 300, "region": q["region"][0],
                                   "signal_type": q.get("signal_type", ["co2_moer"])[0],
                                   "units": "lbs_co2_per_mwh", "model": {"date": "2023-03-01"}}}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urlparse(self.path)
        path, q, mode = u.path, parse_qs(u.query), ""
        for m in ("/stall", "/garbage", "/status500", "/hold"):
            if path.startswith(m + "/"):
                mode, path = m, path[len(m):]
        counts[path] = counts.get(path, 0) + 1
        if path == "/_count":
            return self.reply(200, dict(counts, max_held=held["max_held"]))
        if mode == "/hold":
            with held_lock:
                held["now"] += 1
                held["max_held"] = max(held["max_held"], held["now"])
            try:  # until the client gives up (its end closes), at most 30 s
                for _ in range(600):
                    if select.select([self.connection], [], [], 0.05)[0] and \
                            not self.connection.recv(1, socket.MSG_PEEK):
                        break
            finally:
                with held_lock:
                    held["now"] -= 1
            return
        if mode == "/stall":
            time.sleep(30)
            return self.reply(200, {})
        if mode == "/garbage":
            return self.reply(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
        if mode == "/status500":
            return self.reply(500, {"error": "internal error"})
        if path.startswith("/v3/carbon-intensity/"):
            if self.headers.get("auth-token") != EM_TOKEN:
                return self.reply(401, {"error": "Invalid auth-token"})
            body = em_answer(path.rsplit("/", 1)[1], q.get("zone", [""])[0], q)
            return self.reply(200 if body else 404, body or {"error": "no such endpoint"})
        if path == "/login":
            want = "Basic " + base64.b64encode(f"{WT_USER}:{WT_PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.reply(403, {"error": "bad credentials"})
            return self.reply(200, {"token": WT_TOKEN})
        if path in ("/v3/historical", "/v3/forecast"):
            if self.headers.get("Authorization") != "Bearer " + WT_TOKEN:
                return self.reply(401, {"error": "bad token"})
            return self.reply(200, wt_answer(path.rsplit("/", 1)[1], q))
        return self.reply(404, {"error": "no such endpoint"})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
