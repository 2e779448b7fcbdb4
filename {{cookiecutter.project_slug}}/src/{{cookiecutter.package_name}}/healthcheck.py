"""Exit 0 when the service on this machine answers GET /health, else 1: the container's HEALTHCHECK.

Standard library and the config loader only: it runs every 30 seconds, so it must start fast
(no scikit-learn import) and needs no curl in the image.
"""

import sys
import urllib.request

from .utils.helpers import Config, load_config


def check(config: Config) -> int:
    url = f"http://127.0.0.1:{config.server.port}/health"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(check(load_config()))
