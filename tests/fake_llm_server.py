"""A scripted OpenAI-compatible LLM server in its own process, for tests that run `kgrag` as a
subprocess (crash and resume tests), where the property under test is the pipeline, not the
extraction quality.

    python -m tests.fake_llm_server --port 8123 [--delay 0.5]

Extraction answers are deterministic rules over the passage: every "<A B> founded <C D>" gives a
Person, an Organization and a FOUNDED relationship; "<A B> works for <C D>" gives WORKS_FOR.
`GET /stats` returns how many chat completions were answered (a test kills the client after N).
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATEMENT = re.compile(r"([A-Z]\w+ [A-Z]\w+) (founded|works for) ([A-Z]\w+ [A-Z]\w+)")
RELATION = {"founded": "FOUNDED", "works for": "WORKS_FOR"}


def extraction(text: str) -> dict:
    """The graph the rules find in `text`, in LLMGraphTransformer's output shape."""
    nodes: dict[str, dict] = {}
    relationships = []
    for person, verb, organization in STATEMENT.findall(text):
        nodes[person] = {"id": person, "type": "Person"}
        nodes[organization] = {"id": organization, "type": "Organization"}
        relationships.append(
            {
                "source_node_id": person,
                "source_node_type": "Person",
                "target_node_id": organization,
                "target_node_type": "Organization",
                "type": RELATION[verb],
            }
        )
    return {"nodes": list(nodes.values()), "relationships": relationships}


class Handler(BaseHTTPRequestHandler):
    delay_s = 0.0
    answered = 0
    lock = threading.Lock()

    def log_message(self, *_: object) -> None:  # quiet
        pass

    def _send(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path.endswith("/models"):
            self._send({"object": "list", "data": [{"id": "fake", "object": "model"}]})
        elif self.path == "/stats":
            self._send({"answered": Handler.answered})
        else:
            self.send_error(404)

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        user = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        time.sleep(self.delay_s)
        content = json.dumps(extraction(user if isinstance(user, str) else json.dumps(user)))
        with Handler.lock:
            Handler.answered += 1
        self._send(
            {
                "id": f"fake-{Handler.answered}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
            }
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    Handler.delay_s = args.delay
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
