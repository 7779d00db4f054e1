"""Listens on the given ports, accepts every connection and never answers."""
import socket
import sys
import threading
import time

held = []

def serve(port):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    while True:
        connection, _ = server.accept()
        held.append(connection)

for port in map(int, sys.argv[1:]):
    threading.Thread(target=serve, args=(port,), daemon=True).start()
time.sleep(3600)
