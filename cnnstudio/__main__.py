from __future__ import annotations

import sys

from cnnstudio.cli import main

sys.exit(main())
