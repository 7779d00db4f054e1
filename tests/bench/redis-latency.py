"""PINGs a Redis server in a loop until SIGTERM, then prints p50/p99/max latency (ms).
Usage: redis-latency.py PORT (password from REDISCLI_AUTH)."""
import os
import signal
import socket
import sys
import time

port = int(sys.argv[1])
connection = socket.create_connection(("127.0.0.1", port))
connection.sendall(f"AUTH {os.environ['REDISCLI_AUTH']}\r\n".encode())
connection.recv(64)
samples = []
running = True

def stop(*_):
    global running
    running = False

signal.signal(signal.SIGTERM, stop)
while running:
    started = time.perf_counter()
    connection.sendall(b"PING\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"):
        reply += connection.recv(64)
    samples.append((time.perf_counter() - started) * 1000)
    time.sleep(0.001)
samples.sort()
pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
print(f"pings {len(samples)}  p50 {pick(0.50):.2f} ms  p99 {pick(0.99):.2f} ms  max {samples[-1]:.2f} ms")
