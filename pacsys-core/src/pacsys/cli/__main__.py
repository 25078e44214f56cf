"""``python -m pacsys.cli``: the same as the ``pacsys`` command."""

import sys

from pacsys.cli import main

sys.exit(main())
