"""A benchmark Flask app served as ours is: through the render's rsgi_bridge.py, under granian's RSGI interface.

`granian --interface rsgi --factory apps.bridged:serve` in the project venv, with BRIDGED_APP naming the app's
module (apps.hello, apps.bare_onnx) and BRIDGE_PACKAGE the render's package; the bridge's settings are the default
config's (server.body_timeout_seconds, server.max_request_bytes)."""

import importlib
import os


def serve():
    bridge = importlib.import_module(f"{os.environ['BRIDGE_PACKAGE']}.rsgi_bridge").RsgiBridge
    app = importlib.import_module(os.environ["BRIDGED_APP"]).app
    return bridge(app, body_timeout_seconds=30, max_body_bytes=1_048_576)
