# A small order-lookup service (the load example in budgets.example.json, docs/load.md): answers
# /orders/<n> with the order's total, computed once and kept in a bounded cache, so that what it
# retains stays flat however many requests it serves. --leak keeps every answer instead.
import argparse
import json
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, HTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--cache", type=int, default=128, help="orders kept (least recently used go first)")
parser.add_argument("--leak", action="store_true", help="keep every answer: a leak to find")
args = parser.parse_args()

cache = OrderedDict()
history = []


def order_total(n):
    lines = [{"sku": f"sku-{n}-{i}", "qty": 1 + i % 3, "price": 199 + (n * 7 + i) % 900} for i in range(12)]
    return sum(line["qty"] * line["price"] for line in lines)


def lookup(n):
    if n in cache:
        cache.move_to_end(n)
        return cache[n]
    total = order_total(n)
    cache[n] = total
    if len(cache) > args.cache:
        cache.popitem(last=False)
    return total


class Handler(BaseHTTPRequestHandler):
    # Headers and body are two writes: without TCP_NODELAY each answer waits out a delayed ACK.
    disable_nagle_algorithm = True

    def do_GET(self):
        if self.path == "/health":
            return self.answer({"ok": True})
        if self.path.startswith("/orders/"):
            n = int(self.path.rsplit("/", 1)[1]) % 1000
            body = {"order": n, "total": lookup(n)}
            if args.leak:
                history.append(json.dumps(body))
            return self.answer(body)
        self.send_error(404)

    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
