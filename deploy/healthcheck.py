"""The container's HEALTHCHECK: exit 0 if this container's gunicorn answers /healthz."""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        sys.stderr.write(f"healthcheck: {url}: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
